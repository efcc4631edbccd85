#include "events_parser.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "civicperf/json.hpp"
#include "civicperf/registry.hpp"
#include "json_response.hpp"

namespace civicperf::server {
namespace {

namespace bj = boost::json;

// Largest duration accepted in milliseconds (about 31 years): keeps the
// conversion to integer microseconds far from overflow.
constexpr double max_duration_ms = 1e12;

// Largest memory sample accepted, in MB (1 PB): sums stay finite.
constexpr double max_memory_mb = 1e9;

// Event times must lie in 1970-01-01 .. 2199-12-31 (UTC): anything else is a
// typo or a wrong epoch, and would swamp every duration it takes part in.
constexpr std::int64_t earliest_event_us = 0;
constexpr std::int64_t latest_event_us = 7'258'118'400'000'000;   // 2200-01-01T00:00:00Z

// Thrown inside this file only; becomes event_batch_error.
struct bad_event {
  std::string message;
};

std::string shown(std::string_view s) {
  constexpr std::size_t max = 80;
  return s.size() <= max ? fmt::format("'{}'", s) : fmt::format("'{}...'", s.substr(0, max));
}

class event_reader {
 public:
  event_reader(const bj::object& o, std::size_t index) : o_(o), index_(index) {}

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    throw bad_event{fmt::format("events[{}].{}: {}", index_, field, problem)};
  }
  void wrong_type(std::string_view field, std::string_view expected, const bj::value& v) const {
    fail(field, fmt::format("expected {}, not {}", expected, json_kind_name(v)));
  }

  /// The member, or nullptr when absent or null.
  [[nodiscard]] const bj::value* get(std::string_view field) const {
    const bj::value* v = o_.if_contains(field);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  [[nodiscard]] std::optional<std::string> string(std::string_view field) const {
    const bj::value* v = get(field);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) wrong_type(field, "a string", *v);
    return std::string(v->get_string());
  }
  [[nodiscard]] std::string required_string(std::string_view field) const {
    auto s = string(field);
    if (!s) fail(field, "missing");
    if (s->empty()) fail(field, "must not be empty");
    return std::move(*s);
  }
  [[nodiscard]] std::optional<timestamp> time(std::string_view field) const {
    const bj::value* v = get(field);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) wrong_type(field, "an ISO-8601 date-time string", *v);
    const auto t = parse_json_timestamp(*v);
    if (!t)
      fail(field, fmt::format("not an ISO-8601 date-time: {}",
                              shown(std::string_view(v->get_string()))));
    const std::int64_t us = t->time_since_epoch().count();
    if (us < earliest_event_us || us >= latest_event_us)
      fail(field, fmt::format("{} is outside 1970-01-01 .. 2199-12-31",
                              shown(std::string_view(v->get_string()))));
    return t;
  }
  [[nodiscard]] std::optional<double> number(std::string_view field) const {
    const bj::value* v = get(field);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) wrong_type(field, "a number", *v);
    const double d = v->to_number<double>();
    if (!std::isfinite(d) || d < 0) fail(field, "must be a non-negative number");
    return d;
  }
  [[nodiscard]] std::optional<bool> boolean(std::string_view field) const {
    const bj::value* v = get(field);
    if (v == nullptr) return std::nullopt;
    if (!v->is_bool()) wrong_type(field, "a boolean", *v);
    return v->get_bool();
  }

 private:
  const bj::object& o_;
  std::size_t index_;
};

step_result read_event(const bj::value& item, std::size_t index, const step_registry& registry,
                       std::shared_ptr<const workflow_definition>& cached) {
  if (!item.is_object())
    throw bad_event{fmt::format("events[{}]: expected an object, not {}", index,
                                json_kind_name(item))};
  const bj::object& o = item.get_object();
  const event_reader in(o, index);
  for (const auto& member : o) {
    const std::string_view key(member.key().data(), member.key().size());
    if (std::find(std::begin(event_fields), std::end(event_fields), key) == std::end(event_fields))
      in.fail(key.substr(0, 64), "unknown field");
  }

  step_result r;
  r.workflow_id = in.required_string("workflow_id");
  if (!cached || cached->id != r.workflow_id) cached = registry.find_workflow(r.workflow_id);
  if (!cached) in.fail("workflow_id", fmt::format("unknown workflow {}", shown(r.workflow_id)));
  r.step_id = in.required_string("step_id");
  if (cached->find_step(r.step_id) == nullptr)
    in.fail("step_id", fmt::format("unknown step {} in workflow {}", shown(r.step_id),
                                   shown(r.workflow_id)));

  {
    const std::string status = in.required_string("status");
    const auto s = parse_step_status(status);
    if (!s)
      in.fail("status", fmt::format("unknown status {} (expected pending, running, completed, "
                                    "failed or skipped)",
                                    shown(status)));
    r.status = *s;
  }

  r.execution_environment = in.string("execution_environment").value_or("");
  r.instance_id = in.string("instance_id").value_or("");
  if (r.instance_id.empty() && r.execution_environment != "manual")
    in.fail("instance_id", "required for a case event (only execution_environment \"manual\" "
                           "events may omit it)");

  r.queued_at = in.time("queued_at");
  r.started_at = in.time("started_at");
  if (!r.started_at) in.fail("started_at", "missing");
  r.completed_at = in.time("completed_at");
  if (r.queued_at && *r.started_at < *r.queued_at) in.fail("started_at", "before queued_at");
  if (r.completed_at && *r.completed_at < *r.started_at) in.fail("completed_at", "before started_at");

  if (const auto ms = in.number("validation_duration_ms")) {
    if (*ms > max_duration_ms) in.fail("validation_duration_ms", "too large");
    r.validation_duration = duration(static_cast<duration::rep>(std::llround(*ms * 1000.0)));
  }
  if (const bj::value* v = in.get("retry_count")) {
    const std::int64_t* i = v->if_int64();
    const std::uint64_t* u = v->if_uint64();
    if (i == nullptr && u == nullptr) in.wrong_type("retry_count", "an integer", *v);
    if ((i != nullptr && (*i < 0 || *i > std::numeric_limits<std::int32_t>::max())) ||
        (u != nullptr && *u > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())))
      in.fail("retry_count", "must be an integer from 0 to 2147483647");
    r.retry_count = static_cast<std::int32_t>(i != nullptr ? *i : static_cast<std::int64_t>(*u));
  }
  r.memory_usage_mb = in.number("memory_usage_mb");
  if (r.memory_usage_mb && *r.memory_usage_mb > max_memory_mb)
    in.fail("memory_usage_mb", "too large (at most 1e9 MB)");

  r.error = in.string("error");
  r.executed_by = in.string("executed_by").value_or("");
  r.step_version = in.string("step_version").value_or("");
  r.waiting_for_approval = in.boolean("waiting_for_approval");
  r.waiting_for_external_service = in.boolean("waiting_for_external_service");

  if (const bj::value* v = in.get("blocking_dependencies")) {
    if (!v->is_array()) in.wrong_type("blocking_dependencies", "an array of strings", *v);
    const bj::array& a = v->get_array();
    r.blocking_dependencies.reserve(a.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (!a[k].is_string())
        in.fail(fmt::format("blocking_dependencies[{}]", k),
                fmt::format("expected a string, not {}", json_kind_name(a[k])));
      r.blocking_dependencies.emplace_back(a[k].get_string());
    }
  }
  if (const bj::value* v = in.get("outputs")) {
    if (!v->is_object()) in.wrong_type("outputs", "an object", *v);
    r.outputs = bj::value_to<value>(*v);
  }
  return r;
}

}  // namespace

event_batch_outcome parse_event_batch(const bj::object& body, const step_registry& registry,
                                      std::size_t max_events) {
  for (const auto& member : body)
    if (member.key() != "events")
      return event_batch_error{fmt::format("{}: unknown field (the body is {{\"events\": [...]}})",
                                           shown(std::string_view(member.key())))};
  const bj::value* events = body.if_contains("events");
  if (events == nullptr) return event_batch_error{"events: missing"};
  if (!events->is_array())
    return event_batch_error{fmt::format("events: expected an array, not {}",
                                         json_kind_name(*events))};
  const bj::array& items = events->get_array();
  if (items.size() > max_events) return event_batch_too_large{items.size()};

  event_batch batch;
  batch.events.reserve(items.size());
  std::shared_ptr<const workflow_definition> cached;
  try {
    for (std::size_t i = 0; i < items.size(); ++i)
      batch.events.push_back(read_event(items[i], i, registry, cached));
  } catch (const bad_event& e) {
    return event_batch_error{e.message};
  }
  return batch;
}

}  // namespace civicperf::server
