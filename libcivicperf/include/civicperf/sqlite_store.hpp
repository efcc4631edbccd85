#pragma once
/// \file
/// The embedded event store: one SQLite file (Debian libsqlite3), written in
/// WAL mode by one process at a time. No SQLite type appears here.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "civicperf/event_store.hpp"

namespace civicperf {

/// When a commit reaches the disk.
enum class sqlite_sync : std::uint8_t {
  /// `synchronous=FULL`: the write-ahead log is fsync'ed at every commit, so a
  /// committed batch survives a process crash *and* a power loss or kernel
  /// crash: committed = durable. Group commit amortises the fsync.
  full,
  /// `synchronous=NORMAL`: a commit is written to the log but fsync'ed only at
  /// checkpoints (and by flush()). It survives a process crash (SIGKILL), not a
  /// power loss, which may roll back the last commits (never half a batch).
  normal,
};

struct sqlite_store_options {
  sqlite_sync synchronous = sqlite_sync::full;
  /// Create the file when it does not exist (its directory must exist).
  bool create_if_missing = true;
  /// Run `PRAGMA quick_check` before accepting an existing file (reads every
  /// page once: about a second per few hundred MB).
  bool quick_check = true;
  /// Events read per chunk (one short read transaction each).
  std::size_t read_chunk_events = 8192;
  /// Page cache of the connection, in KiB.
  std::int64_t cache_kib = 16 * 1024;
  /// Fault injection for tests: called before each event row is inserted,
  /// with its sequence number; an exception it throws makes the whole
  /// append_group fail (as store_error) and roll back.
  std::function<void(std::int64_t seq, const step_result& event)> before_event;
};

/// An event store in one SQLite file.
///
/// Opening checks before it changes anything: a missing directory, an
/// unwritable file or directory, a file that is not an SQLite database, an
/// SQLite database of another application, a corrupt one (`PRAGMA
/// quick_check`), one locked by another process, or one written by a newer
/// schema version → store_error naming the file and the problem; the file is
/// then left as it was (checks run on a read-only connection; nothing is
/// created). An accepted file is opened with `locking_mode=EXCLUSIVE` and
/// the lock is taken at once, so a second process (or a second store in this
/// process) fails fast with "locked by another process". Older schema
/// versions are migrated in order (the `schema_migrations` table records each
/// step; `PRAGMA user_version` holds the version).
///
/// Rows are compact: times and durations are integer microseconds, workflow,
/// step, instance and other strings are interned, the status is a small
/// integer, optional fields are NULL when absent, and outputs and blocking
/// dependencies are JSON text only when present. Sequence numbers are the
/// events' rowids, consecutive from 1; a `batches` table keeps each batch's
/// (id, first_seq, count) so reads give back the original batches.
///
/// The lock is a POSIX advisory lock: closing *any* descriptor of the file
/// in this process (copying it for a backup, say) silently drops it, so
/// nothing else in the process may open the database file while the store is
/// open (SQLite's own connections are exempt).
///
/// Thread safety: every member function may be called concurrently; one
/// connection behind one mutex (appends are serialised — group them with
/// durable_recorder).
class sqlite_store final : public event_store {
 public:
  /// The schema version this build writes (PRAGMA user_version).
  static constexpr int schema_version = 1;
  /// PRAGMA application_id of a civicperf store: 'CVPF'.
  static constexpr std::int32_t application_id = 0x43565046;

  /// Opens (or creates) the store. Throws store_error.
  explicit sqlite_store(std::string path, sqlite_store_options options = {});
  /// close(); errors are swallowed (call close() to see them).
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  using event_store::append;
  std::vector<append_receipt> append_group(
      std::span<const std::span<const step_result>> batches) override;
  read_summary read(std::int64_t from_seq, const batch_visitor& visit) override;
  [[nodiscard]] store_size size() override;
  void put_definition(const workflow_definition& def) override;
  [[nodiscard]] std::vector<workflow_definition> definitions() override;
  [[nodiscard]] std::optional<workflow_definition> definition(std::string_view workflow_id) override;
  /// Checkpoints the write-ahead log into the database file (with fsync).
  void flush() override;
  /// Checkpoints, closes the connection (removing the -wal file) and releases
  /// the lock.
  void close() override;
  [[nodiscard]] std::string describe() const override;

  [[nodiscard]] const std::string& path() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace civicperf
