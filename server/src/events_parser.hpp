#pragma once
/// \file
/// POST /events: turns `{"events": [...]}` into step results, validating the
/// whole batch before anything is recorded.

#include <boost/json/object.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "civicperf/step_result.hpp"

namespace civicperf {
class step_registry;
}  // namespace civicperf

namespace civicperf::server {

/// The members an event may carry; anything else is rejected.
inline constexpr std::string_view event_fields[] = {
    "workflow_id",           "instance_id",
    "step_id",               "status",
    "queued_at",             "started_at",
    "completed_at",          "validation_duration_ms",
    "retry_count",           "memory_usage_mb",
    "error",                 "executed_by",
    "execution_environment", "step_version",
    "waiting_for_approval",  "waiting_for_external_service",
    "blocking_dependencies", "outputs",
};

/// A valid batch, in batch order.
struct event_batch {
  std::vector<step_result> events;
};
/// The first problem found, e.g. `events[3].completed_at: before started_at`.
struct event_batch_error {
  std::string message;
};
/// More events than allowed in one batch.
struct event_batch_too_large {
  std::size_t count = 0;
};
using event_batch_outcome = std::variant<event_batch, event_batch_error, event_batch_too_large>;

/// Parses and validates a whole batch body (already parsed as an object).
/// Rules: `events` is the only member and an array of at most `max_events`
/// objects; every event names a workflow and a step the registry knows;
/// `status` is one of the five statuses; `started_at` is required and every
/// timestamp is ISO-8601; completed_at >= started_at >= queued_at; numbers are
/// finite and non-negative; `instance_id` is required (non-empty) unless
/// `execution_environment` is `manual`; members not in event_fields are
/// rejected. Thread safety: a pure function (the registry is read-only here).
[[nodiscard]] event_batch_outcome parse_event_batch(const boost::json::object& body,
                                                    const step_registry& registry,
                                                    std::size_t max_events);

}  // namespace civicperf::server
