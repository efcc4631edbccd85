#pragma once
/// \file
/// Workflow definitions as data: steps, edges and declarative validation rules.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/value.hpp"

namespace civicperf {

enum class step_type : std::uint8_t { action, conditional, approval, integration, terminal };

/// The spec's class-style name used on the wire: `ActionStep`, `ConditionalStep`,
/// `ApprovalStep`, `IntegrationStep`, `TerminalStep`.
[[nodiscard]] std::string_view wire_name(step_type t) noexcept;
/// The lower-case name used in definition files: `action`, `conditional`, ...
[[nodiscard]] std::string_view to_string(step_type t) noexcept;
/// Accepts both spellings; nullopt for anything else.
[[nodiscard]] std::optional<step_type> parse_step_type(std::string_view s) noexcept;

/// One declarative validation rule of a step. `rule` is one of the built-in
/// kinds — `email`, `date`, `non_empty`, `digits_and_dashes`, `contains_all`,
/// `prefix_one_of`, `min_length` — or the name of a custom validator registered
/// with the step_registry. Messages may contain `{field}` and `{value}`.
struct validation_rule {
  std::string rule;
  std::vector<std::string> fields;   ///< `field` or `fields` in the file
  std::string message;               ///< the failure message
  // date
  std::string format;                ///< only `YYYY-MM-DD` is supported
  std::string missing_message;
  std::string format_message;
  std::string future_message;
  std::string derives;               ///< output name of the derived age, e.g. `calculated_age`
  // contains_all / prefix_one_of
  std::vector<std::string> values;
  std::vector<std::string> prefixes;
  // min_length
  std::int64_t min = 0;
  /// The rule's other members (not named above), for custom validators: an
  /// object, or null when there are none.
  value params;

  friend bool operator==(const validation_rule&, const validation_rule&) = default;
};

enum class approval_mode : std::uint8_t { any, all };

/// Who performs a step. Time spent in a transition *into* a citizen step is
/// the citizen's own time, not waiting on the administration.
enum class step_actor : std::uint8_t { administration, citizen };

struct step_definition {
  std::string id;
  std::string name;
  step_type type = step_type::action;
  std::string description;
  std::vector<std::string> required_inputs;   ///< checked first, in this order
  std::vector<std::string> optional_inputs;
  std::vector<validation_rule> validations;   ///< checked after the required inputs, in order
  std::vector<std::string> approvers;         ///< approval steps
  approval_mode approval_type = approval_mode::any;
  std::string service_name;                   ///< integration steps
  std::string endpoint;                       ///< integration steps
  std::string terminal_status;                ///< terminal steps, e.g. `SUCCESS`
  step_actor actor = step_actor::administration;
  std::vector<std::string> depends_on;        ///< inputs that must be present, else blocked

  friend bool operator==(const step_definition&, const step_definition&) = default;
};

struct edge_definition {
  std::string from;
  std::string to;
  std::string when;   ///< condition label; empty when unconditional

  friend bool operator==(const edge_definition&, const edge_definition&) = default;
};

struct workflow_definition {
  std::string id;
  std::string name;
  std::string description;
  std::string version = "1.0";
  /// Exactly one for a defined workflow; a workflow discovered from an event
  /// log may have several.
  std::vector<std::string> start_steps;
  std::vector<step_definition> steps;
  std::vector<edge_definition> edges;
  /// Discovered from an event log: may contain cycles (rework).
  bool discovered = false;
  /// The steps cases ended with (discovered workflows). A critical path may
  /// end at them even when they have outgoing edges; empty for a defined
  /// workflow, whose ends are its terminal steps.
  std::vector<std::string> end_steps;

  [[nodiscard]] const step_definition* find_step(std::string_view step_id) const noexcept;
  /// Position of the step in `steps`, nullopt when unknown.
  [[nodiscard]] std::optional<std::size_t> step_index(std::string_view step_id) const noexcept;

  friend bool operator==(const workflow_definition&, const workflow_definition&) = default;
};

/// A definition that breaks the rules: the message names the source (file),
/// the step and the problem, e.g.
/// `workflows/a.json: step 'x': edge to unknown step 'y'`.
class definition_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Checks the structural rules: non-empty ids, unique step ids, edges between
/// known steps, one start step (several allowed when `discovered`), no cycle
/// (allowed when `discovered`), every step reachable from a start, terminal
/// steps without outgoing edges, known rule kinds with their parameters.
/// `source` names the origin in messages. Throws definition_error.
void validate_definition(const workflow_definition& def, std::string_view source);

/// Parses one definition from JSON text (format: examples/workflows/README.md)
/// and validates it. Throws definition_error naming `source`.
[[nodiscard]] workflow_definition parse_workflow_json(std::string_view json_text,
                                                      std::string_view source);

/// Reads and parses one definition file. Throws definition_error.
[[nodiscard]] workflow_definition load_workflow_file(const std::string& path);

/// Loads every `*.json` file of a directory, sorted by file name. Throws
/// definition_error for the first bad file, or when two files define the same
/// workflow id.
[[nodiscard]] std::vector<workflow_definition> load_workflow_dir(const std::string& dir);

/// The four example government workflows (citizen registration, business
/// license, permit renewal, complaint handling), compiled into the library
/// from examples/workflows/*.json.
[[nodiscard]] const std::vector<workflow_definition>& example_workflows();

}  // namespace civicperf
