#include "civicperf/event_store.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace civicperf {

namespace {

timestamp wall_now() noexcept {
  return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());
}

std::string what_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// memory_store

struct memory_store::impl {
  struct batch {
    std::int64_t id = 0;
    std::int64_t first_seq = 0;
    timestamp appended_at{};
    // Immutable once appended: readers keep a reference while visiting
    // without holding the lock.
    std::shared_ptr<const std::vector<step_result>> events;
  };

  memory_store_options options;
  std::mutex mu;
  bool closed = false;
  std::vector<batch> batches;   // retain_events only
  std::int64_t last_seq = 0;
  std::int64_t batch_count = 0;
  std::vector<workflow_definition> defs;

  void check_open() const {
    if (closed) throw store_error("memory: the event store is closed");
  }
};

memory_store::memory_store(memory_store_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
}

memory_store::~memory_store() = default;

std::vector<append_receipt> memory_store::append_group(
    std::span<const std::span<const step_result>> batches) {
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
  // Everything is built aside first and published at the end: all or nothing.
  std::vector<append_receipt> receipts;
  std::vector<impl::batch> built;
  receipts.reserve(batches.size());
  std::int64_t seq = impl_->last_seq;
  std::int64_t id = impl_->batch_count;
  const timestamp now = wall_now();
  try {
    for (const auto& b : batches) {
      if (b.empty()) {
        receipts.push_back(append_receipt{0, seq + 1, 0});
        continue;
      }
      if (impl_->options.before_event)
        for (std::size_t i = 0; i < b.size(); ++i)
          impl_->options.before_event(seq + 1 + static_cast<std::int64_t>(i), b[i]);
      receipts.push_back(append_receipt{++id, seq + 1, static_cast<std::int64_t>(b.size())});
      if (impl_->options.retain_events)
        built.push_back(impl::batch{id, seq + 1, now,
                                    std::make_shared<const std::vector<step_result>>(b.begin(), b.end())});
      seq += static_cast<std::int64_t>(b.size());
    }
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error(fmt::format("memory: append failed: {}", e.what()));
  }
  for (auto& b : built) impl_->batches.push_back(std::move(b));
  impl_->last_seq = seq;
  impl_->batch_count = id;
  return receipts;
}

read_summary memory_store::read(std::int64_t from_seq, const batch_visitor& visit) {
  read_summary out;
  from_seq = std::max<std::int64_t>(from_seq, 1);
  out.next_seq = from_seq;
  std::size_t index = 0;
  {
    std::lock_guard guard(impl_->mu);
    impl_->check_open();
    const auto& bs = impl_->batches;
    // The first batch that ends after from_seq.
    index = static_cast<std::size_t>(
        std::partition_point(bs.begin(), bs.end(),
                             [&](const impl::batch& b) {
                               return b.first_seq + static_cast<std::int64_t>(b.events->size()) <=
                                      from_seq;
                             }) -
        bs.begin());
    if (!impl_->options.retain_events) out.next_seq = std::max(from_seq, impl_->last_seq + 1);
  }
  for (;; ++index) {
    impl::batch b;
    {
      std::lock_guard guard(impl_->mu);
      impl_->check_open();
      if (index >= impl_->batches.size()) break;
      b = impl_->batches[index];
    }
    std::span<const step_result> events(*b.events);
    std::int64_t first = b.first_seq;
    if (first < from_seq) {   // the tail of the batch holding from_seq
      events = events.subspan(static_cast<std::size_t>(from_seq - first));
      first = from_seq;
    }
    ++out.batches;
    out.events += static_cast<std::int64_t>(events.size());
    out.next_seq = first + static_cast<std::int64_t>(events.size());
    if (!visit(stored_batch{b.id, first, b.appended_at, events})) {
      out.stopped = true;
      break;
    }
  }
  return out;
}

store_size memory_store::size() {
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
  return store_size{impl_->last_seq, impl_->batch_count, impl_->last_seq,
                    static_cast<std::int64_t>(impl_->defs.size())};
}

void memory_store::put_definition(const workflow_definition& def) {
  validate_definition(def, "event store");
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
  for (auto& d : impl_->defs) {
    if (d.id == def.id) {
      d = def;
      return;
    }
  }
  impl_->defs.push_back(def);
}

std::vector<workflow_definition> memory_store::definitions() {
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
  return impl_->defs;
}

std::optional<workflow_definition> memory_store::definition(std::string_view workflow_id) {
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
  for (const auto& d : impl_->defs)
    if (d.id == workflow_id) return d;
  return std::nullopt;
}

void memory_store::flush() {
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
}

void memory_store::close() {
  std::lock_guard guard(impl_->mu);
  impl_->closed = true;
}

std::string memory_store::describe() const { return "memory"; }

// ---------------------------------------------------------------------------
// replay

double replay_summary::events_per_second() const noexcept {
  const double s = std::chrono::duration<double>(elapsed).count();
  return s > 0 ? static_cast<double>(events) / s : 0.0;
}

replay_summary replay(event_store& store, performance_monitor& monitor,
                      const replay_options& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  replay_summary out;
  replay_progress progress;
  if (options.progress) progress.total_events = store.size().events;
  auto last_report = start;
  const read_summary r = store.read(options.from_seq, [&](const stored_batch& b) {
    out.recorded += static_cast<std::int64_t>(monitor.record_batch(b.events));
    out.events += static_cast<std::int64_t>(b.events.size());
    ++out.batches;
    if (options.progress) {
      const auto now = clock::now();
      if (now - last_report >= options.progress_interval) {
        last_report = now;
        progress.events = out.events;
        progress.batches = out.batches;
        progress.elapsed = now - start;
        options.progress(progress);
      }
    }
    return true;
  });
  out.next_seq = r.next_seq;
  out.rejected = out.events - out.recorded;
  out.elapsed = clock::now() - start;
  return out;
}

// ---------------------------------------------------------------------------
// durable_recorder

namespace {

struct recorder_entry {
  std::vector<step_result> owned;        // post(): the queue's copy
  std::span<const step_result> events;   // what is appended (owned, or the record() caller's)
  bool synchronous = false;
  record_completion done;
  std::function<void()> job;             // replay(): run on the writer thread
  // Settled by the writer:
  bool finished = false;
  record_outcome outcome;
  std::exception_ptr job_error;
};

}  // namespace

struct durable_recorder::impl {
  impl(performance_monitor& m, event_store& s, recorder_options o)
      : monitor(m), store(s), options(o) {}

  performance_monitor& monitor;
  event_store& store;
  recorder_options options;

  mutable std::mutex mu;
  std::condition_variable work_cv;   // writer: something queued, or closing
  std::condition_variable room_cv;   // post(): queue space freed
  std::condition_variable done_cv;   // record()/flush()/replay(): entries settled
  std::deque<std::shared_ptr<recorder_entry>> queue;
  std::size_t queued_events = 0;     // posted and not yet settled (in the queue or in flight)
  std::uint64_t enqueued = 0;        // entries ever queued
  std::uint64_t settled = 0;         // entries settled, in queue order
  bool closing = false;
  bool used = false;                 // something was recorded, posted or replayed
  recorder_stats stats;
  std::int64_t unreported_batches = 0;
  std::int64_t unreported_events = 0;
  std::string last_error;

  std::mutex close_mu;               // serialises close() (joining the writer)
  std::thread writer;
  std::thread::id writer_id;         // set once, before the recorder is shared

  [[nodiscard]] bool on_writer() const noexcept { return std::this_thread::get_id() == writer_id; }
  void run();
  void commit(std::vector<std::shared_ptr<recorder_entry>>& group);
  void settle(std::vector<std::shared_ptr<recorder_entry>>& group, std::int64_t transactions);
  void throw_unreported(std::unique_lock<std::mutex>& lock);
};

void durable_recorder::impl::run() {
  for (;;) {
    std::vector<std::shared_ptr<recorder_entry>> group;
    {
      std::unique_lock lock(mu);
      work_cv.wait(lock, [&] { return !queue.empty() || closing; });
      if (queue.empty()) return;   // closing, and everything is settled
      if (queue.front()->job) {
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      } else {
        // Everything waiting goes into one transaction (group commit), up to
        // max_group_events; a larger batch goes alone.
        std::size_t events = 0;
        while (!queue.empty() && !queue.front()->job &&
               (group.empty() || events + queue.front()->events.size() <= options.max_group_events)) {
          events += queue.front()->events.size();
          group.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
    }
    if (group.front()->job) {
      try {
        group.front()->job();
      } catch (...) {
        group.front()->job_error = std::current_exception();
      }
      settle(group, 0);
    } else {
      try {
        commit(group);
      } catch (...) {   // out of memory around the append: unsettled batches fail, the writer lives
        const std::string error = what_of(std::current_exception());
        std::vector<std::shared_ptr<recorder_entry>> rest;
        for (auto& e : group) {
          if (e->finished) continue;
          if (e->outcome.stored.first_seq == 0 && e->outcome.ok()) e->outcome.error = error;
          rest.push_back(e);
        }
        settle(rest, 0);
      }
    }
  }
}

void durable_recorder::impl::commit(std::vector<std::shared_ptr<recorder_entry>>& group) {
  std::vector<std::span<const step_result>> spans;
  spans.reserve(group.size());
  for (const auto& e : group) spans.push_back(e->events);
  std::vector<std::optional<append_receipt>> receipts(group.size());
  std::int64_t transactions = 0;
  try {
    const auto r = store.append_group(spans);
    for (std::size_t i = 0; i < group.size(); ++i) receipts[i] = r.at(i);
    ++transactions;
  } catch (...) {
    const std::string error = what_of(std::current_exception());
    if (group.size() == 1) {
      group.front()->outcome.error = error;
    } else {
      // Retry one by one, in order, so that only a failing batch fails and
      // the survivors keep their relative order.
      for (std::size_t i = 0; i < group.size(); ++i) {
        try {
          receipts[i] = store.append_group(std::span(&spans[i], 1)).at(0);
          ++transactions;
        } catch (...) {
          group[i]->outcome.error = what_of(std::current_exception());
        }
      }
    }
  }
  // Fold in commit order: the monitor holds exactly what is durable.
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!receipts[i]) continue;
    group[i]->outcome.stored = *receipts[i];
    group[i]->outcome.recorded = monitor.record_batch(spans[i]);
  }
  settle(group, transactions);
}

void durable_recorder::impl::settle(std::vector<std::shared_ptr<recorder_entry>>& group,
                                    std::int64_t transactions) {
  for (const auto& e : group) {
    if (!e->done) continue;
    try {
      e->done(e->outcome);
    } catch (...) {   // completions must not throw; the batch is settled regardless
    }
  }
  {
    std::lock_guard lock(mu);
    stats.transactions += transactions;
    for (auto& e : group) {
      if (!e->job) {
        if (e->outcome.ok()) {
          ++stats.committed_batches;
          stats.committed_events += static_cast<std::int64_t>(e->events.size());
        } else {
          ++stats.failed_batches;
          stats.failed_events += static_cast<std::int64_t>(e->events.size());
          if (!e->synchronous) {   // record() callers get their own exception
            ++unreported_batches;
            unreported_events += static_cast<std::int64_t>(e->events.size());
            last_error = e->outcome.error;
          }
        }
        if (!e->synchronous) queued_events -= e->events.size();
      }
      e->finished = true;
      ++settled;
    }
  }
  done_cv.notify_all();
  room_cv.notify_all();
}

void durable_recorder::impl::throw_unreported(std::unique_lock<std::mutex>& lock) {
  if (unreported_batches == 0) return;
  const std::string message =
      fmt::format("{}: {} posted batch(es) ({} events) could not be stored; last error: {}",
                  store.describe(), unreported_batches, unreported_events, last_error);
  unreported_batches = 0;
  unreported_events = 0;
  lock.unlock();
  throw store_error(message);
}

durable_recorder::durable_recorder(performance_monitor& monitor, event_store& store,
                                   recorder_options options)
    : impl_(std::make_unique<impl>(monitor, store, options)) {
  if (impl_->options.max_group_events == 0) impl_->options.max_group_events = 1;
  impl_->writer = std::thread([this] { impl_->run(); });
  impl_->writer_id = impl_->writer.get_id();
}

durable_recorder::~durable_recorder() {
  try {
    close();
  } catch (...) {   // failures were reported to completions and counted in stats()
  }
}

void durable_recorder::add_workflow(const workflow_definition& def) {
  impl_->monitor.add_workflow(def);
  impl_->store.put_definition(def);
}

replay_summary durable_recorder::replay(const replay_options& options) {
  if (impl_->on_writer()) throw std::logic_error("durable_recorder::replay() from a completion");
  replay_summary summary;
  auto e = std::make_shared<recorder_entry>();
  e->job = [&] { summary = civicperf::replay(impl_->store, impl_->monitor, options); };
  {
    std::unique_lock lock(impl_->mu);
    if (impl_->closing) throw std::logic_error("durable_recorder::replay() after close()");
    if (impl_->used)
      throw std::logic_error(
          "durable_recorder::replay() after something was recorded: it would be counted twice");
    impl_->used = true;
    impl_->queue.push_back(e);
    ++impl_->enqueued;
  }
  impl_->work_cv.notify_one();
  std::unique_lock lock(impl_->mu);
  impl_->done_cv.wait(lock, [&] { return e->finished; });
  lock.unlock();
  if (e->job_error) std::rethrow_exception(e->job_error);
  return summary;
}

record_outcome durable_recorder::record(std::span<const step_result> batch) {
  if (impl_->on_writer()) throw std::logic_error("durable_recorder::record() from a completion");
  auto e = std::make_shared<recorder_entry>();
  e->events = batch;   // the caller waits, so its batch needs no copy
  e->synchronous = true;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closing) throw std::logic_error("durable_recorder::record() after close()");
    impl_->used = true;
    impl_->queue.push_back(e);
    ++impl_->enqueued;
  }
  impl_->work_cv.notify_one();
  std::unique_lock lock(impl_->mu);
  impl_->done_cv.wait(lock, [&] { return e->finished; });
  lock.unlock();
  if (!e->outcome.ok()) throw store_error(e->outcome.error);
  return e->outcome;
}

bool durable_recorder::post(std::vector<step_result> batch, record_completion done) {
  const std::size_t n = batch.size();
  {
    std::unique_lock lock(impl_->mu);
    const auto fits = [&] {
      return impl_->queued_events == 0 || impl_->queued_events + n <= impl_->options.queue_capacity;
    };
    // The writer itself must never wait for room: only it can make room.
    if (!impl_->closing && !fits() &&
        impl_->options.when_full == full_queue_policy::block && !impl_->on_writer())
      impl_->room_cv.wait(lock, [&] { return impl_->closing || fits(); });
    if (impl_->closing || !fits()) {
      ++impl_->stats.rejected_posts;
      return false;
    }
    auto e = std::make_shared<recorder_entry>();
    e->owned = std::move(batch);
    e->events = e->owned;
    e->done = std::move(done);
    impl_->used = true;
    impl_->queued_events += n;
    impl_->queue.push_back(std::move(e));
    ++impl_->enqueued;
  }
  impl_->work_cv.notify_one();
  return true;
}

void durable_recorder::flush() {
  if (impl_->on_writer()) throw std::logic_error("durable_recorder::flush() from a completion");
  std::unique_lock lock(impl_->mu);
  const std::uint64_t ticket = impl_->enqueued;
  impl_->done_cv.wait(lock, [&] { return impl_->settled >= ticket; });
  impl_->throw_unreported(lock);
}

void durable_recorder::close() {
  if (impl_->on_writer()) throw std::logic_error("durable_recorder::close() from a completion");
  {
    std::lock_guard close_guard(impl_->close_mu);
    {
      std::lock_guard lock(impl_->mu);
      impl_->closing = true;
    }
    impl_->work_cv.notify_all();
    impl_->room_cv.notify_all();
    if (impl_->writer.joinable()) impl_->writer.join();
  }
  std::unique_lock lock(impl_->mu);
  impl_->throw_unreported(lock);
}

recorder_stats durable_recorder::stats() const {
  std::lock_guard lock(impl_->mu);
  recorder_stats s = impl_->stats;
  s.queued_events = static_cast<std::int64_t>(impl_->queued_events);
  return s;
}

const recorder_options& durable_recorder::options() const noexcept { return impl_->options; }

}  // namespace civicperf
