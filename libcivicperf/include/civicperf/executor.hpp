#pragma once
/// \file
/// StepExecutor: runs one step through its handler and measures it.

#include <memory>
#include <optional>
#include <string>

#include "civicperf/monitor.hpp"
#include "civicperf/registry.hpp"
#include "civicperf/step_result.hpp"
#include "civicperf/time.hpp"
#include "civicperf/validation.hpp"
#include "civicperf/value.hpp"

namespace civicperf {

/// How often a failing handler is attempted and how long to wait in between
/// (backoff = initial * multiplier^(attempt-1), capped at max_backoff).
struct retry_policy {
  int max_attempts = 1;
  duration initial_backoff = std::chrono::milliseconds(0);
  double multiplier = 2.0;
  duration max_backoff = std::chrono::seconds(30);
};

struct executor_options {
  retry_policy retry;
  /// Sample resident memory before and after the handler (reads
  /// /proc/self/statm twice, ~1-5 us each; off by default).
  bool sample_memory = false;
  /// Record every result into the monitor (when one is given).
  bool record = true;
};

struct execution_request {
  std::string workflow_id;   ///< may be empty when step_id is unambiguous
  std::string step_id;
  std::string instance_id;   ///< the case; empty for a manual execution
  value inputs = value::make_object();
  value context = value::make_object();
  std::optional<timestamp> queued_at;   ///< when the step became ready; default: now
  std::string executed_by;
  std::string environment = "production";
  std::string step_version;
};

/// The outcome of an execute() call: the result, and whether the step could
/// be found at all.
struct execution_outcome {
  step_lookup::outcome lookup = step_lookup::outcome::found;
  std::vector<std::string> candidates;   ///< when ambiguous
  step_result result;
};

/// Runs steps with monitoring (DESIGN.md):
/// queue time = start - queued_at; validation, then the handler (or the
/// default handler `{"executed": true, "timestamp": ...}`), timed on the
/// steady clock; retries per the policy; an exception becomes `failed` with
/// its message; a validation failure becomes `failed` with
/// `Validation failed: <errors joined by ", ">`; missing `depends_on` inputs
/// become `failed` with `blocking_dependencies`; approval steps end `pending`
/// with waiting_for_approval; integration steps set
/// waiting_for_external_service. The result is recorded into the monitor.
/// Thread safety: execute() and validate() may be called concurrently.
class step_executor {
 public:
  step_executor(const step_registry& registry, performance_monitor* monitor,
                clock_source& clock = system_clock_source::instance(),
                executor_options options = {});
  ~step_executor();
  step_executor(const step_executor&) = delete;
  step_executor& operator=(const step_executor&) = delete;

  [[nodiscard]] execution_outcome execute(const execution_request& request);

  /// Completes a `pending` result (an approval that was decided): status
  /// becomes `final_status`, outputs are merged, completed_at = now, the
  /// duration covers the whole wait; recorded like any result.
  [[nodiscard]] step_result complete_pending(const step_result& pending, value outputs,
                                             step_status final_status = step_status::completed,
                                             std::optional<std::string> error = std::nullopt);

  /// Dry run: validates only, records nothing.
  [[nodiscard]] validation_result validate(const workflow_definition& workflow,
                                           const step_definition& step,
                                           const value& inputs) const;

  [[nodiscard]] const step_registry& registry() const noexcept { return registry_; }
  [[nodiscard]] clock_source& clock() const noexcept { return clock_; }

 private:
  struct memory_sampler;
  const step_registry& registry_;
  performance_monitor* monitor_;
  clock_source& clock_;
  executor_options options_;
  std::unique_ptr<memory_sampler> memory_;
};

/// Registers handlers that behave like the originals for the four example
/// workflows (identity verification, duplicate check, account creation,
/// welcome email, guardian notification, approval processing, and the
/// business-license, permit and complaint steps). Steps without a handler get
/// the default one.
void register_example_handlers(step_registry& registry);

}  // namespace civicperf
