#pragma once
/// \file
/// The readable report of civicperf-analyze.

#include <string>

#include "analyze_options.hpp"
#include "civicperf/eventlog.hpp"
#include "civicperf/reports.hpp"

namespace civicperf::analyze {

/// What the text report is made of.
struct report_input {
  const eventlog_import& import;
  const workflow_performance_report& performance;
  const bottleneck_report& bottlenecks;
  const timing_report& timing;
  double seconds = 0;   ///< time taken by the import
};

/// A readable duration: `850 ms`, `12.5 s`, `3.2 min`, `5.1 h`, `4.3 d`.
[[nodiscard]] std::string human_duration(double ms);

/// The report: counts, slowest steps, transitions by total waiting time,
/// case durations, critical path.
[[nodiscard]] std::string render_text_report(const report_input& in, const analyze_options& opt);

}  // namespace civicperf::analyze
