#include "eventlog_discovery.hpp"

#include <algorithm>
#include <utility>

namespace civicperf::detail {
namespace {

// Up to this many steps the pair counters are a dense matrix (512 KiB).
constexpr std::size_t dense_limit = 256;

std::uint64_t pair_key(std::uint32_t from, std::uint32_t to) noexcept {
  return (static_cast<std::uint64_t>(from) << 32) | to;
}

}  // namespace

workflow_discovery::workflow_discovery(std::size_t steps)
    : n_(steps), starts_(steps, 0), ends_(steps, 0) {
  if (steps <= dense_limit) dense_.assign(steps * steps, 0);
}

void workflow_discovery::follows(std::uint32_t from, std::uint32_t to) {
  if (!dense_.empty()) {
    ++dense_[from * n_ + to];
  } else {
    ++sparse_[pair_key(from, to)];
  }
}

std::int64_t workflow_discovery::pair_count(std::uint32_t from, std::uint32_t to) const noexcept {
  if (from >= n_ || to >= n_) return 0;
  if (!dense_.empty()) return dense_[from * n_ + to];
  const auto it = sparse_.find(pair_key(from, to));
  return it == sparse_.end() ? 0 : it->second;
}

workflow_definition workflow_discovery::build(std::string id, std::string name,
                                              std::string description,
                                              const std::vector<std::string>& step_names,
                                              std::vector<std::string>& end_steps) const {
  workflow_definition def;
  def.id = std::move(id);
  def.name = std::move(name);
  def.description = std::move(description);
  def.discovered = true;
  def.steps.reserve(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    step_definition s;
    s.id = step_names[i];
    s.name = step_names[i];
    s.type = step_type::action;
    def.steps.push_back(std::move(s));
    if (starts_[i] > 0) def.start_steps.push_back(step_names[i]);
  }
  std::vector<std::pair<std::uint64_t, std::int64_t>> pairs;   // key, count
  if (!dense_.empty()) {
    for (std::size_t k = 0; k < dense_.size(); ++k)
      if (dense_[k] > 0)
        pairs.emplace_back(pair_key(static_cast<std::uint32_t>(k / n_),
                                    static_cast<std::uint32_t>(k % n_)),
                           dense_[k]);
  } else {
    for (const auto& [key, count] : sparse_)
      if (count > 0) pairs.emplace_back(key, count);
  }
  // By source step; the most frequent successor first, so that a depth-first
  // search over the edges (the analyzer's rework classification) follows the
  // main flow and finds the rarer returns as back edges.
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    if ((a.first >> 32) != (b.first >> 32)) return (a.first >> 32) < (b.first >> 32);
    if (a.second != b.second) return a.second > b.second;
    return a.first < b.first;
  });
  def.edges.reserve(pairs.size());
  for (const auto& [key, count] : pairs)
    def.edges.push_back(edge_definition{step_names[key >> 32], step_names[key & 0xFFFFFFFFu], {}});
  end_steps.clear();
  for (std::size_t i = 0; i < n_; ++i)
    if (ends_[i] > 0) end_steps.push_back(step_names[i]);
  def.end_steps = end_steps;   // the critical path may end where cases ended
  return def;
}

}  // namespace civicperf::detail
