#pragma once
// Field-by-field comparison of two step results, so a failure names the field.

#include <catch2/catch.hpp>

#include "civicperf/step_result.hpp"

namespace civicperf::test {

inline void check_same(const step_result& a, const step_result& b) {
  CHECK(a.workflow_id == b.workflow_id);
  CHECK(a.instance_id == b.instance_id);
  CHECK(a.step_id == b.step_id);
  CHECK(a.status == b.status);
  CHECK(a.outputs == b.outputs);
  CHECK(a.error == b.error);
  CHECK(a.queued_at == b.queued_at);
  CHECK(a.started_at == b.started_at);
  CHECK(a.completed_at == b.completed_at);
  CHECK(a.execution_duration == b.execution_duration);
  CHECK(a.queue_time == b.queue_time);
  CHECK(a.validation_duration == b.validation_duration);
  CHECK(a.retry_count == b.retry_count);
  CHECK(a.memory_usage_mb == b.memory_usage_mb);
  CHECK(a.executed_by == b.executed_by);
  CHECK(a.execution_environment == b.execution_environment);
  CHECK(a.step_version == b.step_version);
  CHECK(a.waiting_for_approval == b.waiting_for_approval);
  CHECK(a.waiting_for_external_service == b.waiting_for_external_service);
  CHECK(a.blocking_dependencies == b.blocking_dependencies);
}

}  // namespace civicperf::test
