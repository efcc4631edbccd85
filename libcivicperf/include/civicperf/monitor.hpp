#pragma once
/// \file
/// PerformanceMonitor: the hot path. Folds StepResults into bounded streaming
/// aggregates per step, per transition and per workflow.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/snapshot.hpp"
#include "civicperf/step_result.hpp"
#include "civicperf/time.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

/// Limits and thresholds of a monitor. Every bound is explicit.
struct monitor_options {
  /// Cases tracked at once; when full, the least recently active case is
  /// evicted (counted in instance_totals::evicted_instances).
  std::size_t max_open_instances = 100'000;
  /// Completed cases kept for single-instance timing analysis.
  std::size_t recent_instances = 10'000;
  /// Events kept per case for single-instance analysis (the most recent ones;
  /// transitions and totals use every event).
  std::size_t events_per_instance = 32;
  /// Distinct error messages counted per step (Space-Saving beyond that).
  std::size_t max_error_messages = 32;
  /// Queue time above which an execution counts as a long queue.
  duration long_queue_threshold = std::chrono::milliseconds(5000);
  /// Recording shards (0: derived from the hardware). Threads are spread over
  /// shards so that concurrent recorders rarely share a lock.
  std::size_t shards = 0;
};

/// A resolved (workflow, step): lets an engine record without string lookups.
struct step_ref {
  std::uint32_t workflow = 0;
  std::uint32_t step = 0;
  friend bool operator==(step_ref, step_ref) = default;
};

/// Folds StepResults into aggregates. Semantics (DESIGN.md):
/// - step aggregates: counts by status, execution/queue/validation statistics
///   of completed executions, memory of completed executions, approval /
///   external-service / long-queue / blocked counts of all executions, top
///   error messages;
/// - cases: a result with an instance id (and environment other than
///   `manual`) joins its case; the transition from the case's previous event
///   is folded (B.started_at - A.completed_at, A.started_at when A has no
///   completed_at). A result for the step whose latest event in the case is
///   still `pending` or `running` completes that execution instead: it replaces
///   it (no new execution, no transition). A completed terminal step completes
///   the case; later events of a recently completed case count for their
///   step only (the case is not reopened).
/// Recording is noexcept, takes no global lock and allocates nothing once a
/// step, transition and case have been seen. Replaying the same results in the
/// same order rebuilds the same snapshots.
/// Thread safety: every member function may be called concurrently.
class performance_monitor {
 public:
  explicit performance_monitor(monitor_options options = {});
  ~performance_monitor();
  performance_monitor(const performance_monitor&) = delete;
  performance_monitor& operator=(const performance_monitor&) = delete;

  /// Makes a workflow's steps recordable. Adding the same definition again is
  /// a no-op; a different definition under a known id throws
  /// std::invalid_argument.
  void add_workflow(const workflow_definition& def);
  [[nodiscard]] bool has_workflow(std::string_view workflow_id) const noexcept;

  /// Resolves (workflow, step) once, outside the hot path.
  [[nodiscard]] std::optional<step_ref> resolve(std::string_view workflow_id,
                                                std::string_view step_id) const noexcept;

  /// Records one result; false (and counted as rejected) when its workflow or
  /// step is unknown.
  bool record(const step_result& r) noexcept;
  /// Records one result for a resolved step (the result's ids except
  /// instance_id are not read).
  void record(step_ref ref, const step_result& r) noexcept;
  /// Records a batch: events are folded in started_at order, ties in batch
  /// order. Returns how many were recorded (unknown steps are skipped).
  std::size_t record_batch(std::span<const step_result> batch) noexcept;

  /// Completes an open case explicitly (an imported log's case ends at its
  /// last event). False when the case is not open.
  bool complete_instance(std::string_view workflow_id, std::string_view instance_id,
                         std::string_view terminal_status) noexcept;

  [[nodiscard]] std::optional<workflow_snapshot> snapshot(std::string_view workflow_id) const;
  /// Every workflow, in registration order.
  [[nodiscard]] std::vector<workflow_snapshot> snapshot() const;
  [[nodiscard]] std::optional<step_snapshot> step(std::string_view workflow_id,
                                                  std::string_view step_id) const;
  /// An open or recently completed case.
  [[nodiscard]] std::optional<instance_snapshot> instance(std::string_view workflow_id,
                                                          std::string_view instance_id) const;
  [[nodiscard]] monitor_totals totals() const;
  /// A number that changes whenever anything is recorded for the workflow
  /// (0 when nothing was, or the workflow is unknown): while it stays the
  /// same, so do the workflow's snapshots and instances. Read it before taking
  /// a snapshot to cache what is computed from it. Cheap: no snapshot is taken.
  [[nodiscard]] std::uint64_t version(std::string_view workflow_id) const noexcept;
  /// The same for the whole monitor.
  [[nodiscard]] std::uint64_t version() const noexcept;
  [[nodiscard]] const monitor_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace civicperf
