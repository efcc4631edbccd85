// An outside program: records one case through the library and prints the
// resulting bottleneck report as JSON. Exits non-zero if the numbers are wrong.
#include <civicperf/civicperf.hpp>
#include <civicperf/json.hpp>

#include <chrono>
#include <iostream>

int main() {
  using namespace civicperf;
  using std::chrono::milliseconds;
  performance_monitor monitor;
  const auto& defs = example_workflows();
  for (const auto& def : defs) monitor.add_workflow(def);

  const timestamp t0{std::chrono::seconds(1'750'000'000)};
  step_result r;
  r.workflow_id = "citizen_registration_v1";
  r.instance_id = "case-1";
  r.step_id = "validate_identity";
  r.status = step_status::completed;
  r.queued_at = t0;
  r.started_at = t0 + milliseconds(20);
  r.completed_at = t0 + milliseconds(170);
  if (!monitor.record(r)) return 1;

  const auto snap = monitor.snapshot("citizen_registration_v1");
  const workflow_definition* def = nullptr;
  for (const auto& d : defs)
    if (d.id == "citizen_registration_v1") def = &d;
  if (def == nullptr || !snap) return 1;
  const auto report = analyze_step(*snap->find_step("validate_identity"),
                                   *def->find_step("validate_identity"));
  std::cout << to_json_text(boost::json::value_from(report)) << "\n";
  return report.total_executions == 1 && report.average_duration_ms == 150.0 ? 0 : 1;
}
