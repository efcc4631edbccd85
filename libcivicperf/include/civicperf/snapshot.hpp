#pragma once
/// \file
/// Snapshots: plain copyable aggregates read out of the performance monitor.
/// The bottleneck analyzer is a pure function of them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civicperf/histogram.hpp"
#include "civicperf/step_result.hpp"
#include "civicperf/time.hpp"

namespace civicperf {

/// Memory samples (MB) of completed executions.
struct memory_stats {
  std::int64_t count = 0;
  double sum = 0.0;
  double min = 0.0;
  double max = 0.0;
  void add(double mb) noexcept;
  void merge(const memory_stats& other) noexcept;
  [[nodiscard]] double mean() const noexcept { return count > 0 ? sum / static_cast<double>(count) : 0.0; }
  friend bool operator==(const memory_stats&, const memory_stats&) noexcept = default;
};

struct error_count {
  std::string message;
  std::int64_t count = 0;
  friend bool operator==(const error_count&, const error_count&) = default;
};

/// Everything recorded for one step. Times are microseconds.
struct step_snapshot {
  std::string workflow_id;
  std::string step_id;
  /// Executions by status, indexed by step_status.
  std::array<std::int64_t, step_status_count> status_counts{};
  std::int64_t total_executions = 0;
  /// Of completed executions that carry the value (zero is a value).
  value_stats execution;
  value_stats queue;
  value_stats validation;
  memory_stats memory;
  /// Of all executions.
  std::int64_t waiting_for_approval = 0;
  std::int64_t waiting_for_external_service = 0;
  std::int64_t long_queue = 0;
  std::int64_t blocked = 0;          ///< executions with blocking dependencies
  std::int64_t retries = 0;          ///< sum of retry_count
  /// Most frequent error messages, by count descending then message. Counts
  /// are exact while at most monitor_options::max_error_messages distinct
  /// messages occurred; beyond that a new message takes the place of the rarest
  /// and may be over-counted by at most `error_overcount`.
  std::vector<error_count> errors;
  std::int64_t error_overcount = 0;

  [[nodiscard]] std::int64_t count(step_status s) const noexcept {
    return status_counts[static_cast<std::size_t>(s)];
  }
  friend bool operator==(const step_snapshot&, const step_snapshot&) = default;
};

/// Times from one step to the next inside cases: B.started_at - A.completed_at.
struct transition_snapshot {
  std::string from_step;
  std::string to_step;
  value_stats time;
  friend bool operator==(const transition_snapshot&, const transition_snapshot&) = default;
};

struct terminal_count {
  std::string terminal_status;
  std::int64_t count = 0;
  friend bool operator==(const terminal_count&, const terminal_count&) = default;
};

/// Case (instance) totals of one workflow.
struct instance_totals {
  std::int64_t total_instances = 0;      ///< instances seen
  std::int64_t completed_instances = 0;  ///< reached a terminal step
  std::int64_t open_instances = 0;       ///< currently tracked, not completed
  std::int64_t evicted_instances = 0;    ///< dropped from the full open-instance table
  /// Per completed instance: latest completed_at - earliest queued_at.
  value_stats completion_time;
  std::int64_t active_time_sum = 0;      ///< sum over completed instances
  std::int64_t waiting_time_sum = 0;     ///< sum over completed instances
  /// Completed instances by terminal status, sorted by status.
  std::vector<terminal_count> terminal_status_counts;
  friend bool operator==(const instance_totals&, const instance_totals&) = default;
};

/// One workflow's aggregates: every step of the definition in definition order
/// (zeros where nothing was recorded) and the transitions observed, sorted by
/// (from, to) definition order.
struct workflow_snapshot {
  std::string workflow_id;
  std::vector<step_snapshot> steps;
  std::vector<transition_snapshot> transitions;
  instance_totals instances;

  [[nodiscard]] const step_snapshot* find_step(std::string_view step_id) const noexcept;
  friend bool operator==(const workflow_snapshot&, const workflow_snapshot&) = default;
};

/// One event kept in an instance's timeline.
struct instance_event {
  std::string step_id;
  step_status status = step_status::pending;
  timestamp started_at{};
  std::optional<timestamp> completed_at;
  std::optional<duration> execution_duration;
  bool waiting = false;   ///< waiting for approval or an external service
  friend bool operator==(const instance_event&, const instance_event&) = default;
};

/// One case as the monitor holds it: its most recent events (at most
/// monitor_options::events_per_instance; `total_events` counts all).
struct instance_snapshot {
  std::string workflow_id;
  std::string instance_id;
  bool completed = false;
  std::string terminal_status;     ///< when completed
  std::int64_t total_events = 0;
  std::vector<instance_event> events;
  timestamp first_at{};            ///< earliest queued_at / started_at
  timestamp last_at{};             ///< latest completed_at / started_at
  duration active_time{};          ///< executions of non-waiting steps
  friend bool operator==(const instance_snapshot&, const instance_snapshot&) = default;
};

/// Monitor-wide counters (the health endpoint).
struct monitor_totals {
  std::int64_t total_executions = 0;   ///< every execution recorded
  std::int64_t steps_with_data = 0;    ///< steps with at least one execution
  std::int64_t open_instances = 0;
  std::int64_t rejected = 0;           ///< results for unknown workflows/steps
  std::int64_t histogram_values_lost = 0;
};

}  // namespace civicperf
