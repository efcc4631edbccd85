#include "civicperf/executor.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace civicperf;
using civicperf::test::at_ms;
using civicperf::test::make_step;
using std::chrono::hours;
using std::chrono::milliseconds;

namespace {

// a (action, needs id_number) -> appr (approval) -> ext (integration) -> dep (needs token) -> end
workflow_definition exec_workflow() {
  workflow_definition w;
  w.id = "exec_wf";
  w.name = "Executor test";
  w.start_steps = {"a"};
  w.steps = {make_step("a", step_type::action), make_step("appr", step_type::approval),
             make_step("ext", step_type::integration), make_step("dep", step_type::action),
             make_step("end", step_type::terminal, "SUCCESS")};
  w.steps[0].required_inputs = {"id_number", "id_document"};
  w.steps[1].approvers = {"officer"};
  w.steps[2].service_name = "registry_service";
  w.steps[3].depends_on = {"token"};
  w.edges = {{"a", "appr", ""}, {"appr", "ext", ""}, {"ext", "dep", ""}, {"dep", "end", ""}};
  return w;
}

struct fixture {
  fixture(executor_options o = {}) : clock(at_ms(0)), executor(registry, &monitor, clock, o) {
    registry.add_workflow(exec_workflow());
    monitor.add_workflow(exec_workflow());
  }
  execution_request request(std::string step, value inputs = value::make_object()) {
    execution_request r;
    r.workflow_id = "exec_wf";
    r.step_id = std::move(step);
    r.instance_id = "case-1";
    r.inputs = std::move(inputs);
    return r;
  }
  step_registry registry;
  performance_monitor monitor;
  manual_clock clock;
  step_executor executor;
};

value valid_inputs() {
  return value::make_object({{"id_number", "123456789"}, {"id_document", "passport"}});
}

}  // namespace

TEST_CASE("queue, validation and execution times come from the clock", "[executor]") {
  fixture f;
  f.registry.add_step_validator("exec_wf", "a", [&](const value&) {
    f.clock.advance(milliseconds(8));   // validation takes 8 ms
    return std::vector<std::string>{};
  });
  f.registry.set_handler("exec_wf", "a", [&](const step_context& ctx) {
    CHECK(ctx.attempt == 1);
    CHECK(ctx.instance_id == "case-1");
    f.clock.advance(milliseconds(145));
    return value::make_object({{"identity_verified", true}});
  });
  f.clock.set(at_ms(1'000));
  auto req = f.request("a", valid_inputs());
  req.queued_at = at_ms(988);
  const step_result r = f.executor.execute(req).result;
  CHECK(r.status == step_status::completed);
  CHECK(r.queued_at == at_ms(988));
  CHECK(r.started_at == at_ms(1'000));
  CHECK(r.completed_at == at_ms(1'153));
  CHECK(r.queue_time == milliseconds(12));
  CHECK(r.validation_duration == milliseconds(8));
  CHECK(r.execution_duration == milliseconds(153));   // validation + handler
  CHECK(r.outputs == value::make_object({{"identity_verified", true}}));
  CHECK_FALSE(r.error.has_value());
  CHECK(r.step_version == "1.0");
  const auto s = f.monitor.step("exec_wf", "a");
  CHECK(s->count(step_status::completed) == 1);
  CHECK(s->execution.sum == 153'000);
  CHECK(s->queue.sum == 12'000);
  CHECK(s->validation.sum == 8'000);
}

TEST_CASE("a step without a handler succeeds with the default outputs", "[executor]") {
  fixture f;
  f.clock.set(at_ms(0));
  const step_result r = f.executor.execute(f.request("a", valid_inputs())).result;
  CHECK(r.status == step_status::completed);
  CHECK(r.outputs == value::make_object({{"executed", true}, {"timestamp", format_iso8601(at_ms(0))}}));
  CHECK(r.queue_time == milliseconds(0));
}

TEST_CASE("a validation failure fails the step without running the handler", "[executor]") {
  fixture f;
  bool ran = false;
  f.registry.set_handler("exec_wf", "a", [&](const step_context&) {
    ran = true;
    return value::make_object();
  });
  const step_result r = f.executor.execute(f.request("a")).result;
  CHECK_FALSE(ran);
  CHECK(r.status == step_status::failed);
  CHECK(r.error ==
        "Validation failed: Missing required input: id_number, Missing required input: id_document");
  const auto s = f.monitor.step("exec_wf", "a");
  REQUIRE(s->errors.size() == 1);
  CHECK(s->errors[0].message == *r.error);
}

TEST_CASE("exceptions are retried with back-off, then succeed", "[executor]") {
  executor_options o;
  o.retry = retry_policy{3, milliseconds(100), 2.0, std::chrono::seconds(30)};
  fixture f(o);
  int calls = 0;
  f.registry.set_handler("exec_wf", "a", [&](const step_context& ctx) -> value {
    ++calls;
    f.clock.advance(milliseconds(10));
    if (ctx.attempt < 3) throw std::runtime_error("service unavailable");
    return value::make_object({{"ok", true}});
  });
  const step_result r = f.executor.execute(f.request("a", valid_inputs())).result;
  CHECK(calls == 3);
  CHECK(r.status == step_status::completed);
  CHECK(r.retry_count == 2);
  CHECK_FALSE(r.error.has_value());
  CHECK(r.execution_duration == milliseconds(3 * 10 + 100 + 200));
}

TEST_CASE("a handler that keeps failing ends failed with its last message", "[executor]") {
  executor_options o;
  o.retry.max_attempts = 3;
  fixture f(o);
  int calls = 0;
  f.registry.set_handler("exec_wf", "a", [&](const step_context&) -> value {
    throw std::runtime_error("attempt " + std::to_string(++calls));
  });
  const step_result r = f.executor.execute(f.request("a", valid_inputs())).result;
  CHECK(r.status == step_status::failed);
  CHECK(r.error == "attempt 3");
  CHECK(r.retry_count == 2);
  CHECK(f.monitor.step("exec_wf", "a")->retries == 2);
}

TEST_CASE("a non-retryable error stops at once", "[executor]") {
  executor_options o;
  o.retry.max_attempts = 5;
  fixture f(o);
  int calls = 0;
  f.registry.set_handler("exec_wf", "a", [&](const step_context&) -> value {
    ++calls;
    throw non_retryable_error("duplicate citizen");
  });
  const step_result r = f.executor.execute(f.request("a", valid_inputs())).result;
  CHECK(calls == 1);
  CHECK(r.status == step_status::failed);
  CHECK(r.error == "duplicate citizen");
  CHECK(r.retry_count == 0);
}

TEST_CASE("an approval step ends pending, and completing it records one execution", "[executor]") {
  fixture f;
  f.clock.set(at_ms(0));
  const step_result pending = f.executor.execute(f.request("appr")).result;
  CHECK(pending.status == step_status::pending);
  CHECK(pending.waiting_for_approval == true);
  CHECK_FALSE(pending.completed_at.has_value());
  f.clock.advance(hours(2));
  const step_result done =
      f.executor.complete_pending(pending, value::make_object({{"approved", true}}));
  CHECK(done.status == step_status::completed);
  CHECK(done.completed_at == at_ms(7'200'000));
  CHECK(done.execution_duration == hours(2));
  CHECK(done.outputs.find("approved") != nullptr);
  const auto s = f.monitor.step("exec_wf", "appr");
  CHECK(s->total_executions == 1);
  CHECK(s->count(step_status::completed) == 1);
  CHECK(s->count(step_status::pending) == 0);
  CHECK(s->execution.sum == 7'200'000'000);
  CHECK(s->waiting_for_approval == 1);
}

TEST_CASE("an integration step waits for its external service", "[executor]") {
  fixture f;
  const step_result r = f.executor.execute(f.request("ext")).result;
  CHECK(r.status == step_status::completed);
  CHECK(r.waiting_for_external_service == true);
  CHECK(f.monitor.step("exec_wf", "ext")->waiting_for_external_service == 1);
}

TEST_CASE("a missing dependency blocks the step", "[executor]") {
  fixture f;
  const step_result blocked = f.executor.execute(f.request("dep")).result;
  CHECK(blocked.status == step_status::failed);
  CHECK(blocked.error == "Blocked by dependencies: token");
  CHECK(blocked.blocking_dependencies == std::vector<std::string>{"token"});
  auto req = f.request("dep");
  req.context = value::make_object({{"token", "t-1"}});
  CHECK(f.executor.execute(req).result.status == step_status::completed);
  CHECK(f.monitor.step("exec_wf", "dep")->blocked == 1);
}

TEST_CASE("unknown and ambiguous steps are reported, not executed", "[executor]") {
  fixture f;
  workflow_definition other = exec_workflow();
  other.id = "other_wf";
  f.registry.add_workflow(other);
  execution_request req;
  req.step_id = "appr";
  auto out = f.executor.execute(req);
  CHECK(out.lookup == step_lookup::outcome::ambiguous);
  CHECK(out.candidates == std::vector<std::string>{"exec_wf", "other_wf"});
  req.step_id = "nope";
  CHECK(f.executor.execute(req).lookup == step_lookup::outcome::unknown_step);
  CHECK(f.monitor.totals().total_executions == 0);
}

TEST_CASE("recording can be switched off, memory can be sampled", "[executor]") {
  executor_options o;
  o.record = false;
  o.sample_memory = true;
  fixture f(o);
  const step_result r = f.executor.execute(f.request("a", valid_inputs())).result;
  CHECK(r.status == step_status::completed);
  REQUIRE(r.memory_usage_mb.has_value());
  CHECK(*r.memory_usage_mb >= 0.0);
  CHECK(f.monitor.totals().total_executions == 0);
  const auto dry = f.executor.validate(*f.registry.find_workflow("exec_wf"),
                                       *f.registry.find_workflow("exec_wf")->find_step("a"),
                                       value::make_object({{"id_number", "1"}}));
  CHECK_FALSE(dry.is_valid);
  CHECK(dry.errors == std::vector<std::string>{"Missing required input: id_document"});
}
