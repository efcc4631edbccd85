#pragma once
/// \file
/// StepResult: one execution of one step of one case — the unit every
/// measurement in civicperf is folded from.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/time.hpp"
#include "civicperf/value.hpp"

namespace civicperf {

enum class step_status : std::uint8_t { pending, running, completed, failed, skipped };
inline constexpr std::size_t step_status_count = 5;

/// `pending`, `running`, `completed`, `failed`, `skipped`.
[[nodiscard]] std::string_view to_string(step_status s) noexcept;
[[nodiscard]] std::optional<step_status> parse_step_status(std::string_view s) noexcept;

/// The spec's StepResult plus the case it belongs to. Durations that are not
/// given are derived by the monitor: execution = completed_at - started_at,
/// queue = started_at - queued_at.
struct step_result {
  std::string workflow_id;
  std::string instance_id;   ///< the citizen's case; empty for a manual execution
  std::string step_id;
  step_status status = step_status::pending;
  value outputs;             ///< an object, or null
  std::optional<std::string> error;

  std::optional<timestamp> queued_at;
  std::optional<timestamp> started_at;
  std::optional<timestamp> completed_at;

  std::optional<duration> execution_duration;
  std::optional<duration> queue_time;
  std::optional<duration> validation_duration;
  std::int32_t retry_count = 0;
  std::optional<double> memory_usage_mb;

  std::string executed_by;
  std::string execution_environment;   ///< `manual` results count in step metrics only
  std::string step_version;

  /// Unset means the step type's default: true for approval steps
  /// (waiting_for_approval) and integration steps (waiting_for_external_service).
  std::optional<bool> waiting_for_approval;
  std::optional<bool> waiting_for_external_service;
  std::vector<std::string> blocking_dependencies;

  /// completed_at - started_at unless given explicitly.
  [[nodiscard]] std::optional<duration> effective_execution_duration() const noexcept;
  /// started_at - queued_at unless given explicitly.
  [[nodiscard]] std::optional<duration> effective_queue_time() const noexcept;
  /// True for results that belong to no case (no instance id, or environment `manual`).
  [[nodiscard]] bool is_manual() const noexcept;
};

}  // namespace civicperf
