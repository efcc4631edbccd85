#pragma once
/// \file
/// BottleneckAnalyzer: pure functions from a snapshot and a definition to
/// reports, in O(steps + transitions) — never a scan of executions.

#include <cstdint>
#include <string>

#include "civicperf/reports.hpp"
#include "civicperf/snapshot.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

/// Thresholds of the analysis; defaults are the spec's.
struct analysis_options {
  double slow_step_ms = 5000;              ///< bottlenecks: default threshold_ms
  std::int64_t min_executions = 10;        ///< bottlenecks: default min_executions
  double approval_share = 30;              ///< approval_bottlenecks above this %
  double external_share = 20;              ///< external_service_bottlenecks above this %
  double optimize_duration_ms = 10'000;    ///< "optimizing step logic" above this mean
  double optimize_queue_ms = 5'000;        ///< "more execution workers" above this mean queue
  double optimize_approval_share = 50;     ///< "streamlining approval" above this %
  double failure_share = 10;               ///< failure-rate rule above this % (and >= 1 failure)
  double tail_ratio = 10;                  ///< tail-latency rule when p99 > ratio * p50 ...
  double tail_min_ms = 1'000;              ///< ... and p99 above this
  double transition_threshold_ms = 5000;   ///< timing analysis: default threshold_ms
  double external_suggest_ms = 1'000;      ///< external-service rule above this mean ...
  double external_suggest_share = 50;      ///< ... when more than this % wait for the service
  double retry_ratio = 0.2;                ///< retry rule above this many retries per execution
  double blocked_share = 10;               ///< blocked-dependency rule above this %
  std::size_t common_errors = 5;           ///< error messages listed per step
};

/// The spec's three suggestion texts, verbatim.
inline constexpr std::string_view suggestion_slow_logic =
    "Consider optimizing step logic - execution time is high";
inline constexpr std::string_view suggestion_more_workers =
    "Consider adding more execution workers - queue time is high";
inline constexpr std::string_view suggestion_approval =
    "Consider streamlining approval process - many steps waiting for approval";

[[nodiscard]] step_metrics_report analyze_step(const step_snapshot& snap,
                                               const step_definition& step,
                                               const analysis_options& opt = {});

[[nodiscard]] workflow_performance_report analyze_workflow(const workflow_snapshot& snap,
                                                           const workflow_definition& def,
                                                           const analysis_options& opt = {});

/// `threshold_ms` / `min_executions` as the query parameters of the endpoint.
[[nodiscard]] bottleneck_report analyze_bottlenecks(const workflow_snapshot& snap,
                                                    const workflow_definition& def,
                                                    double threshold_ms,
                                                    std::int64_t min_executions,
                                                    const analysis_options& opt = {});

[[nodiscard]] timing_report analyze_timing(const workflow_snapshot& snap,
                                           const workflow_definition& def, double threshold_ms,
                                           const analysis_options& opt = {});

/// Timing analysis of one case from its kept events.
[[nodiscard]] timing_report analyze_instance_timing(const instance_snapshot& inst,
                                                    const workflow_definition& def,
                                                    double threshold_ms,
                                                    const analysis_options& opt = {});

[[nodiscard]] health_report analyze_health(const monitor_totals& totals);

}  // namespace civicperf
