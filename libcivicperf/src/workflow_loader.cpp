// Reads workflow definitions from JSON (format: examples/workflows/README.md).
// Every problem becomes a definition_error naming the source, the place in
// the file and the problem, so a typo in a definition never passes silently.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "civicperf/json.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

namespace {

namespace bj = boost::json;

std::string_view key_of(const bj::key_value_pair& member) noexcept {
  return {member.key().data(), member.key().size()};
}

class reader {
 public:
  explicit reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(std::string_view where, std::string_view problem) const {
    throw definition_error(fmt::format("{}: {}{}", source_, where, problem));
  }

  bj::value parse(std::string_view text) const {
    bj::stream_parser parser;
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      // Where the parser stopped, as 1-based line and column.
      const std::size_t at = std::min(consumed, text.size());
      const auto before = text.substr(0, at);
      const auto line = 1 + std::count(before.begin(), before.end(), '\n');
      const auto last_nl = before.rfind('\n');
      const auto column = last_nl == std::string_view::npos ? at + 1 : at - last_nl;
      fail("", fmt::format("invalid JSON at line {}, column {}: {}", line, column, ec.message()));
    }
    return parser.release();
  }

  workflow_definition workflow(const bj::value& root) const {
    const bj::object* top = root.if_object();
    if (top == nullptr) fail("", "the top level must be a JSON object");
    check_fields(*top, "", {"workflow_id", "name", "description", "version", "discovered",
                            "start_step", "start_steps", "end_steps", "steps", "edges"});

    workflow_definition def;
    def.id = required_string(*top, "workflow_id", "");
    def.name = required_string(*top, "name", "");
    def.description = optional_string(*top, "description", "");
    if (top->contains("version")) def.version = optional_string(*top, "version", "");
    if (const bj::value* d = top->if_contains("discovered")) {
      if (!d->is_bool()) fail("", "field 'discovered' must be a boolean");
      def.discovered = d->get_bool();
    }

    const bj::value* steps = top->if_contains("steps");
    if (steps == nullptr) fail("", "missing field 'steps'");
    if (!steps->is_array()) fail("", "field 'steps' must be an array");
    const auto& step_array = steps->get_array();
    def.steps.reserve(step_array.size());
    for (std::size_t i = 0; i < step_array.size(); ++i) {
      def.steps.push_back(step(step_array[i], i));
    }

    if (const bj::value* edges = top->if_contains("edges")) {
      if (!edges->is_array()) fail("", "field 'edges' must be an array");
      const auto& edge_array = edges->get_array();
      def.edges.reserve(edge_array.size());
      for (std::size_t i = 0; i < edge_array.size(); ++i) {
        def.edges.push_back(edge(edge_array[i], i));
      }
    }

    if (top->contains("end_steps")) def.end_steps = string_array(*top, "end_steps", "");

    const bool has_one = top->contains("start_step");
    const bool has_many = top->contains("start_steps");
    if (has_one && has_many) fail("", "give 'start_step' or 'start_steps', not both");
    if (has_one) {
      def.start_steps.push_back(required_string(*top, "start_step", ""));
    } else if (has_many) {
      def.start_steps = string_array(*top, "start_steps", "");
    } else {
      // Inferred: the steps nothing leads to. validate_definition reports
      // "no start step" / "several start steps" after the edge checks, so an
      // edge to an unknown step is reported as such first.
      for (const auto& s : def.steps) {
        const bool has_incoming = std::any_of(def.edges.begin(), def.edges.end(),
                                              [&](const edge_definition& e) { return e.to == s.id; });
        if (!has_incoming) def.start_steps.push_back(s.id);
      }
    }
    return def;
  }

 private:
  std::string_view source_;

  void check_fields(const bj::object& o, std::string_view where,
                    std::initializer_list<std::string_view> known) const {
    for (const auto& member : o) {
      const auto key = key_of(member);
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(where, fmt::format("unknown field '{}'", key));
      }
    }
  }

  std::string required_string(const bj::object& o, std::string_view key,
                              std::string_view where) const {
    if (!o.contains(key)) fail(where, fmt::format("missing field '{}'", key));
    return optional_string(o, key, where);
  }

  std::string optional_string(const bj::object& o, std::string_view key,
                              std::string_view where) const {
    const bj::value* v = o.if_contains(key);
    if (v == nullptr) return {};
    if (!v->is_string()) fail(where, fmt::format("field '{}' must be a string", key));
    return std::string(v->get_string());
  }

  std::vector<std::string> string_array(const bj::object& o, std::string_view key,
                                        std::string_view where) const {
    std::vector<std::string> out;
    const bj::value* v = o.if_contains(key);
    if (v == nullptr) return out;
    const auto bad = [&] { fail(where, fmt::format("field '{}' must be an array of strings", key)); };
    if (!v->is_array()) bad();
    out.reserve(v->get_array().size());
    for (const auto& item : v->get_array()) {
      if (!item.is_string()) bad();
      out.emplace_back(item.get_string());
    }
    return out;
  }

  step_definition step(const bj::value& jv, std::size_t index) const {
    const auto position = fmt::format("steps[{}]: ", index);
    const bj::object* o = jv.if_object();
    if (o == nullptr) fail(position, "must be an object");

    step_definition s;
    s.id = required_string(*o, "id", position);
    const auto where = fmt::format("step '{}': ", s.id);
    check_fields(*o, where, {"id", "name", "type", "description", "required_inputs",
                             "optional_inputs", "validations", "approvers", "approval_type",
                             "service_name", "endpoint", "terminal_status", "actor",
                             "depends_on"});
    s.name = required_string(*o, "name", where);
    const auto type = required_string(*o, "type", where);
    const auto parsed = parse_step_type(type);
    if (!parsed) fail(where, fmt::format("unknown step type '{}'", type));
    s.type = *parsed;
    s.description = optional_string(*o, "description", where);
    s.required_inputs = string_array(*o, "required_inputs", where);
    s.optional_inputs = string_array(*o, "optional_inputs", where);
    s.approvers = string_array(*o, "approvers", where);
    if (o->contains("approval_type")) {
      const auto mode = optional_string(*o, "approval_type", where);
      if (mode == "any") {
        s.approval_type = approval_mode::any;
      } else if (mode == "all") {
        s.approval_type = approval_mode::all;
      } else {
        fail(where, fmt::format("field 'approval_type' must be 'any' or 'all', not '{}'", mode));
      }
    }
    s.service_name = optional_string(*o, "service_name", where);
    s.endpoint = optional_string(*o, "endpoint", where);
    s.terminal_status = optional_string(*o, "terminal_status", where);
    if (o->contains("actor")) {
      const auto actor = optional_string(*o, "actor", where);
      if (actor == "citizen") {
        s.actor = step_actor::citizen;
      } else if (actor == "administration") {
        s.actor = step_actor::administration;
      } else {
        fail(where, fmt::format("field 'actor' must be 'citizen' or 'administration', not '{}'",
                                actor));
      }
    }
    s.depends_on = string_array(*o, "depends_on", where);

    if (const bj::value* rules = o->if_contains("validations")) {
      if (!rules->is_array()) fail(where, "field 'validations' must be an array");
      const auto& rule_array = rules->get_array();
      s.validations.reserve(rule_array.size());
      for (std::size_t i = 0; i < rule_array.size(); ++i) {
        s.validations.push_back(rule(rule_array[i], fmt::format("{}validations[{}]: ", where, i)));
      }
    }
    return s;
  }

  validation_rule rule(const bj::value& jv, const std::string& where) const {
    const bj::object* o = jv.if_object();
    if (o == nullptr) fail(where, "must be an object");
    static constexpr std::string_view known[] = {
        "rule",           "field",          "fields", "message", "format", "missing_message",
        "format_message", "future_message", "derives", "values", "prefixes", "min"};

    validation_rule r;
    r.rule = required_string(*o, "rule", where);
    if (o->contains("field") && o->contains("fields")) {
      fail(where, "give 'field' or 'fields', not both");
    }
    if (o->contains("field")) {
      r.fields.push_back(optional_string(*o, "field", where));
    } else {
      r.fields = string_array(*o, "fields", where);
    }
    r.message = optional_string(*o, "message", where);
    r.format = optional_string(*o, "format", where);
    r.missing_message = optional_string(*o, "missing_message", where);
    r.format_message = optional_string(*o, "format_message", where);
    r.future_message = optional_string(*o, "future_message", where);
    r.derives = optional_string(*o, "derives", where);
    r.values = string_array(*o, "values", where);
    r.prefixes = string_array(*o, "prefixes", where);
    if (const bj::value* min = o->if_contains("min")) {
      if (min->is_int64()) {
        r.min = min->get_int64();
      } else if (min->is_uint64()) {
        fail(where, "field 'min' is too large");
      } else {
        fail(where, "field 'min' must be an integer");
      }
    }
    // Anything else is a parameter of a custom validator.
    for (const auto& member : *o) {
      const auto key = key_of(member);
      if (std::find(std::begin(known), std::end(known), key) == std::end(known)) {
        r.params.set(key, bj::value_to<value>(member.value()));
      }
    }
    return r;
  }

  edge_definition edge(const bj::value& jv, std::size_t index) const {
    const auto where = fmt::format("edges[{}]: ", index);
    const bj::object* o = jv.if_object();
    if (o == nullptr) fail(where, "must be an object");
    check_fields(*o, where, {"from", "to", "when"});
    edge_definition e;
    e.from = required_string(*o, "from", where);
    e.to = required_string(*o, "to", where);
    e.when = optional_string(*o, "when", where);
    return e;
  }
};

}  // namespace

workflow_definition parse_workflow_json(std::string_view json_text, std::string_view source) {
  const reader r(source);
  auto def = r.workflow(r.parse(json_text));
  validate_definition(def, source);
  return def;
}

workflow_definition load_workflow_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw definition_error(fmt::format("{}: cannot open file", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw definition_error(fmt::format("{}: cannot read file", path));
  return parse_workflow_json(text.str(), path);
}

std::vector<workflow_definition> load_workflow_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw definition_error(fmt::format("{}: not a directory", dir));

  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) throw definition_error(fmt::format("{}: cannot list directory: {}", dir, ec.message()));
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  std::vector<workflow_definition> defs;
  std::map<std::string, std::string, std::less<>> defined_in;   // workflow id -> file
  defs.reserve(files.size());
  for (const auto& file : files) {
    auto def = load_workflow_file(file.string());
    const auto [it, inserted] = defined_in.emplace(def.id, file.string());
    if (!inserted) {
      throw definition_error(fmt::format("{}: workflow '{}' is already defined in {}",
                                         file.string(), def.id, it->second));
    }
    defs.push_back(std::move(def));
  }
  return defs;
}

}  // namespace civicperf
