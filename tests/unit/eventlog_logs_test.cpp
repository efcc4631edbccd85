// The four public event logs, CSV and XES, against an independent and
// deliberately simple computation: load every CSV row, group by case,
// stable-sort by start, and take directly-follows times in exact integer
// microseconds. civicperf's import must agree exactly on counts, minima and
// maxima, and up to floating rounding on means; the CSV and the XES file of
// a log must give the same reports.

#include "civicperf/eventlog.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "civicperf/analyzer.hpp"
#include "civicperf/json.hpp"
#include "civicperf/monitor.hpp"

using namespace civicperf;

namespace {

std::string data(const std::string& file) {
  return std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/" + file;
}

// ---------------------------------------------------------------------------
// The independent computation.

// "YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM" -> microseconds since the epoch, with
// the standard library's calendar (nothing of civicperf's time code).
std::int64_t naive_time(const std::string& s) {
  const int y = std::stoi(s.substr(0, 4));
  const unsigned mo = static_cast<unsigned>(std::stoi(s.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(s.substr(8, 2)));
  const std::int64_t h = std::stoi(s.substr(11, 2));
  const std::int64_t mi = std::stoi(s.substr(14, 2));
  const std::int64_t se = std::stoi(s.substr(17, 2));
  std::size_t p = 19;
  std::int64_t micros = 0;
  if (s[p] == '.') {
    std::string digits;
    for (++p; std::isdigit(static_cast<unsigned char>(s[p])); ++p) digits += s[p];
    micros = std::stoll((digits + "000000").substr(0, 6));
  }
  REQUIRE((s[p] == '+' || s[p] == '-'));
  const std::int64_t sign = s[p] == '-' ? -1 : 1;
  const std::int64_t offset = sign * (std::stoi(s.substr(p + 1, 2)) * 3600 + std::stoi(s.substr(p + 4, 2)) * 60);
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  const std::int64_t seconds = std::int64_t{day.time_since_epoch().count()} * 86400 + h * 3600 + mi * 60 + se - offset;
  return seconds * 1'000'000 + micros;
}

struct naive_stats {
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int64_t min = 0;
  std::int64_t max = 0;
  void add(std::int64_t v) {
    min = count == 0 ? v : std::min(min, v);
    max = count == 0 ? v : std::max(max, v);
    ++count;
    sum += v;
  }
  double mean_ms() const { return static_cast<double>(sum) / static_cast<double>(count) / 1000.0; }
};

struct naive_log {
  std::int64_t events = 0;
  std::map<std::string, naive_stats> executions;   // by activity
  std::map<std::pair<std::string, std::string>, naive_stats> transitions;
  std::vector<std::int64_t> case_durations;        // sorted
  std::int64_t duration_sum = 0;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

naive_log compute(const std::string& csv_file) {
  std::ifstream in(data(csv_file), std::ios::binary);
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  const auto column = [&](const std::string& name) -> std::ptrdiff_t {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : it - header.begin();
  };
  const auto case_col = column("case:concept:name");
  const auto activity_col = column("concept:name");
  const auto time_col = column("time:timestamp");
  const auto start_col = column("start_timestamp");
  REQUIRE(case_col >= 0);
  REQUIRE(activity_col >= 0);
  REQUIRE(time_col >= 0);

  struct row {
    std::string activity;
    std::int64_t start;
    std::int64_t end;
  };
  std::map<std::string, std::vector<row>> cases;
  naive_log out;
  while (std::getline(in, line)) {
    REQUIRE(line.find('"') == std::string::npos);   // these files need no quoting
    const auto f = split(line);
    REQUIRE(f.size() == header.size());
    const std::int64_t end = naive_time(f[static_cast<std::size_t>(time_col)]);
    const std::int64_t start = start_col >= 0 ? naive_time(f[static_cast<std::size_t>(start_col)]) : end;
    cases[f[static_cast<std::size_t>(case_col)]].push_back({f[static_cast<std::size_t>(activity_col)], start, end});
    ++out.events;
  }
  for (auto& [id, rows] : cases) {
    std::stable_sort(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.start < b.start; });
    std::int64_t first = rows.front().start;
    std::int64_t last = rows.front().end;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out.executions[rows[i].activity].add(rows[i].end - rows[i].start);
      first = std::min(first, rows[i].start);
      last = std::max(last, rows[i].end);
      if (i > 0) out.transitions[{rows[i - 1].activity, rows[i].activity}].add(rows[i].start - rows[i - 1].end);
    }
    out.case_durations.push_back(last - first);
    out.duration_sum += last - first;
  }
  std::sort(out.case_durations.begin(), out.case_durations.end());
  return out;
}

// ---------------------------------------------------------------------------

struct reports {
  eventlog_import import;
  workflow_performance_report performance;
  bottleneck_report bottlenecks;
  timing_report timing;
};

reports analyse(const std::string& file) {
  performance_monitor monitor;
  reports r;
  r.import = import_eventlog(data(file), monitor);
  const workflow_snapshot snap = *monitor.snapshot(r.import.workflow.id);
  r.performance = analyze_workflow(snap, r.import.workflow);
  r.bottlenecks = analyze_bottlenecks(snap, r.import.workflow, 5000, 10);
  r.timing = analyze_timing(snap, r.import.workflow, 5000);
  return r;
}

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

void check_against(const reports& r, const naive_log& x) {
  const auto cases = static_cast<std::int64_t>(x.case_durations.size());
  CHECK(r.import.cases == cases);
  CHECK(r.import.events == x.events);
  CHECK(r.import.stats.skipped == 0);

  // Activities: one step each, with its execution count and durations.
  CHECK(r.import.workflow.steps.size() == x.executions.size());
  REQUIRE(r.performance.step_metrics.size() == x.executions.size());
  for (const auto& m : r.performance.step_metrics) {
    INFO("step " << m.step_id);
    REQUIRE(x.executions.count(m.step_id) == 1);
    const naive_stats& e = x.executions.at(m.step_id);
    CHECK(m.total_executions == e.count);
    CHECK(m.successful_executions == e.count);
    CHECK(m.min_duration_ms == ms(e.min));
    CHECK(m.max_duration_ms == ms(e.max));
    CHECK(m.average_duration_ms == Approx(e.mean_ms()).epsilon(1e-12));
  }

  // Edges: one per directly-follows pair, with exact counts, minima, maxima.
  CHECK(r.import.workflow.edges.size() == x.transitions.size());
  REQUIRE(r.timing.step_transitions.size() == x.transitions.size());
  for (const auto& t : r.timing.step_transitions) {
    INFO("transition " << t.from_step << " -> " << t.to_step);
    const auto it = x.transitions.find({t.from_step, t.to_step});
    REQUIRE(it != x.transitions.end());
    CHECK(t.count == it->second.count);
    CHECK(t.min_transition_time_ms == ms(it->second.min));
    CHECK(t.max_transition_time_ms == ms(it->second.max));
    CHECK(t.average_transition_time_ms == Approx(it->second.mean_ms()).epsilon(1e-12));
  }

  // Cases: all complete, mean duration, and the exact summary.
  const double mean_ms = static_cast<double>(x.duration_sum) / static_cast<double>(cases) / 1000.0;
  CHECK(r.performance.total_instances == cases);
  CHECK(r.performance.completed_instances == cases);
  CHECK(r.performance.completion_rate == 100.0);
  CHECK(r.performance.average_completion_time_ms == Approx(mean_ms).epsilon(1e-12));
  CHECK(r.timing.completed_instances == cases);
  CHECK(r.timing.total_average_completion_time_ms == Approx(mean_ms).epsilon(1e-12));
  const case_duration_summary& d = r.import.case_durations;
  const auto n = x.case_durations.size();
  CHECK(d.cases == cases);
  CHECK(d.total.count() == x.duration_sum);
  CHECK(d.min.count() == x.case_durations.front());
  CHECK(d.max.count() == x.case_durations.back());
  CHECK(d.p50.count() == x.case_durations[(n + 1) / 2 - 1]);
  CHECK(d.p90.count() == x.case_durations[(9 * n + 9) / 10 - 1]);
}

std::string json(const auto& report) { return to_json_text(boost::json::value_from(report)); }

void check_same(const reports& csv, const reports& xes) {
  CHECK(json(csv.timing) == json(xes.timing));
  CHECK(json(csv.performance) == json(xes.performance));
  CHECK(json(csv.bottlenecks) == json(xes.bottlenecks));
  workflow_definition a = csv.import.workflow;
  workflow_definition b = xes.import.workflow;
  CHECK(a.description.ends_with(".csv: " + std::to_string(csv.import.cases) + " cases, " +
                                std::to_string(csv.import.events) + " events, " +
                                std::to_string(a.steps.size()) + " activities"));
  a.description.clear();
  b.description.clear();
  CHECK(a == b);
  CHECK(csv.import.end_steps == xes.import.end_steps);
  CHECK(csv.import.reordered_cases == xes.import.reordered_cases);
}

void check_log(const std::string& name, std::int64_t cases, std::int64_t events,
               std::size_t activities) {
  const naive_log x = compute(name + ".csv");
  // The README's own counts anchor the naive computation too.
  CHECK(static_cast<std::int64_t>(x.case_durations.size()) == cases);
  CHECK(x.events == events);
  CHECK(x.executions.size() == activities);
  const reports csv = analyse(name + ".csv");
  const reports xes = analyse(name + ".xes");
  {
    INFO(name << ".csv");
    check_against(csv, x);
  }
  {
    INFO(name << ".xes");
    check_against(xes, x);
  }
  check_same(csv, xes);
  CHECK_NOTHROW(validate_definition(csv.import.workflow, name));
}

}  // namespace

TEST_CASE("logs: running-example, CSV and XES, equal an independent computation", "[eventlog][logs]") {
  check_log("running-example", 6, 42, 8);
}

TEST_CASE("logs: roadtraffic100traces, CSV and XES, equal an independent computation", "[eventlog][logs]") {
  check_log("roadtraffic100traces", 100, 390, 10);
}

TEST_CASE("logs: receipt, CSV and XES, equal an independent computation", "[eventlog][logs]") {
  check_log("receipt", 1434, 8577, 27);
}

TEST_CASE("logs: interval_event_log, CSV and XES, equal an independent computation", "[eventlog][logs]") {
  check_log("interval_event_log", 1266, 8109, 8);
  // The file is sorted by start across cases; in the replay every case is in
  // start order already, so nothing is reordered.
  const reports r = analyse("interval_event_log.csv");
  CHECK(r.import.reordered_cases == 0);
  CHECK(r.import.max_open_cases > 1);
}

TEST_CASE("logs: offsets in receipt are honoured (+01:00 and +02:00 across DST)", "[eventlog][logs]") {
  // case-10011: T02 at 2011-10-12 08:26:25.398+02:00, T03 at 2011-11-24 15:36:51.302+01:00.
  performance_monitor monitor;
  const auto imp = import_eventlog(data("receipt.csv"), monitor);
  const auto c = monitor.instance(imp.workflow.id, "case-10011");
  REQUIRE(c);
  REQUIRE(c->events.size() >= 3);
  CHECK(c->events[1].step_id == "T02 Check confirmation of receipt");
  CHECK(c->events[2].step_id == "T03 Adjust confirmation of receipt");
  const auto gap = c->events[2].started_at - *c->events[1].completed_at;
  // 43 days, 7 h 10 min 25.904 s by the wall clock, plus the hour given back in October.
  CHECK(gap.count() == ((43LL * 24 + 8) * 3600 + 10 * 60 + 25) * 1'000'000 + 904'000);
}
