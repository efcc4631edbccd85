#include "civicperf/analyzer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "critical_path.hpp"

namespace civicperf {
namespace {

double ms(double us) noexcept { return us / 1000.0; }
double ms(std::int64_t us) noexcept { return static_cast<double>(us) / 1000.0; }

double share(std::int64_t part, std::int64_t whole) noexcept {
  return whole > 0 ? static_cast<double>(part) * 100.0 / static_cast<double>(whole) : 0.0;
}

double quantile_ms(const value_stats& s, double q) noexcept {
  const auto v = s.quantile(q);
  return v ? ms(*v) : 0.0;
}

// "12.5 s", "340 ms", "3.2 h": readable magnitudes inside suggestion texts.
std::string human(double millis) {
  if (millis >= 3'600'000) return fmt::format("{:.1f} h", millis / 3'600'000);
  if (millis >= 60'000) return fmt::format("{:.1f} min", millis / 60'000);
  if (millis >= 1'000) return fmt::format("{:.1f} s", millis / 1'000);
  return fmt::format("{:.0f} ms", millis);
}

std::vector<std::string> suggestions(const step_snapshot& s, const step_metrics_report& m,
                                     const analysis_options& opt) {
  std::vector<std::string> out;
  // The spec's three rules first, verbatim.
  if (m.average_duration_ms > opt.optimize_duration_ms) out.emplace_back(suggestion_slow_logic);
  if (m.average_queue_time_ms > opt.optimize_queue_ms) out.emplace_back(suggestion_more_workers);
  if (m.indicators.approval_bottleneck_percentage > opt.optimize_approval_share)
    out.emplace_back(suggestion_approval);
  // Our own rules after them.
  const double failure = share(m.failed_executions, m.total_executions);
  if (m.failed_executions > 0 && failure > opt.failure_share) {
    std::string text = fmt::format("Reduce failures - {:.1f}% of executions fail", failure);
    if (!s.errors.empty()) text += fmt::format("; most common error: {}", s.errors.front().message);
    out.push_back(std::move(text));
  }
  if (m.p99_duration_ms > opt.tail_min_ms && m.p50_duration_ms > 0 &&
      m.p99_duration_ms > opt.tail_ratio * m.p50_duration_ms) {
    out.push_back(fmt::format(
        "Investigate slow outliers - p99 ({}) is {:.0f} times the median ({})",
        human(m.p99_duration_ms), m.p99_duration_ms / m.p50_duration_ms, human(m.p50_duration_ms)));
  }
  if (m.indicators.external_service_bottleneck_percentage > opt.external_suggest_share &&
      m.average_duration_ms > opt.external_suggest_ms) {
    out.push_back(fmt::format(
        "Consider asynchronous calls or caching - the external service takes {} on average",
        human(m.average_duration_ms)));
  }
  if (m.total_executions > 0 &&
      static_cast<double>(m.total_retries) / static_cast<double>(m.total_executions) >
          opt.retry_ratio) {
    out.push_back(fmt::format("Review retry causes - {:.2f} retries per execution",
                              static_cast<double>(m.total_retries) /
                                  static_cast<double>(m.total_executions)));
  }
  const double blocked = share(s.blocked, s.total_executions);
  if (blocked > opt.blocked_share) {
    out.push_back(fmt::format(
        "Provide required inputs earlier - {:.1f}% of executions were blocked by dependencies",
        blocked));
  }
  return out;
}

// Total time cases spent in a step (queue + execution): orders recommendations.
double impact(const step_metrics_report& m) {
  return (m.average_duration_ms + m.average_queue_time_ms) *
         static_cast<double>(m.total_executions);
}

struct transition_reason {
  std::string reason;
  std::string suggestion;
};

transition_reason classify(const workflow_definition& def, const step_definition* from,
                           const step_definition* to, const step_snapshot* from_snap,
                           const step_snapshot* to_snap, double mean_ms, bool rework) {
  const std::string& to_name = to ? (to->name.empty() ? to->id : to->name) : def.id;
  const std::string& from_name = from ? (from->name.empty() ? from->id : from->name) : def.id;
  // Rework is the cause whatever else the wait looks like: the case went back.
  if (rework && from == to)
    return {"Rework: " + to_name + " was repeated",
            "Reduce failures and invalid inputs at " + to_name + " so cases do not repeat it"};
  if (rework)
    return {"Rework: cases go back from " + from_name + " to " + to_name,
            "Find out why cases return to " + to_name + " and fix the cause upstream"};
  if (to_snap && to_snap->queue.count > 0 && ms(to_snap->queue.mean()) >= mean_ms / 2) {
    return {"Queue backlog before " + to_name,
            "Consider adding more execution workers for " + to_name};
  }
  const auto approval = [](const step_definition* d, const step_snapshot* s) {
    return (d && d->type == step_type::approval) ||
           (s && share(s->waiting_for_approval, s->total_executions) > 50);
  };
  const auto external = [](const step_definition* d, const step_snapshot* s) {
    return (d && d->type == step_type::integration) ||
           (s && share(s->waiting_for_external_service, s->total_executions) > 50);
  };
  if (approval(from, from_snap) || approval(to, to_snap))
    return {"Manual approval process", "Consider automated approval for low-risk cases"};
  if (external(from, from_snap) || external(to, to_snap)) {
    const step_definition* svc = external(from, from_snap) ? from : to;
    const std::string name =
        svc && !svc->service_name.empty() ? svc->service_name : std::string("the external service");
    return {"Waiting for external service " + name,
            "Consider asynchronous calls, caching or shorter timeouts for " + name};
  }
  return {"Hand-off delay between steps",
          "Consider automating the hand-off from " + from_name + " to " + to_name +
              " or notifying the next actor immediately"};
}

// Adds a transition to a timing report: the citizen's wait, rework, and a
// bottleneck entry (with `why(e)`) when its mean exceeds the threshold.
template <class Reason>
void add_transition(timing_report& r, transition_entry e, const step_definition& to,
                    double threshold_ms, Reason&& why) {
  e.citizen_wait_time_ms = to.actor == step_actor::citizen ? 0.0 : e.average_transition_time_ms;
  if (e.rework) r.rework_transitions += e.count;
  if (e.average_transition_time_ms > threshold_ms) {
    transition_reason reason = why(e);
    r.bottleneck_transitions.push_back(
        {e.from_step + " -> " + e.to_step, e.from_step, e.to_step, e.average_transition_time_ms,
         e.count, e.average_transition_time_ms * static_cast<double>(e.count),
         std::move(reason.reason), std::move(reason.suggestion)});
  }
  r.step_transitions.push_back(std::move(e));
}

// Where citizens lose the most time in total first.
void sort_bottleneck_transitions(timing_report& r) {
  std::stable_sort(r.bottleneck_transitions.begin(), r.bottleneck_transitions.end(),
                   [](const auto& a, const auto& b) { return a.total_wait_time_ms > b.total_wait_time_ms; });
}

std::vector<detail::observed_edge> observed(const workflow_snapshot& snap,
                                            const detail::step_indexer& index) {
  std::vector<detail::observed_edge> edges;
  for (const auto& t : snap.transitions) {
    const auto from = index(t.from_step);
    const auto to = index(t.to_step);
    if (!from || !to || t.time.count == 0) continue;
    edges.push_back({*from, *to, ms(t.time.mean())});
  }
  return edges;
}

// The snapshot of each definition step, by definition index. Snapshots from
// the monitor list steps in definition order, so this is usually O(1) a step.
std::vector<const step_snapshot*> align(const workflow_snapshot& snap,
                                        const workflow_definition& def) {
  std::vector<const step_snapshot*> out(def.steps.size(), nullptr);
  for (std::size_t i = 0; i < def.steps.size(); ++i) {
    out[i] = i < snap.steps.size() && snap.steps[i].step_id == def.steps[i].id
                 ? &snap.steps[i]
                 : snap.find_step(def.steps[i].id);
  }
  return out;
}

}  // namespace

step_metrics_report analyze_step(const step_snapshot& s, const step_definition& step,
                                 const analysis_options& opt) {
  step_metrics_report m;
  m.step_id = s.step_id.empty() ? step.id : s.step_id;
  m.workflow_id = s.workflow_id;
  m.step_name = step.name;
  m.total_executions = s.total_executions;
  m.successful_executions = s.count(step_status::completed);
  m.failed_executions = s.count(step_status::failed);
  m.pending_executions = s.count(step_status::pending);
  m.success_rate = share(m.successful_executions, m.total_executions);
  if (s.execution.count > 0) {
    m.average_duration_ms = ms(s.execution.mean());
    m.min_duration_ms = ms(s.execution.min);
    m.max_duration_ms = ms(s.execution.max);
    static constexpr double qs[] = {0.50, 0.90, 0.95, 0.99};
    std::int64_t p[4] = {};
    s.execution.quantiles(qs, p);
    m.p50_duration_ms = ms(p[0]);
    m.p90_duration_ms = ms(p[1]);
    m.p95_duration_ms = ms(p[2]);
    m.p99_duration_ms = ms(p[3]);
  }
  m.average_queue_time_ms = ms(s.queue.mean());
  m.average_validation_time_ms = ms(s.validation.mean());
  m.average_memory_usage_mb = s.memory.mean();
  m.max_memory_usage_mb = s.memory.count > 0 ? s.memory.max : 0.0;
  m.total_retries = s.retries;
  m.common_errors.assign(s.errors.begin(),
                         s.errors.begin() + static_cast<std::ptrdiff_t>(
                                                std::min(s.errors.size(), opt.common_errors)));
  m.indicators.approval_bottleneck_percentage = share(s.waiting_for_approval, s.total_executions);
  m.indicators.external_service_bottleneck_percentage =
      share(s.waiting_for_external_service, s.total_executions);
  m.indicators.long_queue_time_percentage = share(s.long_queue, s.total_executions);
  m.indicators.suggested_optimizations = suggestions(s, m, opt);
  return m;
}

workflow_performance_report analyze_workflow(const workflow_snapshot& snap,
                                             const workflow_definition& def,
                                             const analysis_options& opt) {
  workflow_performance_report r;
  r.workflow_id = def.id;
  const instance_totals& in = snap.instances;
  r.total_instances = in.total_instances;
  r.completed_instances = in.completed_instances;
  r.completion_rate = share(in.completed_instances, in.total_instances);
  r.average_completion_time_ms = ms(in.completion_time.mean());
  r.terminal_status_counts = in.terminal_status_counts;

  r.bottleneck_analysis.total_steps = def.steps.size();
  double success_sum = 0;
  double slowest = -1;
  double most_failing = 0;
  const auto aligned = align(snap, def);
  for (std::size_t i = 0; i < def.steps.size(); ++i) {
    const step_definition& step = def.steps[i];
    const step_snapshot* s = aligned[i];
    if (!s || s->total_executions == 0) continue;
    step_metrics_report m = analyze_step(*s, step, opt);
    success_sum += m.success_rate;
    if (s->execution.count > 0 && m.average_duration_ms > slowest) {
      slowest = m.average_duration_ms;
      r.bottleneck_analysis.slowest_step = step.id;
    }
    const double failing = share(m.failed_executions, m.total_executions);
    if (m.failed_executions > 0 && failing > most_failing) {
      most_failing = failing;
      r.bottleneck_analysis.most_error_prone_step = step.id;
    }
    r.step_metrics.push_back(std::move(m));
  }
  r.bottleneck_analysis.steps_with_data = r.step_metrics.size();
  if (!r.step_metrics.empty())
    r.bottleneck_analysis.average_step_success_rate =
        success_sum / static_cast<double>(r.step_metrics.size());

  // Suggestions of the highest-impact steps first, each text once.
  std::vector<const step_metrics_report*> by_impact;
  for (const auto& m : r.step_metrics) by_impact.push_back(&m);
  std::stable_sort(by_impact.begin(), by_impact.end(),
                   [](auto* a, auto* b) { return impact(*a) > impact(*b); });
  for (const auto* m : by_impact)
    for (const auto& text : m->indicators.suggested_optimizations)
      if (std::find(r.optimization_suggestions.begin(), r.optimization_suggestions.end(), text) ==
          r.optimization_suggestions.end())
        r.optimization_suggestions.push_back(text);
  return r;
}

bottleneck_report analyze_bottlenecks(const workflow_snapshot& snap,
                                      const workflow_definition& def, double threshold_ms,
                                      std::int64_t min_executions, const analysis_options& opt) {
  bottleneck_report r;
  r.workflow_id = def.id;
  r.threshold_ms = threshold_ms;
  r.min_executions = min_executions;

  const auto aligned = align(snap, def);
  std::vector<step_metrics_report> eligible;
  for (std::size_t i = 0; i < def.steps.size(); ++i) {
    const step_definition& step = def.steps[i];
    const step_snapshot* s = aligned[i];
    if (!s || s->total_executions == 0 || s->total_executions < min_executions) continue;
    eligible.push_back(analyze_step(*s, step, opt));
  }
  std::vector<const step_metrics_report*> flagged;
  const auto flag = [&](const step_metrics_report& m) {
    if (std::find(flagged.begin(), flagged.end(), &m) == flagged.end()) flagged.push_back(&m);
  };
  for (const auto& m : eligible) {
    if (m.average_duration_ms > threshold_ms) {
      r.slowest_steps.push_back({m.step_id, m.step_name, m.average_duration_ms, m.total_executions});
      flag(m);
    }
    if (m.average_queue_time_ms > threshold_ms / 2) {
      r.queue_bottlenecks.push_back(
          {m.step_id, m.step_name, m.average_queue_time_ms, m.total_executions});
      flag(m);
    }
    if (m.indicators.approval_bottleneck_percentage > opt.approval_share) {
      r.approval_bottlenecks.push_back({m.step_id, m.step_name,
                                        m.indicators.approval_bottleneck_percentage,
                                        m.total_executions});
      flag(m);
    }
    if (m.indicators.external_service_bottleneck_percentage > opt.external_share) {
      r.external_service_bottlenecks.push_back({m.step_id, m.step_name,
                                                m.indicators.external_service_bottleneck_percentage,
                                                m.total_executions});
      flag(m);
    }
  }
  std::stable_sort(r.slowest_steps.begin(), r.slowest_steps.end(), [](const auto& a, const auto& b) {
    return a.average_duration_ms * static_cast<double>(a.executions) >
           b.average_duration_ms * static_cast<double>(b.executions);
  });
  std::stable_sort(r.queue_bottlenecks.begin(), r.queue_bottlenecks.end(),
                   [](const auto& a, const auto& b) {
                     return a.average_queue_time_ms * static_cast<double>(a.executions) >
                            b.average_queue_time_ms * static_cast<double>(b.executions);
                   });
  const auto by_share = [](const share_bottleneck_entry& a, const share_bottleneck_entry& b) {
    return a.percentage != b.percentage ? a.percentage > b.percentage : a.executions > b.executions;
  };
  std::stable_sort(r.approval_bottlenecks.begin(), r.approval_bottlenecks.end(), by_share);
  std::stable_sort(r.external_service_bottlenecks.begin(), r.external_service_bottlenecks.end(),
                   by_share);

  std::stable_sort(flagged.begin(), flagged.end(),
                   [](auto* a, auto* b) { return impact(*a) > impact(*b); });
  for (const auto* m : flagged) {
    const std::string& name = m->step_name.empty() ? m->step_id : m->step_name;
    for (const auto& text : m->indicators.suggested_optimizations) {
      std::string line = name + ": " + text;
      if (std::find(r.recommendations.begin(), r.recommendations.end(), line) ==
          r.recommendations.end())
        r.recommendations.push_back(std::move(line));
    }
  }

  // Critical path over every step with data, whatever min_executions says:
  // it describes the process, not a list of offenders.
  const std::size_t n = def.steps.size();
  std::vector<double> step_ms(n, 0.0);
  std::vector<bool> has_data(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const step_snapshot* s = aligned[i];
    if (s && s->total_executions > 0) {
      has_data[i] = true;
      step_ms[i] = ms(s->execution.mean());
    }
  }
  const detail::step_indexer index(def);
  auto edges = observed(snap, index);
  if (!def.discovered) {
    // "The path of the definition": a transition the definition does not
    // have (a skipped step, say) is not a way through the process.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> defined;
    for (const auto& e : def.edges)
      if (auto from = index(e.from), to = index(e.to); from && to) defined.emplace_back(*from, *to);
    std::sort(defined.begin(), defined.end());
    std::erase_if(edges, [&](const detail::observed_edge& e) {
      return !std::binary_search(defined.begin(), defined.end(), std::pair{e.from, e.to});
    });
  }
  const auto path = detail::find_critical_path(def, index, step_ms, has_data, edges);
  for (auto i : path.steps) r.critical_path_steps.push_back(def.steps[i].id);
  r.critical_path_time_ms = path.time_ms;
  return r;
}

timing_report analyze_timing(const workflow_snapshot& snap, const workflow_definition& def,
                             double threshold_ms, const analysis_options& /*opt*/) {
  timing_report r;
  r.workflow_id = def.id;
  r.threshold_ms = threshold_ms;
  const detail::step_indexer index(def);
  const auto aligned = align(snap, def);
  const auto edges = observed(snap, index);
  const auto back = detail::back_edges(def, index, edges);
  std::size_t k = 0;
  for (const auto& t : snap.transitions) {
    const auto from_i = index(t.from_step);
    const auto to_i = index(t.to_step);
    if (t.time.count == 0 || !from_i || !to_i) continue;
    const step_definition* from = &def.steps[*from_i];
    const step_definition* to = &def.steps[*to_i];
    transition_entry e;
    e.from_step = t.from_step;
    e.to_step = t.to_step;
    e.count = t.time.count;
    e.average_transition_time_ms = ms(t.time.mean());
    e.min_transition_time_ms = ms(t.time.min);
    e.max_transition_time_ms = ms(t.time.max);
    e.p90_transition_time_ms = quantile_ms(t.time, 0.90);
    e.rework = back[k++];
    add_transition(r, std::move(e), *to, threshold_ms, [&](const transition_entry& t) {
      return classify(def, from, to, aligned[*from_i], aligned[*to_i],
                      t.average_transition_time_ms, t.rework);
    });
  }
  sort_bottleneck_transitions(r);
  const instance_totals& in = snap.instances;
  r.completed_instances = in.completed_instances;
  if (in.completed_instances > 0) {
    const auto c = static_cast<double>(in.completed_instances);
    r.total_average_completion_time_ms = ms(in.completion_time.mean());
    r.citizen_active_time_ms = ms(static_cast<double>(in.active_time_sum) / c);
    r.citizen_waiting_time_ms = ms(static_cast<double>(in.waiting_time_sum) / c);
  }
  return r;
}

timing_report analyze_instance_timing(const instance_snapshot& inst,
                                      const workflow_definition& def, double threshold_ms,
                                      const analysis_options& /*opt*/) {
  timing_report r;
  r.workflow_id = def.id;
  r.instance_id = inst.instance_id;
  r.threshold_ms = threshold_ms;
  // Exact statistics per (from, to) from the kept events, in first-seen order.
  std::vector<std::pair<std::pair<std::string, std::string>, std::vector<std::int64_t>>> pairs;
  for (std::size_t i = 1; i < inst.events.size(); ++i) {
    const instance_event& a = inst.events[i - 1];
    const instance_event& b = inst.events[i];
    const timestamp a_end = a.completed_at ? *a.completed_at : a.started_at;
    const std::int64_t t = (b.started_at - a_end).count();
    auto key = std::make_pair(a.step_id, b.step_id);
    auto it = std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; });
    if (it == pairs.end()) {
      pairs.push_back({std::move(key), {t}});
    } else {
      it->second.push_back(t);
    }
  }
  const detail::step_indexer index(def);
  std::vector<detail::observed_edge> edges;
  for (const auto& [key, times] : pairs) {
    const auto from = index(key.first);
    const auto to = index(key.second);
    if (from && to) edges.push_back({*from, *to, 0});
  }
  const auto back = detail::back_edges(def, index, edges);
  std::size_t k = 0;
  for (auto& [key, times] : pairs) {
    const step_definition* from = def.find_step(key.first);
    const step_definition* to = def.find_step(key.second);
    if (!from || !to) continue;
    std::sort(times.begin(), times.end());
    transition_entry e;
    e.from_step = key.first;
    e.to_step = key.second;
    e.count = static_cast<std::int64_t>(times.size());
    e.average_transition_time_ms =
        ms(static_cast<double>(std::accumulate(times.begin(), times.end(), std::int64_t{0})) /
           static_cast<double>(times.size()));
    e.min_transition_time_ms = ms(times.front());
    e.max_transition_time_ms = ms(times.back());
    const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(times.size()) - 1e-9));
    e.p90_transition_time_ms = ms(times[std::max<std::size_t>(rank, 1) - 1]);
    e.rework = back[k++];
    add_transition(r, std::move(e), *to, threshold_ms, [&](const transition_entry& t) {
      return classify(def, from, to, nullptr, nullptr, t.average_transition_time_ms, t.rework);
    });
  }
  sort_bottleneck_transitions(r);
  const std::int64_t elapsed = (inst.last_at - inst.first_at).count();
  r.completed_instances = inst.completed ? 1 : 0;
  r.total_average_completion_time_ms = ms(elapsed);
  r.citizen_active_time_ms = ms(inst.active_time.count());
  r.citizen_waiting_time_ms = ms(elapsed - inst.active_time.count());
  return r;
}

health_report analyze_health(const monitor_totals& totals) {
  health_report h;
  h.executor_metrics_count = totals.steps_with_data;
  h.total_tracked_executions = totals.total_executions;
  h.open_instances = totals.open_instances;
  return h;
}

}  // namespace civicperf
