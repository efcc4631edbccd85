#include "civicperf/step_result.hpp"

#include <catch2/catch.hpp>

using civicperf::duration;
using civicperf::step_result;
using civicperf::step_status;
using civicperf::timestamp;

namespace {
timestamp at_ms(std::int64_t ms) { return timestamp{std::chrono::milliseconds(ms)}; }
}  // namespace

TEST_CASE("step_result: status names", "[step_result]") {
  CHECK(civicperf::to_string(step_status::pending) == "pending");
  CHECK(civicperf::to_string(step_status::running) == "running");
  CHECK(civicperf::to_string(step_status::completed) == "completed");
  CHECK(civicperf::to_string(step_status::failed) == "failed");
  CHECK(civicperf::to_string(step_status::skipped) == "skipped");

  CHECK(civicperf::parse_step_status("pending") == step_status::pending);
  CHECK(civicperf::parse_step_status("running") == step_status::running);
  CHECK(civicperf::parse_step_status("completed") == step_status::completed);
  CHECK(civicperf::parse_step_status("failed") == step_status::failed);
  CHECK(civicperf::parse_step_status("skipped") == step_status::skipped);
  CHECK_FALSE(civicperf::parse_step_status("Completed"));
  CHECK_FALSE(civicperf::parse_step_status("done"));
  CHECK_FALSE(civicperf::parse_step_status(""));
}

TEST_CASE("step_result: execution duration derived from the timestamps", "[step_result]") {
  step_result r;
  CHECK_FALSE(r.effective_execution_duration());
  r.started_at = at_ms(1'000);
  CHECK_FALSE(r.effective_execution_duration());   // still running
  r.completed_at = at_ms(1'145);
  CHECK(r.effective_execution_duration() == duration{145'000});
  r.execution_duration = duration{7};   // an explicit value wins
  CHECK(r.effective_execution_duration() == duration{7});

  step_result only_explicit;
  only_explicit.execution_duration = duration{0};
  CHECK(only_explicit.effective_execution_duration() == duration{0});
}

TEST_CASE("step_result: queue time derived from the timestamps", "[step_result]") {
  step_result r;
  CHECK_FALSE(r.effective_queue_time());
  r.queued_at = at_ms(500);
  CHECK_FALSE(r.effective_queue_time());
  r.started_at = at_ms(512);
  CHECK(r.effective_queue_time() == duration{12'000});
  r.queue_time = duration{3};
  CHECK(r.effective_queue_time() == duration{3});
}

TEST_CASE("step_result: manual executions", "[step_result]") {
  step_result r;
  CHECK(r.is_manual());   // no instance
  r.instance_id = "case-1";
  CHECK_FALSE(r.is_manual());
  r.execution_environment = "production";
  CHECK_FALSE(r.is_manual());
  r.execution_environment = "manual";
  CHECK(r.is_manual());
  r.instance_id.clear();
  r.execution_environment = "production";
  CHECK(r.is_manual());
}
