#include "civicperf/sqlite_store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "civicperf/json.hpp"
#include "store_sqlite_schema.hpp"

namespace civicperf {

namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

constexpr std::int64_t flag_approval_known = 1;
constexpr std::int64_t flag_approval = 2;
constexpr std::int64_t flag_external_known = 4;
constexpr std::int64_t flag_external = 8;
constexpr std::int64_t flag_memory_nan = 16;   // SQLite stores a NaN REAL as NULL

std::int64_t now_us() noexcept {
  return std::chrono::duration_cast<duration>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t us(timestamp t) noexcept { return t.time_since_epoch().count(); }

struct transparent_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using string_map = std::unordered_map<std::string, V, transparent_hash, std::equal_to<>>;

/// An SQLite error with its result code; converted to store_error (naming the
/// file) at the public boundary.
struct sqlite_failure : std::runtime_error {
  sqlite_failure(int c, const std::string& message) : std::runtime_error(message), code(c) {}
  int code;
};

[[noreturn]] void corrupt(const std::string& message) { throw sqlite_failure(SQLITE_CORRUPT, message); }

std::string classify(int code, std::string_view message) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "locked by another process (is another civicperf-server using it?)";
    case SQLITE_NOTADB:
      return "not an SQLite database (corrupt, or another kind of file)";
    case SQLITE_CORRUPT:
      return fmt::format("corrupt database ({})", message);
    case SQLITE_FULL:
      return fmt::format("disk full ({})", message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return fmt::format("not writable ({})", message);
    case SQLITE_CANTOPEN:
      return fmt::format("cannot be opened ({})", message);
    case SQLITE_IOERR:
      return fmt::format("I/O error ({})", message);
    default:
      return std::string(message);
  }
}

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw sqlite_failure(sqlite3_extended_errcode(db), text);
  }
}

/// A prepared statement, finalized on destruction.
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &p_, nullptr);
    if (rc != SQLITE_OK) throw sqlite_failure(rc, sqlite3_errmsg(db));
  }
  statement(statement&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  statement& operator=(statement&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(p_);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(p_); }

  void finalize() noexcept {
    sqlite3_finalize(p_);
    p_ = nullptr;
  }
  void bind(int i, std::int64_t v) { check(sqlite3_bind_int64(p_, i, v)); }
  void bind(int i, double v) { check(sqlite3_bind_double(p_, i, v)); }
  /// The text must stay alive until the statement is reset.
  void bind(int i, std::string_view s) {
    check(sqlite3_bind_text64(p_, i, s.empty() ? "" : s.data(), s.size(), SQLITE_STATIC,
                              SQLITE_UTF8));
  }
  void bind_null(int i) { check(sqlite3_bind_null(p_, i)); }
  template <class T>
  void bind(int i, const std::optional<T>& v) {
    if (v) bind(i, *v); else bind_null(i);
  }
  /// True for a row, false when done.
  bool step() {
    const int rc = sqlite3_step(p_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3* db = sqlite3_db_handle(p_);
    throw sqlite_failure(sqlite3_extended_errcode(db), sqlite3_errmsg(db));
  }
  void reset() noexcept { sqlite3_reset(p_); }

  [[nodiscard]] bool is_null(int c) const noexcept { return sqlite3_column_type(p_, c) == SQLITE_NULL; }
  [[nodiscard]] std::int64_t integer(int c) const noexcept { return sqlite3_column_int64(p_, c); }
  [[nodiscard]] std::optional<std::int64_t> opt_integer(int c) const noexcept {
    if (is_null(c)) return std::nullopt;
    return integer(c);
  }
  [[nodiscard]] double real(int c) const noexcept { return sqlite3_column_double(p_, c); }
  [[nodiscard]] std::string_view text(int c) const noexcept {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(p_, c));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(p_, c)))
             : std::string_view{};
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) {
      sqlite3* db = sqlite3_db_handle(p_);
      throw sqlite_failure(rc, sqlite3_errmsg(db));
    }
  }
  sqlite3_stmt* p_ = nullptr;
};

/// Resets a statement when leaving a scope, so no read transaction stays open.
struct reset_guard {
  statement& s;
  ~reset_guard() { s.reset(); }
};

std::int64_t query_integer(sqlite3* db, const char* sql) {
  statement s(db, sql);
  if (!s.step()) throw sqlite_failure(SQLITE_ERROR, fmt::format("'{}' returned no row", sql));
  return s.integer(0);
}

std::string query_text(sqlite3* db, const char* sql) {
  statement s(db, sql);
  if (!s.step()) throw sqlite_failure(SQLITE_ERROR, fmt::format("'{}' returned no row", sql));
  return std::string(s.text(0));
}

/// Interned strings of one table (id <-> text), with a bounded cache.
class intern_table {
 public:
  void prepare(sqlite3* db, const char* table, const char* column) {
    find_ = statement(db, fmt::format("SELECT id FROM {} WHERE {} = ?1", table, column));
    insert_ = statement(db, fmt::format("INSERT INTO {}({}) VALUES(?1)", table, column));
    text_ = statement(db, fmt::format("SELECT {} FROM {} WHERE id = ?1", column, table));
    db_ = db;
  }
  void finalize() noexcept {
    find_.finalize();
    insert_.finalize();
    text_.finalize();
    clear();
  }
  void clear() noexcept {
    ids_.clear();
    texts_.clear();
  }

  /// The id of `text`, inserted (inside the caller's transaction) when new.
  std::int64_t id_of(std::string_view text) {
    if (auto it = ids_.find(text); it != ids_.end()) return it->second;
    std::int64_t id = 0;
    {
      reset_guard g{find_};
      find_.bind(1, text);
      if (find_.step()) id = find_.integer(0);
    }
    if (id == 0) {
      reset_guard g{insert_};
      insert_.bind(1, text);
      insert_.step();
      id = sqlite3_last_insert_rowid(db_);
    }
    if (ids_.size() >= capacity) ids_.clear();
    ids_.emplace(std::string(text), id);
    return id;
  }

  const std::string& text_of(std::int64_t id) {
    if (auto it = texts_.find(id); it != texts_.end()) return it->second;
    reset_guard g{text_};
    text_.bind(1, id);
    if (!text_.step()) corrupt(fmt::format("interned string {} is missing", id));
    if (texts_.size() >= capacity) texts_.clear();
    return texts_.emplace(id, std::string(text_.text(0))).first->second;
  }

 private:
  static constexpr std::size_t capacity = std::size_t{1} << 17;
  statement find_, insert_, text_;
  string_map<std::int64_t> ids_;
  std::unordered_map<std::int64_t, std::string> texts_;
  sqlite3* db_ = nullptr;
};

bj::value parse_json(std::string_view text, std::int64_t seq, const char* column) {
  bj::parse_options opt;
  opt.allow_invalid_utf8 = true;   // strings are stored byte for byte
  bj::error_code ec;
  bj::value jv = bj::parse(text, ec, {}, opt);
  if (ec) corrupt(fmt::format("event {}: column {} is not JSON ({})", seq, column, ec.message()));
  return jv;
}

constexpr const char* event_columns =
    "seq, step, instance, status, flags, queued_at, started_at, completed_at, execution_us, "
    "queue_us, validation_us, retry_count, memory_mb, error, executed_by, environment, "
    "step_version, blocking, outputs";

}  // namespace

struct sqlite_store::impl {
  struct step_name {
    std::string workflow;
    std::string step;
  };
  struct workflow_entry {
    std::int64_t id = 0;
    string_map<std::int64_t> steps;
  };
  struct batch_meta {
    std::int64_t id = 0;
    std::int64_t first_seq = 0;
    std::int64_t count = 0;
    std::int64_t appended_at = 0;
    std::int64_t deliver_from = 0;   // first sequence number handed to the reader
    std::size_t offset = 0;          // of deliver_from in the read buffer
  };

  std::string path;
  sqlite_store_options options;
  std::mutex mu;
  sqlite3* db = nullptr;

  statement begin, commit, insert_event, insert_batch, insert_workflow, insert_step;
  statement read_events, read_batches, holding_batch;
  statement get_definition, put_definition, all_definitions;
  intern_table instances, strings;

  string_map<workflow_entry> workflows;
  std::vector<step_name> step_names;   // by steps.id
  std::int64_t last_seq = 0;
  std::int64_t last_batch = 0;
  std::int64_t definition_count = 0;
  std::string outputs_text, blocking_text;   // bound while an event row is inserted

  [[noreturn]] void fail(std::string_view problem) const {
    throw store_error(fmt::format("{}: {}", path, problem));
  }

  /// Runs `f`, turning SQLite (and other) failures into store_error naming the file.
  template <class F>
  auto guarded(std::string_view what, F&& f) -> decltype(f()) {
    const auto prefix = what.empty() ? std::string() : fmt::format("{}: ", what);
    try {
      return f();
    } catch (const store_error&) {
      throw;
    } catch (const sqlite_failure& e) {
      fail(prefix + classify(e.code, e.what()));
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      fail(prefix + e.what());
    }
  }

  void check_open() const {
    if (!db) fail("the event store is closed");
  }

  void open();
  void check_existing();
  void open_read_write(bool existed);
  void prepare();
  void load_catalog();
  void close_connection() noexcept;

  std::int64_t step_row(std::string_view workflow, std::string_view step);
  void insert(std::int64_t seq, const step_result& r);
  void decode(const statement& s, step_result& r);
  std::vector<append_receipt> append_group(std::span<const std::span<const step_result>> batches);
};

// --- opening ---------------------------------------------------------------

void sqlite_store::impl::open() {
  if (path.empty()) throw store_error("event store: the database path is empty");
  const fs::path file(path);
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::error_code ec;
  const auto dir_status = fs::status(dir, ec);
  if (!fs::exists(dir_status)) fail(fmt::format("directory '{}' does not exist", dir.string()));
  if (!fs::is_directory(dir_status)) fail(fmt::format("'{}' is not a directory", dir.string()));
  const auto file_status = fs::status(file, ec);
  const bool existed = fs::exists(file_status);
  if (existed) {
    if (!fs::is_regular_file(file_status)) fail("not a regular file");
    if (::access(path.c_str(), R_OK) != 0) fail("cannot be read (permission denied)");
    if (::access(path.c_str(), W_OK) != 0) fail("not writable (permission denied)");
    if (::access(dir.c_str(), W_OK) != 0)
      fail(fmt::format("directory '{}' is not writable (SQLite creates '{}-wal' beside the database)",
                       dir.string(), file.filename().string()));
    check_existing();
  } else {
    if (!options.create_if_missing) fail("does not exist");
    if (::access(dir.c_str(), W_OK) != 0)
      fail(fmt::format("cannot be created: directory '{}' is not writable", dir.string()));
  }
  open_read_write(existed);
}

// Every check on a read-only connection: a rejected file is left as it was.
void sqlite_store::impl::check_existing() {
  // A read-only connection to a WAL database creates the -wal file (and the
  // shared-memory index -shm) when they are missing; both are removed again
  // so that a rejected file is left exactly as it was. The exclusive-mode
  // store never uses -shm.
  std::error_code ec;
  const std::string wal = path + "-wal";
  const std::string shm = path + "-shm";
  const bool had_wal = fs::exists(wal, ec);
  const bool had_shm = fs::exists(shm, ec);
  sqlite3* ro = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &ro, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  struct closer {
    sqlite3* db;
    const std::string& wal;
    const std::string& shm;
    bool had_wal;
    bool had_shm;
    ~closer() {
      sqlite3_close_v2(db);
      std::error_code ignored;
      if (!had_wal && fs::is_regular_file(wal, ignored) && fs::file_size(wal, ignored) == 0)
        fs::remove(wal, ignored);
      if (!had_shm) fs::remove(shm, ignored);
    }
  } close_ro{ro, wal, shm, had_wal, had_shm};
  if (rc != SQLITE_OK) fail(classify(rc, ro ? sqlite3_errmsg(ro) : "out of memory"));
  guarded("", [&] {
    sqlite3_extended_result_codes(ro, 1);
    sqlite3_busy_timeout(ro, 0);
    const std::int64_t app = query_integer(ro, "PRAGMA application_id");
    const std::int64_t version = query_integer(ro, "PRAGMA user_version");
    const std::int64_t objects = query_integer(ro, "SELECT count(*) FROM sqlite_master");
    if (app != application_id && (app != 0 || version != 0 || objects != 0))
      fail(fmt::format("not a civicperf event store (an SQLite database with application_id {}, "
                       "user_version {} and {} schema objects)",
                       app, version, objects));
    if (version > schema_version)
      fail(fmt::format("written by a newer civicperf (schema version {}; this build reads up to {})",
                       version, schema_version));
    if (options.quick_check) {
      std::string result = query_text(ro, "PRAGMA quick_check(1)");
      std::replace(result.begin(), result.end(), '\n', ' ');
      if (result != "ok") fail(fmt::format("corrupt database (PRAGMA quick_check: {})", result));
    }
  });
}

void sqlite_store::impl::open_read_write(bool existed) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (existed ? 0 : SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    db = nullptr;
    fail(classify(rc, message));
  }
  try {
    guarded("", [&] {
      sqlite3_extended_result_codes(db, 1);
      sqlite3_busy_timeout(db, 0);
      // Exclusive locking: the lock is taken by the first transaction below
      // and kept until close, so a second process fails fast instead of
      // interleaving writes; the WAL index then lives in heap memory.
      exec(db, "PRAGMA locking_mode=EXCLUSIVE");
      const std::string mode = query_text(db, "PRAGMA journal_mode=WAL");
      if (mode != "wal") fail(fmt::format("cannot use write-ahead logging (journal_mode is '{}')", mode));
      exec(db, options.synchronous == sqlite_sync::full ? "PRAGMA synchronous=FULL"
                                                        : "PRAGMA synchronous=NORMAL");
      exec(db, fmt::format("PRAGMA cache_size=-{}", std::max<std::int64_t>(options.cache_kib, 64)).c_str());
      // Checkpoints run inside a commit: fewer, larger ones keep group
      // commits short; the log is truncated back to 64 MiB after each.
      exec(db, "PRAGMA wal_autocheckpoint=16384");
      exec(db, "PRAGMA journal_size_limit=67108864");

      exec(db, "BEGIN IMMEDIATE");
      try {
        const std::int64_t version = query_integer(db, "PRAGMA user_version");
        if (version > schema_version)
          fail(fmt::format("written by a newer civicperf (schema version {}; this build reads up to {})",
                           version, schema_version));
        for (const auto& m : detail::sqlite_migrations) {
          if (m.version <= version) continue;
          exec(db, m.sql);
          statement note(db, "INSERT INTO schema_migrations(version, description, applied_at) "
                             "VALUES(?1, ?2, ?3)");
          note.bind(1, std::int64_t{m.version});
          note.bind(2, std::string_view(m.description));
          note.bind(3, now_us());
          note.step();
        }
        if (version < schema_version) {
          exec(db, fmt::format("PRAGMA user_version={}", schema_version).c_str());
          exec(db, fmt::format("PRAGMA application_id={}", application_id).c_str());
        }
        exec(db, "COMMIT");
      } catch (...) {
        if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      prepare();
      load_catalog();
    });
  } catch (...) {
    close_connection();
    throw;
  }
}

void sqlite_store::impl::prepare() {
  begin = statement(db, "BEGIN IMMEDIATE");
  commit = statement(db, "COMMIT");
  insert_event = statement(
      db, fmt::format("INSERT INTO events({}) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                      "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                      event_columns));
  insert_batch = statement(db, "INSERT INTO batches(id, first_seq, count, appended_at) "
                               "VALUES(?1, ?2, ?3, ?4)");
  insert_workflow = statement(db, "INSERT INTO workflows(name) VALUES(?1)");
  insert_step = statement(db, "INSERT INTO steps(workflow, name) VALUES(?1, ?2)");
  read_events = statement(
      db, fmt::format("SELECT {} FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2", event_columns));
  read_batches = statement(db, "SELECT id, first_seq, count, appended_at FROM batches "
                               "WHERE first_seq >= ?1 ORDER BY first_seq");
  holding_batch = statement(db, "SELECT id, first_seq, count, appended_at FROM batches "
                                "WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1");
  get_definition = statement(db, "SELECT json FROM definitions WHERE workflow_id = ?1");
  put_definition = statement(db, "INSERT INTO definitions(workflow_id, json, stored_at) "
                                 "VALUES(?1, ?2, ?3) ON CONFLICT(workflow_id) DO UPDATE SET "
                                 "json = excluded.json, stored_at = excluded.stored_at");
  all_definitions = statement(db, "SELECT workflow_id, json FROM definitions ORDER BY id");
  instances.prepare(db, "instances", "name");
  strings.prepare(db, "strings", "text");
}

// The in-memory view of the interned names; reloaded after a rollback, which
// may have removed rows the caches had learned.
void sqlite_store::impl::load_catalog() {
  workflows.clear();
  step_names.clear();
  instances.clear();
  strings.clear();
  std::unordered_map<std::int64_t, std::string> workflow_names;
  {
    statement s(db, "SELECT id, name FROM workflows");
    while (s.step()) {
      workflow_names.emplace(s.integer(0), std::string(s.text(1)));
      workflows[std::string(s.text(1))].id = s.integer(0);
    }
  }
  {
    statement s(db, "SELECT id, workflow, name FROM steps");
    while (s.step()) {
      const std::int64_t id = s.integer(0);
      const auto w = workflow_names.find(s.integer(1));
      if (w == workflow_names.end() || id <= 0)
        corrupt(fmt::format("step {} belongs to unknown workflow {}", id, s.integer(1)));
      workflows[w->second].steps.emplace(std::string(s.text(2)), id);
      if (step_names.size() <= static_cast<std::size_t>(id))
        step_names.resize(static_cast<std::size_t>(id) + 1);
      step_names[static_cast<std::size_t>(id)] = step_name{w->second, std::string(s.text(2))};
    }
  }
  last_seq = query_integer(db, "SELECT coalesce(max(seq), 0) FROM events");
  last_batch = query_integer(db, "SELECT coalesce(max(id), 0) FROM batches");
  const std::int64_t batch_end =
      query_integer(db, "SELECT coalesce((SELECT first_seq + count - 1 FROM batches "
                        "ORDER BY id DESC LIMIT 1), 0)");
  const std::int64_t first_seq = query_integer(db, "SELECT coalesce(min(seq), 1) FROM events");
  if (batch_end != last_seq || first_seq != 1)
    corrupt(fmt::format("events 1..{} do not match the batches (which end at {})", last_seq,
                        batch_end));
  definition_count = query_integer(db, "SELECT count(*) FROM definitions");
}

void sqlite_store::impl::close_connection() noexcept {
  for (statement* s : {&begin, &commit, &insert_event, &insert_batch, &insert_workflow,
                       &insert_step, &read_events, &read_batches, &holding_batch,
                       &get_definition, &put_definition, &all_definitions})
    s->finalize();
  instances.finalize();
  strings.finalize();
  sqlite3_close_v2(db);
  db = nullptr;
}

// --- writing ---------------------------------------------------------------

std::int64_t sqlite_store::impl::step_row(std::string_view workflow, std::string_view step) {
  auto w = workflows.find(workflow);
  if (w == workflows.end()) {
    reset_guard g{insert_workflow};
    insert_workflow.bind(1, workflow);
    insert_workflow.step();
    w = workflows.emplace(std::string(workflow), workflow_entry{sqlite3_last_insert_rowid(db), {}}).first;
  }
  if (auto s = w->second.steps.find(step); s != w->second.steps.end()) return s->second;
  reset_guard g{insert_step};
  insert_step.bind(1, w->second.id);
  insert_step.bind(2, step);
  insert_step.step();
  const std::int64_t id = sqlite3_last_insert_rowid(db);
  w->second.steps.emplace(std::string(step), id);
  if (step_names.size() <= static_cast<std::size_t>(id)) step_names.resize(static_cast<std::size_t>(id) + 1);
  step_names[static_cast<std::size_t>(id)] = step_name{std::string(workflow), std::string(step)};
  return id;
}

void sqlite_store::impl::insert(std::int64_t seq, const step_result& r) {
  statement& s = insert_event;
  reset_guard g{s};
  s.bind(1, seq);
  s.bind(2, step_row(r.workflow_id, r.step_id));
  if (r.instance_id.empty()) s.bind_null(3); else s.bind(3, instances.id_of(r.instance_id));
  s.bind(4, static_cast<std::int64_t>(r.status));
  std::int64_t flags = 0;
  if (r.waiting_for_approval)
    flags |= flag_approval_known | (*r.waiting_for_approval ? flag_approval : 0);
  if (r.waiting_for_external_service)
    flags |= flag_external_known | (*r.waiting_for_external_service ? flag_external : 0);
  if (r.memory_usage_mb && std::isnan(*r.memory_usage_mb)) flags |= flag_memory_nan;
  s.bind(5, flags);
  const auto time = [&](int i, const std::optional<timestamp>& t) {
    if (t) s.bind(i, us(*t)); else s.bind_null(i);
  };
  const auto span = [&](int i, const std::optional<duration>& d) {
    if (d) s.bind(i, static_cast<std::int64_t>(d->count())); else s.bind_null(i);
  };
  time(6, r.queued_at);
  time(7, r.started_at);
  time(8, r.completed_at);
  span(9, r.execution_duration);
  span(10, r.queue_time);
  span(11, r.validation_duration);
  s.bind(12, static_cast<std::int64_t>(r.retry_count));
  if (r.memory_usage_mb && !std::isnan(*r.memory_usage_mb)) s.bind(13, *r.memory_usage_mb);
  else s.bind_null(13);
  if (r.error) s.bind(14, strings.id_of(*r.error)); else s.bind_null(14);
  const auto interned = [&](int i, const std::string& text) {
    if (text.empty()) s.bind_null(i); else s.bind(i, strings.id_of(text));
  };
  interned(15, r.executed_by);
  interned(16, r.execution_environment);
  interned(17, r.step_version);
  if (r.blocking_dependencies.empty()) {
    s.bind_null(18);
  } else {
    bj::array a;
    a.reserve(r.blocking_dependencies.size());
    for (const auto& d : r.blocking_dependencies) a.emplace_back(bj::string_view(d));
    blocking_text = bj::serialize(a);
    s.bind(18, std::string_view(blocking_text));
  }
  if (r.outputs.is_null()) {
    s.bind_null(19);
  } else {
    // boost's serializer keeps 2.0 a double ("2E0"), so integers and doubles
    // come back as they went in.
    outputs_text = bj::serialize(bj::value_from(r.outputs));
    s.bind(19, std::string_view(outputs_text));
  }
  s.step();
}

std::vector<append_receipt> sqlite_store::impl::append_group(
    std::span<const std::span<const step_result>> batches) {
  check_open();
  std::vector<append_receipt> receipts;
  receipts.reserve(batches.size());
  const std::int64_t saved_seq = last_seq;
  const std::int64_t saved_batch = last_batch;
  {
    reset_guard g{begin};
    begin.step();
  }
  try {
    const std::int64_t appended_at = now_us();
    for (const auto& b : batches) {
      if (b.empty()) {
        receipts.push_back(append_receipt{0, last_seq + 1, 0});
        continue;
      }
      const std::int64_t first = last_seq + 1;
      const auto count = static_cast<std::int64_t>(b.size());
      {
        reset_guard g{insert_batch};
        insert_batch.bind(1, last_batch + 1);
        insert_batch.bind(2, first);
        insert_batch.bind(3, count);
        insert_batch.bind(4, appended_at);
        insert_batch.step();
      }
      for (std::int64_t i = 0; i < count; ++i) {
        const step_result& r = b[static_cast<std::size_t>(i)];
        if (options.before_event) options.before_event(first + i, r);
        insert(first + i, r);
      }
      last_seq += count;
      ++last_batch;
      receipts.push_back(append_receipt{last_batch, first, count});
    }
    reset_guard g{commit};
    commit.step();
  } catch (...) {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    last_seq = saved_seq;
    last_batch = saved_batch;
    try {
      load_catalog();
    } catch (...) {   // the connection is broken; the original error says why
    }
    throw;
  }
  return receipts;
}

// --- reading ---------------------------------------------------------------

void sqlite_store::impl::decode(const statement& s, step_result& r) {
  const std::int64_t seq = s.integer(0);
  const std::int64_t step = s.integer(1);
  if (step <= 0 || static_cast<std::size_t>(step) >= step_names.size() ||
      step_names[static_cast<std::size_t>(step)].step.empty())
    corrupt(fmt::format("event {} refers to unknown step {}", seq, step));
  const step_name& names = step_names[static_cast<std::size_t>(step)];
  r.workflow_id.assign(names.workflow);
  r.step_id.assign(names.step);
  if (s.is_null(2)) r.instance_id.clear(); else r.instance_id.assign(instances.text_of(s.integer(2)));
  const std::int64_t status = s.integer(3);
  if (status < 0 || status >= static_cast<std::int64_t>(step_status_count))
    corrupt(fmt::format("event {} has status {}", seq, status));
  r.status = static_cast<step_status>(status);
  const std::int64_t flags = s.integer(4);
  r.waiting_for_approval.reset();
  if (flags & flag_approval_known) r.waiting_for_approval = (flags & flag_approval) != 0;
  r.waiting_for_external_service.reset();
  if (flags & flag_external_known) r.waiting_for_external_service = (flags & flag_external) != 0;
  const auto time = [&](int c) -> std::optional<timestamp> {
    if (s.is_null(c)) return std::nullopt;
    return timestamp(duration(s.integer(c)));
  };
  const auto span = [&](int c) -> std::optional<duration> {
    if (s.is_null(c)) return std::nullopt;
    return duration(s.integer(c));
  };
  r.queued_at = time(5);
  r.started_at = time(6);
  r.completed_at = time(7);
  r.execution_duration = span(8);
  r.queue_time = span(9);
  r.validation_duration = span(10);
  r.retry_count = static_cast<std::int32_t>(s.integer(11));
  if (flags & flag_memory_nan) r.memory_usage_mb = std::nan("");
  else if (s.is_null(12)) r.memory_usage_mb.reset();
  else r.memory_usage_mb = s.real(12);
  if (s.is_null(13)) {
    r.error.reset();
  } else {
    if (!r.error) r.error.emplace();
    r.error->assign(strings.text_of(s.integer(13)));
  }
  const auto interned = [&](int c, std::string& out) {
    if (s.is_null(c)) out.clear(); else out.assign(strings.text_of(s.integer(c)));
  };
  interned(14, r.executed_by);
  interned(15, r.execution_environment);
  interned(16, r.step_version);
  r.blocking_dependencies.clear();
  if (!s.is_null(17)) {
    const bj::value jv = parse_json(s.text(17), seq, "blocking");
    const bj::array* a = jv.if_array();
    if (!a) corrupt(fmt::format("event {}: column blocking is not an array", seq));
    for (const auto& d : *a) {
      if (!d.is_string()) corrupt(fmt::format("event {}: column blocking holds a non-string", seq));
      r.blocking_dependencies.emplace_back(d.get_string());
    }
  }
  if (s.is_null(18)) r.outputs = value{};
  else r.outputs = bj::value_to<value>(parse_json(s.text(18), seq, "outputs"));
}

// --- public interface --------------------------------------------------------

sqlite_store::sqlite_store(std::string path, sqlite_store_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->path = std::move(path);
  impl_->options = std::move(options);
  if (impl_->options.read_chunk_events == 0) impl_->options.read_chunk_events = 1;
  impl_->open();
}

sqlite_store::~sqlite_store() {
  try {
    close();
  } catch (...) {
  }
}

std::vector<append_receipt> sqlite_store::append_group(
    std::span<const std::span<const step_result>> batches) {
  std::lock_guard guard(impl_->mu);
  return impl_->guarded("append failed", [&] { return impl_->append_group(batches); });
}

read_summary sqlite_store::read(std::int64_t from_seq, const batch_visitor& visit) {
  using meta = impl::batch_meta;
  from_seq = std::max<std::int64_t>(from_seq, 1);
  read_summary out;
  out.next_seq = from_seq;
  std::int64_t pos = from_seq;
  std::vector<step_result> buffer;   // reused: strings keep their capacity
  std::size_t used = 0;
  std::optional<meta> current;       // the batch being filled (may span chunks)
  std::vector<meta> complete;
  for (;;) {
    complete.clear();
    bool at_end = false;
    {
      std::lock_guard guard(impl_->mu);
      impl_->guarded("read failed", [&] {
        impl_->check_open();
        if (pos > impl_->last_seq) {
          if (current) corrupt(fmt::format("batch {} ends after the last event", current->id));
          at_end = true;
          return;
        }
        const auto row_meta = [&](const statement& s) {
          return meta{s.integer(0), s.integer(1), s.integer(2), s.integer(3), 0, 0};
        };
        if (!current) {
          reset_guard g{impl_->holding_batch};
          impl_->holding_batch.bind(1, pos);
          if (!impl_->holding_batch.step()) corrupt(fmt::format("no batch holds event {}", pos));
          current = row_meta(impl_->holding_batch);
          current->deliver_from = pos;
          current->offset = used;
        }
        statement& batches = impl_->read_batches;
        statement& events = impl_->read_events;
        reset_guard gb{batches};
        reset_guard ge{events};
        batches.bind(1, current->first_seq + current->count);
        events.bind(1, pos);
        events.bind(2, static_cast<std::int64_t>(impl_->options.read_chunk_events));
        const std::int64_t chunk_start = pos;
        while (events.step()) {
          if (events.integer(0) != pos) corrupt(fmt::format("event {} is missing", pos));
          if (pos >= current->first_seq + current->count) {
            complete.push_back(*current);
            if (!batches.step() || batches.integer(1) != pos)
              corrupt(fmt::format("no batch begins at event {}", pos));
            current = row_meta(batches);
            current->deliver_from = pos;
            current->offset = used;
          }
          if (used == buffer.size()) buffer.emplace_back();
          impl_->decode(events, buffer[used++]);
          ++pos;
        }
        if (pos == chunk_start) corrupt(fmt::format("event {} is missing", pos));
        if (pos == current->first_seq + current->count) {
          complete.push_back(*current);
          current.reset();
        }
      });
    }
    for (const meta& m : complete) {
      const auto n = static_cast<std::size_t>(m.first_seq + m.count - m.deliver_from);
      ++out.batches;
      out.events += static_cast<std::int64_t>(n);
      out.next_seq = m.deliver_from + static_cast<std::int64_t>(n);
      const stored_batch b{m.id, m.deliver_from, timestamp(duration(m.appended_at)),
                           std::span<const step_result>(buffer.data() + m.offset, n)};
      if (!visit(b)) {
        out.stopped = true;
        return out;
      }
    }
    if (at_end) break;
    // Keep the partial batch's events, moved to the front of the buffer.
    const std::size_t keep_from = current ? current->offset : used;
    for (std::size_t i = keep_from; i < used; ++i) std::swap(buffer[i - keep_from], buffer[i]);
    used -= keep_from;
    if (current) current->offset = 0;
  }
  return out;
}

store_size sqlite_store::size() {
  std::lock_guard guard(impl_->mu);
  impl_->check_open();
  return store_size{impl_->last_seq, impl_->last_batch, impl_->last_seq, impl_->definition_count};
}

void sqlite_store::put_definition(const workflow_definition& def) {
  validate_definition(def, "event store");
  const std::string text = bj::serialize(bj::value_from(def));
  if (parse_workflow_json(text, "event store") != def)
    throw std::invalid_argument(fmt::format(
        "workflow '{}': the definition does not survive its JSON form, so it cannot be stored",
        def.id));
  std::lock_guard guard(impl_->mu);
  impl_->guarded(fmt::format("storing the definition of '{}' failed", def.id), [&] {
    impl_->check_open();
    bool known = false;
    {
      reset_guard g{impl_->get_definition};
      impl_->get_definition.bind(1, std::string_view(def.id));
      if (impl_->get_definition.step()) {
        if (impl_->get_definition.text(0) == text) return;   // unchanged: no write, no fsync
        known = true;
      }
    }
    reset_guard g{impl_->put_definition};
    impl_->put_definition.bind(1, std::string_view(def.id));
    impl_->put_definition.bind(2, std::string_view(text));
    impl_->put_definition.bind(3, now_us());
    impl_->put_definition.step();
    if (!known) ++impl_->definition_count;
  });
}

std::vector<workflow_definition> sqlite_store::definitions() {
  std::vector<std::pair<std::string, std::string>> rows;
  {
    std::lock_guard guard(impl_->mu);
    impl_->guarded("reading definitions failed", [&] {
      impl_->check_open();
      reset_guard g{impl_->all_definitions};
      while (impl_->all_definitions.step())
        rows.emplace_back(impl_->all_definitions.text(0), impl_->all_definitions.text(1));
    });
  }
  std::vector<workflow_definition> defs;
  defs.reserve(rows.size());
  for (const auto& [id, json] : rows) {
    try {
      defs.push_back(parse_workflow_json(json, fmt::format("{}: definition '{}'", impl_->path, id)));
    } catch (const definition_error& e) {
      throw store_error(fmt::format("{}: corrupt database (stored definition unreadable: {})",
                                    impl_->path, e.what()));
    }
  }
  return defs;
}

std::optional<workflow_definition> sqlite_store::definition(std::string_view workflow_id) {
  std::optional<std::string> json;
  {
    std::lock_guard guard(impl_->mu);
    impl_->guarded("reading a definition failed", [&] {
      impl_->check_open();
      reset_guard g{impl_->get_definition};
      impl_->get_definition.bind(1, workflow_id);
      if (impl_->get_definition.step()) json.emplace(impl_->get_definition.text(0));
    });
  }
  if (!json) return std::nullopt;
  try {
    return parse_workflow_json(*json, fmt::format("{}: definition '{}'", impl_->path, workflow_id));
  } catch (const definition_error& e) {
    throw store_error(fmt::format("{}: corrupt database (stored definition unreadable: {})",
                                  impl_->path, e.what()));
  }
}

void sqlite_store::flush() {
  std::lock_guard guard(impl_->mu);
  impl_->guarded("flush failed", [&] {
    impl_->check_open();
    // A checkpoint syncs the log first: with synchronous=NORMAL this is what
    // makes earlier commits survive a power loss.
    exec(impl_->db, "PRAGMA wal_checkpoint(PASSIVE)");
  });
}

void sqlite_store::close() {
  std::lock_guard guard(impl_->mu);
  if (!impl_->db) return;
  try {
    impl_->guarded("close failed", [&] { exec(impl_->db, "PRAGMA wal_checkpoint(TRUNCATE)"); });
  } catch (...) {
    impl_->close_connection();
    throw;
  }
  impl_->close_connection();
}

std::string sqlite_store::describe() const { return "sqlite:" + impl_->path; }

const std::string& sqlite_store::path() const noexcept { return impl_->path; }

}  // namespace civicperf
