#pragma once
/// \file
/// A discrete-event simulation of citizens' cases through the example
/// workflows on a simulated clock: queues build up at busy steps, approvals
/// take hours, external services are slow and sometimes fail and are retried.
/// It runs the real executor and monitor, so every number it leaves behind is
/// measured, not invented. Used by `civicperf-server --simulate` and the
/// benchmarks.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "civicperf/monitor.hpp"
#include "civicperf/registry.hpp"
#include "civicperf/time.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

struct simulation_options {
  /// Cases to run, spread over `workflows` (round-robin by arrival).
  std::size_t cases = 500;
  /// The workflows to simulate; empty: the four example workflows.
  std::vector<std::string> workflows;
  /// Same seed, same history: the simulation is deterministic.
  std::uint64_t seed = 1;
  /// Simulated time of the first arrival.
  timestamp start = timestamp(std::chrono::seconds(1'767'225'600));   // 2026-01-01T00:00:00Z
  /// Mean time between two case arrivals (exponentially distributed).
  duration mean_arrival_interval = std::chrono::minutes(6);
  /// Called every `progress_every` finished cases with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
  std::size_t progress_every = 1000;
};

struct simulation_summary {
  std::size_t cases = 0;
  std::size_t completed_cases = 0;    ///< reached a terminal step
  std::size_t abandoned_cases = 0;    ///< gave up after repeated failures
  std::size_t executions = 0;         ///< results recorded
  timestamp first_arrival{};
  timestamp last_event{};
};

/// Runs the simulation, recording into `monitor`. Every workflow simulated
/// must be known to `registry` (definitions; handlers are taken from the
/// registry when set, else the example handlers) and to `monitor`. Throws
/// std::invalid_argument for an unknown workflow.
simulation_summary run_simulation(const step_registry& registry, performance_monitor& monitor,
                                  const simulation_options& options = {});

}  // namespace civicperf
