// GET /workflows, /workflows/{id}/performance, /bottlenecks, /timing-analysis.

#include <fmt/format.h>

#include "civicperf/analyzer.hpp"
#include "civicperf/json.hpp"
#include "handlers.hpp"

namespace civicperf::server::handlers {
namespace {

namespace bj = boost::json;

workflow_snapshot require_snapshot(const performance_monitor& monitor,
                                   std::string_view workflow_id) {
  auto snap = monitor.snapshot(workflow_id);
  // The service registers every workflow with the monitor, so this is a
  // server bug rather than a client error.
  if (!snap) throw std::logic_error(fmt::format("workflow '{}' is not monitored", workflow_id));
  return std::move(*snap);
}

}  // namespace

std::shared_ptr<const workflow_definition> require_workflow(const step_registry& registry,
                                                            std::string_view workflow_id) {
  auto def = registry.find_workflow(workflow_id);
  if (!def) throw api_error(404, fmt::format("Workflow '{}' not found", workflow_id));
  return def;
}

http_response list_workflows(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({});
  bj::array items;
  for (const auto& w : ctx.registry.list_workflows()) {
    bj::object o;
    o.reserve(4);
    o.emplace("workflow_id", w.workflow_id);
    o.emplace("name", w.name);
    o.emplace("description", w.description);
    o.emplace("step_count", static_cast<std::int64_t>(w.step_count));
    items.emplace_back(std::move(o));
  }
  return json_response(bj::object{{"workflows", std::move(items)}});
}

http_response workflow_performance(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({});
  const auto def = require_workflow(ctx.registry, rr.params[0]);
  return ctx.cache.get("performance\n" + def->id, ctx.monitor.version(def->id), [&] {
    const auto snap = require_snapshot(ctx.monitor, def->id);
    return report_response(analyze_workflow(snap, *def, ctx.config.analysis));
  });
}

http_response workflow_bottlenecks(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({"threshold_ms", "min_executions"});
  const double threshold =
      rr.query.non_negative_number("threshold_ms").value_or(ctx.config.analysis.slow_step_ms);
  const std::int64_t min_executions =
      rr.query.non_negative_integer("min_executions").value_or(ctx.config.analysis.min_executions);
  const auto def = require_workflow(ctx.registry, rr.params[0]);
  const std::string key = fmt::format("bottlenecks\n{}\n{}\n{}", def->id, threshold, min_executions);
  return ctx.cache.get(key, ctx.monitor.version(def->id), [&] {
    const auto snap = require_snapshot(ctx.monitor, def->id);
    return report_response(
        analyze_bottlenecks(snap, *def, threshold, min_executions, ctx.config.analysis));
  });
}

http_response timing_analysis(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({"instance_id", "threshold_ms"});
  const double threshold = rr.query.non_negative_number("threshold_ms")
                               .value_or(ctx.config.analysis.transition_threshold_ms);
  const auto instance_id = rr.query.text("instance_id");
  const auto def = require_workflow(ctx.registry, rr.params[0]);
  if (instance_id) {
    const auto inst = ctx.monitor.instance(def->id, *instance_id);
    if (!inst)
      throw api_error(404, fmt::format("Instance '{}' not found in workflow '{}' (only open and "
                                       "recently completed cases are kept)",
                                       *instance_id, def->id));
    return report_response(analyze_instance_timing(*inst, *def, threshold, ctx.config.analysis));
  }
  const std::string key = fmt::format("timing\n{}\n{}", def->id, threshold);
  return ctx.cache.get(key, ctx.monitor.version(def->id), [&] {
    const auto snap = require_snapshot(ctx.monitor, def->id);
    return report_response(analyze_timing(snap, *def, threshold, ctx.config.analysis));
  });
}

}  // namespace civicperf::server::handlers
