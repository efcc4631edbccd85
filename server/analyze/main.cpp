// civicperf-analyze: analyse a CSV or XES event log from the command line.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "analyze_options.hpp"
#include "civicperf/analyzer.hpp"
#include "civicperf/eventlog.hpp"
#include "civicperf/json.hpp"
#include "civicperf/monitor.hpp"
#include "text_report.hpp"

#ifndef CIVICPERF_VERSION
#define CIVICPERF_VERSION "0"
#endif

namespace {

using namespace civicperf;
using namespace civicperf::analyze;
using steady = std::chrono::steady_clock;

/// A progress line on stderr, at most about once a second, only for files
/// that take that long: rewritten in place on a terminal, one line each
/// otherwise.
class progress_line {
 public:
  explicit progress_line(std::string file) : file_(std::move(file)), tty_(::isatty(STDERR_FILENO) != 0) {}
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;
  ~progress_line() { done(); }

  void update(const eventlog_progress& p) {
    const auto now = steady::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    const char* what = p.pass == 1 ? "scanning" : "replaying";
    std::string line = fmt::format("civicperf-analyze: {}: {} {} records", file_, what, p.records);
    if (p.bytes_total > 0)
      line += fmt::format(" ({:.0f}%)", 100.0 * static_cast<double>(std::min(p.bytes_read, p.bytes_total)) /
                                          static_cast<double>(p.bytes_total));
    if (tty_) {
      fmt::print(stderr, "\r{}\x1b[K", line);
    } else {
      fmt::print(stderr, "{}\n", line);
    }
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (shown_ && tty_) fmt::print(stderr, "\n");
    shown_ = false;
  }

 private:
  std::string file_;
  bool tty_;
  bool shown_ = false;
  steady::time_point last_ = steady::now();
};

int run(const analyze_options& opt) {
  const auto t0 = steady::now();
  progress_line progress(opt.file);
  eventlog_options log = opt.log;
  if (!opt.quiet) log.progress = [&](const eventlog_progress& p) { progress.update(p); };

  const eventlog_scan scan = scan_eventlog(opt.file, log);
  // Room for every case the replay keeps open (with a margin for the
  // monitor's hash striping); completed cases are not kept.
  monitor_options mo;
  mo.max_open_instances = std::max<std::size_t>(
      mo.max_open_instances, 4 * static_cast<std::size_t>(scan.max_open_cases()) + 1024);
  mo.recent_instances = 0;
  mo.events_per_instance = 0;
  performance_monitor monitor(mo);
  const eventlog_import imp = replay_eventlog(scan, monitor, opt.workflow_id, log.progress);
  progress.done();
  const double seconds = std::chrono::duration<double>(steady::now() - t0).count();

  const workflow_snapshot snap = *monitor.snapshot(imp.workflow.id);
  const auto performance = analyze_workflow(snap, imp.workflow);
  const auto bottlenecks = analyze_bottlenecks(snap, imp.workflow, opt.threshold_ms, opt.min_executions);
  const auto timing = analyze_timing(snap, imp.workflow, opt.threshold_ms);

  if (opt.json) {
    boost::json::object doc;
    doc["workflow"] = boost::json::value_from(imp.workflow);
    doc["performance"] = boost::json::value_from(performance);
    doc["bottlenecks"] = boost::json::value_from(bottlenecks);
    doc["timing"] = boost::json::value_from(timing);
    fmt::print("{}\n", to_json_pretty(doc));
    if (imp.stats.skipped > 0)
      fmt::print(stderr, "civicperf-analyze: {}: {} malformed records skipped\n", opt.file,
                 imp.stats.skipped);
  } else {
    fmt::print("{}", render_text_report(report_input{imp, performance, bottlenecks, timing, seconds}, opt));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  analyze_options opt;
  try {
    opt = parse_options(args);
  } catch (const options_error& e) {
    fmt::print(stderr, "civicperf-analyze: {}\n\n{}", e.what(), usage_text());
    return 2;
  }
  if (opt.help) {
    fmt::print("{}", usage_text());
    return 0;
  }
  if (opt.version) {
    fmt::print("civicperf-analyze {}\n", CIVICPERF_VERSION);
    return 0;
  }
  try {
    return run(opt);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "civicperf-analyze: {}\n", e.what());
    return 1;
  }
}
