#include "bench_support.hpp"

#include <fstream>
#include <string>

#include <fmt/format.h>

namespace civicperf::bench {

workflow_definition linear_workflow(const std::string& id) {
  workflow_definition w;
  w.id = id;
  w.name = "Benchmark workflow";
  for (int i = 0; i < bench_steps - 1; ++i) {
    step_definition s;
    s.id = fmt::format("step_{:02}", i);
    s.name = fmt::format("Step {}", i);
    s.type = i == 5 ? step_type::approval : i == 12 ? step_type::integration : step_type::action;
    w.steps.push_back(s);
    if (i > 0) w.edges.push_back({w.steps[i - 1].id, s.id, ""});
  }
  step_definition done;
  done.id = "done";
  done.name = "Done";
  done.type = step_type::terminal;
  done.terminal_status = "SUCCESS";
  w.edges.push_back({w.steps.back().id, done.id, ""});
  w.steps.push_back(done);
  w.start_steps = {w.steps.front().id};
  return w;
}

step_result completed_result(const std::string& workflow, const std::string& step,
                             std::int64_t exec_us) {
  step_result r;
  r.workflow_id = workflow;
  r.step_id = step;
  r.status = step_status::completed;
  const timestamp t0{std::chrono::seconds(1'767'225'600)};
  r.queued_at = t0;
  r.started_at = t0 + std::chrono::microseconds(2'500);
  r.completed_at = *r.started_at + std::chrono::microseconds(exec_us);
  r.validation_duration = std::chrono::microseconds(120);
  r.execution_environment = "production";
  return r;
}

void record_history(performance_monitor& monitor, const workflow_definition& def,
                    std::int64_t executions) {
  const std::int64_t cases = std::max<std::int64_t>(executions / 100, 1);
  // Every case gets 100 events: four passes over the 24 non-terminal steps
  // (rework) and then the terminal. Cases advance in lock step, so all are open
  // at once, which is the worst case for memory.
  const timestamp t0{std::chrono::seconds(1'767'225'600)};
  std::vector<std::string> ids(static_cast<std::size_t>(cases));
  for (std::int64_t c = 0; c < cases; ++c) ids[static_cast<std::size_t>(c)] = fmt::format("case-{:07}", c);
  std::vector<step_ref> refs;
  for (const auto& s : def.steps) refs.push_back(*monitor.resolve(def.id, s.id));
  step_result r;
  r.workflow_id = def.id;
  r.status = step_status::completed;
  r.execution_environment = "production";
  std::uint64_t x = 88172645463325252ull;   // xorshift: cheap, deterministic durations
  for (int k = 0; k < 100; ++k) {
    const std::size_t step = k == 99 ? refs.size() - 1 : static_cast<std::size_t>(k % (bench_steps - 1));
    for (std::int64_t c = 0; c < cases; ++c) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const auto base = t0 + std::chrono::seconds(k * 600 + c % 600);
      r.instance_id = ids[static_cast<std::size_t>(c)];
      r.queued_at = base;
      r.started_at = base + std::chrono::microseconds(x % 5'000'000);
      r.completed_at = *r.started_at + std::chrono::microseconds(1'000 + x % 2'000'000);
      r.validation_duration = std::chrono::microseconds(x % 500);
      monitor.record(refs[step], r);
    }
  }
}

namespace {
double status_field_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == field) {
      double kb = 0;
      in >> kb;
      return kb / 1024.0;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}
}  // namespace

double peak_rss_mb() { return status_field_mb("VmHWM:"); }
double rss_mb() { return status_field_mb("VmRSS:"); }

}  // namespace civicperf::bench
