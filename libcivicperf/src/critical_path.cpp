#include "critical_path.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace civicperf::detail {

step_indexer::step_indexer(const workflow_definition& def) {
  map_.reserve(def.steps.size());
  for (std::uint32_t i = 0; i < def.steps.size(); ++i) map_.emplace(def.steps[i].id, i);
}

namespace {

struct adjacency {
  std::uint32_t to;
  std::int64_t edge;   // index into the observed edges, -1 for a definition-only edge
};

std::vector<std::vector<adjacency>> union_graph(const workflow_definition& def,
                                                const step_indexer& index,
                                                const std::vector<observed_edge>& edges) {
  std::vector<std::vector<adjacency>> g(def.steps.size());
  for (const auto& e : def.edges) {
    const auto from = index(e.from);
    const auto to = index(e.to);
    if (from && to) g[*from].push_back({*to, -1});
  }
  for (std::size_t i = 0; i < edges.size(); ++i)
    g[edges[i].from].push_back({edges[i].to, static_cast<std::int64_t>(i)});
  return g;
}

}  // namespace

std::vector<bool> back_edges(const workflow_definition& def, const step_indexer& index,
                             const std::vector<observed_edge>& edges) {
  const std::size_t n = def.steps.size();
  std::vector<bool> back(edges.size(), false);
  const auto g = union_graph(def, index, edges);
  enum class colour : std::uint8_t { white, grey, black };
  std::vector<colour> state(n, colour::white);
  std::vector<std::pair<std::uint32_t, std::size_t>> stack;   // node, next adjacency

  // Roots: the start steps in order, then anything not reached from them.
  std::vector<std::uint32_t> roots;
  for (const auto& s : def.start_steps)
    if (auto i = index(s)) roots.push_back(*i);
  for (std::uint32_t i = 0; i < n; ++i) roots.push_back(i);

  for (std::uint32_t root : roots) {
    if (state[root] != colour::white) continue;
    state[root] = colour::grey;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == g[node].size()) {
        state[node] = colour::black;
        stack.pop_back();
        continue;
      }
      const adjacency a = g[node][next++];
      if (state[a.to] == colour::grey) {
        if (a.edge >= 0) back[static_cast<std::size_t>(a.edge)] = true;
      } else if (state[a.to] == colour::white) {
        state[a.to] = colour::grey;
        stack.emplace_back(a.to, 0);
      }
    }
  }
  for (std::size_t i = 0; i < edges.size(); ++i)
    if (edges[i].from == edges[i].to) back[i] = true;
  return back;
}

critical_path find_critical_path(const workflow_definition& def, const step_indexer& index,
                                 const std::vector<double>& step_ms,
                                 const std::vector<bool>& step_has_data,
                                 const std::vector<observed_edge>& edges) {
  const std::size_t n = def.steps.size();
  critical_path out;
  bool any_data = false;
  for (bool d : step_has_data) any_data = any_data || d;
  if (!any_data && edges.empty()) return out;

  const std::vector<bool> back = back_edges(def, index, edges);
  std::vector<std::vector<std::size_t>> outgoing(n);
  std::vector<std::size_t> indegree(n, 0);
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (back[i]) continue;
    outgoing[edges[i].from].push_back(i);
    ++indegree[edges[i].to];
  }

  constexpr double unreachable = -std::numeric_limits<double>::infinity();
  constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  std::vector<double> best(n, unreachable);
  std::vector<std::uint32_t> pred(n, none);
  for (const auto& s : def.start_steps)
    if (auto i = index(s)) best[*i] = step_ms[*i];

  // Kahn's order over the acyclic observed graph; relax edges as nodes pop.
  std::vector<std::uint32_t> ready;
  for (std::uint32_t i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push_back(i);
  for (std::size_t k = 0; k < ready.size(); ++k) {
    const std::uint32_t u = ready[k];
    for (std::size_t ei : outgoing[u]) {
      const observed_edge& e = edges[ei];
      if (best[u] != unreachable) {
        const double candidate = best[u] + e.mean_ms + step_ms[e.to];
        if (candidate > best[e.to]) {
          best[e.to] = candidate;
          pred[e.to] = u;
        }
      }
      if (--indegree[e.to] == 0) ready.push_back(e.to);
    }
  }

  std::vector<bool> has_out(n, false);
  for (const auto& e : def.edges)
    if (auto i = index(e.from)) has_out[*i] = true;
  std::vector<bool> listed_end(n, false);
  for (const auto& s : def.end_steps)
    if (auto i = index(s)) listed_end[*i] = true;
  const auto pick = [&](bool terminals_only) {
    std::uint32_t end = none;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (best[i] == unreachable) continue;
      const bool is_end =
          def.steps[i].type == step_type::terminal || !has_out[i] || listed_end[i];
      if (terminals_only && !is_end) continue;
      if (!terminals_only && !step_has_data[i] && pred[i] == none) continue;
      if (end == none || best[i] > best[end]) end = i;
    }
    return end;
  };
  std::uint32_t end = pick(true);
  // A terminal is reached only if some observed path leads there (or the
  // start itself is a terminal with data).
  if (end != none && pred[end] == none && !step_has_data[end]) end = none;
  if (end == none) end = pick(false);
  if (end == none) return out;

  out.time_ms = best[end];
  for (std::uint32_t v = end; v != none; v = pred[v]) out.steps.push_back(v);
  std::reverse(out.steps.begin(), out.steps.end());
  return out;
}

}  // namespace civicperf::detail
