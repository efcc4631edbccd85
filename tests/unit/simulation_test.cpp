#include "civicperf/simulation.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "civicperf/analyzer.hpp"
#include "civicperf/executor.hpp"

#include "test_support.hpp"

using namespace civicperf;

namespace {

constexpr const char* citizen = "citizen_registration_v1";

const workflow_definition& example(std::string_view id) {
  for (const auto& def : example_workflows())
    if (def.id == id) return def;
  throw std::logic_error("no such example workflow");
}

// The four example workflows in a registry and a monitor, with their handlers.
struct world {
  world() {
    registry.add_workflows(example_workflows());
    register_example_handlers(registry);
    for (const auto& def : example_workflows()) monitor.add_workflow(def);
  }
  step_registry registry;
  performance_monitor monitor;
};

simulation_options citizens(std::size_t cases, std::uint64_t seed = 7) {
  simulation_options o;
  o.cases = cases;
  o.workflows = {citizen};
  o.seed = seed;
  return o;
}

std::int64_t total_executions(const workflow_snapshot& snap) {
  std::int64_t n = 0;
  for (const auto& s : snap.steps) n += s.total_executions;
  return n;
}

bool is_edge(const workflow_definition& def, const std::string& from, const std::string& to) {
  return std::any_of(def.edges.begin(), def.edges.end(),
                     [&](const edge_definition& e) { return e.from == from && e.to == to; });
}

}  // namespace

TEST_CASE("same seed, same history", "[simulation]") {
  simulation_options o;
  o.cases = 200;
  o.seed = 42;
  world a;
  world b;
  const auto sa = run_simulation(a.registry, a.monitor, o);
  const auto sb = run_simulation(b.registry, b.monitor, o);
  CHECK(sa.cases == sb.cases);
  CHECK(sa.completed_cases == sb.completed_cases);
  CHECK(sa.abandoned_cases == sb.abandoned_cases);
  CHECK(sa.executions == sb.executions);
  CHECK(sa.last_event == sb.last_event);
  const auto snaps_a = a.monitor.snapshot();
  const auto snaps_b = b.monitor.snapshot();
  REQUIRE(snaps_a.size() == 4);
  CHECK(snaps_a == snaps_b);
  for (const auto& s : snaps_a) CHECK(s.instances.total_instances == 50);   // round-robin

  // Another seed, another history.
  world c;
  o.seed = 43;
  run_simulation(c.registry, c.monitor, o);
  CHECK_FALSE(c.monitor.snapshot() == snaps_a);
}

TEST_CASE("300 citizen registrations: consistent, and the reports name the bottlenecks",
          "[simulation]") {
  world w;
  std::vector<std::pair<std::size_t, std::size_t>> progress;
  simulation_options o = citizens(300);
  o.progress = [&](std::size_t done, std::size_t total) { progress.emplace_back(done, total); };
  o.progress_every = 120;
  const simulation_summary sum = run_simulation(w.registry, w.monitor, o);
  const workflow_definition& def = example(citizen);
  const workflow_snapshot snap = *w.monitor.snapshot(citizen);

  CHECK(sum.cases == 300);
  CHECK(sum.completed_cases + sum.abandoned_cases == 300);
  CHECK(sum.first_arrival == o.start);
  CHECK(sum.last_event > sum.first_arrival);
  // Every 120 cases, and at the end.
  CHECK(progress == std::vector<std::pair<std::size_t, std::size_t>>{{120, 300}, {240, 300},
                                                                      {300, 300}});

  SECTION("every result was recorded, for steps of the definition") {
    CHECK(w.monitor.totals().rejected == 0);
    CHECK(w.monitor.totals().total_executions == static_cast<std::int64_t>(sum.executions));
    CHECK(total_executions(snap) == static_cast<std::int64_t>(sum.executions));
    for (const auto& other : w.monitor.snapshot())
      if (other.workflow_id != citizen) CHECK(total_executions(other) == 0);
  }

  SECTION("cases: completed + abandoned (still open in the monitor) = all") {
    CHECK(snap.instances.total_instances == 300);
    CHECK(snap.instances.completed_instances == static_cast<std::int64_t>(sum.completed_cases));
    CHECK(snap.instances.open_instances == static_cast<std::int64_t>(sum.abandoned_cases));
    CHECK(snap.instances.completed_instances + snap.instances.open_instances ==
          snap.instances.total_instances);
    std::int64_t by_status = 0;
    for (const auto& t : snap.instances.terminal_status_counts) by_status += t.count;
    CHECK(by_status == snap.instances.completed_instances);
    const auto first = w.monitor.instance(citizen, "sim-000001");
    REQUIRE(first);
    REQUIRE_FALSE(first->events.empty());
    CHECK(first->events.front().step_id == "validate_identity");
  }

  SECTION("transitions follow the definition's edges, or repeat a step (rework)") {
    REQUIRE_FALSE(snap.transitions.empty());
    for (const auto& t : snap.transitions) {
      INFO(t.from_step << " -> " << t.to_step);
      CHECK((t.from_step == t.to_step || is_edge(def, t.from_step, t.to_step)));
    }
  }

  SECTION("approvals wait hours and are all decided; the blockchain is retried") {
    const step_snapshot& approval = *snap.find_step("adult_approval");
    REQUIRE(approval.total_executions > 0);
    CHECK(approval.count(step_status::pending) == 0);
    CHECK(approval.waiting_for_approval == approval.total_executions);
    // Decided hours later: the execution covers the whole wait.
    CHECK(approval.execution.mean() >
          static_cast<double>(std::chrono::duration_cast<duration>(std::chrono::hours(1)).count()));

    const step_snapshot& chain = *snap.find_step("blockchain_record");
    REQUIRE(chain.total_executions > 0);
    CHECK(chain.waiting_for_external_service == chain.total_executions);
    CHECK(chain.retries > 0);
    for (const auto& e : chain.errors) CHECK(e.message == "blockchain_service timeout");

    // A busy clerk step: cases queue for create_account.
    CHECK(snap.find_step("create_account")->queue.max > 0);
  }

  SECTION("bottleneck report") {
    const bottleneck_report report = analyze_bottlenecks(snap, def, 5000, 10);
    REQUIRE_FALSE(report.slowest_steps.empty());
    CHECK(report.slowest_steps.front().step_id == "adult_approval");
    CHECK(std::any_of(report.external_service_bottlenecks.begin(),
                      report.external_service_bottlenecks.end(),
                      [](const auto& e) { return e.step_id == "blockchain_record"; }));
    CHECK(std::any_of(report.approval_bottlenecks.begin(), report.approval_bottlenecks.end(),
                      [](const auto& e) { return e.step_id == "adult_approval"; }));
  }
}

TEST_CASE("the caller's handlers take precedence over the example ones", "[simulation]") {
  world w;
  w.registry.set_handler(citizen, "validate_identity", [](const step_context&) {
    return value::make_object({{"identity_verified", false}});
  });
  const auto sum = run_simulation(w.registry, w.monitor, citizens(60));
  const auto snap = *w.monitor.snapshot(citizen);
  REQUIRE(sum.completed_cases > 0);
  CHECK(snap.find_step("identity_failed")->total_executions ==
        static_cast<std::int64_t>(sum.completed_cases));
  CHECK(snap.find_step("check_duplicates")->total_executions == 0);
  CHECK(snap.instances.terminal_status_counts ==
        std::vector<terminal_count>{{"FAILURE", static_cast<std::int64_t>(sum.completed_cases)}});
}

TEST_CASE("a workflow without example handlers, with a custom validation rule",
          "[simulation]") {
  workflow_definition def;
  def.id = "custom_wf";
  def.name = "Custom";
  def.start_steps = {"apply"};
  step_definition apply = test::make_step("apply", step_type::action);
  apply.required_inputs = {"applicant"};
  validation_rule rule;
  rule.rule = "known_applicant";
  rule.fields = {"applicant"};
  apply.validations = {rule};
  def.steps = {apply, test::make_step("route", step_type::conditional),
               test::make_step("yes", step_type::terminal, "SUCCESS"),
               test::make_step("no", step_type::terminal, "REJECTED")};
  def.edges = {{"apply", "route", ""}, {"route", "yes", "ok"}, {"route", "no", "not ok"}};

  step_registry registry;
  int rule_calls = 0;
  registry.add_rule("known_applicant", [&](const validation_rule&, const value& inputs) {
    ++rule_calls;
    return is_blank(inputs.find("applicant")) ? std::vector<std::string>{"unknown applicant"}
                                              : std::vector<std::string>{};
  });
  registry.add_workflow(def);
  performance_monitor monitor;
  monitor.add_workflow(def);

  simulation_options o;
  o.cases = 100;
  o.workflows = {"custom_wf"};
  const auto sum = run_simulation(registry, monitor, o);
  // The caller's rule ran (the simulation's own registry cannot know it).
  CHECK(rule_calls == 100);
  CHECK(sum.completed_cases == 100);
  const auto snap = *monitor.snapshot("custom_wf");
  CHECK(snap.find_step("apply")->count(step_status::failed) == 0);
  // No handler sets `ok`: the route is open and both branches are taken.
  CHECK(snap.find_step("yes")->total_executions > 0);
  CHECK(snap.find_step("no")->total_executions > 0);
  CHECK(snap.find_step("yes")->total_executions + snap.find_step("no")->total_executions == 100);
}

TEST_CASE("simulation arguments", "[simulation]") {
  world w;
  SECTION("unknown workflow") {
    simulation_options o;
    o.workflows = {"no_such_workflow"};
    CHECK_THROWS_AS(run_simulation(w.registry, w.monitor, o), std::invalid_argument);
  }
  SECTION("a workflow the monitor does not know") {
    performance_monitor empty;
    CHECK_THROWS_AS(run_simulation(w.registry, empty, citizens(10)), std::invalid_argument);
  }
  SECTION("no cases") {
    const auto sum = run_simulation(w.registry, w.monitor, citizens(0));
    CHECK(sum.cases == 0);
    CHECK(sum.executions == 0);
    CHECK(w.monitor.totals().total_executions == 0);
  }
}
