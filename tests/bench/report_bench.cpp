// Report latency after 1e5, 1e6 and 1e7 recorded executions: it must not grow
// with the number of executions (the analyzer reads aggregates, not history).

#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "bench_support.hpp"

namespace {

using namespace civicperf;

struct history {
  workflow_definition def = bench::linear_workflow();
  performance_monitor monitor;
};

history& history_of(std::int64_t executions) {
  static std::map<std::int64_t, std::unique_ptr<history>> cache;
  auto& h = cache[executions];
  if (!h) {
    h = std::make_unique<history>();
    h->monitor.add_workflow(h->def);
    bench::record_history(h->monitor, h->def, executions);
  }
  return *h;
}

void BM_report_step_metrics(benchmark::State& state) {
  history& h = history_of(state.range(0));
  const step_definition& step = *h.def.find_step("step_07");
  for (auto _ : state) {
    const auto snap = h.monitor.step(h.def.id, "step_07");
    benchmark::DoNotOptimize(analyze_step(*snap, step));
  }
}

void BM_report_workflow_performance(benchmark::State& state) {
  history& h = history_of(state.range(0));
  for (auto _ : state) {
    const auto snap = h.monitor.snapshot(h.def.id);
    benchmark::DoNotOptimize(analyze_workflow(*snap, h.def));
  }
}

void BM_report_bottlenecks(benchmark::State& state) {
  history& h = history_of(state.range(0));
  for (auto _ : state) {
    const auto snap = h.monitor.snapshot(h.def.id);
    benchmark::DoNotOptimize(analyze_bottlenecks(*snap, h.def, 5000, 10));
  }
}

void BM_report_timing_analysis(benchmark::State& state) {
  history& h = history_of(state.range(0));
  for (auto _ : state) {
    const auto snap = h.monitor.snapshot(h.def.id);
    benchmark::DoNotOptimize(analyze_timing(*snap, h.def, 5000));
  }
}

#define CIVICPERF_REPORT_SIZES ->Arg(100'000)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_report_step_metrics) CIVICPERF_REPORT_SIZES;
BENCHMARK(BM_report_workflow_performance) CIVICPERF_REPORT_SIZES;
BENCHMARK(BM_report_bottlenecks) CIVICPERF_REPORT_SIZES;
BENCHMARK(BM_report_timing_analysis) CIVICPERF_REPORT_SIZES;

}  // namespace
