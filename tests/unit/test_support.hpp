#pragma once
// Small builders shared by the unit tests.

#include <chrono>
#include <string>

#include "civicperf/step_result.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf::test {

inline const timestamp t0{std::chrono::seconds(1'750'000'000)};

/// t0 plus `ms` milliseconds.
inline timestamp at_ms(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

inline step_definition make_step(std::string id, step_type type, std::string terminal_status = {}) {
  step_definition s;
  s.name = "Step " + id;
  s.id = std::move(id);
  s.type = type;
  s.terminal_status = std::move(terminal_status);
  return s;
}

/// A case-bearing result: queued, started and (when completed_ms >= 0) completed at
/// the given offsets from t0.
inline step_result make_result(std::string workflow, std::string instance, std::string step,
                               step_status status, std::int64_t queued_ms, std::int64_t started_ms,
                               std::int64_t completed_ms) {
  step_result r;
  r.workflow_id = std::move(workflow);
  r.instance_id = std::move(instance);
  r.step_id = std::move(step);
  r.status = status;
  r.queued_at = at_ms(queued_ms);
  r.started_at = at_ms(started_ms);
  if (completed_ms >= 0) r.completed_at = at_ms(completed_ms);
  r.execution_environment = "production";
  return r;
}

}  // namespace civicperf::test
