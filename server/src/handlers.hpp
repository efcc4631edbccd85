#pragma once
/// \file
/// The endpoint handlers (paths relative to /api/v1/performance). Each takes
/// the shared context and the routed request and returns the answer, or
/// throws api_error for a client error.

#include <memory>
#include <span>
#include <string_view>

#include "civicperf/registry.hpp"
#include "http_types.hpp"
#include "router.hpp"
#include "service.hpp"

namespace civicperf::server::handlers {

// handlers_workflows.cpp
http_response list_workflows(handler_context& ctx, const route_request& rr);        // GET /workflows
http_response workflow_performance(handler_context& ctx, const route_request& rr);  // GET /workflows/{}/performance
http_response workflow_bottlenecks(handler_context& ctx, const route_request& rr);  // GET /workflows/{}/bottlenecks
http_response timing_analysis(handler_context& ctx, const route_request& rr);       // GET /workflows/{}/timing-analysis

// handlers_steps.cpp
http_response list_steps(handler_context& ctx, const route_request& rr);     // GET /steps
http_response step_metrics(handler_context& ctx, const route_request& rr);   // GET /steps/{}/metrics
http_response execute_step(handler_context& ctx, const route_request& rr);   // POST /steps/execute
http_response validate_step(handler_context& ctx, const route_request& rr);  // POST /steps/validate

// handlers_events.cpp
http_response ingest_events(handler_context& ctx, const route_request& rr);  // POST /events

// handlers_health.cpp
http_response health(handler_context& ctx, const route_request& rr);         // GET /health

/// The definition of a workflow, or api_error 404.
[[nodiscard]] std::shared_ptr<const workflow_definition> require_workflow(
    const step_registry& registry, std::string_view workflow_id);

/// A found step, or api_error 404 (unknown workflow or step) / 409 (a bare
/// step id defined in several workflows; `candidates` lists them).
[[nodiscard]] step_lookup require_step(const step_registry& registry, std::string_view workflow_id,
                                       std::string_view step_id);

/// True when results of the workflow are not accepted (service_config::read_only_workflows).
[[nodiscard]] bool is_read_only(const handler_context& ctx, std::string_view workflow_id) noexcept;

/// Records results through the durable recorder and returns how many the
/// monitor accepted, once they are committed. A store failure is logged and
/// becomes api_error 503 (nothing was stored or counted); `what` says what
/// was lost, e.g. "The batch was not stored".
std::size_t record_durably(handler_context& ctx, std::span<const step_result> results,
                           std::string_view what);

}  // namespace civicperf::server::handlers
