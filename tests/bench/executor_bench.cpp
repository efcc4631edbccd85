// StepExecutor overhead around a handler that does nothing.

#include <benchmark/benchmark.h>

#include "bench_support.hpp"

namespace {

using namespace civicperf;

void BM_executor_overhead(benchmark::State& state) {
  step_registry registry;
  performance_monitor monitor;
  const auto def = bench::linear_workflow();
  registry.add_workflow(def);
  monitor.add_workflow(def);
  registry.set_handler(def.id, "step_07", [](const step_context&) { return value(); });
  executor_options options;
  options.sample_memory = state.range(0) != 0;
  step_executor executor(registry, &monitor, system_clock_source::instance(), options);
  execution_request request;
  request.workflow_id = def.id;
  request.step_id = "step_07";
  request.instance_id = "case-1";
  for (auto _ : state) benchmark::DoNotOptimize(executor.execute(request));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(options.sample_memory ? "memory sampling on" : "memory sampling off");
}
BENCHMARK(BM_executor_overhead)->Arg(0)->Arg(1);

}  // namespace
