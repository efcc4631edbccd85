// Recording cost: civicperf's monitor against prometheus-cpp recording the
// same information (three histograms and a status counter).

#include <benchmark/benchmark.h>

#include <array>
#include <memory>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "bench_support.hpp"

namespace {

using namespace civicperf;

// A monitor that already holds many steps: the four example workflows with
// data, plus the benchmark workflow.
performance_monitor& busy_monitor() {
  static performance_monitor* monitor = [] {
    auto* m = new performance_monitor();
    for (const auto& def : example_workflows()) m->add_workflow(def);
    const auto def = bench::linear_workflow();
    m->add_workflow(def);
    for (const auto& wf : example_workflows())
      for (const auto& s : wf.steps) m->record(bench::completed_result(wf.id, s.id, 1'000));
    bench::record_history(*m, def, 100'000);
    return m;
  }();
  return *monitor;
}

// 64 results with execution times spread over four orders of magnitude, so the
// histogram touches different buckets as it would in production.
std::array<step_result, 64> sample_results(const std::string& workflow, const std::string& step) {
  std::array<step_result, 64> rs;
  for (std::size_t i = 0; i < rs.size(); ++i)
    rs[i] = bench::completed_result(workflow, step, 200 + static_cast<std::int64_t>(i * i * i * 7));
  return rs;
}

void BM_monitor_record(benchmark::State& state) {
  performance_monitor& m = busy_monitor();
  const step_ref ref = *m.resolve("bench_wf", "step_07");
  const auto results = sample_results("bench_wf", "step_07");
  std::size_t i = 0;
  for (auto _ : state) m.record(ref, results[i++ & 63]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_monitor_record)->Threads(1)->Threads(2);

// The same through the string-keyed entry point an engine without cached
// step_refs would use.
void BM_monitor_record_by_name(benchmark::State& state) {
  performance_monitor& m = busy_monitor();
  const auto results = sample_results("bench_wf", "step_07");
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(m.record(results[i++ & 63]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_monitor_record_by_name)->Threads(1)->Threads(2);

// Recording into cases: each result also folds a transition into its case.
void BM_monitor_record_case(benchmark::State& state) {
  performance_monitor& m = busy_monitor();
  const auto def = bench::linear_workflow();
  std::vector<step_ref> refs;
  for (const auto& s : def.steps) refs.push_back(*m.resolve(def.id, s.id));
  auto results = sample_results("bench_wf", "step_07");
  for (auto& r : results)
    r.instance_id = "bench-case-" + std::to_string(state.thread_index());
  std::size_t i = 0;
  for (auto _ : state) {
    m.record(refs[i % 24], results[i & 63]);   // never the terminal: the case stays open
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_monitor_record_case)->Threads(1)->Threads(2);

struct prometheus_metrics {
  prometheus::Registry registry;
  prometheus::Histogram* execution = nullptr;
  prometheus::Histogram* queue = nullptr;
  prometheus::Histogram* validation = nullptr;
  prometheus::Counter* completed = nullptr;
  prometheus::Counter* approval = nullptr;
  prometheus::Counter* external = nullptr;
};

prometheus_metrics& prometheus_equivalent() {
  static prometheus_metrics* p = [] {
    auto* m = new prometheus_metrics();
    // Exponential buckets 1 ms .. ~9 h, a typical choice for step durations.
    const auto buckets = prometheus::Histogram::BucketBoundaries{
        0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 32400};
    const prometheus::Labels labels{{"workflow", "bench_wf"}, {"step", "step_07"}};
    auto& h = prometheus::BuildHistogram().Name("step_execution_seconds").Help("x").Register(m->registry);
    auto& q = prometheus::BuildHistogram().Name("step_queue_seconds").Help("x").Register(m->registry);
    auto& v = prometheus::BuildHistogram().Name("step_validation_seconds").Help("x").Register(m->registry);
    auto& c = prometheus::BuildCounter().Name("step_executions_total").Help("x").Register(m->registry);
    auto& a = prometheus::BuildCounter().Name("step_waiting_total").Help("x").Register(m->registry);
    m->execution = &h.Add(labels, buckets);
    m->queue = &q.Add(labels, buckets);
    m->validation = &v.Add(labels, buckets);
    m->completed = &c.Add({{"workflow", "bench_wf"}, {"step", "step_07"}, {"status", "completed"}});
    m->approval = &a.Add({{"workflow", "bench_wf"}, {"step", "step_07"}, {"reason", "approval"}});
    m->external = &a.Add({{"workflow", "bench_wf"}, {"step", "step_07"}, {"reason", "external"}});
    return m;
  }();
  return *p;
}

void BM_prometheus_equivalent(benchmark::State& state) {
  prometheus_metrics& p = prometheus_equivalent();
  const auto results = sample_results("bench_wf", "step_07");
  std::size_t i = 0;
  for (auto _ : state) {
    // What a user would write to record one StepResult with prometheus-cpp.
    const step_result& r = results[i++ & 63];
    const auto exec = r.effective_execution_duration();
    const auto queue = r.effective_queue_time();
    p.completed->Increment();
    if (exec) p.execution->Observe(static_cast<double>(exec->count()) / 1e6);
    if (queue) p.queue->Observe(static_cast<double>(queue->count()) / 1e6);
    if (r.validation_duration) p.validation->Observe(static_cast<double>(r.validation_duration->count()) / 1e6);
    if (r.waiting_for_approval.value_or(false)) p.approval->Increment();
    if (r.waiting_for_external_service.value_or(false)) p.external->Increment();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_prometheus_equivalent)->Threads(1)->Threads(2);

}  // namespace
