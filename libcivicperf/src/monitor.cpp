#include "civicperf/monitor.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "instance_table.hpp"
#include "monitor_aggregates.hpp"
#include "saturating.hpp"
#include "spinlock.hpp"

namespace civicperf {
namespace detail {

void step_aggregate::add_error(std::string_view message, std::size_t capacity) noexcept {
  for (auto& e : errors) {
    if (e.message == message) {
      ++e.count;
      return;
    }
  }
  try {
    if (errors.size() < capacity) {
      errors.push_back(error_count{std::string(message), 1});
      return;
    }
    if (errors.empty()) return;
    auto rarest = std::min_element(errors.begin(), errors.end(),
                                   [](const auto& a, const auto& b) { return a.count < b.count; });
    error_overcount = std::max(error_overcount, rarest->count);
    rarest->message.assign(message);
    ++rarest->count;
  } catch (...) {   // out of memory: the execution is counted, its message is not
  }
}

void workflow_aggregate::count_terminal(std::string_view status) {
  for (auto& t : terminal_counts) {
    if (t.terminal_status == status) {
      ++t.count;
      return;
    }
  }
  terminal_counts.push_back(terminal_count{std::string(status), 1});
}

}  // namespace detail

namespace {

using detail::no_time;

struct transparent_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using string_map = std::unordered_map<std::string, V, transparent_hash, std::equal_to<>>;

struct step_info {
  std::string id;
  step_type type = step_type::action;
  std::string terminal_status;
};

struct workflow_info {
  std::uint32_t index = 0;
  std::string id;
  std::vector<step_info> steps;
  string_map<std::uint32_t> step_index;
};

// Immutable once published; replaced (copy-on-write) when a workflow is added,
// so recorders read it with one acquire load and no lock.
struct registry_view {
  std::vector<const workflow_info*> workflows;
  string_map<std::uint32_t> by_id;
};

std::int64_t us(timestamp t) noexcept { return t.time_since_epoch().count(); }

std::uint64_t case_hash(std::uint32_t workflow, std::string_view id) noexcept {
  const std::uint64_t h = std::hash<std::string_view>{}(id);
  return h ^ ((workflow + 1) * 0x9E3779B97F4A7C15ull);
}

std::size_t default_shards() {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  return std::bit_ceil(std::max<std::size_t>(4, 2 * hw));
}

std::size_t stripe_count(std::size_t max_open) {
  // Small tables stay in one stripe so eviction order is exactly LRU.
  return std::clamp<std::size_t>(std::bit_floor(std::max<std::size_t>(max_open / 1024, 1)), 1, 64);
}

std::uint32_t thread_ticket() noexcept {
  static std::atomic<std::uint32_t> next{0};
  thread_local const std::uint32_t ticket = next.fetch_add(1, std::memory_order_relaxed);
  return ticket;
}

}  // namespace

struct alignas(64) recording_shard {
  mutable detail::spinlock lock;
  std::vector<std::unique_ptr<detail::workflow_aggregate>> workflows;   // by workflow index
};

struct performance_monitor::impl {
  explicit impl(monitor_options o)
      : options(o),
        shard_count(o.shards ? std::bit_ceil(o.shards) : default_shards()),
        shards(shard_count),
        stripe_total(stripe_count(o.max_open_instances)) {
    // Split each bound exactly, so the stripes together hold what was asked.
    const auto part = [&](std::size_t total, std::size_t i) {
      return total / stripe_total + (i < total % stripe_total ? 1 : 0);
    };
    stripes.reserve(stripe_total);
    for (std::size_t i = 0; i < stripe_total; ++i)
      stripes.push_back(std::make_unique<detail::instance_stripe>(
          part(o.max_open_instances, i), part(o.recent_instances, i), o.events_per_instance));
    view.store(&views.emplace_back(), std::memory_order_release);
  }

  monitor_options options;
  std::size_t shard_count;
  std::vector<recording_shard> shards;
  std::size_t stripe_total;
  std::vector<std::unique_ptr<detail::instance_stripe>> stripes;

  std::mutex registration;                 // writers of the registry view only
  std::deque<workflow_info> infos;         // stable addresses
  std::deque<registry_view> views;         // every published view lives until destruction
  std::atomic<const registry_view*> view{nullptr};
  std::atomic<std::int64_t> rejected{0};

  recording_shard& my_shard() noexcept { return shards[thread_ticket() & (shard_count - 1)]; }
  detail::instance_stripe& stripe_for(std::uint64_t hash) noexcept {
    return *stripes[(hash >> 40) % stripe_total];
  }

  static detail::workflow_aggregate& workflow_in(recording_shard& s, const workflow_info& wf) {
    if (s.workflows.size() <= wf.index) s.workflows.resize(wf.index + 1);
    auto& w = s.workflows[wf.index];
    if (!w) w = std::make_unique<detail::workflow_aggregate>(wf.steps.size());
    return *w;
  }

  void apply(const workflow_info& wf, std::uint32_t step, const step_result& r,
             const std::optional<duration>& exec, const std::optional<duration>& queue,
             std::uint8_t flags, const detail::fold_result& f) noexcept;
  void record(const workflow_info& wf, std::uint32_t step, const step_result& r) noexcept;
  template <class Visit>
  void for_each_aggregate(const workflow_info& wf, Visit&& visit) const;
};

void performance_monitor::impl::apply(const workflow_info& wf, std::uint32_t step,
                                      const step_result& r, const std::optional<duration>& exec,
                                      const std::optional<duration>& queue, std::uint8_t flags,
                                      const detail::fold_result& f) noexcept {
  recording_shard& s = my_shard();
  std::lock_guard guard(s.lock);
  try {
    detail::workflow_aggregate& w = workflow_in(s, wf);
    ++w.version;
    auto& slot = w.steps[step];
    if (!slot) slot = std::make_unique<detail::step_aggregate>();
    detail::step_aggregate& a = *slot;

    if (f.superseded) {   // that execution is replaced by this one
      --a.total;
      --a.status[static_cast<std::size_t>(f.superseded_status)];
      a.approval -= (f.superseded_flags & detail::flag_approval) ? 1 : 0;
      a.external -= (f.superseded_flags & detail::flag_external) ? 1 : 0;
      a.long_queue -= (f.superseded_flags & detail::flag_long_queue) ? 1 : 0;
      a.blocked -= (f.superseded_flags & detail::flag_blocked) ? 1 : 0;
    }
    ++a.total;
    ++a.status[static_cast<std::size_t>(r.status)];
    if (r.status == step_status::completed) {
      if (exec) a.execution.add(exec->count());
      if (queue) a.queue.add(queue->count());
      if (r.validation_duration) a.validation.add(r.validation_duration->count());
      if (r.memory_usage_mb) a.memory.add(*r.memory_usage_mb);
    }
    a.approval += (flags & detail::flag_approval) ? 1 : 0;
    a.external += (flags & detail::flag_external) ? 1 : 0;
    a.long_queue += (flags & detail::flag_long_queue) ? 1 : 0;
    a.blocked += (flags & detail::flag_blocked) ? 1 : 0;
    a.retries += r.retry_count;
    if (r.error && !r.error->empty()) a.add_error(*r.error, options.max_error_messages);

    if (f.has_transition) {
      const std::uint32_t key = f.from_step * static_cast<std::uint32_t>(wf.steps.size()) + step;
      auto& t = w.transitions[key];
      if (!t) {
        w.present_transitions.reserve(w.present_transitions.size() + 1);
        t = std::make_unique<detail::transition_aggregate>();
        w.present_transitions.push_back(key);
      }
      t->time.add(f.transition_us);
    }
    if (f.opened) ++w.opened;
    if (f.completed) {
      ++w.completed;
      w.completion.add(f.completion_us);
      detail::add_to(w.active_sum, f.active_us);
      detail::add_to(w.waiting_sum, detail::saturating_sub(f.completion_us, f.active_us));
      w.count_terminal(f.terminal_status);
    }
    if (f.evicted) {
      // The evicted case may belong to a workflow registered after `v` was
      // read; the current view has it (it was recorded before this fold).
      const registry_view& now = *view.load(std::memory_order_acquire);
      detail::workflow_aggregate& other = workflow_in(s, *now.workflows[f.evicted_workflow]);
      ++other.evicted;
      ++other.version;
    }
  } catch (...) {
    // Out of memory while creating an aggregate for the first time: the result
    // is dropped rather than thrown into the caller's workflow.
  }
}

void performance_monitor::impl::record(const workflow_info& wf, std::uint32_t step,
                                       const step_result& r) noexcept {
  const step_info& info = wf.steps[step];
  const auto exec = r.effective_execution_duration();
  const auto queue = r.effective_queue_time();
  const bool approval = r.waiting_for_approval.value_or(info.type == step_type::approval);
  const bool external =
      r.waiting_for_external_service.value_or(info.type == step_type::integration);
  std::uint8_t flags = 0;
  if (approval) flags |= detail::flag_approval;
  if (external) flags |= detail::flag_external;
  if (queue && *queue > options.long_queue_threshold) flags |= detail::flag_long_queue;
  if (!r.blocking_dependencies.empty()) flags |= detail::flag_blocked;

  detail::fold_result f;
  const auto& start = r.started_at ? r.started_at : (r.queued_at ? r.queued_at : r.completed_at);
  if (!r.is_manual() && start) {
    detail::case_event e;
    e.workflow = wf.index;
    e.step = step;
    e.status = r.status;
    e.flags = flags;
    e.waiting = approval || external;
    e.terminal = info.type == step_type::terminal;
    e.start_us = us(*start);
    e.completed_us = r.completed_at ? us(*r.completed_at) : no_time;
    e.end_us = r.completed_at ? e.completed_us : e.start_us;
    e.first_us = r.queued_at ? us(*r.queued_at) : e.start_us;
    e.exec_us = exec ? exec->count() : no_time;
    e.terminal_status = info.terminal_status;
    const std::uint64_t h = case_hash(wf.index, r.instance_id);
    detail::instance_stripe& stripe = stripe_for(h);
    std::lock_guard guard(stripe.lock);
    f = stripe.fold(r.instance_id, h, e);
  }
  // The case fold and the aggregates take their locks one after the other,
  // never nested, so no lock order can deadlock.
  apply(wf, step, r, exec, queue, flags, f);
}

template <class Visit>
void performance_monitor::impl::for_each_aggregate(const workflow_info& wf, Visit&& visit) const {
  for (const auto& s : shards) {
    std::lock_guard guard(s.lock);
    if (s.workflows.size() > wf.index && s.workflows[wf.index]) visit(*s.workflows[wf.index]);
  }
}

performance_monitor::performance_monitor(monitor_options options)
    : impl_(std::make_unique<impl>(options)) {}

performance_monitor::~performance_monitor() = default;

const monitor_options& performance_monitor::options() const noexcept { return impl_->options; }

void performance_monitor::add_workflow(const workflow_definition& def) {
  std::lock_guard guard(impl_->registration);
  const registry_view& current = *impl_->view.load(std::memory_order_acquire);
  if (auto it = current.by_id.find(def.id); it != current.by_id.end()) {
    const workflow_info& known = *current.workflows[it->second];
    bool same = known.steps.size() == def.steps.size();
    for (std::size_t i = 0; same && i < def.steps.size(); ++i)
      same = known.steps[i].id == def.steps[i].id && known.steps[i].type == def.steps[i].type &&
             known.steps[i].terminal_status == def.steps[i].terminal_status;
    if (!same)
      throw std::invalid_argument("workflow '" + def.id +
                                  "' is already registered with different steps");
    return;
  }
  workflow_info& info = impl_->infos.emplace_back();
  info.index = static_cast<std::uint32_t>(current.workflows.size());
  info.id = def.id;
  for (const auto& s : def.steps) {
    info.step_index.emplace(s.id, static_cast<std::uint32_t>(info.steps.size()));
    info.steps.push_back(step_info{s.id, s.type, s.terminal_status});
  }
  registry_view& next = impl_->views.emplace_back(current);
  next.workflows.push_back(&info);
  next.by_id.emplace(def.id, info.index);
  impl_->view.store(&next, std::memory_order_release);
}

bool performance_monitor::has_workflow(std::string_view workflow_id) const noexcept {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  return v.by_id.find(workflow_id) != v.by_id.end();
}

std::optional<step_ref> performance_monitor::resolve(std::string_view workflow_id,
                                                     std::string_view step_id) const noexcept {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const auto w = v.by_id.find(workflow_id);
  if (w == v.by_id.end()) return std::nullopt;
  const workflow_info& wf = *v.workflows[w->second];
  const auto s = wf.step_index.find(step_id);
  if (s == wf.step_index.end()) return std::nullopt;
  return step_ref{wf.index, s->second};
}

bool performance_monitor::record(const step_result& r) noexcept {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const auto w = v.by_id.find(r.workflow_id);
  if (w != v.by_id.end()) {
    const workflow_info& wf = *v.workflows[w->second];
    const auto s = wf.step_index.find(r.step_id);
    if (s != wf.step_index.end()) {
      impl_->record(wf, s->second, r);
      return true;
    }
  }
  impl_->rejected.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void performance_monitor::record(step_ref ref, const step_result& r) noexcept {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  if (ref.workflow >= v.workflows.size() || ref.step >= v.workflows[ref.workflow]->steps.size()) {
    impl_->rejected.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  impl_->record(*v.workflows[ref.workflow], ref.step, r);
}

std::size_t performance_monitor::record_batch(std::span<const step_result> batch) noexcept {
  std::vector<std::size_t> order;
  try {
    order.resize(batch.size());
  } catch (...) {
    order.clear();
  }
  if (order.size() == batch.size()) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto key = [&](std::size_t i) {
      const step_result& r = batch[i];
      const auto& t = r.started_at ? r.started_at : (r.queued_at ? r.queued_at : r.completed_at);
      return t ? us(*t) : std::numeric_limits<std::int64_t>::min();
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  } else {   // no memory to sort: arrival order
    order.clear();
  }
  std::size_t recorded = 0;
  for (std::size_t k = 0; k < batch.size(); ++k)
    recorded += record(batch[order.empty() ? k : order[k]]) ? 1 : 0;
  return recorded;
}

bool performance_monitor::complete_instance(std::string_view workflow_id,
                                            std::string_view instance_id,
                                            std::string_view terminal_status) noexcept {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const auto w = v.by_id.find(workflow_id);
  if (w == v.by_id.end()) return false;
  const workflow_info& wf = *v.workflows[w->second];
  const std::uint64_t h = case_hash(wf.index, instance_id);
  detail::fold_result f;
  {
    detail::instance_stripe& stripe = impl_->stripe_for(h);
    std::lock_guard guard(stripe.lock);
    f = stripe.complete(instance_id, h, wf.index, terminal_status);
  }
  if (!f.completed) return false;
  recording_shard& s = impl_->my_shard();
  std::lock_guard guard(s.lock);
  try {
    detail::workflow_aggregate& agg = impl::workflow_in(s, wf);
    ++agg.version;
    ++agg.completed;
    agg.completion.add(f.completion_us);
    detail::add_to(agg.active_sum, f.active_us);
    detail::add_to(agg.waiting_sum, detail::saturating_sub(f.completion_us, f.active_us));
    agg.count_terminal(terminal_status);
  } catch (...) {
  }
  return true;
}

namespace {

void merge_step(step_snapshot& out, const detail::step_aggregate& a) {
  for (std::size_t i = 0; i < step_status_count; ++i) out.status_counts[i] += a.status[i];
  out.total_executions += a.total;
  out.execution.merge(a.execution);
  out.queue.merge(a.queue);
  out.validation.merge(a.validation);
  out.memory.merge(a.memory);
  out.waiting_for_approval += a.approval;
  out.waiting_for_external_service += a.external;
  out.long_queue += a.long_queue;
  out.blocked += a.blocked;
  out.retries += a.retries;
  // Each shard may over-count by its own bound: the merged bound is their sum.
  out.error_overcount += a.error_overcount;
  for (const auto& e : a.errors) {
    auto it = std::find_if(out.errors.begin(), out.errors.end(),
                           [&](const error_count& x) { return x.message == e.message; });
    if (it == out.errors.end()) out.errors.push_back(e); else it->count += e.count;
  }
}

void sort_errors(step_snapshot& s) {
  std::sort(s.errors.begin(), s.errors.end(), [](const error_count& a, const error_count& b) {
    return a.count != b.count ? a.count > b.count : a.message < b.message;
  });
}

}  // namespace

std::optional<workflow_snapshot> performance_monitor::snapshot(std::string_view workflow_id) const {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const auto w = v.by_id.find(workflow_id);
  if (w == v.by_id.end()) return std::nullopt;
  const workflow_info& wf = *v.workflows[w->second];
  const std::size_t n = wf.steps.size();

  workflow_snapshot snap;
  snap.workflow_id = wf.id;
  snap.steps.resize(n);
  std::map<std::uint32_t, value_stats> transitions;   // ordered by (from, to) index
  std::map<std::string, std::int64_t, std::less<>> terminals;
  std::int64_t opened = 0;
  impl_->for_each_aggregate(wf, [&](const detail::workflow_aggregate& agg) {
    for (std::size_t i = 0; i < n; ++i)
      if (agg.steps[i]) merge_step(snap.steps[i], *agg.steps[i]);
    for (std::uint32_t key : agg.present_transitions) transitions[key].merge(agg.transitions[key]->time);
    opened += agg.opened;
    snap.instances.completed_instances += agg.completed;
    snap.instances.evicted_instances += agg.evicted;
    snap.instances.completion_time.merge(agg.completion);
    detail::add_to(snap.instances.active_time_sum, agg.active_sum);
    detail::add_to(snap.instances.waiting_time_sum, agg.waiting_sum);
    for (const auto& t : agg.terminal_counts) terminals[t.terminal_status] += t.count;
  });
  for (std::size_t i = 0; i < n; ++i) {
    snap.steps[i].workflow_id = wf.id;
    snap.steps[i].step_id = wf.steps[i].id;
    sort_errors(snap.steps[i]);
  }
  snap.transitions.reserve(transitions.size());
  for (auto& [key, stats] : transitions)
    snap.transitions.push_back(
        transition_snapshot{wf.steps[key / n].id, wf.steps[key % n].id, std::move(stats)});
  snap.instances.total_instances = opened;
  snap.instances.open_instances =
      opened - snap.instances.completed_instances - snap.instances.evicted_instances;
  for (auto& [status, count] : terminals)
    snap.instances.terminal_status_counts.push_back(terminal_count{status, count});
  return snap;
}

std::vector<workflow_snapshot> performance_monitor::snapshot() const {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  std::vector<workflow_snapshot> all;
  all.reserve(v.workflows.size());
  for (const workflow_info* wf : v.workflows) all.push_back(*snapshot(wf->id));
  return all;
}

std::optional<step_snapshot> performance_monitor::step(std::string_view workflow_id,
                                                       std::string_view step_id) const {
  const auto ref = resolve(workflow_id, step_id);
  if (!ref) return std::nullopt;
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const workflow_info& wf = *v.workflows[ref->workflow];
  step_snapshot out;
  out.workflow_id = wf.id;
  out.step_id = wf.steps[ref->step].id;
  impl_->for_each_aggregate(wf, [&](const detail::workflow_aggregate& agg) {
    if (agg.steps[ref->step]) merge_step(out, *agg.steps[ref->step]);
  });
  sort_errors(out);
  return out;
}

std::optional<instance_snapshot> performance_monitor::instance(std::string_view workflow_id,
                                                               std::string_view instance_id) const {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const auto w = v.by_id.find(workflow_id);
  if (w == v.by_id.end()) return std::nullopt;
  const workflow_info& wf = *v.workflows[w->second];
  const std::uint64_t h = case_hash(wf.index, instance_id);
  detail::case_copy c;
  {
    detail::instance_stripe& stripe = impl_->stripe_for(h);
    std::lock_guard guard(stripe.lock);
    if (!stripe.copy(instance_id, h, wf.index, c)) return std::nullopt;
  }
  instance_snapshot out;
  out.workflow_id = wf.id;
  out.instance_id = std::string(instance_id);
  out.completed = c.completed;
  out.terminal_status = std::move(c.terminal_status);
  out.total_events = c.total_events;
  out.first_at = timestamp(duration(c.first_us));
  out.last_at = timestamp(duration(c.last_us));
  out.active_time = duration(c.active_us);
  for (const auto& e : c.events) {
    instance_event ev;
    ev.step_id = wf.steps[e.step].id;
    ev.status = e.status;
    ev.waiting = e.waiting;
    ev.started_at = timestamp(duration(e.started_us));
    if (e.completed_us != no_time) ev.completed_at = timestamp(duration(e.completed_us));
    if (e.exec_us != no_time) ev.execution_duration = duration(e.exec_us);
    out.events.push_back(std::move(ev));
  }
  return out;
}

std::uint64_t performance_monitor::version(std::string_view workflow_id) const noexcept {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  const auto w = v.by_id.find(workflow_id);
  if (w == v.by_id.end()) return 0;
  std::uint64_t sum = 0;
  impl_->for_each_aggregate(*v.workflows[w->second],
                            [&](const detail::workflow_aggregate& agg) { sum += agg.version; });
  return sum;
}

std::uint64_t performance_monitor::version() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& s : impl_->shards) {
    std::lock_guard guard(s.lock);
    for (const auto& w : s.workflows)
      if (w) sum += w->version;
  }
  return sum;
}

monitor_totals performance_monitor::totals() const {
  const registry_view& v = *impl_->view.load(std::memory_order_acquire);
  monitor_totals t;
  for (const workflow_info* wf : v.workflows) {
    std::vector<std::int64_t> per_step(wf->steps.size(), 0);
    impl_->for_each_aggregate(*wf, [&](const detail::workflow_aggregate& agg) {
      for (std::size_t i = 0; i < per_step.size(); ++i)
        if (agg.steps[i]) {
          per_step[i] += agg.steps[i]->total;
          t.histogram_values_lost += static_cast<std::int64_t>(
              agg.steps[i]->execution.histogram.lost() + agg.steps[i]->queue.histogram.lost() +
              agg.steps[i]->validation.histogram.lost());
        }
      t.open_instances += agg.opened - agg.completed - agg.evicted;
    });
    for (auto n : per_step) {
      t.total_executions += n;
      t.steps_with_data += n > 0 ? 1 : 0;
    }
  }
  t.rejected = impl_->rejected.load(std::memory_order_relaxed);
  return t;
}

}  // namespace civicperf
