#pragma once
/// \file
/// StepRegistry: workflow definitions, per-(workflow, step) handlers and
/// custom validators, with listing and lookup.

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "civicperf/time.hpp"
#include "civicperf/validation.hpp"
#include "civicperf/value.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

/// What a handler sees of the execution it performs.
struct step_context {
  const workflow_definition& workflow;
  const step_definition& step;
  const value& inputs;     ///< an object
  const value& context;    ///< an object (case data shared between steps)
  std::string_view instance_id;
  timestamp now;           ///< the executor clock's wall time at the attempt
  int attempt;             ///< 1 for the first attempt
};

/// Performs a step; returns its outputs (an object). Throwing marks the
/// attempt failed with the exception's message (retried per the policy unless
/// it is a non_retryable_error).
using step_handler = std::function<value(const step_context&)>;

/// Thrown by a handler for a failure that retrying cannot fix.
class non_retryable_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct workflow_summary {
  std::string workflow_id;
  std::string name;
  std::string description;
  std::size_t step_count = 0;
};

struct step_summary {
  std::string step_id;
  std::string name;
  step_type type = step_type::action;
  std::string workflow_id;
};

/// Result of looking a step up.
struct step_lookup {
  enum class outcome : std::uint8_t { found, unknown_workflow, unknown_step, ambiguous };
  outcome result = outcome::unknown_step;
  std::shared_ptr<const workflow_definition> workflow;   ///< set when found
  const step_definition* step = nullptr;                 ///< set when found; lives as long as `workflow`
  std::vector<std::string> candidates;                   ///< workflow ids when ambiguous, sorted
  [[nodiscard]] bool found() const noexcept { return result == outcome::found; }
};

/// Holds workflow definitions, step handlers and validators.
/// Thread safety: every member function is safe to call concurrently; a
/// reader-writer lock guards the tables, and definitions are handed out as
/// shared_ptr<const> so they stay valid while in use.
class step_registry {
 public:
  step_registry();
  ~step_registry();
  step_registry(const step_registry&) = delete;
  step_registry& operator=(const step_registry&) = delete;

  /// Validates and adds a definition. Throws definition_error when invalid or
  /// when a workflow with that id exists.
  void add_workflow(workflow_definition def);
  /// Adds every definition (as add_workflow).
  void add_workflows(const std::vector<workflow_definition>& defs);

  /// Sets the handler of one step. Throws std::invalid_argument for an unknown
  /// workflow or step.
  void set_handler(std::string_view workflow_id, std::string_view step_id, step_handler handler);
  /// The step's handler, or an empty function when none is set.
  [[nodiscard]] step_handler handler(std::string_view workflow_id, std::string_view step_id) const;

  /// Registers a custom rule kind usable in definitions (`"rule": name`).
  void add_rule(std::string name, rule_validator fn);
  /// Attaches a C++ validator to one step. Throws std::invalid_argument when unknown.
  void add_step_validator(std::string_view workflow_id, std::string_view step_id,
                          step_validator fn);
  /// Validates inputs for a step with its declarative rules, custom rules and
  /// step validators.
  [[nodiscard]] validation_result validate(const workflow_definition& workflow,
                                           const step_definition& step, const value& inputs,
                                           timestamp today) const;

  /// Workflows in registration order.
  [[nodiscard]] std::vector<workflow_summary> list_workflows() const;
  /// Steps of one workflow (definition order), or of all workflows when
  /// `workflow_id` is empty. An unknown workflow id gives an empty list.
  [[nodiscard]] std::vector<step_summary> list_steps(std::string_view workflow_id = {}) const;
  /// Steps whose name or id contains `text`, case-insensitively.
  [[nodiscard]] std::vector<step_summary> search_steps(std::string_view text) const;

  [[nodiscard]] std::shared_ptr<const workflow_definition> find_workflow(
      std::string_view workflow_id) const;
  /// Every definition, in registration order.
  [[nodiscard]] std::vector<std::shared_ptr<const workflow_definition>> workflows() const;

  /// Looks a step up by (workflow, step). With an empty `workflow_id` the
  /// bare step id is searched in every workflow: one match is found, several
  /// are `ambiguous` with the candidate workflow ids.
  [[nodiscard]] step_lookup find_step(std::string_view workflow_id,
                                      std::string_view step_id) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace civicperf
