#include "civicperf/sqlite_store.hpp"

#include <catch2/catch.hpp>

#include "file_state.hpp"
#include "step_result_check.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "civicperf/analyzer.hpp"
#include "civicperf/json.hpp"
#include "test_support.hpp"

using namespace civicperf;
using civicperf::test::check_same;
using civicperf::test::file_state;
using civicperf::test::listing;
using civicperf::test::state_of;
using civicperf::test::make_result;
using civicperf::test::make_step;
namespace fs = std::filesystem;

namespace {

// A directory of its own under the system temp dir, removed afterwards.
struct temp_dir {
  fs::path path;
  temp_dir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("civicperf-sqlite-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(path, ec))
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& file, std::size_t offset, const std::string& bytes) {
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::uint32_t read_big_endian(const std::string& bytes, std::size_t offset) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return v;
}

// The message of the store_error an open raises, or "opened".
std::string open_error(const std::string& file, sqlite_store_options o = {}) {
  try {
    sqlite_store s(file, std::move(o));
    return "opened";
  } catch (const store_error& e) {
    return e.what();
  }
}

// Runs `f` as an unprivileged user (root ignores permission bits), in a child
// process when the tests run as root; returns what `f` returned.
template <class F>
std::string unprivileged(F&& f) {
  if (::geteuid() != 0) return f();
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) out = "setuid failed";
    else out = f();
    const ssize_t written = ::write(fds[1], out.data(), out.size());
    ::_exit(written == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  return out;
}


std::vector<std::vector<step_result>> read_batches(event_store& store, std::int64_t from = 1) {
  std::vector<std::vector<step_result>> out;
  store.read(from, [&](const stored_batch& b) {
    out.emplace_back(b.events.begin(), b.events.end());
    return true;
  });
  return out;
}

std::vector<step_result> three(const std::string& instance) {
  return {make_result("w", instance, "a", step_status::completed, 0, 10, 30),
          make_result("w", instance, "b", step_status::pending, 40, 50, -1),
          make_result("w", instance, "b", step_status::completed, 40, 50, 900)};
}

workflow_definition small_workflow() {
  workflow_definition w;
  w.id = "w";
  w.name = "Small";
  w.start_steps = {"a"};
  w.steps = {make_step("a", step_type::action), make_step("b", step_type::approval),
             make_step("c", step_type::terminal, "DONE")};
  w.edges = {{"a", "b", ""}, {"b", "c", ""}};
  return w;
}

// A deterministic history over the example workflows: cases walk from the
// start step along random edges; approvals first arrive pending and are
// completed later; integrations fail and are retried; actions carry memory
// samples (not exactly representable), outputs, and one of 40 error
// messages (more than the monitor's 32 per step); some cases are abandoned;
// a few manual executions. Cut into batches of 1..12, shuffled inside each.
struct history {
  std::vector<std::vector<step_result>> batches;
  std::size_t events = 0;
};

history make_history(const std::vector<workflow_definition>& defs, int cases, std::uint64_t seed) {
  std::uint64_t state = seed;
  const auto below = [&](std::uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::int64_t>((state >> 33) % n);
  };
  struct walk {
    const workflow_definition* def;
    std::string instance;
    std::string step;
    timestamp now;
    bool done = false;
  };
  std::vector<walk> active;
  std::vector<step_result> stream;
  int started = 0;
  const timestamp base = civicperf::test::t0;
  while (started < cases || !active.empty()) {
    if (started < cases && (active.size() < 12 || below(4) == 0)) {
      const auto& def = defs[static_cast<std::size_t>(started) % defs.size()];
      active.push_back(walk{&def, "case-" + std::to_string(started), def.start_steps.front(),
                            base + std::chrono::seconds(37) * started});
      ++started;
      continue;
    }
    const std::size_t k = static_cast<std::size_t>(below(active.size()));
    walk& w = active[k];
    const step_definition& step = *w.def->find_step(w.step);
    step_result r;
    r.workflow_id = w.def->id;
    r.instance_id = w.instance;
    r.step_id = step.id;
    r.execution_environment = "production";
    r.executed_by = "worker-" + std::to_string(below(5));
    r.queued_at = w.now;
    r.started_at = w.now + std::chrono::microseconds(below(8'000'000) + 1);
    const auto exec = std::chrono::microseconds(below(20'000'000) + 7);
    if (step.type == step_type::approval) {
      r.status = step_status::pending;
      stream.push_back(r);
      r.completed_at = *r.started_at + exec * 40;
      r.status = step_status::completed;
    } else if (step.type == step_type::integration && below(3) == 0) {
      step_result failed = r;
      failed.status = step_status::failed;
      failed.completed_at = *r.started_at + exec;
      failed.error = "External service timeout";
      stream.push_back(failed);
      r.queued_at = *failed.completed_at;
      r.started_at = *failed.completed_at + std::chrono::microseconds(below(100'000));
      r.retry_count = 1;
      r.completed_at = *r.started_at + exec;
      r.status = step_status::completed;
    } else {
      r.completed_at = *r.started_at + exec;
      r.validation_duration = std::chrono::microseconds(below(3000));
      r.memory_usage_mb = 5.0 + static_cast<double>(below(1000)) / 10.0;
      r.status = step_status::completed;
      if (step.type == step_type::action && below(10) == 0) {
        r.status = step_status::failed;
        r.error = "Validation failed: rule " + std::to_string(below(40));
        if (below(2) == 0) r.blocking_dependencies = {"document_" + std::to_string(below(3))};
      }
      if (below(3) == 0)
        r.outputs = value::make_object({{"score", static_cast<double>(below(1000)) / 7.0},
                                        {"ok", below(2) == 0}});
    }
    stream.push_back(r);
    if (below(40) == 0) {   // a manual execution of the same step
      step_result m = r;
      m.instance_id.clear();
      m.execution_environment = "manual";
      stream.push_back(m);
    }
    w.now = *r.completed_at;
    std::vector<const edge_definition*> next;
    for (const auto& e : w.def->edges)
      if (e.from == step.id) next.push_back(&e);
    if (next.empty() || below(30) == 0) {   // terminal, or abandoned
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(k));
      continue;
    }
    if (step.type == step_type::action && r.status == step_status::failed) continue;   // rework
    w.step = next[static_cast<std::size_t>(below(next.size()))]->to;
  }
  history h;
  h.events = stream.size();
  for (std::size_t i = 0; i < stream.size();) {
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(below(12) + 1), stream.size() - i);
    std::vector<step_result> b(stream.begin() + static_cast<std::ptrdiff_t>(i),
                               stream.begin() + static_cast<std::ptrdiff_t>(i + n));
    for (std::size_t j = b.size(); j > 1; --j)
      std::swap(b[j - 1], b[static_cast<std::size_t>(below(j))]);
    h.batches.push_back(std::move(b));
    i += n;
  }
  return h;
}

// Every report the API serves for these workflows, serialized.
std::string all_reports(const performance_monitor& m, const std::vector<workflow_definition>& defs,
                        const std::vector<std::string>& instances) {
  std::string out;
  const auto add = [&](const auto& report) {
    out += to_json_text(boost::json::value_from(report));
    out += '\n';
  };
  for (const auto& def : defs) {
    const auto snap = m.snapshot(def.id);
    REQUIRE(snap);
    add(analyze_workflow(*snap, def));
    add(analyze_bottlenecks(*snap, def, 5000, 10));
    add(analyze_bottlenecks(*snap, def, 100, 1));
    add(analyze_timing(*snap, def, 5000));
    for (const auto& s : snap->steps) add(analyze_step(s, *def.find_step(s.step_id)));
    for (const auto& id : instances)
      if (auto inst = m.instance(def.id, id)) add(analyze_instance_timing(*inst, def, 5000));
  }
  add(analyze_health(m.totals()));
  return out;
}

std::vector<std::string> some_instances() {
  std::vector<std::string> ids;
  for (int i = 0; i < 400; i += 7) ids.push_back("case-" + std::to_string(i));
  return ids;
}

}  // namespace

TEST_CASE("sqlite store: every field of a result reads back equal, across a reopen",
          "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");

  static constexpr char odd_text[] = "nul\0inside and \xff\xfe not UTF-8";
  step_result full = make_result("w", "case-ü-1", "b", step_status::failed, -5000, 250, 1250);
  full.outputs = value::make_object(
      {{"ok", false},
       {"n", 2},
       {"x", 2.0},
       {"big", value(std::numeric_limits<long long>::max())},
       {"tiny", 1e-300},
       {"text", std::string(odd_text, sizeof odd_text - 1)},
       {"list", value::make_array({1, "two", value(), value::make_object({{"deep", 3.25}})})}});
  full.error = "approver unavailable: \"quoted\"\n";
  full.execution_duration = std::chrono::milliseconds(-3);
  full.queue_time = std::chrono::microseconds(250'001);
  full.validation_duration = std::chrono::microseconds(0);
  full.retry_count = -1;
  full.memory_usage_mb = 12.3;
  full.executed_by = "clerk-7";
  full.execution_environment = "production";
  full.step_version = "2.1";
  full.waiting_for_approval = false;
  full.waiting_for_external_service = true;
  full.blocking_dependencies = {"id_document", "", "proof \"of\" address"};

  step_result minimal;
  minimal.workflow_id = "w";
  minimal.step_id = "a";
  minimal.retry_count = std::numeric_limits<std::int32_t>::max();

  step_result odd = make_result("w2", "", "a", step_status::skipped, 0, 0, 0);
  odd.error = "";
  odd.memory_usage_mb = std::numeric_limits<double>::infinity();
  odd.outputs = value::make_object();
  odd.execution_environment = "manual";
  odd.waiting_for_approval = true;
  odd.waiting_for_external_service = false;

  step_result nan = minimal;
  nan.memory_usage_mb = std::nan("");

  const std::vector<step_result> batch{full, minimal, odd};
  {
    sqlite_store store(file);
    CHECK(store.describe() == "sqlite:" + file);
    CHECK(store.path() == file);
    CHECK(store.append(batch) == append_receipt{1, 1, 3});
    CHECK(store.append(std::span(&nan, 1)) == append_receipt{2, 4, 1});
    const auto now = read_batches(store);
    REQUIRE(now.size() == 2);
    REQUIRE(now[0].size() == 3);
    for (std::size_t i = 0; i < batch.size(); ++i) check_same(now[0][i], batch[i]);
  }
  sqlite_store store(file);
  CHECK(store.size() == store_size{4, 2, 4, 0});
  const auto again = read_batches(store);
  REQUIRE(again.size() == 2);
  REQUIRE(again[0].size() == 3);
  for (std::size_t i = 0; i < batch.size(); ++i) check_same(again[0][i], batch[i]);
  REQUIRE(again[1].size() == 1);
  REQUIRE(again[1][0].memory_usage_mb);
  CHECK(std::isnan(*again[1][0].memory_usage_mb));
}

TEST_CASE("sqlite store: batches come back whole however the reads are chunked", "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");
  const std::vector<std::size_t> sizes{1, 5, 2, 7, 1, 1, 3};
  {
    sqlite_store store(file);
    int n = 0;
    for (std::size_t size : sizes) {
      std::vector<step_result> b;
      for (std::size_t i = 0; i < size; ++i)
        b.push_back(make_result("w", "i" + std::to_string(n++), "a", step_status::completed, 0, 1, 2));
      store.append(b);
    }
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{8192}}) {
    sqlite_store_options o;
    o.read_chunk_events = chunk;
    sqlite_store store(file, o);
    std::vector<std::int64_t> firsts, ids;
    std::vector<std::size_t> got;
    std::int64_t n = 0;
    const read_summary r = store.read(1, [&](const stored_batch& b) {
      firsts.push_back(b.first_seq);
      ids.push_back(b.batch_id);
      got.push_back(b.events.size());
      for (const auto& e : b.events) CHECK(e.instance_id == "i" + std::to_string(n++));
      return true;
    });
    CHECK(got == sizes);
    CHECK(firsts == std::vector<std::int64_t>{1, 2, 7, 9, 16, 17, 18});
    CHECK(ids == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7});
    CHECK(r.events == 20);
    CHECK(r.next_seq == 21);
    CHECK_FALSE(r.stopped);

    // From inside a batch: its tail, then the rest.
    std::vector<std::pair<std::int64_t, std::size_t>> tail;
    store.read(4, [&](const stored_batch& b) {
      tail.emplace_back(b.first_seq, b.events.size());
      return b.first_seq < 9;
    });
    CHECK(tail == std::vector<std::pair<std::int64_t, std::size_t>>{{4, 3}, {7, 2}, {9, 7}});
    CHECK(read_batches(store, 21).empty());
  }
}

TEST_CASE("sqlite store: an append that fails midway leaves nothing, before or after a reopen",
          "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");
  sqlite_store_options o;
  o.before_event = [](std::int64_t seq, const step_result& r) {
    if (r.step_id == "boom") throw std::runtime_error("injected at " + std::to_string(seq));
  };
  const auto good = three("c1");
  {
    sqlite_store store(file, o);
    store.append(good);
    // The failing group introduces new names (workflow, instance, strings) that
    // are rolled back with it and must not be remembered.
    auto fresh = three("new-case");
    for (auto& e : fresh) {
      e.workflow_id = "w-new";
      e.executed_by = "new clerk";
    }
    auto bad = three("c2");
    bad[2].step_id = "boom";
    const std::span<const step_result> group[] = {fresh, bad};
    CHECK_THROWS_MATCHES(store.append_group(group), store_error,
                         Catch::Matchers::Message(file + ": append failed: injected at 9"));
    CHECK(store.size() == store_size{3, 1, 3, 0});
    CHECK(read_batches(store).size() == 1);
    CHECK(store.append(fresh) == append_receipt{2, 4, 3});   // no gap, names interned again
    const auto back = read_batches(store);
    REQUIRE(back.size() == 2);
    for (std::size_t i = 0; i < 3; ++i) check_same(back[1][i], fresh[i]);
  }
  sqlite_store store(file);
  CHECK(store.size() == store_size{6, 2, 6, 0});
  const auto back = read_batches(store);
  REQUIRE(back.size() == 2);
  CHECK(back[1][0].workflow_id == "w-new");
  CHECK(back[1][0].executed_by == "new clerk");
}

TEST_CASE("sqlite store: definitions are kept in first-stored order", "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");
  const auto& examples = example_workflows();
  {
    sqlite_store store(file);
    for (const auto& def : examples) store.put_definition(def);
    store.put_definition(examples.front());   // unchanged: no new row
    workflow_definition renamed = examples[1];
    renamed.name = "Renamed";
    store.put_definition(renamed);
    workflow_definition broken = small_workflow();
    broken.start_steps = {"missing"};
    CHECK_THROWS_AS(store.put_definition(broken), definition_error);
    CHECK(store.size().definitions == static_cast<std::int64_t>(examples.size()));
  }
  sqlite_store store(file);
  const auto defs = store.definitions();
  REQUIRE(defs.size() == examples.size());
  for (std::size_t i = 0; i < defs.size(); ++i) {
    workflow_definition expected = examples[i];
    if (i == 1) expected.name = "Renamed";
    CHECK(defs[i] == expected);
  }
  CHECK(store.definition(examples[2].id) == examples[2]);
  CHECK_FALSE(store.definition("unknown"));
  CHECK(store.size().definitions == static_cast<std::int64_t>(examples.size()));
}

TEST_CASE("sqlite store: schema version, application id and migrations on a new file",
          "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");
  { sqlite_store store(file); }
  CHECK(listing(dir.path) == std::vector<std::string>{"events.db"});   // no -wal after close
  const std::string bytes = state_of(file).bytes;
  REQUIRE(bytes.size() >= 100);
  CHECK(bytes.substr(0, 16) == std::string("SQLite format 3\0", 16));
  CHECK(read_big_endian(bytes, 60) == 1);            // user_version
  CHECK(read_big_endian(bytes, 68) == 0x43565046);   // application_id 'CVPF'
  sqlite_store again(file);
  CHECK(again.size() == store_size{});
}

TEST_CASE("sqlite store: an empty file becomes a store, a missing one only when allowed",
          "[sqlite_store]") {
  temp_dir dir;
  const std::string empty = dir.file("empty.db");
  std::ofstream(empty).close();
  CHECK(open_error(empty) == "opened");
  sqlite_store_options o;
  o.create_if_missing = false;
  const std::string missing = dir.file("missing.db");
  CHECK(open_error(missing, o) == missing + ": does not exist");
  CHECK_FALSE(fs::exists(missing));
  CHECK(open_error("") == "event store: the database path is empty");
}

TEST_CASE("sqlite store: rejected files are left exactly as they were", "[sqlite_store]") {
  temp_dir dir;

  SECTION("not a database") {
    const std::string file = dir.file("garbage.db");
    std::ofstream(file, std::ios::binary) << std::string(3000, '\x5a') << "not sqlite";
    const file_state before = state_of(file);
    CHECK(open_error(file) == file + ": not an SQLite database (corrupt, or another kind of file)");
    CHECK(state_of(file) == before);
  }
  SECTION("corrupt pages") {
    const std::string file = dir.file("corrupt.db");
    {
      sqlite_store store(file);
      for (int i = 0; i < 200; ++i) store.append(three("case-" + std::to_string(i)));
    }
    const auto size = fs::file_size(file);
    REQUIRE(size > 5 * 4096);
    write_bytes(file, 4 * 4096, std::string(4096, '\x01'));
    const file_state before = state_of(file);
    const std::string error = open_error(file);
    CHECK_THAT(error, Catch::Matchers::StartsWith(file + ": corrupt database ("));
    CHECK(state_of(file) == before);
  }
  SECTION("newer schema version") {
    const std::string file = dir.file("newer.db");
    { sqlite_store store(file); }
    write_bytes(file, 60, big_endian(99));
    const file_state before = state_of(file);
    CHECK(open_error(file) ==
          file + ": written by a newer civicperf (schema version 99; this build reads up to 1)");
    CHECK(state_of(file) == before);
  }
  SECTION("another application's database") {
    const std::string file = dir.file("foreign.db");
    { sqlite_store store(file); }
    write_bytes(file, 68, big_endian(0x01020304));
    const file_state before = state_of(file);
    CHECK(open_error(file) ==
          file + ": not a civicperf event store (an SQLite database with application_id "
                 "16909060, user_version 1 and 14 schema objects)");
    CHECK(state_of(file) == before);
  }
  SECTION("locked by another store in this process") {
    const std::string file = dir.file("locked.db");
    sqlite_store first(file);
    first.append(three("c1"));
    const file_state before = state_of(file);
    CHECK(open_error(file) ==
          file + ": locked by another process (is another civicperf-server using it?)");
    CHECK(state_of(file) == before);
    CHECK(first.append(three("c2")) == append_receipt{2, 4, 3});   // the owner carries on
  }
  SECTION("locked by another process") {
    const std::string file = dir.file("locked.db");
    // The child is forked before the store opens, so it shares no SQLite state
    // with it; it tries once the parent holds the file. Only the child reads
    // the file: closing any descriptor of a file drops the POSIX locks this
    // process holds on it, the store's included.
    int go[2];
    REQUIRE(::pipe(go) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(go[1]);
      char c = 0;
      if (::read(go[0], &c, 1) != 1) ::_exit(2);
      const file_state before = state_of(file);
      const std::string error = open_error(file);
      if (error != file + ": locked by another process (is another civicperf-server using it?)") {
        std::fprintf(stderr, "child: %s\n", error.c_str());
        ::_exit(1);
      }
      ::_exit(state_of(file) == before ? 0 : 3);
    }
    ::close(go[0]);
    sqlite_store first(file);
    first.append(three("c1"));
    REQUIRE(::write(go[1], "x", 1) == 1);
    ::close(go[1]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(first.append(three("c2")) == append_receipt{2, 4, 3});
  }
  SECTION("missing directory") {
    const std::string file = dir.file("nope/events.db");
    CHECK(open_error(file) == file + ": directory '" + dir.file("nope") + "' does not exist");
    CHECK(listing(dir.path).empty());
  }
  SECTION("unwritable file") {
    const std::string file = dir.file("readonly.db");
    { sqlite_store store(file); }
    fs::permissions(file, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    const file_state before = state_of(file);
    CHECK(unprivileged([&] { return open_error(file); }) ==
          file + ": not writable (permission denied)");
    CHECK(state_of(file) == before);
  }
  SECTION("unwritable directory") {
    const fs::path sub = dir.path / "sub";
    fs::create_directory(sub);
    const std::string file = (sub / "events.db").string();
    { sqlite_store store(file); }
    fs::permissions(file, fs::perms::all & ~fs::perms::owner_exec & ~fs::perms::group_exec &
                              ~fs::perms::others_exec);
    fs::permissions(sub, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    const file_state before = state_of(file);
    CHECK(unprivileged([&] { return open_error(file); }) ==
          file + ": directory '" + sub.string() +
              "' is not writable (SQLite creates 'events.db-wal' beside the database)");
    const std::string created = (sub / "new.db").string();
    CHECK(unprivileged([&] { return open_error(created); }) ==
          created + ": cannot be created: directory '" + sub.string() + "' is not writable");
    CHECK(state_of(file) == before);
  }
}

TEST_CASE("sqlite store: a closed store refuses every call", "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");
  sqlite_store store(file);
  store.close();
  store.close();
  CHECK_THROWS_MATCHES(store.append(three("c1")), store_error,
                       Catch::Matchers::Message(file + ": the event store is closed"));
  CHECK_THROWS_AS(store.size(), store_error);
  CHECK_THROWS_AS(store.definitions(), store_error);
  CHECK(open_error(file) == "opened");   // the lock is released
}

TEST_CASE("sqlite store: reports after a restart equal the reports before it, byte for byte",
          "[sqlite_store][replay]") {
  temp_dir dir;
  const std::string file = dir.file("civicperf.db");
  const auto& defs = example_workflows();
  const history h = make_history(defs, 400, 7);
  const auto instances = some_instances();
  monitor_options mo;
  mo.max_open_instances = 64;   // small: evictions happen and depend on the order
  mo.recent_instances = 50;

  std::string before;
  std::vector<workflow_snapshot> snapshot_before;
  std::vector<std::optional<instance_snapshot>> cases_before;
  {
    sqlite_store store(file);
    performance_monitor live(mo);
    durable_recorder recorder(live, store);
    for (const auto& def : defs) recorder.add_workflow(def);
    for (std::size_t i = 0; i < h.batches.size(); ++i) {
      if (i % 3 == 0) REQUIRE(recorder.post(h.batches[i]));
      else recorder.record(h.batches[i]);
    }
    recorder.close();
    CHECK(recorder.stats().committed_events == static_cast<std::int64_t>(h.events));
    before = all_reports(live, defs, instances);
    snapshot_before = live.snapshot();
    for (const auto& def : defs)
      for (const auto& id : instances) cases_before.push_back(live.instance(def.id, id));
    CHECK(std::count_if(cases_before.begin(), cases_before.end(),
                        [](const auto& c) { return c.has_value(); }) > 10);
    CHECK(live.totals().rejected == 0);
  }
  sqlite_store store(file);
  performance_monitor rebuilt(mo);
  const auto stored_defs = store.definitions();
  CHECK(stored_defs == defs);
  for (const auto& def : stored_defs) rebuilt.add_workflow(def);
  const replay_summary s = replay(store, rebuilt);
  CHECK(s.events == static_cast<std::int64_t>(h.events));
  CHECK(s.batches == static_cast<std::int64_t>(h.batches.size()));
  CHECK(s.rejected == 0);
  CHECK(rebuilt.snapshot() == snapshot_before);
  std::vector<std::optional<instance_snapshot>> cases_after;
  for (const auto& def : defs)
    for (const auto& id : instances) cases_after.push_back(rebuilt.instance(def.id, id));
  CHECK(cases_after == cases_before);
  CHECK(all_reports(rebuilt, defs, instances) == before);
}

TEST_CASE("sqlite store: two restarts with live recording in between, recorder replay",
          "[sqlite_store][replay][concurrency]") {
  temp_dir dir;
  const std::string file = dir.file("civicperf.db");
  const auto& defs = example_workflows();
  const history h = make_history(defs, 300, 11);
  const auto instances = some_instances();
  const std::size_t half = h.batches.size() / 2;

  // Process 1 records the first half from two threads.
  {
    sqlite_store store(file);
    performance_monitor monitor;
    durable_recorder recorder(monitor, store);
    for (const auto& def : defs) recorder.add_workflow(def);
    std::thread other([&] {
      for (std::size_t i = 1; i < half; i += 2) recorder.record(h.batches[i]);
    });
    for (std::size_t i = 0; i < half; i += 2) recorder.record(h.batches[i]);
    other.join();
  }
  // Process 2 replays, then records the second half.
  std::string before;
  {
    sqlite_store store(file);
    performance_monitor monitor;
    durable_recorder recorder(monitor, store);
    for (const auto& def : store.definitions()) recorder.add_workflow(def);
    const replay_summary s = recorder.replay();
    CHECK(s.batches == static_cast<std::int64_t>(half));
    for (std::size_t i = half; i < h.batches.size(); ++i) recorder.record(h.batches[i]);
    recorder.close();
    before = all_reports(monitor, defs, instances);
  }
  // Process 3 replays everything.
  sqlite_store store(file);
  performance_monitor monitor;
  durable_recorder recorder(monitor, store);
  for (const auto& def : store.definitions()) recorder.add_workflow(def);
  const replay_summary s = recorder.replay();
  CHECK(s.events == static_cast<std::int64_t>(h.events));
  CHECK(all_reports(monitor, defs, instances) == before);
}

TEST_CASE("sqlite store: concurrent recorders, group commit, every batch whole after reopen",
          "[sqlite_store][concurrency]") {
  temp_dir dir;
  const std::string file = dir.file("civicperf.db");
  constexpr int threads = 4;
  constexpr int batches_per_thread = 60;
  const auto batch_size = [](int t, int i) { return static_cast<std::size_t>(1 + (i * 7 + t) % 13); };
  std::size_t expected_events = 0;
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < batches_per_thread; ++i) expected_events += batch_size(t, i);
  {
    sqlite_store store(file);
    performance_monitor monitor;
    durable_recorder recorder(monitor, store);
    recorder.add_workflow(small_workflow());
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int i = 0; i < batches_per_thread; ++i) {
          std::vector<step_result> b;
          for (std::size_t k = 0; k < batch_size(t, i); ++k) {
            step_result r = make_result("w", "t" + std::to_string(t) + "-" + std::to_string(i), "a",
                                        step_status::completed, 0, 1, 2);
            r.step_version = std::to_string(k);
            b.push_back(std::move(r));
          }
          if (i % 4 != 3) recorder.record(b);
          else if (!recorder.post(std::move(b))) ++refused;   // Catch2 asserts on the main thread only
        }
      });
    for (auto& th : pool) th.join();
    CHECK(refused == 0);
    recorder.close();
    const recorder_stats st = recorder.stats();
    CHECK(st.committed_batches == threads * batches_per_thread);
    CHECK(st.committed_events == static_cast<std::int64_t>(expected_events));
    CHECK(st.transactions <= st.committed_batches);
    CHECK(st.failed_batches == 0);
    CHECK(monitor.totals().total_executions == static_cast<std::int64_t>(expected_events));
  }
  sqlite_store store(file);
  CHECK(store.size() == store_size{static_cast<std::int64_t>(expected_events), threads * batches_per_thread,
                                   static_cast<std::int64_t>(expected_events), 1});
  std::map<std::string, std::size_t> seen;
  store.read(1, [&](const stored_batch& b) {
    const std::string& owner = b.events.front().instance_id;
    CHECK(seen.count(owner) == 0);
    for (std::size_t k = 0; k < b.events.size(); ++k) {
      CHECK(b.events[k].instance_id == owner);
      CHECK(b.events[k].step_version == std::to_string(k));
    }
    seen[owner] = b.events.size();
    return true;
  });
  REQUIRE(seen.size() == static_cast<std::size_t>(threads * batches_per_thread));
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < batches_per_thread; ++i)
      CHECK(seen["t" + std::to_string(t) + "-" + std::to_string(i)] == batch_size(t, i));
}

TEST_CASE("sqlite store: synchronous=NORMAL stores the same, flush checkpoints", "[sqlite_store]") {
  temp_dir dir;
  const std::string file = dir.file("events.db");
  sqlite_store_options o;
  o.synchronous = sqlite_sync::normal;
  {
    sqlite_store store(file, o);
    store.append(three("c1"));
    store.flush();
    store.append(three("c2"));
  }
  sqlite_store store(file);
  CHECK(store.size().events == 6);
}

TEST_CASE("sqlite store: SIGKILL during ingestion loses no acknowledged batch, leaves no partial one",
          "[sqlite_store][crash]") {
  const auto batch_size = [](int i) { return static_cast<std::size_t>(1 + (i * 37) % 200); };
  for (const int kill_after : {3, 20, 45}) {
    temp_dir dir;
    const std::string file = dir.file("crash.db");
    int acks[2];
    REQUIRE(::pipe(acks) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {   // the ingesting process: acknowledges each batch once record() returned
      ::close(acks[0]);
      try {
        sqlite_store store(file);
        performance_monitor monitor;
        durable_recorder recorder(monitor, store);
        recorder.add_workflow(small_workflow());
        for (int i = 0;; ++i) {
          std::vector<step_result> b;
          for (std::size_t k = 0; k < batch_size(i); ++k) {
            step_result r = make_result("w", "b" + std::to_string(i), "a", step_status::completed,
                                        0, 1, 2);
            r.step_version = std::to_string(k);
            b.push_back(std::move(r));
          }
          recorder.record(b);
          if (::write(acks[1], &i, sizeof i) != static_cast<ssize_t>(sizeof i)) ::_exit(2);
        }
      } catch (...) {
        ::_exit(1);
      }
    }
    ::close(acks[1]);
    int acknowledged = -1;
    int v = 0;
    while (acknowledged + 1 < kill_after && ::read(acks[0], &v, sizeof v) == sizeof v) acknowledged = v;
    ::kill(pid, SIGKILL);
    while (::read(acks[0], &v, sizeof v) == sizeof v) acknowledged = v;   // sent before it died
    ::close(acks[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    REQUIRE(acknowledged + 1 >= kill_after);

    sqlite_store store(file);
    int batches = 0;
    std::int64_t events = 0;
    store.read(1, [&](const stored_batch& b) {
      CHECK(b.events.size() == batch_size(batches));   // whole
      for (std::size_t k = 0; k < b.events.size(); ++k) {
        CHECK(b.events[k].instance_id == "b" + std::to_string(batches));   // in order
        CHECK(b.events[k].step_version == std::to_string(k));
      }
      events += static_cast<std::int64_t>(b.events.size());
      ++batches;
      return true;
    });
    CHECK(batches >= acknowledged + 1);   // nothing acknowledged is lost
    CHECK(batches <= acknowledged + 2);   // at most the one committed but not yet acknowledged
    CHECK(store.size().events == events);
    CHECK(store.definitions() == std::vector<workflow_definition>{small_workflow()});
    store.close();
    CHECK(listing(dir.path) == std::vector<std::string>{"crash.db"});
  }
}
