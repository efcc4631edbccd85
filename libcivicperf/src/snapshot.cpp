#include "civicperf/snapshot.hpp"

#include <algorithm>

namespace civicperf {

void memory_stats::add(double mb) noexcept {
  if (count == 0) {
    min = max = mb;
  } else {
    min = std::min(min, mb);
    max = std::max(max, mb);
  }
  ++count;
  sum += mb;
}

void memory_stats::merge(const memory_stats& other) noexcept {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  count += other.count;
  sum += other.sum;
}

const step_snapshot* workflow_snapshot::find_step(std::string_view step_id) const noexcept {
  for (const auto& s : steps)
    if (s.step_id == step_id) return &s;
  return nullptr;
}

}  // namespace civicperf
