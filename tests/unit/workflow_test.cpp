#include "civicperf/workflow.hpp"

#include <catch2/catch.hpp>
#include <string>

using civicperf::definition_error;
using civicperf::edge_definition;
using civicperf::parse_workflow_json;
using civicperf::step_definition;
using civicperf::step_type;
using civicperf::validate_definition;
using civicperf::validation_rule;
using civicperf::workflow_definition;

namespace {

step_definition make_step(std::string id, step_type type = step_type::action) {
  step_definition s;
  s.id = id;
  s.name = "Step " + id;
  s.type = type;
  if (type == step_type::terminal) s.terminal_status = "SUCCESS";
  return s;
}

// start -> check -(yes)-> done, check -(no)-> rejected
workflow_definition make_workflow() {
  workflow_definition def;
  def.id = "w";
  def.name = "W";
  def.start_steps = {"start"};
  def.steps = {make_step("start"), make_step("check", step_type::conditional),
               make_step("done", step_type::terminal), make_step("rejected", step_type::terminal)};
  def.steps[3].terminal_status = "REJECTED";
  def.edges = {{"start", "check", ""}, {"check", "done", "yes"}, {"check", "rejected", "no"}};
  return def;
}

std::string error_of(const workflow_definition& def) {
  try {
    validate_definition(def, "src");
  } catch (const definition_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string load_error(const std::string& json) {
  try {
    (void)parse_workflow_json(json, "wf.json");
  } catch (const definition_error& e) {
    return e.what();
  }
  return "(no error)";
}

// A valid file with `steps` and `edges` spliced in.
std::string workflow_json(const std::string& steps, const std::string& edges,
                          const std::string& extra = "") {
  return R"({"workflow_id": "w", "name": "W", )" + extra + R"("steps": [)" + steps +
         R"(], "edges": [)" + edges + "]}";
}

const std::string two_steps =
    R"({"id": "a", "name": "A", "type": "action"},
       {"id": "z", "name": "Z", "type": "terminal", "terminal_status": "SUCCESS"})";
const std::string a_to_z = R"({"from": "a", "to": "z"})";

// The error of a file whose step `a` has one validation rule.
std::string with_rule(const std::string& rule) {
  return load_error(workflow_json(R"({"id": "a", "name": "A", "type": "action", "validations": [)" + rule +
                           R"(]}, {"id": "z", "name": "Z", "type": "terminal", "terminal_status": "S"})",
                       a_to_z));
}

}  // namespace

TEST_CASE("workflow: step type names", "[workflow]") {
  using civicperf::parse_step_type;
  using civicperf::wire_name;
  CHECK(wire_name(step_type::action) == "ActionStep");
  CHECK(wire_name(step_type::conditional) == "ConditionalStep");
  CHECK(wire_name(step_type::approval) == "ApprovalStep");
  CHECK(wire_name(step_type::integration) == "IntegrationStep");
  CHECK(wire_name(step_type::terminal) == "TerminalStep");
  CHECK(civicperf::to_string(step_type::action) == "action");
  CHECK(civicperf::to_string(step_type::conditional) == "conditional");
  CHECK(civicperf::to_string(step_type::approval) == "approval");
  CHECK(civicperf::to_string(step_type::integration) == "integration");
  CHECK(civicperf::to_string(step_type::terminal) == "terminal");
  for (const auto t : {step_type::action, step_type::conditional, step_type::approval,
                       step_type::integration, step_type::terminal}) {
    CHECK(parse_step_type(wire_name(t)) == t);
    CHECK(parse_step_type(civicperf::to_string(t)) == t);
  }
  CHECK_FALSE(parse_step_type("Action"));
  CHECK_FALSE(parse_step_type("actionstep"));
  CHECK_FALSE(parse_step_type(""));
}

TEST_CASE("workflow: find_step and step_index", "[workflow]") {
  const auto def = make_workflow();
  REQUIRE(def.find_step("check") != nullptr);
  CHECK(def.find_step("check") == &def.steps[1]);
  CHECK(def.find_step("nope") == nullptr);
  CHECK(def.step_index("start") == 0U);
  CHECK(def.step_index("rejected") == 3U);
  CHECK_FALSE(def.step_index("nope"));
}

TEST_CASE("workflow: a valid definition passes", "[workflow]") {
  CHECK(error_of(make_workflow()) == "(no error)");
}

TEST_CASE("workflow: validate_definition workflow-level errors", "[workflow]") {
  auto def = make_workflow();
  SECTION("empty workflow id") {
    def.id.clear();
    CHECK(error_of(def) == "src: empty workflow_id");
  }
  SECTION("no steps") {
    def.steps.clear();
    def.edges.clear();
    CHECK(error_of(def) == "src: no steps");
  }
  SECTION("empty step id") {
    def.steps[1].id.clear();
    CHECK(error_of(def) == "src: steps[1]: empty step id");
  }
  SECTION("no start step") {
    def.start_steps.clear();
    CHECK(error_of(def) == "src: no start step");
  }
  SECTION("several start steps") {
    def.start_steps = {"start", "check"};
    CHECK(error_of(def) == "src: several start steps: start, check");
  }
  SECTION("unknown start step") {
    def.start_steps = {"begin"};
    CHECK(error_of(def) == "src: unknown start step 'begin'");
  }
  SECTION("edge between two unknown steps") {
    def.edges.push_back({"p", "q", ""});
    CHECK(error_of(def) == "src: edge from unknown step 'p' to unknown step 'q'");
  }
}

TEST_CASE("workflow: validate_definition step errors", "[workflow]") {
  auto def = make_workflow();
  SECTION("duplicate step id") {
    def.steps.push_back(make_step("check"));
    CHECK(error_of(def) == "src: step 'check': duplicate step id");
  }
  SECTION("unknown step type") {
    def.steps[0].type = static_cast<step_type>(9);
    CHECK(error_of(def) == "src: step 'start': unknown step type 9");
  }
  SECTION("terminal step without terminal_status") {
    def.steps[2].terminal_status.clear();
    CHECK(error_of(def) == "src: step 'done': terminal step without terminal_status");
  }
  SECTION("edge to an unknown step") {
    def.edges.push_back({"check", "missing", "maybe"});
    CHECK(error_of(def) == "src: step 'check': edge to unknown step 'missing'");
  }
  SECTION("edge from an unknown step") {
    def.edges.push_back({"ghost", "done", ""});
    CHECK(error_of(def) == "src: step 'done': edge from unknown step 'ghost'");
  }
  SECTION("terminal step with an outgoing edge") {
    def.edges.push_back({"done", "start", ""});
    CHECK(error_of(def) == "src: step 'done': terminal step has an outgoing edge to 'start'");
  }
  SECTION("duplicate edge") {
    def.edges.push_back({"start", "check", ""});
    CHECK(error_of(def) == "src: step 'start': duplicate edge to 'check'");
  }
  SECTION("duplicate labelled edge") {
    def.edges.push_back({"check", "done", "yes"});
    CHECK(error_of(def) == "src: step 'check': duplicate edge to 'done' when 'yes'");
  }
  SECTION("two edges between the same steps with different labels are legal") {
    def.edges.push_back({"check", "done", "maybe"});
    CHECK(error_of(def) == "(no error)");
  }
  SECTION("cycle") {
    def.steps.push_back(make_step("fix"));
    def.edges.push_back({"check", "fix", "needs_work"});
    def.edges.push_back({"fix", "check", ""});
    CHECK(error_of(def) == "src: step 'check': on a cycle: check -> fix -> check");
  }
  SECTION("self loop") {
    def.edges.push_back({"start", "start", "retry"});
    CHECK(error_of(def) == "src: step 'start': on a cycle: start -> start");
  }
  SECTION("unreachable step") {
    def.steps.insert(def.steps.begin() + 2, make_step("orphan"));
    def.edges.push_back({"orphan", "done", ""});
    CHECK(error_of(def) == "src: step 'orphan': unreachable from the start step");
  }
}

TEST_CASE("workflow: discovered workflows may have cycles and several starts", "[workflow]") {
  auto def = make_workflow();
  def.discovered = true;
  def.steps.push_back(make_step("fix"));
  def.steps.push_back(make_step("walk_in"));
  def.edges.push_back({"check", "fix", ""});
  def.edges.push_back({"fix", "check", ""});
  def.edges.push_back({"walk_in", "check", ""});
  def.start_steps = {"start", "walk_in"};
  CHECK(error_of(def) == "(no error)");

  def.start_steps = {"start", "start"};
  CHECK(error_of(def) == "src: start step 'start' listed twice");
  def.start_steps = {"start"};
  CHECK(error_of(def) == "src: step 'walk_in': unreachable from the start step");
  def.start_steps.clear();
  CHECK(error_of(def) == "src: no start step");
}

TEST_CASE("workflow: validate_definition checks built-in rule parameters", "[workflow]") {
  auto def = make_workflow();
  validation_rule rule;
  rule.fields = {"x"};
  const auto check = [&](const validation_rule& r) {
    def.steps[0].validations = {validation_rule{}, r};
    def.steps[0].validations[0].rule = "non_empty";
    def.steps[0].validations[0].fields = {"ok"};
    return error_of(def);
  };
  SECTION("no rule kind") {
    CHECK(check(rule) == "src: step 'start': validations[1]: no rule kind");
  }
  SECTION("built-in rule without a field") {
    rule.rule = "email";
    rule.fields.clear();
    CHECK(check(rule) == "src: step 'start': validations[1]: rule 'email' needs a field");
  }
  SECTION("built-in rule with an empty field name") {
    rule.rule = "email";
    rule.fields = {""};
    CHECK(check(rule) == "src: step 'start': validations[1]: rule 'email' has an empty field name");
  }
  SECTION("contains_all without values") {
    rule.rule = "contains_all";
    CHECK(check(rule) == "src: step 'start': validations[1]: rule 'contains_all' needs 'values'");
  }
  SECTION("prefix_one_of without prefixes") {
    rule.rule = "prefix_one_of";
    CHECK(check(rule) ==
          "src: step 'start': validations[1]: rule 'prefix_one_of' needs 'prefixes'");
  }
  SECTION("min_length without min") {
    rule.rule = "min_length";
    CHECK(check(rule) ==
          "src: step 'start': validations[1]: rule 'min_length' needs 'min' (a positive integer)");
    rule.min = -3;
    CHECK(check(rule) ==
          "src: step 'start': validations[1]: rule 'min_length' needs 'min' (a positive integer)");
    rule.min = 1;
    CHECK(check(rule) == "(no error)");
  }
  SECTION("date with another format") {
    rule.rule = "date";
    rule.format = "DD/MM/YYYY";
    CHECK(check(rule) ==
          "src: step 'start': validations[1]: rule 'date' supports only format 'YYYY-MM-DD', "
          "not 'DD/MM/YYYY'");
    rule.format = "YYYY-MM-DD";
    CHECK(check(rule) == "(no error)");
    rule.format.clear();
    CHECK(check(rule) == "(no error)");
  }
  SECTION("custom rule kinds are accepted without parameters") {
    rule.rule = "postcode_exists";
    rule.fields.clear();
    CHECK(check(rule) == "(no error)");
  }
}

TEST_CASE("workflow loader: JSON syntax errors name the position", "[workflow][loader]") {
  CHECK(load_error(R"({"workflow_id": "w",})") ==
        "wf.json: invalid JSON at line 1, column 21: syntax error");
  CHECK(load_error("{\n  \"a\": tru\n}") ==
        "wf.json: invalid JSON at line 2, column 8: syntax error");
  CHECK(load_error(R"({"workflow_id": "w")") ==
        "wf.json: invalid JSON at line 1, column 20: incomplete JSON");
  CHECK(load_error("{} x") == "wf.json: invalid JSON at line 1, column 4: extra data");
  CHECK(load_error("") == "wf.json: invalid JSON at line 1, column 1: incomplete JSON");
}

TEST_CASE("workflow loader: workflow fields", "[workflow][loader]") {
  CHECK(load_error("[]") == "wf.json: the top level must be a JSON object");
  CHECK(load_error(workflow_json(two_steps, a_to_z)) == "(no error)");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "stpes": []})") ==
        "wf.json: unknown field 'stpes'");
  CHECK(load_error(R"({"name": "W", "steps": []})") == "wf.json: missing field 'workflow_id'");
  CHECK(load_error(R"({"workflow_id": "w", "steps": []})") == "wf.json: missing field 'name'");
  CHECK(load_error(R"({"workflow_id": 7, "name": "W", "steps": []})") ==
        "wf.json: field 'workflow_id' must be a string");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "description": null, "steps": []})") ==
        "wf.json: field 'description' must be a string");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "version": 1.0, "steps": []})") ==
        "wf.json: field 'version' must be a string");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "discovered": "yes", "steps": []})") ==
        "wf.json: field 'discovered' must be a boolean");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W"})") == "wf.json: missing field 'steps'");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "steps": {}})") ==
        "wf.json: field 'steps' must be an array");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "steps": [], "edges": {}})") ==
        "wf.json: field 'edges' must be an array");
  CHECK(load_error(R"({"workflow_id": "w", "name": "W", "steps": []})") == "wf.json: no steps");
  CHECK(load_error(R"({"workflow_id": "", "name": "W", "steps": []})") ==
        "wf.json: empty workflow_id");
}

TEST_CASE("workflow loader: start steps", "[workflow][loader]") {
  SECTION("start_step and start_steps") {
    CHECK(load_error(workflow_json(two_steps, a_to_z,
                                   R"("start_step": "a", "start_steps": ["a"], )")) ==
          "wf.json: give 'start_step' or 'start_steps', not both");
    CHECK(load_error(workflow_json(two_steps, a_to_z, R"("start_step": ["a"], )")) ==
          "wf.json: field 'start_step' must be a string");
    CHECK(load_error(workflow_json(two_steps, a_to_z, R"("start_steps": "a", )")) ==
          "wf.json: field 'start_steps' must be an array of strings");
    CHECK(load_error(workflow_json(two_steps, a_to_z, R"("start_step": "b", )")) ==
          "wf.json: unknown start step 'b'");
    CHECK(load_error(workflow_json(two_steps, a_to_z, R"("start_steps": ["a", "z"], )")) ==
          "wf.json: several start steps: a, z");
  }
  SECTION("explicit start step") {
    const auto def = parse_workflow_json(workflow_json(two_steps, a_to_z, R"("start_step": "a", )"),
                                         "wf.json");
    CHECK(def.start_steps == std::vector<std::string>{"a"});
    const auto list = parse_workflow_json(
        workflow_json(two_steps, a_to_z, R"("start_steps": ["a"], )"), "wf.json");
    CHECK(list.start_steps == std::vector<std::string>{"a"});
  }
  SECTION("inferred: the unique step without incoming edges") {
    const auto def = parse_workflow_json(workflow_json(two_steps, a_to_z), "wf.json");
    CHECK(def.start_steps == std::vector<std::string>{"a"});
  }
  SECTION("inferred: none") {
    CHECK(load_error(workflow_json(
              R"({"id": "a", "name": "A", "type": "action"}, {"id": "b", "name": "B", "type": "action"})",
              R"({"from": "a", "to": "b"}, {"from": "b", "to": "a"})")) ==
          "wf.json: no start step");
  }
  SECTION("inferred: several") {
    CHECK(load_error(workflow_json(two_steps + R"(, {"id": "b", "name": "B", "type": "action"})",
                                   a_to_z + R"(, {"from": "b", "to": "z"})")) ==
          "wf.json: several start steps: a, b");
  }
  SECTION("inferred for a discovered workflow: every step without incoming edges") {
    const auto def = parse_workflow_json(
        workflow_json(two_steps + R"(, {"id": "b", "name": "B", "type": "action"},
                                     {"id": "c", "name": "C", "type": "action"})",
                      R"({"from": "a", "to": "c"}, {"from": "b", "to": "c"},
                         {"from": "c", "to": "c", "when": "rework"}, {"from": "c", "to": "z"})",
                      R"("discovered": true, )"),
        "wf.json");
    CHECK(def.discovered);
    CHECK(def.start_steps == std::vector<std::string>{"a", "b"});
  }
  SECTION("an edge to an unknown step is reported before the inferred start") {
    CHECK(load_error(workflow_json(two_steps, a_to_z + R"(, {"from": "z", "to": "q"})")) ==
          "wf.json: step 'z': edge to unknown step 'q'");
  }
}

TEST_CASE("workflow loader: step fields", "[workflow][loader]") {
  const auto step = [](const std::string& a_fields) {
    return load_error(workflow_json(R"({"id": "a", "name": "A", "type": "action")" + a_fields +
                                        R"(}, {"id": "z", "name": "Z", "type": "terminal", "terminal_status": "S"})",
                                    a_to_z));
  };
  CHECK(step("") == "(no error)");
  CHECK(load_error(workflow_json(R"("a")", "")) == "wf.json: steps[0]: must be an object");
  CHECK(load_error(workflow_json(R"({"id": "a", "name": "A", "type": "action"}, {"name": "B"})",
                                 "")) == "wf.json: steps[1]: missing field 'id'");
  CHECK(load_error(workflow_json(R"({"id": 3})", "")) ==
        "wf.json: steps[0]: field 'id' must be a string");
  CHECK(step(R"(, "requried_inputs": ["x"])") == "wf.json: step 'a': unknown field 'requried_inputs'");
  CHECK(load_error(workflow_json(R"({"id": "a", "type": "action"})", "")) ==
        "wf.json: step 'a': missing field 'name'");
  CHECK(load_error(workflow_json(R"({"id": "a", "name": "A"})", "")) ==
        "wf.json: step 'a': missing field 'type'");
  CHECK(load_error(workflow_json(R"({"id": "a", "name": "A", "type": "task"})", "")) ==
        "wf.json: step 'a': unknown step type 'task'");
  CHECK(load_error(workflow_json(R"({"id": "a", "name": "A", "type": 1})", "")) ==
        "wf.json: step 'a': field 'type' must be a string");
  CHECK(step(R"(, "description": 5)") == "wf.json: step 'a': field 'description' must be a string");
  CHECK(step(R"(, "required_inputs": "x")") ==
        "wf.json: step 'a': field 'required_inputs' must be an array of strings");
  CHECK(step(R"(, "optional_inputs": [1])") ==
        "wf.json: step 'a': field 'optional_inputs' must be an array of strings");
  CHECK(step(R"(, "approvers": [null])") ==
        "wf.json: step 'a': field 'approvers' must be an array of strings");
  CHECK(step(R"(, "approval_type": "most")") ==
        "wf.json: step 'a': field 'approval_type' must be 'any' or 'all', not 'most'");
  CHECK(step(R"(, "approval_type": true)") ==
        "wf.json: step 'a': field 'approval_type' must be a string");
  CHECK(step(R"(, "service_name": [])") ==
        "wf.json: step 'a': field 'service_name' must be a string");
  CHECK(step(R"(, "endpoint": {})") == "wf.json: step 'a': field 'endpoint' must be a string");
  CHECK(step(R"(, "terminal_status": 0)") ==
        "wf.json: step 'a': field 'terminal_status' must be a string");
  CHECK(step(R"(, "actor": "robot")") ==
        "wf.json: step 'a': field 'actor' must be 'citizen' or 'administration', not 'robot'");
  CHECK(step(R"(, "depends_on": "x")") ==
        "wf.json: step 'a': field 'depends_on' must be an array of strings");
  CHECK(step(R"(, "validations": {})") == "wf.json: step 'a': field 'validations' must be an array");
  CHECK(load_error(workflow_json(
            R"({"id": "a", "name": "A", "type": "terminal"})", "")) ==
        "wf.json: step 'a': terminal step without terminal_status");
  CHECK(load_error(workflow_json(two_steps + R"(, {"id": "a", "name": "A2", "type": "action"})",
                                 a_to_z)) == "wf.json: step 'a': duplicate step id");
}

TEST_CASE("workflow loader: validation rule fields", "[workflow][loader]") {
  CHECK(with_rule(R"({"rule": "email", "field": "e"})") == "(no error)");
  CHECK(with_rule(R"("email")") == "wf.json: step 'a': validations[0]: must be an object");
  CHECK(with_rule(R"({"field": "e"})") == "wf.json: step 'a': validations[0]: missing field 'rule'");
  CHECK(with_rule(R"({"rule": 1})") ==
        "wf.json: step 'a': validations[0]: field 'rule' must be a string");
  CHECK(with_rule(R"({"rule": "email", "field": "e", "fields": ["e"]})") ==
        "wf.json: step 'a': validations[0]: give 'field' or 'fields', not both");
  CHECK(with_rule(R"({"rule": "email", "field": ["e"]})") ==
        "wf.json: step 'a': validations[0]: field 'field' must be a string");
  CHECK(with_rule(R"({"rule": "email", "fields": "e"})") ==
        "wf.json: step 'a': validations[0]: field 'fields' must be an array of strings");
  CHECK(with_rule(R"({"rule": "email", "field": "e", "message": 1})") ==
        "wf.json: step 'a': validations[0]: field 'message' must be a string");
  CHECK(with_rule(R"({"rule": "date", "field": "d", "future_message": false})") ==
        "wf.json: step 'a': validations[0]: field 'future_message' must be a string");
  CHECK(with_rule(R"({"rule": "contains_all", "field": "d", "values": "x"})") ==
        "wf.json: step 'a': validations[0]: field 'values' must be an array of strings");
  CHECK(with_rule(R"({"rule": "prefix_one_of", "field": "d", "prefixes": [1]})") ==
        "wf.json: step 'a': validations[0]: field 'prefixes' must be an array of strings");
  CHECK(with_rule(R"({"rule": "min_length", "field": "d", "min": "20"})") ==
        "wf.json: step 'a': validations[0]: field 'min' must be an integer");
  CHECK(with_rule(R"({"rule": "min_length", "field": "d", "min": 2.5})") ==
        "wf.json: step 'a': validations[0]: field 'min' must be an integer");
  CHECK(with_rule(R"({"rule": "min_length", "field": "d", "min": 18446744073709551615})") ==
        "wf.json: step 'a': validations[0]: field 'min' is too large");
  // the parameter checks of validate_definition, through the loader
  CHECK(with_rule(R"({"rule": "min_length", "field": "d"})") ==
        "wf.json: step 'a': validations[0]: rule 'min_length' needs 'min' (a positive integer)");
  CHECK(with_rule(R"({"rule": "contains_all", "field": "d"})") ==
        "wf.json: step 'a': validations[0]: rule 'contains_all' needs 'values'");
  CHECK(with_rule(R"({"rule": "prefix_one_of", "field": "d"})") ==
        "wf.json: step 'a': validations[0]: rule 'prefix_one_of' needs 'prefixes'");
  CHECK(with_rule(R"({"rule": "non_empty"})") ==
        "wf.json: step 'a': validations[0]: rule 'non_empty' needs a field");
}

TEST_CASE("workflow loader: rule parameters and custom parameters", "[workflow][loader]") {
  const auto def = parse_workflow_json(
      workflow_json(R"({"id": "a", "name": "A", "type": "action", "validations": [
                         {"rule": "min_length", "field": "d", "min": 20, "message": "short"},
                         {"rule": "postcode_exists", "fields": ["p", "q"], "country": "FR", "strict": true}
                       ]},
                       {"id": "z", "name": "Z", "type": "terminal", "terminal_status": "S"})",
                    a_to_z),
      "wf.json");
  const auto& rules = def.steps[0].validations;
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].rule == "min_length");
  CHECK(rules[0].fields == std::vector<std::string>{"d"});
  CHECK(rules[0].min == 20);
  CHECK(rules[0].message == "short");
  CHECK(rules[0].params.is_null());   // nothing beyond the named members
  CHECK(rules[1].rule == "postcode_exists");
  CHECK(rules[1].fields == std::vector<std::string>{"p", "q"});
  CHECK(rules[1].params ==
        civicperf::value::make_object({{"country", "FR"}, {"strict", true}}));
}

TEST_CASE("workflow loader: edge fields", "[workflow][loader]") {
  CHECK(load_error(workflow_json(two_steps, R"("a")")) == "wf.json: edges[0]: must be an object");
  CHECK(load_error(workflow_json(two_steps, R"({"from": "a", "to": "z", "condition": "x"})")) ==
        "wf.json: edges[0]: unknown field 'condition'");
  CHECK(load_error(workflow_json(two_steps, a_to_z + R"(, {"from": "a"})")) ==
        "wf.json: edges[1]: missing field 'to'");
  CHECK(load_error(workflow_json(two_steps, R"({"to": "z"})")) ==
        "wf.json: edges[0]: missing field 'from'");
  CHECK(load_error(workflow_json(two_steps, R"({"from": "a", "to": "z", "when": true})")) ==
        "wf.json: edges[0]: field 'when' must be a string");
  CHECK(load_error(workflow_json(two_steps, a_to_z + R"(, {"from": "x", "to": "a"})")) ==
        "wf.json: step 'a': edge from unknown step 'x'");
  CHECK(load_error(workflow_json(two_steps, a_to_z + R"(, {"from": "z", "to": "a"})",
                                 R"("start_step": "a", )")) ==
        "wf.json: step 'z': terminal step has an outgoing edge to 'a'");
}

TEST_CASE("workflow loader: every field is read", "[workflow][loader]") {
  const auto def = parse_workflow_json(R"({
    "workflow_id": "full", "name": "Full", "description": "All fields", "version": "2.1",
    "start_step": "ask",
    "steps": [
      {"id": "ask", "name": "Ask", "type": "ActionStep", "description": "d1",
       "required_inputs": ["a", "b"], "optional_inputs": ["c"], "actor": "citizen",
       "depends_on": ["token"],
       "validations": [{"rule": "date", "field": "born", "format": "YYYY-MM-DD",
                        "missing_message": "m", "format_message": "f", "future_message": "u",
                        "derives": "calculated_age"},
                       {"rule": "contains_all", "field": "docs", "values": ["x", "y"], "message": "{value}"},
                       {"rule": "prefix_one_of", "field": "p", "prefixes": ["A-"]}]},
      {"id": "ok", "name": "OK?", "type": "approval", "approvers": ["boss"], "approval_type": "all"},
      {"id": "call", "name": "Call", "type": "integration", "service_name": "svc",
       "endpoint": "https://svc.example/x", "actor": "administration"},
      {"id": "end", "name": "End", "type": "terminal", "terminal_status": "SUCCESS"}
    ],
    "edges": [{"from": "ask", "to": "ok"}, {"from": "ok", "to": "call", "when": "approved"},
              {"from": "call", "to": "end"}]
  })",
                                       "full.json");
  CHECK(def.id == "full");
  CHECK(def.name == "Full");
  CHECK(def.description == "All fields");
  CHECK(def.version == "2.1");
  CHECK_FALSE(def.discovered);
  CHECK(def.start_steps == std::vector<std::string>{"ask"});
  REQUIRE(def.steps.size() == 4);
  const auto& ask = def.steps[0];
  CHECK(ask.type == step_type::action);
  CHECK(ask.description == "d1");
  CHECK(ask.required_inputs == std::vector<std::string>{"a", "b"});
  CHECK(ask.optional_inputs == std::vector<std::string>{"c"});
  CHECK(ask.actor == civicperf::step_actor::citizen);
  CHECK(ask.depends_on == std::vector<std::string>{"token"});
  REQUIRE(ask.validations.size() == 3);
  CHECK(ask.validations[0].format == "YYYY-MM-DD");
  CHECK(ask.validations[0].missing_message == "m");
  CHECK(ask.validations[0].format_message == "f");
  CHECK(ask.validations[0].future_message == "u");
  CHECK(ask.validations[0].derives == "calculated_age");
  CHECK(ask.validations[1].values == std::vector<std::string>{"x", "y"});
  CHECK(ask.validations[1].message == "{value}");
  CHECK(ask.validations[2].prefixes == std::vector<std::string>{"A-"});
  CHECK(def.steps[1].type == step_type::approval);
  CHECK(def.steps[1].approvers == std::vector<std::string>{"boss"});
  CHECK(def.steps[1].approval_type == civicperf::approval_mode::all);
  CHECK(def.steps[1].actor == civicperf::step_actor::administration);
  CHECK(def.steps[2].service_name == "svc");
  CHECK(def.steps[2].endpoint == "https://svc.example/x");
  CHECK(def.steps[3].terminal_status == "SUCCESS");
  REQUIRE(def.edges.size() == 3);
  CHECK(def.edges[1].from == "ok");
  CHECK(def.edges[1].to == "call");
  CHECK(def.edges[1].when == "approved");
  CHECK(def.edges[0].when.empty());

  // defaults when fields are left out
  const auto minimal = parse_workflow_json(workflow_json(two_steps, a_to_z), "wf.json");
  CHECK(minimal.version == "1.0");
  CHECK(minimal.description.empty());
  CHECK(minimal.steps[0].approval_type == civicperf::approval_mode::any);
  CHECK(minimal.steps[0].actor == civicperf::step_actor::administration);
}
