// Definitions -> JSON in the file format of examples/workflows (README there),
// so that parse_workflow_json(serialize(def)) == def. Members that hold their
// default value are left out, exactly as a hand-written file would.

#include <algorithm>
#include <array>

#include "civicperf/json.hpp"

namespace civicperf {

namespace {

namespace bj = boost::json;

bj::string_view sv(const std::string& s) noexcept { return {s.data(), s.size()}; }

void put_string(bj::object& o, bj::string_view key, const std::string& s) {
  if (!s.empty()) o.emplace(key, sv(s));
}

void put_strings(bj::object& o, bj::string_view key, const std::vector<std::string>& items) {
  if (items.empty()) return;
  bj::array a(o.storage());
  a.reserve(items.size());
  for (const auto& s : items) a.emplace_back(sv(s));
  o.emplace(key, std::move(a));
}

// The members a validation_rule names itself; `params` must not shadow them.
constexpr std::array<std::string_view, 12> rule_members{
    "rule",           "field",          "fields", "message", "format", "missing_message",
    "format_message", "future_message", "derives", "values", "prefixes", "min"};

}  // namespace

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const validation_rule& r) {
  auto& o = jv.emplace_object();
  o.emplace("rule", sv(r.rule));
  if (r.fields.size() == 1) {
    o.emplace("field", sv(r.fields.front()));
  } else {
    put_strings(o, "fields", r.fields);
  }
  put_string(o, "message", r.message);
  put_string(o, "format", r.format);
  put_string(o, "missing_message", r.missing_message);
  put_string(o, "format_message", r.format_message);
  put_string(o, "future_message", r.future_message);
  put_string(o, "derives", r.derives);
  put_strings(o, "values", r.values);
  put_strings(o, "prefixes", r.prefixes);
  if (r.min != 0) o.emplace("min", r.min);
  if (const auto* extra = r.params.if_object()) {
    for (const auto& [key, v] : *extra) {
      if (std::find(rule_members.begin(), rule_members.end(), key) != rule_members.end()) continue;
      o.insert_or_assign(key, bj::value_from(v, o.storage()));
    }
  }
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const step_definition& d) {
  auto& o = jv.emplace_object();
  o.emplace("id", sv(d.id));
  o.emplace("name", sv(d.name));
  const auto type = to_string(d.type);
  o.emplace("type", bj::string_view(type.data(), type.size()));
  o.emplace("description", sv(d.description));
  put_strings(o, "required_inputs", d.required_inputs);
  put_strings(o, "optional_inputs", d.optional_inputs);
  if (!d.validations.empty()) {
    bj::array rules(o.storage());
    rules.reserve(d.validations.size());
    for (const auto& r : d.validations) rules.push_back(bj::value_from(r, o.storage()));
    o.emplace("validations", std::move(rules));
  }
  put_strings(o, "approvers", d.approvers);
  if (d.type == step_type::approval || d.approval_type != approval_mode::any) {
    o.emplace("approval_type", d.approval_type == approval_mode::all ? "all" : "any");
  }
  put_string(o, "service_name", d.service_name);
  put_string(o, "endpoint", d.endpoint);
  put_string(o, "terminal_status", d.terminal_status);
  if (d.actor == step_actor::citizen) o.emplace("actor", "citizen");
  put_strings(o, "depends_on", d.depends_on);
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const workflow_definition& d) {
  auto& o = jv.emplace_object();
  o.emplace("workflow_id", sv(d.id));
  o.emplace("name", sv(d.name));
  o.emplace("description", sv(d.description));
  o.emplace("version", sv(d.version));
  if (d.discovered) o.emplace("discovered", true);
  if (d.start_steps.size() == 1) {
    o.emplace("start_step", sv(d.start_steps.front()));
  } else {
    put_strings(o, "start_steps", d.start_steps);
  }
  put_strings(o, "end_steps", d.end_steps);
  bj::array steps(o.storage());
  steps.reserve(d.steps.size());
  for (const auto& s : d.steps) steps.push_back(bj::value_from(s, o.storage()));
  o.emplace("steps", std::move(steps));
  bj::array edges(o.storage());
  edges.reserve(d.edges.size());
  for (const auto& e : d.edges) {
    bj::object edge(o.storage());
    edge.emplace("from", sv(e.from));
    edge.emplace("to", sv(e.to));
    put_string(edge, "when", e.when);
    edges.push_back(std::move(edge));
  }
  o.emplace("edges", std::move(edges));
}

}  // namespace civicperf
