// Memory: peak resident set size after 10 million executions over 100 000
// cases that are all open at once. Run alone (--benchmark_filter=BM_memory)
// so nothing else inflates the figure.

#include <benchmark/benchmark.h>

#include "bench_support.hpp"

namespace {

using namespace civicperf;

void BM_memory_10M_executions(benchmark::State& state) {
  for (auto _ : state) {
    const double before = bench::rss_mb();
    performance_monitor monitor;
    const auto def = bench::linear_workflow();
    monitor.add_workflow(def);
    bench::record_history(monitor, def, 10'000'000);
    state.counters["rss_before_mb"] = before;
    state.counters["rss_mb"] = bench::rss_mb();
    state.counters["peak_rss_mb"] = bench::peak_rss_mb();
    state.counters["open_cases"] = static_cast<double>(monitor.totals().open_instances);
    state.counters["executions"] = static_cast<double>(monitor.totals().total_executions);
  }
}
BENCHMARK(BM_memory_10M_executions)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
