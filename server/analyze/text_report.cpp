#include "text_report.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

#include <fmt/format.h>

namespace civicperf::analyze {
namespace {

constexpr std::size_t name_width = 36;

// Fits a name into a table column (byte-based; long names end with "...").
std::string cell(const std::string& name, std::size_t width = name_width) {
  if (name.size() <= width) return name;
  return name.substr(0, width - 3) + "...";
}

std::string list(const std::vector<std::string>& items, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  if (items.size() > max) out += fmt::format(", ... ({} in all)", items.size());
  return out;
}

std::string bytes(std::uint64_t n) {
  if (n >= 1024 * 1024) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1024.0 * 1024.0));
  if (n >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024.0);
  return fmt::format("{} bytes", n);
}

double ms(duration d) { return static_cast<double>(d.count()) / 1000.0; }

template <class... Args>
void put(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

}  // namespace

std::string human_duration(double ms) {
  const double a = std::fabs(ms);
  const char* sign = ms < 0 ? "-" : "";
  // Each unit up to where its rounded value would read as the next one.
  if (a < 999.5) return fmt::format("{}{:.0f} ms", sign, a);
  if (a < 59'950) return fmt::format("{}{:.1f} s", sign, a / 1'000);
  if (a < 3'597'000) return fmt::format("{}{:.1f} min", sign, a / 60'000);
  if (a < 48 * 3'600'000.0) return fmt::format("{}{:.1f} h", sign, a / 3'600'000);
  return fmt::format("{}{:.1f} d", sign, a / 86'400'000);
}

std::string render_text_report(const report_input& in, const analyze_options& opt) {
  const eventlog_import& imp = in.import;
  const workflow_definition& wf = imp.workflow;
  std::string out;

  put(out, "{} ({}, {}): read in {:.2f} s\n", imp.source, to_string(imp.stats.format),
      bytes(imp.stats.bytes), in.seconds);
  put(out, "  cases       {}\n", imp.cases);
  put(out, "  events      {}", imp.events);
  if (imp.stats.skipped > 0) put(out, "  ({} malformed records skipped)", imp.stats.skipped);
  put(out, "\n");
  put(out, "  activities  {}\n", wf.steps.size());
  put(out, "  workflow    '{}': {} steps, {} edges (directly-follows pairs), {} rework transitions\n",
      wf.id, wf.steps.size(), wf.edges.size(), in.timing.rework_transitions);
  put(out, "  starts      {}\n", list(wf.start_steps, 5));
  put(out, "  ends        {}\n", list(imp.end_steps, 5));
  if (imp.reordered_cases > 0)
    put(out, "  reordered   {} cases were not in time order in the file\n", imp.reordered_cases);
  if (imp.stats.ignored_lifecycle > 0)
    put(out, "  ignored     {} events with other lifecycle transitions than start/complete\n",
        imp.stats.ignored_lifecycle);
  if (imp.stats.unmatched_starts > 0)
    put(out, "  unmatched   {} 'start' events without a 'complete' (dropped)\n",
        imp.stats.unmatched_starts);
  for (const auto& e : imp.stats.skipped_examples) put(out, "  skipped     {}\n", e);

  // Slowest steps.
  std::vector<const step_metrics_report*> steps;
  for (const auto& m : in.performance.step_metrics) steps.push_back(&m);
  std::stable_sort(steps.begin(), steps.end(), [](auto* a, auto* b) {
    return a->average_duration_ms > b->average_duration_ms;
  });
  const bool any_duration = !steps.empty() && steps.front()->max_duration_ms > 0;
  put(out, "\nSlowest steps (execution: completion - start)\n");
  if (!any_duration) {
    put(out, "  every event has a single timestamp: executions are instantaneous, all waiting is in\n"
        "  the transitions below\n");
  } else {
    put(out, "  {:<{}} {:>10} {:>10} {:>10} {:>10}\n", "step", name_width, "executions", "mean", "p90",
        "max");
    for (std::size_t i = 0; i < steps.size() && i < opt.top; ++i) {
      const auto& m = *steps[i];
      put(out, "  {:<{}} {:>10} {:>10} {:>10} {:>10}\n", cell(m.step_id), name_width,
          m.total_executions, human_duration(m.average_duration_ms),
          human_duration(m.p90_duration_ms), human_duration(m.max_duration_ms));
    }
  }

  // Transitions by total waiting time.
  std::vector<const transition_entry*> transitions;
  for (const auto& t : in.timing.step_transitions) transitions.push_back(&t);
  const auto total = [](const transition_entry* t) {
    return t->average_transition_time_ms * static_cast<double>(t->count);
  };
  std::stable_sort(transitions.begin(), transitions.end(),
                   [&](auto* a, auto* b) { return total(a) > total(b); });
  put(out, "\nWhere cases wait longest in total (transition = next start - previous completion;\n"
      "count x mean, {} of {} transitions shown)\n",
      std::min(opt.top, transitions.size()), transitions.size());
  constexpr std::size_t pair_width = 2 * 24 + 4;
  put(out, "  {:<{}} {:>7} {:>10} {:>10} {:>10} {:>10}\n", "from -> to", pair_width, "count", "mean",
      "p90", "max", "total");
  for (std::size_t i = 0; i < transitions.size() && i < opt.top; ++i) {
    const auto& t = *transitions[i];
    const std::string pair = cell(t.from_step, 24) + " -> " + cell(t.to_step, 24);
    put(out, "  {:<{}} {:>7} {:>10} {:>10} {:>10} {:>10}{}\n", pair, pair_width, t.count,
        human_duration(t.average_transition_time_ms), human_duration(t.p90_transition_time_ms),
        human_duration(t.max_transition_time_ms), human_duration(total(&t)),
        t.rework ? "  (rework)" : "");
  }
  const auto negative = std::count_if(in.timing.step_transitions.begin(),
                                      in.timing.step_transitions.end(),
                                      [](const auto& t) { return t.min_transition_time_ms < 0; });
  if (negative > 0)
    put(out, "  {} transitions have negative minima: the next activity started before the previous "
        "one completed\n",
        negative);

  // Case durations.
  const case_duration_summary& d = imp.case_durations;
  put(out, "\nCase durations (latest completion - earliest start, {} cases)\n", d.cases);
  put(out, "  mean {}   p50 {}   p90 {}   max {}   min {}\n", human_duration(d.mean_ms()),
      human_duration(ms(d.p50)), human_duration(ms(d.p90)), human_duration(ms(d.max)),
      human_duration(ms(d.min)));

  // Critical path.
  put(out, "\nCritical path (mean step durations + mean transition times, rework edges ignored)\n");
  if (in.bottlenecks.critical_path_steps.empty()) {
    put(out, "  none\n");
  } else {
    put(out, "  expected {}: ", human_duration(in.bottlenecks.critical_path_time_ms));
    for (std::size_t i = 0; i < in.bottlenecks.critical_path_steps.size(); ++i)
      put(out, "{}{}", i > 0 ? " -> " : "", in.bottlenecks.critical_path_steps[i]);
    put(out, "\n");
  }

  if (!in.timing.bottleneck_transitions.empty()) {
    put(out, "\nSuggestions (transitions slower than {} on average)\n", human_duration(opt.threshold_ms));
    for (std::size_t i = 0; i < in.timing.bottleneck_transitions.size() && i < 3; ++i) {
      const auto& b = in.timing.bottleneck_transitions[i];
      put(out, "  {}: {} - {}\n", b.transition, b.reason, b.suggestion);
    }
  }
  return out;
}

}  // namespace civicperf::analyze
