// POST /events: whole-batch validation, then one durable record.

#include <algorithm>
#include <span>
#include <variant>

#include <fmt/format.h>

#include "events_parser.hpp"
#include "handlers.hpp"

namespace civicperf::server::handlers {

bool is_read_only(const handler_context& ctx, std::string_view workflow_id) noexcept {
  const auto& ids = ctx.config.read_only_workflows;
  return std::find(ids.begin(), ids.end(), workflow_id) != ids.end();
}

std::size_t record_durably(handler_context& ctx, std::span<const step_result> results,
                           std::string_view what) {
  try {
    return ctx.recorder.record(results).recorded;
  } catch (const store_error& e) {
    ctx.config.log_error(fmt::format("{}: {}", what, e.what()));
    throw api_error(503, fmt::format("{}: {}", what, e.what()));
  }
}

http_response ingest_events(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({});
  const boost::json::object body = parse_json_object(rr.request.body, ctx.config.json);
  event_batch_outcome parsed = parse_event_batch(body, ctx.registry, ctx.config.max_batch_events);
  if (const auto* too_large = std::get_if<event_batch_too_large>(&parsed))
    throw api_error(413, fmt::format("Too many events in one batch: {} (at most {})",
                                     too_large->count, ctx.config.max_batch_events));
  if (const auto* error = std::get_if<event_batch_error>(&parsed))
    throw api_error(422, error->message);
  const auto& events = std::get<event_batch>(parsed).events;
  if (!ctx.config.read_only_workflows.empty()) {
    for (std::size_t i = 0; i < events.size(); ++i)
      if (is_read_only(ctx, events[i].workflow_id))
        throw api_error(422, fmt::format("events[{}].workflow_id: '{}' is imported from an event "
                                         "log (--import) and accepts no new events",
                                         i, events[i].workflow_id));
  }
  // Answered only once the whole batch is committed (and folded): 200 means durable.
  const std::size_t accepted =
      record_durably(ctx, std::span<const step_result>(events), "The batch was not stored");
  return json_response(boost::json::object{{"accepted", static_cast<std::int64_t>(accepted)}});
}

}  // namespace civicperf::server::handlers
