#pragma once
/// \file
/// Input validation: the declarative rules of a step definition plus custom
/// C++ validators. Used by the executor and by dry runs.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "civicperf/time.hpp"
#include "civicperf/value.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

struct validation_result {
  bool is_valid = true;
  std::vector<std::string> errors;
  /// Values derived while validating, e.g. `{"calculated_age": 34}` from a
  /// date rule with `derives`. An object (possibly empty).
  value derived = value::make_object();
};

/// A named rule kind usable in definition files: returns the error messages
/// for `inputs` (empty when valid). `rule` carries the rule's parameters.
using rule_validator =
    std::function<std::vector<std::string>(const validation_rule& rule, const value& inputs)>;

/// A validator attached to one (workflow, step) in C++; runs after the
/// declarative rules.
using step_validator = std::function<std::vector<std::string>(const value& inputs)>;

/// Custom rule kinds by name.
using custom_rules = std::map<std::string, rule_validator, std::less<>>;

/// Validates `inputs` (an object; anything else counts as empty) against `step`:
/// 1. each required input in listed order: blank (absent, null, "" or empty
///    array/object) → `Missing required input: <name>`;
/// 2. each rule in order (built-in kinds, else `custom`; an unknown kind is an
///    error `Unknown validation rule: <kind>`);
/// 3. each extra step validator.
/// `today` is the reference date for date rules (age, future dates).
[[nodiscard]] validation_result validate_inputs(const step_definition& step, const value& inputs,
                                                timestamp today,
                                                const custom_rules* custom = nullptr,
                                                const std::vector<step_validator>* extra = nullptr);

/// True for the built-in rule kinds listed above.
[[nodiscard]] bool is_builtin_rule(std::string_view kind) noexcept;

}  // namespace civicperf
