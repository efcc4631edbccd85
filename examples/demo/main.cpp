// performance_demo — the specification's demonstration script, in C++.
//
// "Run the demonstration script to see the performance monitoring in action.
//  This will: load available workflows, simulate step executions, display
//  performance metrics, show bottleneck analysis."
//
// 1. lists the workflows and the steps of citizen_registration_v1;
// 2. executes steps by hand, with valid and invalid inputs, as in the spec's
//    usage examples (validate_identity for John Doe; check_duplicates with
//    "invalid-email"), and validates inputs without executing (dry run);
// 3. simulates a few hundred citizen registrations on a simulated clock;
// 4. prints the metrics and suggestions of some steps and the bottleneck
//    analysis of the workflow.

#include <civicperf/civicperf.hpp>
#include <civicperf/json.hpp>

#include <string>
#include <string_view>

#include <fmt/format.h>

using namespace civicperf;

namespace {

constexpr std::string_view citizen = "citizen_registration_v1";

void heading(std::string_view title) { fmt::print("\n=== {} ===\n", title); }

std::string json(const auto& report) { return to_json_pretty(boost::json::value_from(report)); }

// Executes one step by hand (environment "manual": it counts in the step's
// metrics, not in any case) and prints the spec's execute response.
void execute(step_executor& executor, std::string_view step_id, value inputs) {
  execution_request request;
  request.step_id = std::string(step_id);   // unambiguous: no workflow id needed
  request.inputs = std::move(inputs);
  request.environment = "manual";
  request.executed_by = "admin";
  const execution_outcome out = executor.execute(request);
  boost::json::object response;
  response["step_id"] = request.step_id;
  response["execution_result"] = boost::json::value_from(out.result);
  response["dry_run"] = false;
  fmt::print("POST /steps/execute {}:\n{}\n", step_id,
             to_json_pretty(boost::json::value(std::move(response))));
}

// Validates inputs without executing (a dry run records nothing).
void validate(step_executor& executor, const step_registry& registry, std::string_view step_id,
              const value& inputs) {
  const step_lookup lookup = registry.find_step({}, step_id);
  const validation_result result = executor.validate(*lookup.workflow, *lookup.step, inputs);
  boost::json::object response;
  response["step_id"] = std::string(step_id);
  response["validation_result"] = boost::json::value_from(result);
  response["timestamp"] = format_iso8601(executor.clock().wall_now());
  fmt::print("POST /steps/validate {}:\n{}\n", step_id,
             to_json_pretty(boost::json::value(std::move(response))));
}

void print_metrics(const step_metrics_report& m) {
  fmt::print("{} ({}): {} executions, {} successful ({:.1f}%)\n", m.step_name, m.step_id,
             m.total_executions, m.successful_executions, m.success_rate);
  fmt::print("  duration: mean {:.1f} ms, min {:.1f} ms, max {:.1f} ms, p95 {:.1f} ms\n",
             m.average_duration_ms, m.min_duration_ms, m.max_duration_ms, m.p95_duration_ms);
  fmt::print("  queue: mean {:.1f} ms; validation: mean {:.3f} ms\n", m.average_queue_time_ms,
             m.average_validation_time_ms);
  fmt::print("  waiting for approval {:.1f}%, for an external service {:.1f}%, "
             "long queue {:.1f}%\n",
             m.indicators.approval_bottleneck_percentage,
             m.indicators.external_service_bottleneck_percentage,
             m.indicators.long_queue_time_percentage);
  for (const auto& e : m.common_errors) fmt::print("  error ({}x): {}\n", e.count, e.message);
  for (const auto& s : m.indicators.suggested_optimizations) fmt::print("  suggestion: {}\n", s);
}

}  // namespace

int main() {
  step_registry registry;
  performance_monitor monitor;
  registry.add_workflows(example_workflows());
  for (const auto& def : example_workflows()) monitor.add_workflow(def);
  register_example_handlers(registry);

  heading("Available workflows");
  for (const auto& w : registry.list_workflows())
    fmt::print("{:<26} {:<30} {:>2} steps  {}\n", w.workflow_id, w.name, w.step_count,
               w.description);

  heading(fmt::format("Steps of {}", citizen));
  for (const auto& s : registry.list_steps(citizen))
    fmt::print("{:<24} {:<30} {}\n", s.step_id, s.name, wire_name(s.type));

  heading("Executing steps manually");
  // Manual executions run on the real clock.
  step_executor manual(registry, &monitor);
  execute(manual, "validate_identity",
          value::make_object({{"first_name", "John"},
                              {"last_name", "Doe"},
                              {"id_number", "123456789"},
                              {"id_document", "passport"}}));
  execute(manual, "validate_identity",
          value::make_object({{"first_name", "John"}, {"last_name", "Doe"}}));
  validate(manual, registry, "validate_identity",
           value::make_object({{"first_name", "John"}, {"last_name", "Doe"}}));
  validate(manual, registry, "check_duplicates", value::make_object({{"email", "invalid-email"}}));
  execute(manual, "check_duplicates", value::make_object({{"email", "invalid-email"}}));

  heading("Simulating step executions");
  simulation_options options;
  options.cases = 400;
  options.workflows = {std::string(citizen)};
  const simulation_summary sim = run_simulation(registry, monitor, options);
  fmt::print("{} citizen cases: {} completed, {} abandoned, {} step executions over {:.1f} "
             "simulated days\n",
             sim.cases, sim.completed_cases, sim.abandoned_cases, sim.executions,
             static_cast<double>((sim.last_event - sim.first_arrival).count()) / 86'400e6);

  const workflow_snapshot snap = *monitor.snapshot(citizen);
  const workflow_definition& def = *registry.find_workflow(citizen);
  heading("Performance metrics");
  for (const char* step : {"validate_identity", "check_duplicates", "adult_approval",
                           "create_account", "blockchain_record"}) {
    print_metrics(analyze_step(*snap.find_step(step), *def.find_step(step)));
  }

  heading("Bottleneck analysis (threshold_ms=1000)");
  fmt::print("{}\n", json(analyze_bottlenecks(snap, def, 1000, 10)));

  heading("Health");
  fmt::print("{}\n", json(analyze_health(monitor.totals())));
  return 0;
}
