#pragma once
/// \file
/// Report types: what the API answers, field for field (names as in the spec).
/// Times are milliseconds, percentages 0..100.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civicperf/snapshot.hpp"

namespace civicperf {

struct bottleneck_indicators {
  double approval_bottleneck_percentage = 0;
  double external_service_bottleneck_percentage = 0;
  double long_queue_time_percentage = 0;
  std::vector<std::string> suggested_optimizations;
  friend bool operator==(const bottleneck_indicators&, const bottleneck_indicators&) = default;
};

/// GET /steps/{id}/metrics
struct step_metrics_report {
  std::string step_id;
  std::string workflow_id;
  std::string step_name;
  std::int64_t total_executions = 0;
  std::int64_t successful_executions = 0;
  std::int64_t failed_executions = 0;
  std::int64_t pending_executions = 0;
  double success_rate = 0;
  double average_duration_ms = 0;
  double min_duration_ms = 0;
  double max_duration_ms = 0;
  double p50_duration_ms = 0;
  double p90_duration_ms = 0;
  double p95_duration_ms = 0;
  double p99_duration_ms = 0;
  double average_queue_time_ms = 0;
  double average_validation_time_ms = 0;
  double average_memory_usage_mb = 0;
  double max_memory_usage_mb = 0;
  std::int64_t total_retries = 0;
  std::vector<error_count> common_errors;   ///< as `{"error", "count"}` on the wire
  bottleneck_indicators indicators;         ///< `bottleneck_indicators` on the wire
  friend bool operator==(const step_metrics_report&, const step_metrics_report&) = default;
};

struct workflow_bottleneck_summary {
  std::size_t total_steps = 0;
  std::size_t steps_with_data = 0;
  double average_step_success_rate = 0;
  std::optional<std::string> slowest_step;            ///< highest mean duration
  std::optional<std::string> most_error_prone_step;   ///< highest failure share, if any failed
  friend bool operator==(const workflow_bottleneck_summary&,
                         const workflow_bottleneck_summary&) = default;
};

/// GET /workflows/{id}/performance
struct workflow_performance_report {
  std::string workflow_id;
  std::int64_t total_instances = 0;
  std::int64_t completed_instances = 0;
  double completion_rate = 0;
  double average_completion_time_ms = 0;
  std::vector<terminal_count> terminal_status_counts;
  std::vector<step_metrics_report> step_metrics;      ///< steps with data, definition order
  workflow_bottleneck_summary bottleneck_analysis;
  std::vector<std::string> optimization_suggestions;
  friend bool operator==(const workflow_performance_report&,
                         const workflow_performance_report&) = default;
};

struct slow_step_entry {
  std::string step_id;
  std::string step_name;
  double average_duration_ms = 0;
  std::int64_t executions = 0;
  friend bool operator==(const slow_step_entry&, const slow_step_entry&) = default;
};
struct queue_bottleneck_entry {
  std::string step_id;
  std::string step_name;
  double average_queue_time_ms = 0;
  std::int64_t executions = 0;
  friend bool operator==(const queue_bottleneck_entry&, const queue_bottleneck_entry&) = default;
};
struct share_bottleneck_entry {
  std::string step_id;
  std::string step_name;
  double percentage = 0;   ///< approval_/external_service_bottleneck_percentage on the wire
  std::int64_t executions = 0;
  friend bool operator==(const share_bottleneck_entry&, const share_bottleneck_entry&) = default;
};

/// GET /workflows/{id}/bottlenecks
struct bottleneck_report {
  std::string workflow_id;
  double threshold_ms = 5000;
  std::int64_t min_executions = 10;
  std::vector<std::string> critical_path_steps;
  double critical_path_time_ms = 0;
  std::vector<slow_step_entry> slowest_steps;
  std::vector<share_bottleneck_entry> approval_bottlenecks;
  std::vector<share_bottleneck_entry> external_service_bottlenecks;
  std::vector<queue_bottleneck_entry> queue_bottlenecks;
  std::vector<std::string> recommendations;
  friend bool operator==(const bottleneck_report&, const bottleneck_report&) = default;
};

struct transition_entry {
  std::string from_step;
  std::string to_step;
  std::int64_t count = 0;
  double average_transition_time_ms = 0;
  double min_transition_time_ms = 0;
  double max_transition_time_ms = 0;
  double p90_transition_time_ms = 0;
  double citizen_wait_time_ms = 0;
  bool rework = false;   ///< a back edge or a repeat of the same step
  friend bool operator==(const transition_entry&, const transition_entry&) = default;
};

struct bottleneck_transition_entry {
  std::string transition;   ///< "from -> to"
  std::string from_step;
  std::string to_step;
  double average_wait_time_ms = 0;
  std::int64_t count = 0;
  double total_wait_time_ms = 0;
  std::string reason;
  std::string suggestion;
  friend bool operator==(const bottleneck_transition_entry&,
                         const bottleneck_transition_entry&) = default;
};

/// GET /workflows/{id}/timing-analysis[?instance_id=]
struct timing_report {
  std::string workflow_id;
  std::optional<std::string> instance_id;
  double threshold_ms = 5000;
  std::vector<transition_entry> step_transitions;
  std::vector<bottleneck_transition_entry> bottleneck_transitions;
  std::int64_t completed_instances = 0;          ///< instances the averages cover
  double total_average_completion_time_ms = 0;
  double citizen_active_time_ms = 0;
  double citizen_waiting_time_ms = 0;
  std::int64_t rework_transitions = 0;           ///< transitions counted as rework
  friend bool operator==(const timing_report&, const timing_report&) = default;
};

/// GET /health
struct health_report {
  std::string status = "healthy";
  std::string service = "performance_monitoring";
  std::int64_t executor_metrics_count = 0;
  std::int64_t total_tracked_executions = 0;
  std::int64_t open_instances = 0;
  friend bool operator==(const health_report&, const health_report&) = default;
};

}  // namespace civicperf
