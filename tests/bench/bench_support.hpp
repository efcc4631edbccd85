#pragma once
// Shared fixtures of the benchmarks: a linear 25-step workflow and histories
// of a given size recorded into a monitor.

#include <civicperf/civicperf.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace civicperf::bench {

inline constexpr int bench_steps = 25;

/// step_00 -> step_01 -> ... -> step_23 -> done (terminal). Step 5 is an
/// approval, step 12 an integration.
workflow_definition linear_workflow(const std::string& id = "bench_wf");

/// A completed result with execution, queue and validation times and flags.
step_result completed_result(const std::string& workflow, const std::string& step,
                             std::int64_t exec_us);

/// Records `executions` results over `executions / 100` cases (100 events per
/// case, cycling through the steps, cases interleaved), like a busy service.
void record_history(performance_monitor& monitor, const workflow_definition& def,
                    std::int64_t executions);

/// Peak resident set size of this process (VmHWM), in MB.
double peak_rss_mb();
/// Current resident set size (VmRSS), in MB.
double rss_mb();

}  // namespace civicperf::bench
