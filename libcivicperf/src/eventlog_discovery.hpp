#pragma once
// Workflow discovery from replayed cases: activities are steps, observed
// directly-follows pairs are edges, the activities cases begin with are the
// start steps and those they end with the end steps.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "civicperf/workflow.hpp"

namespace civicperf::detail {

/// Counts of starts, directly-follows pairs and ends by step index. Memory:
/// O(steps) plus one counter per distinct observed pair.
/// Thread safety: none.
class workflow_discovery {
 public:
  explicit workflow_discovery(std::size_t steps);

  void case_start(std::uint32_t step) noexcept { ++starts_[step]; }
  void follows(std::uint32_t from, std::uint32_t to);
  void case_end(std::uint32_t step) noexcept { ++ends_[step]; }

  [[nodiscard]] std::int64_t pair_count(std::uint32_t from, std::uint32_t to) const noexcept;

  /// The discovered definition over `step_names` (one per step index, in
  /// step order); `end_steps` receives the end activities in step order.
  [[nodiscard]] workflow_definition build(std::string id, std::string name,
                                          std::string description,
                                          const std::vector<std::string>& step_names,
                                          std::vector<std::string>& end_steps) const;

 private:
  std::size_t n_;
  std::vector<std::int64_t> starts_;
  std::vector<std::int64_t> ends_;
  std::vector<std::int64_t> dense_;   // n * n counters while n is small
  std::unordered_map<std::uint64_t, std::int64_t> sparse_;
};

}  // namespace civicperf::detail
