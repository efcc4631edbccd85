#include "civicperf/analyzer.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace civicperf;
using civicperf::test::at_ms;
using civicperf::test::make_step;

namespace {

constexpr double percentile_error = log_histogram::max_relative_error;

void add_ms(value_stats& s, double ms, int times = 1) {
  for (int i = 0; i < times; ++i) s.add(static_cast<std::int64_t>(ms * 1000));
}

step_snapshot step_with(std::string id, int completed, double exec_ms, double queue_ms = 0) {
  step_snapshot s;
  s.workflow_id = "w";
  s.step_id = std::move(id);
  s.status_counts[static_cast<std::size_t>(step_status::completed)] = completed;
  s.total_executions = completed;
  add_ms(s.execution, exec_ms, completed);
  add_ms(s.queue, queue_ms, completed);
  return s;
}

// s -> a -> t1 and s -> b -> c (approval) -> t2: two branches to two terminals.
workflow_definition branching() {
  workflow_definition w;
  w.id = "w";
  w.start_steps = {"s"};
  w.steps = {make_step("s", step_type::action), make_step("a", step_type::action),
             make_step("t1", step_type::terminal, "SUCCESS"), make_step("b", step_type::action),
             make_step("c", step_type::approval), make_step("t2", step_type::terminal, "SUCCESS")};
  w.steps[3].actor = step_actor::citizen;
  w.edges = {{"s", "a", "fast"}, {"a", "t1", ""}, {"s", "b", "slow"}, {"b", "c", ""}, {"c", "t2", ""}};
  return w;
}

transition_snapshot transition(std::string from, std::string to, double ms, int count) {
  transition_snapshot t{std::move(from), std::move(to), {}};
  add_ms(t.time, ms, count);
  return t;
}

workflow_snapshot branching_snapshot() {
  workflow_snapshot w;
  w.workflow_id = "w";
  w.steps = {step_with("s", 20, 100), step_with("a", 8, 9'000, 400), step_with("t1", 8, 0),
             step_with("b", 12, 50, 3'000), step_with("c", 12, 20'000), step_with("t2", 12, 0)};
  w.steps[4].waiting_for_approval = 12;
  w.transitions = {transition("s", "a", 500, 8), transition("a", "t1", 100, 8),
                   transition("a", "a", 10, 2), transition("s", "b", 200, 12),
                   transition("b", "c", 300, 12), transition("c", "t2", 400, 12)};
  w.instances.total_instances = 4;
  w.instances.completed_instances = 3;
  add_ms(w.instances.completion_time, 10'000);
  add_ms(w.instances.completion_time, 20'000);
  add_ms(w.instances.completion_time, 30'000);
  w.instances.active_time_sum = 9'000'000;
  w.instances.waiting_time_sum = 51'000'000;
  w.instances.terminal_status_counts = {{"FAILURE", 1}, {"SUCCESS", 2}};
  return w;
}

}  // namespace

TEST_CASE("step metrics: counts, rates, durations and percentiles", "[analyzer]") {
  step_snapshot s;
  s.step_id = "v";
  s.workflow_id = "w";
  s.status_counts[static_cast<std::size_t>(step_status::completed)] = 8;
  s.status_counts[static_cast<std::size_t>(step_status::failed)] = 2;
  s.total_executions = 10;
  for (int i = 1; i <= 8; ++i) add_ms(s.execution, 1'000.0 * i);   // 1..8 s
  add_ms(s.queue, 20, 4);
  add_ms(s.queue, 30, 4);
  add_ms(s.validation, 2.5, 8);
  s.memory.add(2.0);
  s.memory.add(4.0);
  s.waiting_for_approval = 1;
  s.waiting_for_external_service = 3;
  s.long_queue = 2;
  s.errors = {{"Missing required input: id_number", 2}};
  step_definition def = make_step("v", step_type::action);
  def.name = "Validate Identity";

  const step_metrics_report m = analyze_step(s, def);
  CHECK(m.step_id == "v");
  CHECK(m.workflow_id == "w");
  CHECK(m.step_name == "Validate Identity");
  CHECK(m.total_executions == 10);
  CHECK(m.successful_executions == 8);
  CHECK(m.failed_executions == 2);
  CHECK(m.success_rate == 80.0);
  CHECK(m.average_duration_ms == 4'500.0);
  CHECK(m.min_duration_ms == 1'000.0);
  CHECK(m.max_duration_ms == 8'000.0);
  CHECK(m.p50_duration_ms == Approx(4'000.0).epsilon(percentile_error));   // 4th of 8
  CHECK(m.p90_duration_ms == 8'000.0);   // 8th of 8, clamped to the maximum
  CHECK(m.p99_duration_ms == 8'000.0);
  CHECK(m.average_queue_time_ms == 25.0);
  CHECK(m.average_validation_time_ms == 2.5);
  CHECK(m.average_memory_usage_mb == 3.0);
  CHECK(m.max_memory_usage_mb == 4.0);
  CHECK(m.indicators.approval_bottleneck_percentage == 10.0);
  CHECK(m.indicators.external_service_bottleneck_percentage == 30.0);
  CHECK(m.indicators.long_queue_time_percentage == 20.0);
  REQUIRE(m.common_errors.size() == 1);
  CHECK(m.common_errors[0].count == 2);
  // 20 % fail: the failure rule names the most common error.
  CHECK(m.indicators.suggested_optimizations ==
        std::vector<std::string>{"Reduce failures - 20.0% of executions fail; most common error: "
                                 "Missing required input: id_number"});
}

TEST_CASE("a step without data reports zeros", "[analyzer]") {
  const step_metrics_report m = analyze_step(step_snapshot{}, make_step("q", step_type::action));
  CHECK(m.step_id == "q");
  CHECK(m.total_executions == 0);
  CHECK(m.success_rate == 0.0);
  CHECK(m.p99_duration_ms == 0.0);
  CHECK(m.indicators.suggested_optimizations.empty());
}

TEST_CASE("the spec's three suggestions, verbatim, strictly above their thresholds",
          "[analyzer]") {
  step_snapshot over = step_with("o", 3, 12'000, 6'000);
  over.waiting_for_approval = 2;   // 66.7 %
  CHECK(analyze_step(over, make_step("o", step_type::approval)).indicators.suggested_optimizations ==
        std::vector<std::string>{std::string(suggestion_slow_logic),
                                 std::string(suggestion_more_workers),
                                 std::string(suggestion_approval)});
  step_snapshot at = step_with("e", 2, 10'000, 5'000);
  at.waiting_for_approval = 1;     // exactly 50 %
  CHECK(analyze_step(at, make_step("e", step_type::approval)).indicators.suggested_optimizations.empty());
}

TEST_CASE("our own rules: tail latency, external service, retries, blocked inputs", "[analyzer]") {
  step_snapshot tail = step_with("t", 98, 100);
  tail.status_counts[static_cast<std::size_t>(step_status::completed)] = 100;
  tail.total_executions = 100;
  add_ms(tail.execution, 5'000, 2);
  CHECK(analyze_step(tail, make_step("t", step_type::action)).indicators.suggested_optimizations ==
        std::vector<std::string>{
            "Investigate slow outliers - p99 (5.0 s) is 50 times the median (100 ms)"});

  step_snapshot ext = step_with("x", 10, 2'000);
  ext.waiting_for_external_service = 10;
  ext.retries = 5;
  ext.blocked = 2;
  CHECK(analyze_step(ext, make_step("x", step_type::integration)).indicators.suggested_optimizations ==
        std::vector<std::string>{
            "Consider asynchronous calls or caching - the external service takes 2.0 s on average",
            "Review retry causes - 0.50 retries per execution",
            "Provide required inputs earlier - 20.0% of executions were blocked by dependencies"});
}

TEST_CASE("workflow performance: instances, completion, slowest and most error-prone step",
          "[analyzer]") {
  workflow_snapshot snap = branching_snapshot();
  snap.steps[1].status_counts[static_cast<std::size_t>(step_status::failed)] = 2;
  snap.steps[1].total_executions = 10;   // a: 8 of 10 succeed
  snap.steps[2] = step_snapshot{};   // t1: no data
  snap.steps[2].workflow_id = "w";
  snap.steps[2].step_id = "t1";
  const auto r = analyze_workflow(snap, branching());
  CHECK(r.workflow_id == "w");
  CHECK(r.total_instances == 4);
  CHECK(r.completed_instances == 3);
  CHECK(r.completion_rate == 75.0);
  CHECK(r.average_completion_time_ms == 20'000.0);
  CHECK(r.terminal_status_counts == std::vector<terminal_count>{{"FAILURE", 1}, {"SUCCESS", 2}});
  REQUIRE(r.step_metrics.size() == 5);
  CHECK(r.step_metrics[1].step_id == "a");
  CHECK(r.step_metrics[2].step_id == "b");
  CHECK(r.bottleneck_analysis.total_steps == 6);
  CHECK(r.bottleneck_analysis.steps_with_data == 5);
  CHECK(r.bottleneck_analysis.average_step_success_rate == 96.0);   // (100*4 + 80) / 5
  CHECK(r.bottleneck_analysis.slowest_step == "c");
  CHECK(r.bottleneck_analysis.most_error_prone_step == "a");
  // c (highest impact) first: its two rules; then a's failure rule.
  CHECK(r.optimization_suggestions ==
        std::vector<std::string>{std::string(suggestion_slow_logic), std::string(suggestion_approval),
                                 "Reduce failures - 20.0% of executions fail"});
}

TEST_CASE("bottlenecks: thresholds, min_executions, ordering, recommendations, critical path",
          "[analyzer]") {
  const auto def = branching();
  const auto snap = branching_snapshot();
  const auto r = analyze_bottlenecks(snap, def, 5'000, 10);
  CHECK(r.threshold_ms == 5'000);
  CHECK(r.min_executions == 10);
  // a (9 s mean) has only 8 executions: below min_executions.
  REQUIRE(r.slowest_steps.size() == 1);
  CHECK(r.slowest_steps[0] == slow_step_entry{"c", "Step c", 20'000.0, 12});
  REQUIRE(r.queue_bottlenecks.size() == 1);   // b: 3 s > 5 s / 2
  CHECK(r.queue_bottlenecks[0] == queue_bottleneck_entry{"b", "Step b", 3'000.0, 12});
  REQUIRE(r.approval_bottlenecks.size() == 1);
  CHECK(r.approval_bottlenecks[0] == share_bottleneck_entry{"c", "Step c", 100.0, 12});
  CHECK(r.external_service_bottlenecks.empty());
  CHECK(r.recommendations ==
        std::vector<std::string>{"Step c: " + std::string(suggestion_slow_logic),
                                 "Step c: " + std::string(suggestion_approval)});
  // s(100) +200+ b(50) +300+ c(20000) +400+ t2(0) beats s(100) +500+ a(9000) +100+ t1(0).
  CHECK(r.critical_path_steps == std::vector<std::string>{"s", "b", "c", "t2"});
  CHECK(r.critical_path_time_ms == 21'050.0);

  const auto lower = analyze_bottlenecks(snap, def, 5'000, 5);
  REQUIRE(lower.slowest_steps.size() == 2);
  CHECK(lower.slowest_steps[0].step_id == "c");   // 20 s x 12 before 9 s x 8
  CHECK(lower.slowest_steps[1].step_id == "a");
}

TEST_CASE("critical path follows observed edges only and prefers reaching a terminal",
          "[analyzer]") {
  const auto def = branching();
  workflow_snapshot snap = branching_snapshot();
  // Only the fast branch was ever observed end to end.
  snap.transitions = {transition("s", "a", 500, 8), transition("a", "t1", 100, 8),
                      transition("s", "b", 200, 12)};
  const auto r = analyze_bottlenecks(snap, def, 5'000, 1);
  CHECK(r.critical_path_steps == std::vector<std::string>{"s", "a", "t1"});
  CHECK(r.critical_path_time_ms == 9'700.0);

  workflow_snapshot nothing;
  nothing.workflow_id = "w";
  const auto empty = analyze_bottlenecks(nothing, def, 5'000, 1);
  CHECK(empty.critical_path_steps.empty());
  CHECK(empty.critical_path_time_ms == 0.0);
}

TEST_CASE("timing analysis: transitions, waits, reasons, completion averages", "[analyzer]") {
  const auto r = analyze_timing(branching_snapshot(), branching(), 90);
  CHECK(r.workflow_id == "w");
  CHECK_FALSE(r.instance_id.has_value());
  REQUIRE(r.step_transitions.size() == 6);
  const transition_entry& sa = r.step_transitions[0];
  CHECK(sa.from_step == "s");
  CHECK(sa.to_step == "a");
  CHECK(sa.count == 8);
  CHECK(sa.average_transition_time_ms == 500.0);
  CHECK(sa.min_transition_time_ms == 500.0);
  CHECK(sa.max_transition_time_ms == 500.0);
  CHECK(sa.p90_transition_time_ms == 500.0);
  CHECK(sa.citizen_wait_time_ms == 500.0);
  CHECK_FALSE(sa.rework);
  CHECK(r.step_transitions[2].rework);                        // a -> a
  CHECK(r.step_transitions[3].citizen_wait_time_ms == 0.0);   // into b, the citizen's own step
  CHECK(r.rework_transitions == 2);

  REQUIRE(r.bottleneck_transitions.size() == 5);   // all but a -> a (10 ms)
  const auto rework = analyze_timing(branching_snapshot(), branching(), 5);
  REQUIRE(rework.bottleneck_transitions.size() == 6);
  CHECK(rework.bottleneck_transitions.back().transition == "a -> a");   // 10 ms x 2: least total
  CHECK(rework.bottleneck_transitions.back().reason == "Rework: Step a was repeated");
  CHECK(rework.bottleneck_transitions.back().suggestion ==
        "Reduce failures and invalid inputs at Step a so cases do not repeat it");
  const auto& top = r.bottleneck_transitions[0];
  CHECK(top.transition == "c -> t2");
  CHECK(top.total_wait_time_ms == 4'800.0);
  CHECK(top.reason == "Manual approval process");
  CHECK(top.suggestion == "Consider automated approval for low-risk cases");
  CHECK(r.bottleneck_transitions[1].transition == "s -> a");
  CHECK(r.bottleneck_transitions[1].reason == "Queue backlog before Step a");   // 400 >= 500 / 2
  CHECK(r.bottleneck_transitions[1].suggestion == "Consider adding more execution workers for Step a");
  CHECK(r.bottleneck_transitions[2].transition == "b -> c");
  CHECK(r.bottleneck_transitions[2].reason == "Manual approval process");
  CHECK(r.bottleneck_transitions[3].transition == "s -> b");
  CHECK(r.bottleneck_transitions[3].reason == "Queue backlog before Step b");
  CHECK(r.bottleneck_transitions[4].transition == "a -> t1");
  CHECK(r.bottleneck_transitions[4].reason == "Hand-off delay between steps");
  CHECK(r.bottleneck_transitions[4].suggestion ==
        "Consider automating the hand-off from Step a to Step t1 or notifying the next actor immediately");

  CHECK(r.completed_instances == 3);
  CHECK(r.total_average_completion_time_ms == 20'000.0);
  CHECK(r.citizen_active_time_ms == 3'000.0);
  CHECK(r.citizen_waiting_time_ms == 17'000.0);
}

TEST_CASE("timing analysis of one case from its events", "[analyzer]") {
  instance_snapshot inst;
  inst.workflow_id = "w";
  inst.instance_id = "case-7";
  inst.completed = true;
  inst.terminal_status = "SUCCESS";
  inst.total_events = 4;
  inst.first_at = at_ms(0);
  inst.last_at = at_ms(21'050);
  inst.active_time = std::chrono::milliseconds(150);
  const auto ev = [](std::string step, std::int64_t s, std::int64_t c) {
    instance_event e;
    e.step_id = std::move(step);
    e.status = step_status::completed;
    e.started_at = at_ms(s);
    e.completed_at = at_ms(c);
    return e;
  };
  inst.events = {ev("s", 0, 100), ev("b", 300, 350), ev("c", 650, 20'650), ev("t2", 21'050, 21'050)};
  const auto r = analyze_instance_timing(inst, branching(), 350);
  CHECK(r.instance_id == "case-7");
  REQUIRE(r.step_transitions.size() == 3);
  CHECK(r.step_transitions[0].average_transition_time_ms == 200.0);
  CHECK(r.step_transitions[1].average_transition_time_ms == 300.0);
  CHECK(r.step_transitions[2].average_transition_time_ms == 400.0);
  CHECK(r.step_transitions[2].count == 1);
  REQUIRE(r.bottleneck_transitions.size() == 1);
  CHECK(r.bottleneck_transitions[0].transition == "c -> t2");
  CHECK(r.completed_instances == 1);
  CHECK(r.total_average_completion_time_ms == 21'050.0);
  CHECK(r.citizen_active_time_ms == 150.0);
  CHECK(r.citizen_waiting_time_ms == 20'900.0);
}

TEST_CASE("health counts steps with data and every execution", "[analyzer]") {
  monitor_totals t;
  t.total_executions = 1234;
  t.steps_with_data = 7;
  t.open_instances = 3;
  const auto h = analyze_health(t);
  CHECK(h.status == "healthy");
  CHECK(h.service == "performance_monitoring");
  CHECK(h.executor_metrics_count == 7);
  CHECK(h.total_tracked_executions == 1234);
  CHECK(h.open_instances == 3);
}

TEST_CASE("a transition back to an earlier step is rework with its own reason", "[analyzer]") {
  workflow_snapshot snap = branching_snapshot();
  snap.transitions.push_back(transition("b", "s", 60'000, 3));   // cases sent back to the start
  const auto r = analyze_timing(snap, branching(), 5'000);
  REQUIRE(r.step_transitions.size() == 7);
  CHECK(r.step_transitions.back().rework);
  CHECK(r.rework_transitions == 2 + 3);
  REQUIRE(r.bottleneck_transitions.size() == 1);
  CHECK(r.bottleneck_transitions[0].transition == "b -> s");
  CHECK(r.bottleneck_transitions[0].reason == "Rework: cases go back from Step b to Step s");
  CHECK(r.bottleneck_transitions[0].suggestion ==
        "Find out why cases return to Step s and fix the cause upstream");
  // The critical path ignores the back edge.
  CHECK(analyze_bottlenecks(snap, branching(), 5'000, 1).critical_path_steps ==
        std::vector<std::string>{"s", "b", "c", "t2"});
}

TEST_CASE("the critical path of a defined workflow uses the definition's edges only",
          "[analyzer]") {
  workflow_snapshot snap = branching_snapshot();
  // One case jumped from s straight to t2 after an hour: not a way through
  // the process as defined.
  snap.transitions.push_back(transition("s", "t2", 3'600'000, 1));
  const auto r = analyze_bottlenecks(snap, branching(), 5'000, 1);
  CHECK(r.critical_path_steps == std::vector<std::string>{"s", "b", "c", "t2"});
  CHECK(r.critical_path_time_ms == 21'050.0);
}
