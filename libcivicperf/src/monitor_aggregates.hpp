#pragma once
// The per-shard aggregates the monitor folds results into. A shard is owned by
// the threads mapped to it; readers merge every shard's copy.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/histogram.hpp"
#include "civicperf/snapshot.hpp"
#include "civicperf/step_result.hpp"

namespace civicperf::detail {

struct step_aggregate {
  std::array<std::int64_t, step_status_count> status{};
  std::int64_t total = 0;
  value_stats execution;
  value_stats queue;
  value_stats validation;
  memory_stats memory;
  std::int64_t approval = 0;
  std::int64_t external = 0;
  std::int64_t long_queue = 0;
  std::int64_t blocked = 0;
  std::int64_t retries = 0;
  std::vector<error_count> errors;   // at most max_error_messages entries
  std::int64_t error_overcount = 0;

  /// Space-Saving: exact while there is room; then the rarest message makes
  /// way and its count carries over (an upper bound for the newcomer).
  void add_error(std::string_view message, std::size_t capacity) noexcept;
};

struct transition_aggregate {
  value_stats time;
};

/// One workflow's aggregates within one shard.
struct workflow_aggregate {
  explicit workflow_aggregate(std::size_t step_count)
      : steps(step_count), transitions(step_count * step_count) {}

  std::vector<std::unique_ptr<step_aggregate>> steps;               // by step index, lazily
  std::vector<std::unique_ptr<transition_aggregate>> transitions;   // from * n + to, lazily
  std::vector<std::uint32_t> present_transitions;                   // indices in use

  std::uint64_t version = 0;   // bumped by every change (performance_monitor::version)
  std::int64_t opened = 0;
  std::int64_t completed = 0;
  std::int64_t evicted = 0;
  value_stats completion;
  std::int64_t active_sum = 0;
  std::int64_t waiting_sum = 0;
  std::vector<terminal_count> terminal_counts;   // few distinct statuses

  void count_terminal(std::string_view status);
};

}  // namespace civicperf::detail
