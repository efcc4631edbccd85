#pragma once
// Graph helpers of the analyzer: back-edge classification and the critical
// path over observed transitions. Linear in steps + edges.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "civicperf/workflow.hpp"

namespace civicperf::detail {

/// Step id -> index in the definition, built once per report (the
/// definition's own lookup is a linear scan).
class step_indexer {
 public:
  explicit step_indexer(const workflow_definition& def);
  [[nodiscard]] std::optional<std::uint32_t> operator()(std::string_view id) const noexcept {
    const auto it = map_.find(id);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::unordered_map<std::string_view, std::uint32_t> map_;
};

/// An observed transition between step indices, with its mean time (ms).
struct observed_edge {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  double mean_ms = 0;
};

/// For each edge of `edges`: true when it closes a cycle in a depth-first
/// search from the start steps (definition order), i.e. rework; self loops
/// are always rework.
[[nodiscard]] std::vector<bool> back_edges(const workflow_definition& def,
                                           const step_indexer& index,
                                           const std::vector<observed_edge>& edges);

struct critical_path {
  std::vector<std::uint32_t> steps;   ///< step indices, start first
  double time_ms = 0;
};

/// The path from a start step with the largest expected elapsed time:
/// step weights `step_ms` (mean execution duration; steps without data weigh
/// 0) plus observed edge means, ignoring back edges. A path ending at a
/// terminal step is preferred over one that does not reach any. Empty when
/// nothing was observed.
[[nodiscard]] critical_path find_critical_path(const workflow_definition& def,
                                               const step_indexer& index,
                                               const std::vector<double>& step_ms,
                                               const std::vector<bool>& step_has_data,
                                               const std::vector<observed_edge>& edges);

}  // namespace civicperf::detail
