// The README's embedding snippet, compiled so it never goes stale.
#include <civicperf/civicperf.hpp>
#include <civicperf/json.hpp>   // optional: Boost.JSON conversions of the reports

#include <iostream>

int main() {
  using namespace civicperf;

  // 1. Register a workflow (a JSON definition file, or built in C++).
  step_registry registry;
  performance_monitor monitor;
  for (const auto& def : example_workflows()) {   // or load_workflow_dir("my/workflows")
    registry.add_workflow(def);
    monitor.add_workflow(def);
  }
  registry.set_handler("citizen_registration_v1", "validate_identity",
                       [](const step_context& ctx) {
                         const bool ok = ctx.inputs.find("id_number") != nullptr;
                         return value::make_object({{"identity_verified", ok}});
                       });

  // 2a. Let the executor run and time a step (queue, validation, execution)...
  step_executor executor(registry, &monitor);
  execution_request request;
  request.workflow_id = "citizen_registration_v1";
  request.step_id = "validate_identity";
  request.instance_id = "case-42";   // the citizen's case
  request.inputs = value::make_object({{"first_name", "Ana"},
                                       {"last_name", "Ruiz"},
                                       {"id_number", "123456789"},
                                       {"id_document", "passport"}});
  const step_result result = executor.execute(request).result;

  // 2b. ...or record results your engine measured itself.
  step_result next;
  next.workflow_id = "citizen_registration_v1";
  next.instance_id = "case-42";
  next.step_id = "identity_check";
  next.status = step_status::completed;
  next.started_at = *result.completed_at + std::chrono::seconds(3);
  next.completed_at = *next.started_at + std::chrono::milliseconds(40);
  monitor.record(next);

  // 3. Ask for a report.
  const workflow_definition& def = *registry.find_workflow("citizen_registration_v1");
  const auto snapshot = monitor.snapshot(def.id);
  const timing_report timing = analyze_timing(*snapshot, def, /*threshold_ms=*/1000);
  for (const auto& t : timing.step_transitions)
    std::cout << t.from_step << " -> " << t.to_step << ": "
              << t.average_transition_time_ms << " ms\n";
  std::cout << to_json_text(boost::json::value_from(
                   analyze_bottlenecks(*snapshot, def, 5000, 1)))
            << "\n";
}
