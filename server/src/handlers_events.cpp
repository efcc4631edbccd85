// POST /events: whole-batch validation, then one record_batch.

#include <span>
#include <variant>

#include <fmt/format.h>

#include "events_parser.hpp"
#include "handlers.hpp"

namespace civicperf::server::handlers {

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
  const std::size_t accepted = ctx.monitor.record_batch(std::span<const step_result>(events));
  return json_response(boost::json::object{{"accepted", static_cast<std::int64_t>(accepted)}});
}

}  // namespace civicperf::server::handlers
