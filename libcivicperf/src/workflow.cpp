#include "civicperf/workflow.hpp"

#include <array>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "civicperf/validation.hpp"

namespace civicperf {

namespace {

struct type_names {
  std::string_view plain;
  std::string_view wire;
};

constexpr std::array<type_names, 5> step_type_names{{
    {"action", "ActionStep"},
    {"conditional", "ConditionalStep"},
    {"approval", "ApprovalStep"},
    {"integration", "IntegrationStep"},
    {"terminal", "TerminalStep"},
}};

bool known_type(step_type t) noexcept {
  return static_cast<std::size_t>(t) < step_type_names.size();
}

[[noreturn]] void fail(std::string_view source, std::string_view problem) {
  throw definition_error(fmt::format("{}: {}", source, problem));
}

[[noreturn]] void fail_step(std::string_view source, std::string_view step_id,
                            std::string_view problem) {
  throw definition_error(fmt::format("{}: step '{}': {}", source, step_id, problem));
}

void check_rule(std::string_view source, const step_definition& step, std::size_t index,
                const validation_rule& rule) {
  const auto where = fmt::format("validations[{}]", index);
  if (rule.rule.empty()) fail_step(source, step.id, where + ": no rule kind");
  if (!is_builtin_rule(rule.rule)) return;   // a custom validator, registered later
  if (rule.fields.empty()) {
    fail_step(source, step.id, fmt::format("{}: rule '{}' needs a field", where, rule.rule));
  }
  for (const auto& f : rule.fields) {
    if (f.empty()) {
      fail_step(source, step.id, fmt::format("{}: rule '{}' has an empty field name", where,
                                             rule.rule));
    }
  }
  if (rule.rule == "contains_all" && rule.values.empty()) {
    fail_step(source, step.id, fmt::format("{}: rule 'contains_all' needs 'values'", where));
  }
  if (rule.rule == "prefix_one_of" && rule.prefixes.empty()) {
    fail_step(source, step.id, fmt::format("{}: rule 'prefix_one_of' needs 'prefixes'", where));
  }
  if (rule.rule == "min_length" && rule.min < 1) {
    fail_step(source, step.id,
              fmt::format("{}: rule 'min_length' needs 'min' (a positive integer)", where));
  }
  if (rule.rule == "date" && !rule.format.empty() && rule.format != "YYYY-MM-DD") {
    fail_step(source, step.id,
              fmt::format("{}: rule 'date' supports only format 'YYYY-MM-DD', not '{}'", where,
                          rule.format));
  }
}

}  // namespace

std::string_view wire_name(step_type t) noexcept {
  return known_type(t) ? step_type_names[static_cast<std::size_t>(t)].wire
                       : std::string_view{"UnknownStep"};
}

std::string_view to_string(step_type t) noexcept {
  return known_type(t) ? step_type_names[static_cast<std::size_t>(t)].plain
                       : std::string_view{"unknown"};
}

std::optional<step_type> parse_step_type(std::string_view s) noexcept {
  for (std::size_t i = 0; i < step_type_names.size(); ++i) {
    if (s == step_type_names[i].plain || s == step_type_names[i].wire) {
      return static_cast<step_type>(i);
    }
  }
  return std::nullopt;
}

const step_definition* workflow_definition::find_step(std::string_view step_id) const noexcept {
  for (const auto& s : steps) {
    if (s.id == step_id) return &s;
  }
  return nullptr;
}

std::optional<std::size_t> workflow_definition::step_index(
    std::string_view step_id) const noexcept {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].id == step_id) return i;
  }
  return std::nullopt;
}

void validate_definition(const workflow_definition& def, std::string_view source) {
  if (def.id.empty()) fail(source, "empty workflow_id");
  if (def.steps.empty()) fail(source, "no steps");

  // Step ids: non-empty and unique.
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(def.steps.size());
  for (std::size_t i = 0; i < def.steps.size(); ++i) {
    const auto& step = def.steps[i];
    if (step.id.empty()) fail(source, fmt::format("steps[{}]: empty step id", i));
    if (!index.emplace(step.id, i).second) fail_step(source, step.id, "duplicate step id");
  }

  // Each step on its own.
  for (const auto& step : def.steps) {
    if (!known_type(step.type)) {
      fail_step(source, step.id,
                fmt::format("unknown step type {}", static_cast<unsigned>(step.type)));
    }
    if (step.type == step_type::terminal && step.terminal_status.empty()) {
      fail_step(source, step.id, "terminal step without terminal_status");
    }
    for (std::size_t r = 0; r < step.validations.size(); ++r) {
      check_rule(source, step, r, step.validations[r]);
    }
  }

  // Edges between known steps; terminal steps end the case.
  std::vector<std::vector<std::size_t>> next(def.steps.size());
  for (const auto& e : def.edges) {
    const auto from = index.find(e.from);
    const auto to = index.find(e.to);
    if (from == index.end() && to == index.end()) {
      fail(source, fmt::format("edge from unknown step '{}' to unknown step '{}'", e.from, e.to));
    }
    if (from == index.end()) {
      fail_step(source, e.to, fmt::format("edge from unknown step '{}'", e.from));
    }
    if (to == index.end()) fail_step(source, e.from, fmt::format("edge to unknown step '{}'", e.to));
    if (def.steps[from->second].type == step_type::terminal) {
      fail_step(source, e.from, fmt::format("terminal step has an outgoing edge to '{}'", e.to));
    }
    next[from->second].push_back(to->second);
  }
  // Two edges between the same steps are fine when their labels differ.
  std::set<std::tuple<std::string_view, std::string_view, std::string_view>> seen_edges;
  for (const auto& e : def.edges) {
    if (!seen_edges.emplace(e.from, e.to, e.when).second) {
      fail_step(source, e.from,
                e.when.empty() ? fmt::format("duplicate edge to '{}'", e.to)
                               : fmt::format("duplicate edge to '{}' when '{}'", e.to, e.when));
    }
  }

  // Start steps.
  if (def.start_steps.empty()) fail(source, "no start step");
  if (def.start_steps.size() > 1 && !def.discovered) {
    fail(source, fmt::format("several start steps: {}", fmt::join(def.start_steps, ", ")));
  }
  std::vector<std::size_t> starts;
  for (const auto& s : def.start_steps) {
    const auto it = index.find(s);
    if (it == index.end()) fail(source, fmt::format("unknown start step '{}'", s));
    for (const auto seen : starts) {
      if (seen == it->second) fail(source, fmt::format("start step '{}' listed twice", s));
    }
    starts.push_back(it->second);
  }
  for (const auto& s : def.end_steps) {
    if (!index.contains(s)) fail(source, fmt::format("unknown end step '{}'", s));
  }

  // Cycles: iterative depth-first search in definition order, so the step
  // named in the message is deterministic.
  if (!def.discovered) {
    enum class mark : std::uint8_t { unseen, active, done };
    std::vector<mark> marks(def.steps.size(), mark::unseen);
    std::vector<std::pair<std::size_t, std::size_t>> stack;   // (step, next edge to follow)
    for (std::size_t root = 0; root < def.steps.size(); ++root) {
      if (marks[root] != mark::unseen) continue;
      stack.emplace_back(root, 0);
      marks[root] = mark::active;
      while (!stack.empty()) {
        auto& [node, edge] = stack.back();
        if (edge == next[node].size()) {
          marks[node] = mark::done;
          stack.pop_back();
          continue;
        }
        const std::size_t to = next[node][edge++];
        if (marks[to] == mark::active) {
          std::string path;
          bool on_cycle = false;
          for (const auto& frame : stack) {
            on_cycle = on_cycle || frame.first == to;
            if (on_cycle) path += def.steps[frame.first].id + " -> ";
          }
          path += def.steps[to].id;
          fail_step(source, def.steps[to].id, "on a cycle: " + path);
        }
        if (marks[to] == mark::unseen) {
          marks[to] = mark::active;
          stack.emplace_back(to, 0);
        }
      }
    }
  }

  // Reachability from the start steps.
  std::vector<bool> reached(def.steps.size(), false);
  std::vector<std::size_t> todo = starts;
  for (const auto s : starts) reached[s] = true;
  while (!todo.empty()) {
    const std::size_t node = todo.back();
    todo.pop_back();
    for (const auto to : next[node]) {
      if (!reached[to]) {
        reached[to] = true;
        todo.push_back(to);
      }
    }
  }
  for (std::size_t i = 0; i < def.steps.size(); ++i) {
    if (!reached[i]) fail_step(source, def.steps[i].id, "unreachable from the start step");
  }
}

}  // namespace civicperf
