#include "civicperf/step_result.hpp"

#include <array>

namespace civicperf {

namespace {
constexpr std::array<std::string_view, step_status_count> status_names{
    "pending", "running", "completed", "failed", "skipped"};
}  // namespace

std::string_view to_string(step_status s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < status_names.size() ? status_names[i] : std::string_view{"unknown"};
}

std::optional<step_status> parse_step_status(std::string_view s) noexcept {
  for (std::size_t i = 0; i < status_names.size(); ++i) {
    if (status_names[i] == s) return static_cast<step_status>(i);
  }
  return std::nullopt;
}

std::optional<duration> step_result::effective_execution_duration() const noexcept {
  if (execution_duration) return execution_duration;
  if (started_at && completed_at) return *completed_at - *started_at;
  return std::nullopt;
}

std::optional<duration> step_result::effective_queue_time() const noexcept {
  if (queue_time) return queue_time;
  if (queued_at && started_at) return *started_at - *queued_at;
  return std::nullopt;
}

bool step_result::is_manual() const noexcept {
  return instance_id.empty() || execution_environment == "manual";
}

}  // namespace civicperf
