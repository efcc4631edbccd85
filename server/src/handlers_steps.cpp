// GET /steps, GET /steps/{id}/metrics, POST /steps/execute, POST /steps/validate.

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "civicperf/analyzer.hpp"
#include "civicperf/json.hpp"
#include "handlers.hpp"

namespace civicperf::server::handlers {
namespace {

namespace bj = boost::json;

/// The body of /steps/execute and /steps/validate (validate ignores the
/// execution-only members, so one body works for both).
struct step_request_body {
  std::string step_id;
  std::string workflow_id;
  value inputs = value::make_object();
  value context = value::make_object();
  bool dry_run = false;
  std::string environment = "manual";
  std::string instance_id;
};

constexpr std::string_view step_body_fields[] = {"step_id", "inputs",      "context",    "dry_run",
                                                 "workflow_id", "environment", "instance_id"};

[[noreturn]] void bad_field(std::string_view field, std::string_view problem) {
  throw api_error(422, fmt::format("{}: {}", field, problem));
}

const bj::value* member(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<std::string> string_member(const bj::object& o, std::string_view key) {
  const bj::value* v = member(o, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) bad_field(key, fmt::format("expected a string, not {}", json_kind_name(*v)));
  if (v->get_string().empty()) bad_field(key, "must not be empty");
  return std::string(v->get_string());
}

value object_member(const bj::object& o, std::string_view key) {
  const bj::value* v = member(o, key);
  if (v == nullptr) return value::make_object();
  if (!v->is_object())
    bad_field(key, fmt::format("expected an object, not {}", json_kind_name(*v)));
  return bj::value_to<value>(*v);
}

step_request_body read_step_body(std::string_view text, const json_limits& limits) {
  const bj::object o = parse_json_object(text, limits);
  for (const auto& m : o) {
    const std::string_view key(m.key().data(), m.key().size());
    if (std::find(std::begin(step_body_fields), std::end(step_body_fields), key) ==
        std::end(step_body_fields))
      bad_field(key.substr(0, 64), fmt::format("unknown field (expected {})",
                                               fmt::join(step_body_fields, ", ")));
  }
  step_request_body b;
  auto step_id = string_member(o, "step_id");
  if (!step_id) bad_field("step_id", "missing");
  b.step_id = std::move(*step_id);
  b.workflow_id = string_member(o, "workflow_id").value_or("");
  b.inputs = object_member(o, "inputs");
  b.context = object_member(o, "context");
  if (const bj::value* v = member(o, "dry_run")) {
    if (!v->is_bool())
      bad_field("dry_run", fmt::format("expected a boolean, not {}", json_kind_name(*v)));
    b.dry_run = v->get_bool();
  }
  b.environment = string_member(o, "environment").value_or("manual");
  b.instance_id = string_member(o, "instance_id").value_or("");
  return b;
}

}  // namespace

step_lookup require_step(const step_registry& registry, std::string_view workflow_id,
                         std::string_view step_id) {
  step_lookup found = registry.find_step(workflow_id, step_id);
  switch (found.result) {
    case step_lookup::outcome::found:
      return found;
    case step_lookup::outcome::unknown_workflow:
      throw api_error(404, fmt::format("Workflow '{}' not found", workflow_id));
    case step_lookup::outcome::unknown_step:
      if (workflow_id.empty()) throw api_error(404, fmt::format("Step '{}' not found", step_id));
      throw api_error(404,
                      fmt::format("Step '{}' not found in workflow '{}'", step_id, workflow_id));
    case step_lookup::outcome::ambiguous: {
      bj::array candidates;
      for (const auto& c : found.candidates) candidates.emplace_back(c);
      throw api_error(409,
                      fmt::format("Step id '{}' is ambiguous: it exists in workflows {}; add "
                                  "workflow_id to choose one",
                                  step_id, fmt::join(found.candidates, ", ")),
                      bj::object{{"candidates", std::move(candidates)}});
    }
  }
  throw std::logic_error("unexpected step lookup outcome");
}

http_response list_steps(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({"workflow_id"});
  const auto workflow_id = rr.query.text("workflow_id");
  if (workflow_id) (void)require_workflow(ctx.registry, *workflow_id);
  bj::array items;
  for (const auto& s : ctx.registry.list_steps(workflow_id.value_or(""))) {
    bj::object o;
    o.reserve(4);
    o.emplace("step_id", s.step_id);
    o.emplace("name", s.name);
    o.emplace("type", wire_name(s.type));
    o.emplace("workflow_id", s.workflow_id);
    items.emplace_back(std::move(o));
  }
  return json_response(bj::object{{"steps", std::move(items)}});
}

http_response step_metrics(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({"workflow_id"});
  const auto workflow_id = rr.query.text("workflow_id");
  const step_lookup found = require_step(ctx.registry, workflow_id.value_or(""), rr.params[0]);
  const std::string key = fmt::format("metrics\n{}\n{}", found.workflow->id, found.step->id);
  return ctx.cache.get(key, ctx.monitor.version(found.workflow->id), [&] {
    auto snap = ctx.monitor.step(found.workflow->id, found.step->id);
    if (!snap)
      throw std::logic_error(fmt::format("step '{}' of workflow '{}' is not monitored",
                                         found.step->id, found.workflow->id));
    return report_response(analyze_step(*snap, *found.step, ctx.config.analysis));
  });
}

http_response execute_step(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({"user_id"});
  const auto user_id = rr.query.text("user_id");
  if (!user_id) throw api_error(422, "Query parameter 'user_id' is required");
  step_request_body body = read_step_body(rr.request.body, ctx.config.json);
  const step_lookup found = require_step(ctx.registry, body.workflow_id, body.step_id);

  if (body.dry_run) {
    const validation_result v = ctx.executor.validate(*found.workflow, *found.step, body.inputs);
    return json_response(bj::object{{"step_id", found.step->id},
                                    {"validation_result", bj::value_from(v)},
                                    {"dry_run", true}});
  }
  if (is_read_only(ctx, found.workflow->id))
    throw api_error(422, fmt::format("Workflow '{}' is imported from an event log (--import) and "
                                     "accepts no new executions (dry_run still validates)",
                                     found.workflow->id));
  execution_request req;
  req.workflow_id = found.workflow->id;
  req.step_id = found.step->id;
  req.instance_id = std::move(body.instance_id);
  req.inputs = std::move(body.inputs);
  req.context = std::move(body.context);
  req.executed_by = *user_id;
  req.environment = std::move(body.environment);
  const execution_outcome out = ctx.executor.execute(req);
  if (out.lookup != step_lookup::outcome::found)   // the registry cannot lose a step
    throw std::logic_error("step vanished between lookup and execution");
  // A manual execution is a recorded result like any other: durable, and
  // replayed at start, so the reports after a restart equal those before it.
  (void)record_durably(ctx, std::span<const step_result>(&out.result, 1),
                       "The step ran but its result was not stored");
  return json_response(bj::object{{"step_id", found.step->id},
                                  {"execution_result", bj::value_from(out.result)},
                                  {"dry_run", false}});
}

http_response validate_step(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({"user_id"});
  const step_request_body body = read_step_body(rr.request.body, ctx.config.json);
  const step_lookup found = require_step(ctx.registry, body.workflow_id, body.step_id);
  const validation_result v = ctx.executor.validate(*found.workflow, *found.step, body.inputs);
  return json_response(bj::object{{"step_id", found.step->id},
                                  {"validation_result", bj::value_from(v)},
                                  {"timestamp", format_iso8601(ctx.clock.wall_now())}});
}

}  // namespace civicperf::server::handlers
