#include "civicperf/monitor.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace civicperf;
using civicperf::test::at_ms;
using civicperf::test::make_result;
using civicperf::test::make_step;
using std::chrono::milliseconds;

namespace {

// a (action) -> b (approval) -> c (integration) -> d (terminal SUCCESS); a -> x (terminal FAILURE)
workflow_definition sample_workflow() {
  workflow_definition w;
  w.id = "w";
  w.name = "Sample";
  w.start_steps = {"a"};
  w.steps = {make_step("a", step_type::action), make_step("b", step_type::approval),
             make_step("c", step_type::integration), make_step("d", step_type::terminal, "SUCCESS"),
             make_step("x", step_type::terminal, "FAILURE")};
  w.edges = {{"a", "b", ""}, {"b", "c", ""}, {"c", "d", ""}, {"a", "x", "rejected"}};
  return w;
}

step_result manual(std::string step, step_status status, std::int64_t queue_ms,
                   std::int64_t exec_ms) {
  step_result r = make_result("w", "", std::move(step), status, 0, queue_ms, queue_ms + exec_ms);
  r.execution_environment = "manual";
  return r;
}

}  // namespace

TEST_CASE("step aggregates: counts, durations of completed executions, errors", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  for (auto [queue, exec] : {std::pair{10, 100}, {20, 200}, {30, 600}}) {
    step_result r = manual("a", step_status::completed, queue, exec);
    r.validation_duration = milliseconds(queue / 10);
    r.memory_usage_mb = queue / 10.0;
    REQUIRE(m.record(r));
  }
  for (const char* error : {"boom", "other", "boom"}) {
    step_result r = manual("a", step_status::failed, 40, 5000);   // failed: no duration stats
    r.error = error;
    r.retry_count = 2;
    REQUIRE(m.record(r));
  }
  const auto s = m.step("w", "a");
  REQUIRE(s);
  CHECK(s->total_executions == 6);
  CHECK(s->count(step_status::completed) == 3);
  CHECK(s->count(step_status::failed) == 3);
  CHECK(s->execution.count == 3);
  CHECK(s->execution.sum == 900'000);
  CHECK(s->execution.min == 100'000);
  CHECK(s->execution.max == 600'000);
  CHECK(s->queue.sum == 60'000);
  CHECK(s->validation.sum == 6'000);
  CHECK(s->memory.count == 3);
  CHECK(s->memory.sum == Approx(6.0));
  CHECK(s->memory.max == Approx(3.0));
  CHECK(s->retries == 6);
  REQUIRE(s->errors.size() == 2);
  CHECK(s->errors[0] == error_count{"boom", 2});
  CHECK(s->errors[1] == error_count{"other", 1});
  CHECK(s->error_overcount == 0);
  const auto totals = m.totals();
  CHECK(totals.total_executions == 6);
  CHECK(totals.steps_with_data == 1);
  CHECK(totals.open_instances == 0);   // manual executions open no case
}

TEST_CASE("waiting flags default by step type, long queue is strictly above 5 s", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  m.record(manual("b", step_status::pending, 5'000, 0));     // approval: waits by default
  step_result not_waiting = manual("b", step_status::completed, 5'001, 10);
  not_waiting.waiting_for_approval = false;
  m.record(not_waiting);
  m.record(manual("c", step_status::completed, 1, 1));       // integration: external by default
  step_result blocked = manual("a", step_status::failed, 0, 0);
  blocked.blocking_dependencies = {"id_document"};
  m.record(blocked);
  const auto b = m.step("w", "b");
  CHECK(b->waiting_for_approval == 1);
  CHECK(b->long_queue == 1);
  CHECK(b->waiting_for_external_service == 0);
  CHECK(m.step("w", "c")->waiting_for_external_service == 1);
  CHECK(m.step("w", "a")->blocked == 1);
}

TEST_CASE("a case folds transitions, completes a pending approval and completes at a terminal",
          "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  const auto run = [&](std::string step, step_status st, std::int64_t q, std::int64_t s, std::int64_t c) {
    REQUIRE(m.record(make_result("w", "case-1", std::move(step), st, q, s, c)));
  };
  run("a", step_status::completed, 0, 10'000, 12'000);
  run("b", step_status::pending, 13'000, 15'000, -1);                 // waiting for approval
  run("b", step_status::completed, 13'000, 15'000, 3'615'000);        // decided an hour later
  run("c", step_status::completed, 3'616'000, 3'620'000, 3'630'000);
  run("d", step_status::completed, 3'640'000, 3'640'000, 3'640'000);

  const auto snap = m.snapshot("w");
  REQUIRE(snap);
  REQUIRE(snap->transitions.size() == 3);
  CHECK(snap->transitions[0].from_step == "a");
  CHECK(snap->transitions[0].to_step == "b");
  CHECK(snap->transitions[0].time.sum == 3'000'000);     // 15 s - 12 s
  CHECK(snap->transitions[1].from_step == "b");
  CHECK(snap->transitions[1].to_step == "c");
  CHECK(snap->transitions[1].time.sum == 5'000'000);     // 3620 s - 3615 s
  CHECK(snap->transitions[2].time.sum == 10'000'000);    // 3640 s - 3630 s

  const step_snapshot& b = snap->steps[1];
  CHECK(b.total_executions == 1);   // the pending execution was completed, not repeated
  CHECK(b.count(step_status::pending) == 0);
  CHECK(b.count(step_status::completed) == 1);
  CHECK(b.waiting_for_approval == 1);
  CHECK(b.execution.sum == 3'600'000'000);

  const instance_totals& in = snap->instances;
  CHECK(in.total_instances == 1);
  CHECK(in.completed_instances == 1);
  CHECK(in.open_instances == 0);
  CHECK(in.completion_time.sum == 3'640'000'000);   // 3640 s after queued at 0
  // Active: a (2 s) and d (0 s); b waits for approval, c for an external service.
  CHECK(in.active_time_sum == 2'000'000);
  CHECK(in.waiting_time_sum == 3'638'000'000);
  REQUIRE(in.terminal_status_counts.size() == 1);
  CHECK(in.terminal_status_counts[0] == terminal_count{"SUCCESS", 1});

  const auto inst = m.instance("w", "case-1");
  REQUIRE(inst);
  CHECK(inst->completed);
  CHECK(inst->terminal_status == "SUCCESS");
  CHECK(inst->total_events == 4);
  REQUIRE(inst->events.size() == 4);
  CHECK(inst->events[1].step_id == "b");
  CHECK(inst->events[1].status == step_status::completed);
  CHECK(inst->events[1].completed_at == at_ms(3'615'000));
  CHECK(inst->active_time == milliseconds(2'000));
}

TEST_CASE("a pending step without completion: the next transition starts at its start",
          "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "k", "b", step_status::pending, 0, 1'000, -1));
  m.record(make_result("w", "k", "c", step_status::completed, 9'000, 9'000, 9'500));
  const auto snap = m.snapshot("w");
  REQUIRE(snap->transitions.size() == 1);
  CHECK(snap->transitions[0].time.sum == 8'000'000);
  CHECK(snap->steps[1].count(step_status::pending) == 1);
}

TEST_CASE("a batch is folded in started_at order, ties in batch order", "[monitor]") {
  const std::vector<step_result> ordered = {
      make_result("w", "k", "a", step_status::completed, 0, 0, 1'000),
      make_result("w", "k", "b", step_status::completed, 1'500, 2'000, 5'000),
      make_result("w", "k", "c", step_status::completed, 5'000, 7'000, 8'000),
  };
  const std::vector<step_result> shuffled = {ordered[2], ordered[0], ordered[1]};
  performance_monitor in_order, out_of_order;
  in_order.add_workflow(sample_workflow());
  out_of_order.add_workflow(sample_workflow());
  CHECK(in_order.record_batch(ordered) == 3);
  CHECK(out_of_order.record_batch(shuffled) == 3);
  CHECK(*in_order.snapshot("w") == *out_of_order.snapshot("w"));
  const auto snap = out_of_order.snapshot("w");
  REQUIRE(snap->transitions.size() == 2);
  CHECK(snap->transitions[0].time.sum == 1'000'000);   // a -> b
  CHECK(snap->transitions[1].time.sum == 2'000'000);   // b -> c

  // Ties keep batch order: x then a at the same instant gives x -> a.
  performance_monitor ties;
  ties.add_workflow(sample_workflow());
  ties.record_batch(std::vector<step_result>{
      make_result("w", "t", "x", step_status::failed, 0, 100, 100),
      make_result("w", "t", "a", step_status::completed, 0, 100, 200)});
  const auto tied = ties.snapshot("w");
  REQUIRE(tied->transitions.size() == 1);
  CHECK(tied->transitions[0].from_step == "x");
  CHECK(tied->transitions[0].to_step == "a");
}

TEST_CASE("a retry is rework: a transition from a step to itself", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "k", "a", step_status::failed, 0, 0, 100));
  m.record(make_result("w", "k", "a", step_status::completed, 0, 600, 700));
  const auto snap = m.snapshot("w");
  REQUIRE(snap->transitions.size() == 1);
  CHECK(snap->transitions[0].from_step == "a");
  CHECK(snap->transitions[0].to_step == "a");
  CHECK(snap->transitions[0].time.sum == 500'000);
  CHECK(snap->steps[0].total_executions == 2);
}

TEST_CASE("overlapping activities give negative transitions, reported as they are", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "k", "a", step_status::completed, 0, 0, 5'000));
  m.record(make_result("w", "k", "b", step_status::completed, 3'000, 3'000, 9'000));
  const auto snap = m.snapshot("w");
  CHECK(snap->transitions[0].time.min == -2'000'000);
  CHECK(snap->transitions[0].time.quantile(0.9) == -2'000'000);
}

TEST_CASE("manual executions count in step metrics only", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  step_result r = make_result("w", "case-9", "a", step_status::completed, 0, 0, 10);
  r.execution_environment = "manual";
  m.record(r);
  const auto snap = m.snapshot("w");
  CHECK(snap->steps[0].total_executions == 1);
  CHECK(snap->instances.total_instances == 0);
  CHECK_FALSE(m.instance("w", "case-9").has_value());
}

TEST_CASE("the open-case table is bounded: the least recently active case is evicted",
          "[monitor]") {
  monitor_options o;
  o.max_open_instances = 2;
  performance_monitor m(o);
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "c1", "a", step_status::completed, 0, 0, 10));
  m.record(make_result("w", "c2", "a", step_status::completed, 0, 0, 10));
  m.record(make_result("w", "c1", "b", step_status::pending, 20, 20, -1));   // c1 active again
  m.record(make_result("w", "c3", "a", step_status::completed, 30, 30, 40));  // evicts c2
  CHECK(m.instance("w", "c1").has_value());
  CHECK_FALSE(m.instance("w", "c2").has_value());
  CHECK(m.instance("w", "c3").has_value());
  const auto in = m.snapshot("w")->instances;
  CHECK(in.total_instances == 3);
  CHECK(in.evicted_instances == 1);
  CHECK(in.open_instances == 2);
  CHECK(m.totals().open_instances == 2);
}

TEST_CASE("completed cases live in a bounded recent cache", "[monitor]") {
  monitor_options o;
  o.max_open_instances = 10;   // small tables use one lock stripe: the bound is exact
  o.recent_instances = 1;
  performance_monitor m(o);
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "c1", "x", step_status::completed, 0, 0, 10));
  m.record(make_result("w", "c2", "x", step_status::completed, 0, 0, 10));
  CHECK_FALSE(m.instance("w", "c1").has_value());
  REQUIRE(m.instance("w", "c2").has_value());
  CHECK(m.instance("w", "c2")->terminal_status == "FAILURE");
  const auto in = m.snapshot("w")->instances;
  CHECK(in.completed_instances == 2);
  REQUIRE(in.terminal_status_counts.size() == 1);
  CHECK(in.terminal_status_counts[0] == terminal_count{"FAILURE", 2});
}

TEST_CASE("a case keeps its most recent events only, totals use all of them", "[monitor]") {
  monitor_options o;
  o.events_per_instance = 2;
  performance_monitor m(o);
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "k", "a", step_status::completed, 0, 0, 10));
  m.record(make_result("w", "k", "b", step_status::completed, 10, 20, 30));
  m.record(make_result("w", "k", "c", step_status::completed, 30, 40, 50));
  const auto inst = m.instance("w", "k");
  REQUIRE(inst);
  CHECK(inst->total_events == 3);
  REQUIRE(inst->events.size() == 2);
  CHECK(inst->events[0].step_id == "b");
  CHECK(inst->events[1].step_id == "c");
  CHECK(m.snapshot("w")->transitions.size() == 2);
}

TEST_CASE("error messages beyond the bound use Space-Saving", "[monitor]") {
  monitor_options o;
  o.max_error_messages = 2;
  performance_monitor m(o);
  m.add_workflow(sample_workflow());
  for (const char* e : {"a", "a", "b", "c"}) {
    step_result r = manual("a", step_status::failed, 0, 0);
    r.error = e;
    m.record(r);
  }
  const auto s = m.step("w", "a");
  REQUIRE(s->errors.size() == 2);
  CHECK(s->errors[0] == error_count{"a", 2});
  CHECK(s->errors[1] == error_count{"c", 2});   // took b's place, over-counted by 1
  CHECK(s->error_overcount == 1);
}

TEST_CASE("imported cases complete explicitly", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "k", "a", step_status::completed, 0, 0, 1'000));
  m.record(make_result("w", "k", "b", step_status::completed, 2'000, 2'000, 4'000));
  CHECK(m.complete_instance("w", "k", "COMPLETED"));
  CHECK_FALSE(m.complete_instance("w", "k", "COMPLETED"));
  CHECK_FALSE(m.complete_instance("w", "missing", "COMPLETED"));
  const auto in = m.snapshot("w")->instances;
  CHECK(in.completed_instances == 1);
  CHECK(in.completion_time.sum == 4'000'000);
  CHECK(in.active_time_sum == 1'000'000);   // b waits for approval
  CHECK(in.terminal_status_counts[0] == terminal_count{"COMPLETED", 1});
}

TEST_CASE("unknown workflows and steps are rejected and counted", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  step_result r = manual("nope", step_status::completed, 0, 0);
  CHECK_FALSE(m.record(r));
  r.workflow_id = "other";
  r.step_id = "a";
  CHECK_FALSE(m.record(r));
  CHECK(m.totals().rejected == 2);
  CHECK(m.totals().total_executions == 0);
  CHECK_FALSE(m.snapshot("other").has_value());
  CHECK_FALSE(m.step("w", "nope").has_value());
  CHECK_FALSE(m.resolve("w", "nope").has_value());
  CHECK(m.resolve("w", "c") == step_ref{0, 2});
}

TEST_CASE("re-adding a workflow is a no-op, different steps under its id are refused",
          "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  CHECK_NOTHROW(m.add_workflow(sample_workflow()));
  workflow_definition other = sample_workflow();
  other.steps.pop_back();
  CHECK_THROWS_AS(m.add_workflow(other), std::invalid_argument);
  CHECK(m.snapshot().size() == 1);
}

TEST_CASE("replaying the same results rebuilds the same snapshot", "[monitor]") {
  std::vector<step_result> history;
  for (int k = 0; k < 50; ++k) {
    const std::string id = "case-" + std::to_string(k);
    const std::int64_t base = k * 100'000;
    history.push_back(make_result("w", id, "a", step_status::completed, base, base + k, base + 3 * k));
    if (k % 7 == 0) {
      step_result f = make_result("w", id, "x", step_status::completed, base + 5'000, base + 5'000, base + 5'000);
      history.push_back(f);
      continue;
    }
    history.push_back(make_result("w", id, "b", step_status::pending, base + 4'000, base + 4'100, -1));
    history.push_back(make_result("w", id, "b", step_status::completed, base + 4'000, base + 4'100, base + 50'000 + k));
    step_result c = make_result("w", id, "c", step_status::failed, base + 60'000, base + 61'000, base + 62'000);
    c.error = k % 2 ? "timeout" : "bad gateway";
    history.push_back(c);
  }
  performance_monitor first, second;
  first.add_workflow(sample_workflow());
  second.add_workflow(sample_workflow());
  for (const auto& r : history) first.record(r);
  for (const auto& r : history) second.record(r);
  CHECK(first.snapshot() == second.snapshot());
  CHECK(first.instance("w", "case-3") == second.instance("w", "case-3"));
}

TEST_CASE("concurrent recorders lose nothing", "[monitor][concurrency]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  constexpr int threads = 4;
  constexpr int cases_per_thread = 2'000;
  std::vector<std::thread> pool;
  std::atomic<int> go{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (go.load() == 0) {
      }
      for (int k = 0; k < cases_per_thread; ++k) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(k);
        m.record(make_result("w", id, "a", step_status::completed, 0, 10, 20));   // exec 10 ms
        m.record(make_result("w", id, "b", step_status::completed, 25, 30, 1'030));  // 5 ms later
        m.record(make_result("w", id, "d", step_status::completed, 1'030, 1'040, 1'040));
        step_result manual_run = make_result("w", "", "c", step_status::failed, 0, 0, 0);
        manual_run.error = "e" + std::to_string(k % 3);
        m.record(manual_run);
      }
    });
  }
  go.store(1);
  for (auto& th : pool) th.join();
  constexpr std::int64_t cases = threads * cases_per_thread;
  const auto snap = m.snapshot("w");
  CHECK(snap->steps[0].total_executions == cases);
  CHECK(snap->steps[0].execution.sum == cases * 10'000);
  CHECK(snap->steps[1].total_executions == cases);
  CHECK(snap->steps[2].count(step_status::failed) == cases);
  std::int64_t error_total = 0;
  for (const auto& e : snap->steps[2].errors) error_total += e.count;
  CHECK(error_total == cases);
  CHECK(snap->instances.total_instances == cases);
  CHECK(snap->instances.completed_instances == cases);
  CHECK(snap->instances.completion_time.sum == cases * 1'040'000);
  REQUIRE(snap->transitions.size() == 2);
  CHECK(snap->transitions[0].time.count == cases);
  CHECK(snap->transitions[0].time.sum == cases * 10'000);      // a -> b: 30 - 20 ms
  CHECK(snap->transitions[1].time.sum == cases * 10'000);      // b -> d: 1040 - 1030 ms
  CHECK(m.totals().total_executions == 4 * cases);
}

TEST_CASE("the version changes with every recorded change and only then", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  workflow_definition other = sample_workflow();
  other.id = "other";
  m.add_workflow(other);
  CHECK(m.version("w") == 0);
  CHECK(m.version("nope") == 0);
  m.record(make_result("w", "k", "a", step_status::completed, 0, 0, 10));
  const auto v1 = m.version("w");
  CHECK(v1 != 0);
  CHECK(m.version("w") == v1);          // reading changes nothing
  (void)m.snapshot("w");
  CHECK(m.version("w") == v1);
  m.record(make_result("other", "k", "a", step_status::completed, 0, 0, 10));
  CHECK(m.version("w") == v1);          // another workflow's data
  CHECK(m.version() == v1 + m.version("other"));
  m.record(make_result("w", "k", "b", step_status::completed, 20, 20, 30));
  const auto v2 = m.version("w");
  CHECK(v2 != v1);
  CHECK(m.complete_instance("w", "k", "DONE"));
  CHECK(m.version("w") != v2);
}

TEST_CASE("a late event of a completed case counts for its step but does not reopen it",
          "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  m.record(make_result("w", "k", "a", step_status::completed, 0, 0, 1'000));
  m.record(make_result("w", "k", "x", step_status::completed, 2'000, 2'000, 2'000));
  m.record(make_result("w", "k", "c", step_status::completed, 5'000, 5'000, 6'000));   // late
  const auto snap = m.snapshot("w");
  CHECK(snap->steps[2].total_executions == 1);
  CHECK(snap->instances.total_instances == 1);
  CHECK(snap->instances.completed_instances == 1);
  CHECK(snap->instances.open_instances == 0);
  CHECK(snap->transitions.size() == 1);   // a -> x only
  CHECK(m.instance("w", "k")->total_events == 2);
}

TEST_CASE("sums saturate instead of overflowing", "[monitor]") {
  performance_monitor m;
  m.add_workflow(sample_workflow());
  step_result r = make_result("w", "", "a", step_status::completed, 0, 0, 0);
  r.execution_environment = "manual";
  r.started_at = timestamp(duration(-4'000'000'000'000'000'000));
  r.completed_at = timestamp(duration(4'000'000'000'000'000'000));   // 8e18 us
  m.record(r);
  m.record(r);
  const auto s = m.step("w", "a");
  CHECK(s->execution.count == 2);
  CHECK(s->execution.sum == std::numeric_limits<std::int64_t>::max());
  CHECK(s->execution.max == 8'000'000'000'000'000'000);
}
