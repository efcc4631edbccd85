#pragma once
/// \file
/// Durability: the event store interface, an in-memory store, replay of a
/// store into a monitor, and the durable_recorder that persists results before
/// folding them into a monitor.
///
/// The monitor is a pure fold over StepResults; the store keeps those results
/// in one total order (sequence numbers), in the batches they arrived in. A
/// monitor rebuilt by replay() folds the same batches in the same order through
/// the same performance_monitor::record_batch, so it equals the monitor that
/// recorded them live. No SQLite or Boost type appears here: the SQLite
/// implementation is in <civicperf/sqlite_store.hpp>, and a PostgreSQL one
/// would implement the same interface (see event_store).
///
/// A durable service, start to end:
/// \code
///   sqlite_store store("civicperf.db");        // store_error: report it, exit non-zero
///   performance_monitor monitor;
///   for (const auto& def : workflows) monitor.add_workflow(def);   // configured + store.definitions()
///   for (const auto& def : workflows) store.put_definition(def);  // no write when unchanged
///   durable_recorder recorder(monitor, store);
///   const replay_summary r = recorder.replay();  // before anything is recorded
///   // each accepted batch, after validating all of it:
///   const record_outcome o = recorder.record(batch);   // durable and folded; store_error: nothing kept
///   // shutdown, once nothing records any more:
///   recorder.close();
///   store.close();
/// \endcode

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/monitor.hpp"
#include "civicperf/step_result.hpp"
#include "civicperf/time.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

/// A store that cannot be opened, read or written. The message names the
/// store (for SQLite: the file) and the problem, e.g.
/// `/var/lib/civicperf.db: locked by another process (is another civicperf-server using it?)`.
/// Thread safety: an immutable exception object.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where an appended batch landed. Its events hold the sequence numbers
/// first_seq .. first_seq + count - 1.
struct append_receipt {
  std::int64_t batch_id = 0;    ///< increasing with first_seq; 0 for an empty batch
  std::int64_t first_seq = 0;
  std::int64_t count = 0;
  friend bool operator==(const append_receipt&, const append_receipt&) = default;
};

/// One stored batch as handed to a reader. `events` is valid only during the
/// visitor call.
struct stored_batch {
  std::int64_t batch_id = 0;
  std::int64_t first_seq = 0;         ///< sequence number of events[0]
  timestamp appended_at{};            ///< when the batch was committed (wall clock)
  std::span<const step_result> events;
};

/// Called for each batch in sequence order; return false to stop reading.
using batch_visitor = std::function<bool(const stored_batch&)>;

struct store_size {
  std::int64_t events = 0;
  std::int64_t batches = 0;
  std::int64_t last_seq = 0;       ///< highest sequence number stored; 0 when empty
  std::int64_t definitions = 0;
  friend bool operator==(const store_size&, const store_size&) = default;
};

struct read_summary {
  std::int64_t batches = 0;        ///< batches delivered
  std::int64_t events = 0;         ///< events delivered
  std::int64_t next_seq = 0;       ///< where a later read would continue
  bool stopped = false;            ///< the visitor returned false
};

/// An append-only log of StepResults in batches, plus the workflow
/// definitions the results refer to.
///
/// Contract (every implementation):
/// - Sequence numbers are positive and strictly increasing in commit order; a
///   batch occupies `count` consecutive numbers; there may be gaps *between*
///   batches (a PostgreSQL sequence skips the numbers of a rolled-back
///   transaction), never inside one. The SQLite and memory stores number
///   without gaps, from 1.
/// - append_group() is one transaction: when it returns, every batch of the
///   group is durable (as durable as the implementation promises: see
///   sqlite_store_options::synchronous); when it throws, none of them is
///   stored. Batch boundaries are kept, so readers get the batches back as
///   they were appended.
/// - read() streams in order, in bounded chunks; it never holds the whole
///   store in memory (at most one batch plus one chunk).
/// - A PostgreSQL implementation has the same shape: `events(seq BIGINT
///   PRIMARY KEY, ...)` and `batches(id BIGSERIAL, first_seq, count)`; an
///   append_group takes `pg_advisory_xact_lock(<store key>)`, reserves a
///   contiguous range with `setval(seq, nextval(seq) + n - 1)`, inserts (COPY)
///   and commits — the lock, held until commit, makes commit order equal
///   sequence order, so several engine nodes can append to one store and a
///   reader never sees a gap filled in later.
/// Thread safety: every member function may be called concurrently; writes
/// are serialised inside the store (group them with durable_recorder).
class event_store {
 public:
  virtual ~event_store() = default;

  /// Appends one batch atomically (all or nothing) and returns once it is
  /// durable. An empty batch stores nothing (receipt with count 0). Throws
  /// store_error.
  append_receipt append(std::span<const step_result> batch) {
    const std::span<const step_result> one[1] = {batch};
    return append_group(one).front();
  }
  /// Appends several batches in one transaction, in the given order (group
  /// commit): all are durable when this returns, or none is stored (throws
  /// store_error). One receipt per batch.
  virtual std::vector<append_receipt> append_group(
      std::span<const std::span<const step_result>> batches) = 0;

  /// Calls `visit` for every batch holding sequence numbers >= from_seq, in
  /// sequence order (a from_seq inside a batch delivers that batch's tail).
  /// `visit` runs without the store's lock held and may call size(), but
  /// must not append. Throws store_error when the store cannot be read.
  virtual read_summary read(std::int64_t from_seq, const batch_visitor& visit) = 0;

  [[nodiscard]] virtual store_size size() = 0;

  /// Stores (or replaces) the definition of a workflow, durably. Throws
  /// definition_error when the definition breaks the rules
  /// (validate_definition), store_error when it cannot be written.
  virtual void put_definition(const workflow_definition& def) = 0;
  /// Every stored definition, in the order they were first stored.
  [[nodiscard]] virtual std::vector<workflow_definition> definitions() = 0;
  [[nodiscard]] virtual std::optional<workflow_definition> definition(
      std::string_view workflow_id) = 0;

  /// Makes everything appended so far durable even under a weaker
  /// synchronous setting, and bounds the write-ahead log. Throws store_error.
  virtual void flush() = 0;
  /// Flushes and releases the store (for SQLite: the file and its lock).
  /// Idempotent; any later call except close() and describe() throws store_error.
  virtual void close() = 0;
  /// What the store is, for messages: `sqlite:/path/civicperf.db`, `memory`.
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// Options of the in-memory store.
struct memory_store_options {
  /// Keep the events (tests, embedding without a file). False keeps only the
  /// counters and the definitions: a discarding store for `--no-persist`,
  /// whose memory does not grow with the history (read() delivers nothing).
  bool retain_events = true;
  /// Fault injection for tests: called before each event of an append is
  /// stored, with its would-be sequence number; an exception it throws makes
  /// the append fail (as store_error), leaving nothing stored.
  std::function<void(std::int64_t seq, const step_result& event)> before_event;
};

/// An event store in memory. Nothing survives the process.
/// Thread safety: every member function may be called concurrently (one mutex).
class memory_store final : public event_store {
 public:
  explicit memory_store(memory_store_options options = {});
  ~memory_store() override;
  memory_store(const memory_store&) = delete;
  memory_store& operator=(const memory_store&) = delete;

  using event_store::append;
  std::vector<append_receipt> append_group(
      std::span<const std::span<const step_result>> batches) override;
  read_summary read(std::int64_t from_seq, const batch_visitor& visit) override;
  [[nodiscard]] store_size size() override;
  void put_definition(const workflow_definition& def) override;
  [[nodiscard]] std::vector<workflow_definition> definitions() override;
  [[nodiscard]] std::optional<workflow_definition> definition(std::string_view workflow_id) override;
  void flush() override;
  void close() override;
  [[nodiscard]] std::string describe() const override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Progress of a replay, for a progress line.
struct replay_progress {
  std::int64_t events = 0;          ///< read so far
  std::int64_t total_events = 0;    ///< in the store when the replay began
  std::int64_t batches = 0;
  std::chrono::nanoseconds elapsed{};
};

struct replay_options {
  /// First sequence number to replay.
  std::int64_t from_seq = 1;
  /// Called on the replaying thread at most once per `progress_interval`
  /// (never for a replay shorter than that).
  std::function<void(const replay_progress&)> progress;
  std::chrono::milliseconds progress_interval{1000};
};

struct replay_summary {
  std::int64_t batches = 0;
  std::int64_t events = 0;          ///< read from the store
  std::int64_t recorded = 0;        ///< accepted by the monitor
  std::int64_t rejected = 0;        ///< unknown workflow or step: events - recorded
  std::int64_t next_seq = 0;        ///< first sequence number not replayed
  std::chrono::nanoseconds elapsed{};
  [[nodiscard]] double events_per_second() const noexcept;
};

/// Rebuilds `monitor` from `store`: every stored batch, in sequence order, is
/// folded with monitor.record_batch — the fold live recording uses, with the
/// same batch boundaries, so ordering inside each batch (started_at, ties in
/// batch order) is the original's. The workflows must be registered with the
/// monitor first (store.definitions() has them); events of unknown workflows or
/// steps are counted as rejected, exactly as they were when recorded live.
/// Throws store_error when the store cannot be read.
replay_summary replay(event_store& store, performance_monitor& monitor,
                      const replay_options& options = {});

/// What became of a batch given to a durable_recorder.
struct record_outcome {
  append_receipt stored;            ///< where it is in the store (zeros when it failed)
  std::size_t recorded = 0;         ///< events the monitor accepted
  std::string error;                ///< empty on success; else why nothing was stored or recorded
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Called once per posted batch, on the recorder's writer thread, after the
/// batch is durable and folded (or failed). Must not throw and must not call
/// record(), flush() or close() of the same recorder.
using record_completion = std::function<void(const record_outcome&)>;

/// What post() does when the queue is full.
enum class full_queue_policy : std::uint8_t {
  block,    ///< wait for room: back-pressure on the caller
  reject,   ///< return false at once; the caller keeps the batch
};

struct recorder_options {
  /// Events posted (asynchronous mode) and not yet committed, at most. A
  /// single larger batch is accepted when the queue is empty.
  std::size_t queue_capacity = 100'000;
  full_queue_policy when_full = full_queue_policy::block;
  /// Events per transaction, at most (a larger batch gets one of its own).
  std::size_t max_group_events = 64 * 1024;
};

struct recorder_stats {
  std::int64_t committed_batches = 0;
  std::int64_t committed_events = 0;
  std::int64_t transactions = 0;       ///< group commits (committed_batches / transactions = group size)
  std::int64_t failed_batches = 0;     ///< not stored (each reported to its caller)
  std::int64_t failed_events = 0;
  std::int64_t rejected_posts = 0;     ///< post() returned false
  std::int64_t queued_events = 0;      ///< posted, not yet committed
};

/// Persists StepResults to an event store and then folds them into a
/// monitor, with group commit: one writer thread takes every batch waiting,
/// appends them in one transaction (event_store::append_group), then folds
/// each committed batch with record_batch, in commit order. Hence at every
/// moment the monitor holds exactly what is durable, folded in store order:
/// replay() of the store rebuilds it.
///
/// Two modes, per call:
/// - synchronous, record(): returns after the batch is committed and folded.
///   Nothing it acknowledged is lost by a crash.
/// - asynchronous, post(): copies the batch into a bounded queue and returns.
///   At a crash (SIGKILL, power loss) whatever was posted and not yet
///   committed is lost — at most queue_capacity events plus the group being
///   committed; stats().queued_events tells how much is at risk. A full queue
///   blocks or rejects (full_queue_policy), never drops. A batch that cannot be
///   stored is reported to its completion, counted in stats() and by the next
///   flush()/close(), which throw.
/// A batch is all or nothing in both modes: stored and folded whole, or
/// neither. When a group's transaction fails, its batches are retried one by
/// one, so only the failing batch fails.
///
/// Embedding engines: give the step_executor no monitor (or
/// executor_options::record = false) and pass each result to record() or post().
/// Thread safety: record(), post(), flush(), stats() and add_workflow() may be
/// called concurrently from any thread but the writer (completions run there).
class durable_recorder {
 public:
  /// Starts the writer thread. `monitor` and `store` must outlive the recorder;
  /// the store is not closed by it.
  durable_recorder(performance_monitor& monitor, event_store& store, recorder_options options = {});
  /// close(), reporting nothing: call close() first to see failures.
  ~durable_recorder();
  durable_recorder(const durable_recorder&) = delete;
  durable_recorder& operator=(const durable_recorder&) = delete;

  /// Registers a workflow with the monitor (std::invalid_argument when a
  /// different definition has its id) and stores its definition durably
  /// (store_error), so a restart knows it. Call before recording its events.
  void add_workflow(const workflow_definition& def);

  /// Replays the store into the monitor on the writer thread, before anything
  /// is recorded. Same fold as replay(); running it on the thread that later
  /// folds live batches keeps them in one recording shard of the monitor, so
  /// floating-point sums (memory) add up in exactly the same order after every
  /// restart. options.progress is called on the writer thread. Throws
  /// std::logic_error once something was recorded, store_error when the store
  /// cannot be read.
  replay_summary replay(const replay_options& options = {});

  /// Synchronous: appends the batch, waits for its commit, folds it. Throws
  /// store_error (nothing stored or recorded) or std::logic_error after close().
  record_outcome record(std::span<const step_result> batch);
  record_outcome record(const step_result& result) { return record({&result, 1}); }

  /// Asynchronous: queues the batch and returns true, or false when it was
  /// not accepted (queue full with full_queue_policy::reject, or closed).
  /// `done`, when given, is called on the writer thread once it is settled.
  bool post(std::vector<step_result> batch, record_completion done = {});
  bool post(const step_result& result, record_completion done = {}) {
    return post(std::vector<step_result>{result}, std::move(done));
  }

  /// Waits until everything posted or recorded before the call is committed
  /// and folded. Throws store_error when posted batches failed since the last
  /// flush()/close() (their count and the last error).
  void flush();
  /// Commits everything queued, stops the writer thread. Idempotent. Throws
  /// like flush(). Later record()/post() calls are refused.
  void close();

  [[nodiscard]] recorder_stats stats() const;
  [[nodiscard]] const recorder_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace civicperf
