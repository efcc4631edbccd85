// civicperf-server with its event store, run as a user runs it: every report
// identical after a clean restart; SIGKILL during ingestion loses no
// acknowledged batch and leaves no partial one; bad, busy and foreign
// database files refused with a clear message and left untouched;
// --no-persist, --simulate and --import write no events; the stored workflow
// definitions come back.

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "civicperf/civicperf.hpp"
#include "process_support.hpp"
#include "test_support.hpp"

using namespace civicperf;
using civicperf::server::test::child;
using civicperf::server::test::child_options;
using civicperf::server::test::file_state;
using civicperf::server::test::listing;
using civicperf::server::test::raw_client;
using civicperf::server::test::state_of;
using civicperf::server::test::temp_dir;
namespace bj = boost::json;
namespace fs = std::filesystem;

namespace {

const std::string base = "/api/v1/performance";

/// The real server on a free port with two I/O threads and `args`.
struct server_process {
  explicit server_process(std::vector<std::string> args, child_options options = {})
      : proc(with_port(std::move(args)), std::move(options)), port(proc.wait_listening()) {}

  static std::vector<std::string> with_port(std::vector<std::string> args) {
    args.insert(args.begin(), {"--port", "0", "--threads", "2"});
    return args;
  }
  /// SIGTERM, and the exit code (0 expected).
  int stop() {
    proc.signal(SIGTERM);
    return proc.wait_exit();
  }

  child proc;
  std::uint16_t port;
};

struct answer {
  unsigned status = 0;
  std::string body;
  friend bool operator==(const answer&, const answer&) = default;
};

answer call(std::uint16_t port, std::string_view method, const std::string& target,
            std::string_view body = {}) {
  raw_client c(port);
  const auto res = c.request(method, target, body);
  return {res.result_int(), res.body()};
}

bj::value get_json(std::uint16_t port, const std::string& target) {
  const answer a = call(port, "GET", base + target);
  INFO(target << " -> " << a.status << " " << a.body);
  REQUIRE(a.status == 200);
  return bj::parse(a.body);
}

std::int64_t tracked(std::uint16_t port) {
  return get_json(port, "/health").at("total_tracked_executions").as_int64();
}

std::string events_body(const bj::array& events) {
  return bj::serialize(bj::object{{"events", events}});
}

std::string iso_at(std::int64_t ms) { return server::test::iso(ms); }

// --- a deterministic history over the example workflows ----------------------

/// Cases walk each example workflow from its start step along random edges:
/// approvals arrive pending and are completed later, some steps fail and are
/// retried, some cases stay open; times, queue and validation times and
/// memory vary. Events of a case keep their order; the flat list is cut into
/// batches of varying size, so cases span batches.
std::vector<bj::array> make_history(std::size_t cases_per_workflow, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  bj::array all;
  std::int64_t arrival = 0;
  for (std::size_t c = 0; c < cases_per_workflow; ++c) {
    for (const auto& def : example_workflows()) {
      const std::string instance = fmt::format("{}-case-{}", def.id, c);
      arrival += uniform(1000, 60'000);
      std::int64_t t = arrival;
      std::string step = def.start_steps.front();
      for (int n = 0; n < 40; ++n) {
        const step_definition& s = *def.find_step(step);
        const std::int64_t queued = t;
        const std::int64_t started = queued + uniform(0, 8000);
        const std::int64_t completed = started + uniform(1, s.type == step_type::approval ? 9'000'000 : 20'000);
        const auto event = [&](std::string_view status, std::int64_t q, std::int64_t st,
                               std::int64_t co) {
          bj::object e{{"workflow_id", def.id}, {"instance_id", instance}, {"step_id", s.id},
                       {"status", status},      {"queued_at", iso_at(q)},  {"started_at", iso_at(st)}};
          if (co >= 0) e["completed_at"] = iso_at(co);
          e["validation_duration_ms"] = static_cast<double>(uniform(0, 5000)) / 1000.0;
          e["memory_usage_mb"] = static_cast<double>(uniform(1000, 900'000)) / 1000.0;
          e["executed_by"] = "engine";
          return e;
        };
        if (s.type == step_type::approval) {
          all.push_back(event("pending", queued, started, -1));   // decided below
          all.push_back(event("completed", queued, started, completed));
          t = completed;
        } else if (s.type != step_type::terminal && uniform(0, 9) == 0) {
          bj::object failed = event("failed", queued, started, completed);
          failed["error"] = uniform(0, 1) ? "Timeout calling the registry" : "Invalid document";
          all.push_back(std::move(failed));
          bj::object retry = event("completed", completed, completed + 500, completed + 900);
          retry["retry_count"] = 1;
          all.push_back(std::move(retry));
          t = completed + 900;
        } else {
          all.push_back(event("completed", queued, started, completed));
          t = completed;
        }
        if (s.type == step_type::terminal || uniform(0, 19) == 0) break;   // done, or left open
        std::vector<std::string> successors;
        for (const auto& e : def.edges)
          if (e.from == step) successors.push_back(e.to);
        if (successors.empty()) break;
        step = successors[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(successors.size()) - 1))];
        t += uniform(0, 120'000);
      }
    }
  }
  std::vector<bj::array> batches;
  std::size_t i = 0;
  while (i < all.size()) {
    const auto n = std::min<std::size_t>(all.size() - i, static_cast<std::size_t>(uniform(20, 150)));
    batches.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(i),
                         all.begin() + static_cast<std::ptrdiff_t>(i + n));
    i += n;
  }
  return batches;
}

/// Every report of the API, as (target, answer) pairs in a fixed order.
std::vector<std::pair<std::string, answer>> all_reports(std::uint16_t port,
                                                        const std::vector<std::string>& instances) {
  std::vector<std::string> targets{"/workflows", "/steps", "/health"};
  const bj::value workflows = bj::parse(call(port, "GET", base + "/workflows").body);
  for (const auto& w : workflows.at("workflows").as_array()) {
    const std::string id(w.at("workflow_id").as_string());
    for (const char* report : {"/performance", "/bottlenecks", "/bottlenecks?threshold_ms=1000&min_executions=1",
                               "/timing-analysis", "/timing-analysis?threshold_ms=100"})
      targets.push_back("/workflows/" + id + report);
    const bj::value steps = bj::parse(call(port, "GET", base + "/steps?workflow_id=" + id).body);
    for (const auto& s : steps.at("steps").as_array())
      targets.push_back(fmt::format("/steps/{}/metrics?workflow_id={}",
                                    std::string_view(s.at("step_id").as_string()), id));
    for (const auto& instance : instances)
      if (instance.starts_with(id))
        targets.push_back("/workflows/" + id + "/timing-analysis?instance_id=" + instance);
  }
  std::vector<std::pair<std::string, answer>> out;
  raw_client c(port);
  for (const auto& t : targets) {
    const auto res = c.request("GET", base + t);
    out.emplace_back(t, answer{res.result_int(), res.body()});
  }
  return out;
}

void check_same_reports(const std::vector<std::pair<std::string, answer>>& before,
                        const std::vector<std::pair<std::string, answer>>& after) {
  REQUIRE(before.size() == after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    INFO(before[i].first);
    CHECK(before[i].first == after[i].first);
    CHECK(before[i].second.status == after[i].second.status);
    CHECK(before[i].second.body == after[i].second.body);
  }
}

const std::regex replayed_line(R"(^replayed (\d+) events \((\d+) batches\) from (.+) in [0-9.]+ s)");

/// The groups of the first line of the child's stdout so far that matches
/// `pattern` (the start-up lines are all read once it listens).
std::vector<std::string> output_line(const child& c, const std::regex& pattern) {
  std::size_t begin = 0;
  const std::string& out = c.out();
  while (begin < out.size()) {
    std::size_t end = out.find('\n', begin);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(begin, end - begin);
    std::smatch m;
    if (std::regex_search(line, m, pattern)) return {m.begin(), m.end()};
    begin = end + 1;
  }
  FAIL("no line of stdout matches; stdout:\n" << out);
  return {};
}

/// The replayed line's (events, batches, file).
std::vector<std::string> replayed(const child& c) { return output_line(c, replayed_line); }

}  // namespace

TEST_CASE("durability: every report is identical after a clean restart, twice",
          "[process][durability]") {
  temp_dir dir;
  const std::string db = dir.file("events.db");
  const std::vector<bj::array> history = make_history(25, 20251127);
  REQUIRE(history.size() >= 6);
  std::vector<std::string> instances;
  for (std::size_t c = 0; c < 3; ++c)
    for (const auto& def : example_workflows()) instances.push_back(fmt::format("{}-case-{}", def.id, c));
  instances.push_back("citizen_registration_v1-case-999");   // unknown: 404 both times

  std::int64_t events = 0;
  std::int64_t batches = 0;
  std::vector<std::pair<std::string, answer>> before;
  const std::size_t first_part = history.size() * 2 / 3;
  {
    server_process s({"--db", db});
    CHECK(replayed(s.proc)[1] == "0");
    for (std::size_t b = 0; b < first_part; ++b) {
      const answer a = call(s.port, "POST", base + "/events", events_body(history[b]));
      REQUIRE(a.status == 200);
      CHECK(a.body == fmt::format(R"({{"accepted":{}}})", history[b].size()));
      events += static_cast<std::int64_t>(history[b].size());
      ++batches;
    }
    // Manual executions are recorded results too: kept and replayed.
    const answer manual = call(s.port, "POST", base + "/steps/execute?user_id=clerk",
                               R"({"step_id":"validate_identity","inputs":{"first_name":"Ana",)"
                               R"("last_name":"Ruiz","id_number":"123456789","id_document":"passport"}})");
    REQUIRE(manual.status == 200);
    const answer invalid = call(s.port, "POST", base + "/steps/execute?user_id=clerk",
                                R"({"step_id":"check_duplicates","inputs":{"email":"nope"}})");
    REQUIRE(invalid.status == 200);
    CHECK(bj::parse(invalid.body).at("execution_result").at("status") == "failed");
    events += 2;
    batches += 2;
    // A dry run records nothing.
    REQUIRE(call(s.port, "POST", base + "/steps/execute?user_id=clerk",
                 R"({"step_id":"validate_identity","dry_run":true})").status == 200);
    // A decision completes its pending approval instead of adding an execution.
    std::int64_t pending = 0;
    for (std::size_t b = 0; b < first_part; ++b)
      for (const auto& e : history[b]) pending += e.at("status") == "pending" ? 1 : 0;
    REQUIRE(pending > 0);
    CHECK(tracked(s.port) == events - pending);
    before = all_reports(s.port, instances);
    CHECK(s.stop() == 0);
  }
  CHECK(listing(dir.path) == std::vector<std::string>{"events.db"});   // the -wal is checkpointed away
  {
    server_process s({"--db", db});
    const auto m = replayed(s.proc);
    CHECK(m[1] == std::to_string(events));
    CHECK(m[2] == std::to_string(batches));
    CHECK(m[3] == db);
    check_same_reports(before, all_reports(s.port, instances));
    // Live recording continues where the replay ended.
    for (std::size_t b = first_part; b < history.size(); ++b) {
      REQUIRE(call(s.port, "POST", base + "/events", events_body(history[b])).status == 200);
      events += static_cast<std::int64_t>(history[b].size());
      ++batches;
    }
    before = all_reports(s.port, instances);
    CHECK(s.stop() == 0);
  }
  {
    server_process s({"--db", db});
    const auto m = replayed(s.proc);
    CHECK(m[1] == std::to_string(events));
    CHECK(m[2] == std::to_string(batches));
    check_same_reports(before, all_reports(s.port, instances));
    CHECK(s.stop() == 0);
  }
}

namespace {

constexpr int cases_per_batch = 25;   // two events each: 50 events per batch

/// Batch `n` of client `t` in round `r`: cases r-t-n-0 .. r-t-n-24, each
/// validate_identity then identity_check (left open, so it stays findable).
std::string crash_batch(int r, int t, int n) {
  bj::array events;
  for (int k = 0; k < cases_per_batch; ++k) {
    const std::string instance = fmt::format("r{}-t{}-b{}-c{}", r, t, n, k);
    const std::int64_t ms = (static_cast<std::int64_t>(n) * cases_per_batch + k) * 1000;
    for (int i = 0; i < 2; ++i)
      events.push_back(bj::object{{"workflow_id", "citizen_registration_v1"},
                                  {"instance_id", instance},
                                  {"step_id", i == 0 ? "validate_identity" : "identity_check"},
                                  {"status", "completed"},
                                  {"started_at", iso_at(ms + i * 300)},
                                  {"completed_at", iso_at(ms + i * 300 + 200)}});
  }
  return events_body(events);
}

/// What one streaming client saw. No Catch2 assertions on its thread.
struct stream_log {
  int acknowledged = 0;   ///< batches 0 .. acknowledged-1 were answered 200
  int sent = 0;           ///< batches sent (the last one may be unanswered)
  std::string unexpected; ///< an answer that was not 200 {"accepted":50}
};

/// How many events of a case the server knows: 0 (unknown) or its transitions + 1.
int case_events(std::uint16_t port, const std::string& instance) {
  const answer a = call(port, "GET",
                        base + "/workflows/citizen_registration_v1/timing-analysis?instance_id=" + instance);
  if (a.status == 404) return 0;
  INFO(instance << " -> " << a.body);
  REQUIRE(a.status == 200);
  const bj::value report = bj::parse(a.body);
  int n = 1;
  for (const auto& tr : report.at("step_transitions").as_array()) n += static_cast<int>(tr.at("count").as_int64());
  return n;
}

}  // namespace

TEST_CASE("durability: SIGKILL during ingestion keeps every acknowledged batch, none partial",
          "[process][durability][crash]") {
  temp_dir dir;
  const std::string db = dir.file("crash.db");
  std::mt19937 rng(4242);   // seeded: the same kill moments every run
  constexpr int clients = 2;
  constexpr int rounds = 6;
  std::int64_t expected_total = 0;
  auto s = std::make_unique<server_process>(std::vector<std::string>{"--db", db});
  for (int r = 0; r < rounds; ++r) {
    const int kill_after_ms = std::uniform_int_distribution<int>(5, 300)(rng);
    INFO("round " << r << ", SIGKILL " << kill_after_ms << " ms after the first acknowledgement");
    CHECK(tracked(s->port) == expected_total);

    std::atomic<int> acknowledged{0};
    std::vector<stream_log> logs(clients);
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t)
      threads.emplace_back([&, t] {
        stream_log& log = logs[static_cast<std::size_t>(t)];
        try {
          raw_client c(s->port);
          for (int n = 0;; ++n) {
            const std::string body = crash_batch(r, t, n);
            log.sent = n + 1;
            const auto res = c.request("POST", base + "/events", body);
            if (res.result_int() != 200 || res.body() != R"({"accepted":50})") {
              log.unexpected = std::to_string(res.result_int()) + " " + res.body();
              return;
            }
            log.acknowledged = n + 1;
            acknowledged.fetch_add(1);
          }
        } catch (const std::exception&) {   // the server died: the connection ended
        }
      });
    // Let some batches through first, so every round has acknowledged ones.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (acknowledged.load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));   // the kill moment
    s->proc.signal(SIGKILL);
    for (auto& th : threads) th.join();
    CHECK(s->proc.wait_exit() == -1);

    s = std::make_unique<server_process>(std::vector<std::string>{"--db", db});
    std::int64_t present_batches = 0;
    for (int t = 0; t < clients; ++t) {
      const stream_log& log = logs[static_cast<std::size_t>(t)];
      INFO("client " << t << ": " << log.acknowledged << " acknowledged of " << log.sent << " sent");
      INFO("unexpected answer: " << log.unexpected);
      CHECK(log.unexpected.empty());
      CHECK(log.acknowledged >= 1);
      for (int n = 0; n < log.sent; ++n) {
        INFO("batch " << n);
        // First, middle and last case of the batch: all whole, or all absent.
        const int first = case_events(s->port, fmt::format("r{}-t{}-b{}-c0", r, t, n));
        const int middle = case_events(s->port, fmt::format("r{}-t{}-b{}-c12", r, t, n));
        const int last = case_events(s->port, fmt::format("r{}-t{}-b{}-c24", r, t, n));
        CHECK(first == middle);
        CHECK(first == last);
        CHECK((first == 0 || first == 2));
        if (n < log.acknowledged) CHECK(first == 2);   // acknowledged: must be there
        if (first == 2) ++present_batches;
      }
      // Never sent: absent.
      CHECK(case_events(s->port, fmt::format("r{}-t{}-b{}-c0", r, t, log.sent)) == 0);
    }
    // Exact count: every present batch whole, nothing else stored.
    expected_total += present_batches * cases_per_batch * 2;
    CHECK(tracked(s->port) == expected_total);
  }
  CHECK(s->stop() == 0);
}

namespace {

std::string store_error_of(std::vector<std::string> args, child_options options = {}) {
  args.insert(args.begin(), {"--port", "0"});
  child c(std::move(args), std::move(options));
  const int code = c.wait_exit();
  INFO(c.out() << c.err());
  CHECK(code == 1);
  CHECK(c.out().find("listening") == std::string::npos);
  return c.err();
}

void write_bytes(const std::string& file, std::size_t offset, const std::string& bytes) {
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A store with some history, written by the library directly and closed.
void make_store(const std::string& file, int batches = 10) {
  sqlite_store store(file);
  for (const auto& def : example_workflows()) store.put_definition(def);
  for (int b = 0; b < batches; ++b) {
    std::vector<step_result> batch;
    for (int k = 0; k < 20; ++k) {
      step_result r;
      r.workflow_id = "citizen_registration_v1";
      r.instance_id = fmt::format("b{}-c{}", b, k);
      r.step_id = "validate_identity";
      r.status = step_status::completed;
      r.started_at = server::test::t0() + std::chrono::seconds(b * 100 + k);
      r.completed_at = *r.started_at + std::chrono::milliseconds(250);
      r.execution_duration = std::chrono::milliseconds(250);
      batch.push_back(std::move(r));
    }
    store.append(batch);
  }
  store.close();
}

}  // namespace

TEST_CASE("durability: bad, busy and foreign database files are refused and left untouched",
          "[process][durability]") {
  temp_dir dir;

  SECTION("not a database") {
    const std::string db = dir.file("garbage.db");
    std::ofstream(db, std::ios::binary) << std::string(5000, 'z');
    const file_state before = state_of(db);
    CHECK(store_error_of({"--db", db}) ==
          "civicperf-server: " + db + ": not an SQLite database (corrupt, or another kind of file)\n");
    CHECK(state_of(db) == before);
  }
  SECTION("corrupt pages") {
    const std::string db = dir.file("corrupt.db");
    make_store(db, 200);
    REQUIRE(fs::file_size(db) > 8 * 4096);
    write_bytes(db, 5 * 4096, std::string(4096, '\x01'));
    const file_state before = state_of(db);
    CHECK_THAT(store_error_of({"--db", db}),
               Catch::StartsWith("civicperf-server: " + db + ": corrupt database ("));
    CHECK(state_of(db) == before);
  }
  SECTION("newer schema version") {
    const std::string db = dir.file("newer.db");
    make_store(db);
    sqlite3* handle = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
    CHECK(sqlite3_exec(handle, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(handle);
    const file_state before = state_of(db);
    CHECK(store_error_of({"--db", db}) ==
          "civicperf-server: " + db +
              ": written by a newer civicperf (schema version 99; this build reads up to 1)\n");
    CHECK(state_of(db) == before);
  }
  SECTION("locked by another running server") {
    const std::string db = dir.file("busy.db");
    server_process first({"--db", db});
    REQUIRE(call(first.port, "POST", base + "/events", crash_batch(0, 0, 0)).status == 200);
    const file_state before = state_of(db);
    CHECK(store_error_of({"--db", db}) ==
          "civicperf-server: " + db + ": locked by another process (is another civicperf-server using it?)\n");
    CHECK(state_of(db) == before);
    // The owner carries on.
    CHECK(call(first.port, "POST", base + "/events", crash_batch(0, 0, 1)).status == 200);
    CHECK(tracked(first.port) == 100);
    CHECK(first.stop() == 0);
  }
  SECTION("a directory that does not exist, or a file where the directory should be") {
    CHECK(store_error_of({"--db", dir.file("nope/events.db")}) ==
          "civicperf-server: " + dir.file("nope/events.db") + ": directory '" + dir.file("nope") +
              "' does not exist\n");
    std::ofstream(dir.file("plain")) << "a file";
    CHECK(store_error_of({"--db", dir.file("plain/events.db")}) ==
          "civicperf-server: " + dir.file("plain/events.db") + ": '" + dir.file("plain") +
              "' is not a directory\n");
    CHECK(listing(dir.path) == std::vector<std::string>{"plain"});
  }
  SECTION("unwritable file and directory (as an unprivileged user)") {
    // Root ignores permission bits: run the server as nobody then.
    child_options as_user;
    if (::geteuid() == 0) as_user.uid = 65534;
    const fs::path sub = dir.path / "sub";
    fs::create_directory(sub);
    const std::string readonly = (sub / "readonly.db").string();
    const std::string shared = (sub / "shared.db").string();
    make_store(readonly);
    make_store(shared);
    fs::permissions(readonly, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    fs::permissions(shared, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::group_write | fs::perms::others_read |
                                fs::perms::others_write);
    fs::permissions(sub, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    const file_state readonly_before = state_of(readonly);
    const file_state shared_before = state_of(shared);
    CHECK(store_error_of({"--db", readonly}, as_user) ==
          "civicperf-server: " + readonly + ": not writable (permission denied)\n");
    CHECK(store_error_of({"--db", shared}, as_user) ==
          "civicperf-server: " + shared + ": directory '" + sub.string() +
              "' is not writable (SQLite creates 'shared.db-wal' beside the database)\n");
    const std::string created = (sub / "new.db").string();
    CHECK(store_error_of({"--db", created}, as_user) ==
          "civicperf-server: " + created + ": cannot be created: directory '" + sub.string() +
              "' is not writable\n");
    CHECK(state_of(readonly) == readonly_before);
    CHECK(state_of(shared) == shared_before);
  }
}

TEST_CASE("durability: --no-persist writes no file, the default store is civicperf.db here",
          "[process][durability]") {
  temp_dir cwd;
  child_options here;
  here.working_directory = cwd.path.string();
  {
    server_process s({"--no-persist"}, here);
    (void)output_line(s.proc, std::regex("^--no-persist: recorded events are kept in memory only"));
    REQUIRE(call(s.port, "POST", base + "/events", crash_batch(0, 0, 0)).status == 200);
    CHECK(tracked(s.port) == 50);
    CHECK(s.stop() == 0);
  }
  CHECK(listing(cwd.path).empty());
  {
    server_process s({}, here);
    const auto m = replayed(s.proc);
    CHECK(m[1] == "0");
    CHECK(m[3] == (cwd.path / "civicperf.db").string());
    REQUIRE(call(s.port, "POST", base + "/events", crash_batch(0, 0, 0)).status == 200);
    CHECK(s.stop() == 0);
  }
  CHECK(listing(cwd.path) == std::vector<std::string>{"civicperf.db"});
  {
    server_process s({}, here);
    CHECK(replayed(s.proc)[1] == "50");
    CHECK(tracked(s.port) == 50);
    CHECK(s.stop() == 0);
  }
}

TEST_CASE("durability: --simulate is demonstration data, never stored", "[process][durability]") {
  temp_dir dir;
  const std::string db = dir.file("sim.db");
  const std::vector<std::string> args{"--db", db, "--simulate", "60", "--seed", "7"};
  std::int64_t simulated = 0;
  std::vector<std::pair<std::string, answer>> before;
  {
    server_process s(args);
    CHECK(replayed(s.proc)[1] == "0");
    simulated = tracked(s.port);
    REQUIRE(simulated > 0);
    REQUIRE(call(s.port, "POST", base + "/events", crash_batch(0, 0, 0)).status == 200);
    before = all_reports(s.port, {"r0-t0-b0-c0", "sim-000001"});
    CHECK(s.stop() == 0);
  }
  for (int restart = 0; restart < 2; ++restart) {
    INFO("restart " << restart);
    server_process s(args);
    CHECK(replayed(s.proc)[1] == "50");   // the posted batch only
    CHECK(tracked(s.port) == simulated + 50);                 // not doubled
    // Simulated before the replay, as before: the same reports.
    check_same_reports(before, all_reports(s.port, {"r0-t0-b0-c0", "sim-000001"}));
    CHECK(s.stop() == 0);
  }
}

namespace {

void write_workflow(const fs::path& dir, std::string_view review_type,
                    std::string_view id = "permit_v1") {
  fs::create_directories(dir);
  std::ofstream(dir / "permit.json") << fmt::format(
      R"({{"workflow_id": "{}", "name": "Permit", "start_step": "apply",
  "steps": [{{"id": "apply", "name": "Apply", "type": "action"}},
            {{"id": "review", "name": "Review", "type": "{}"}},
            {{"id": "issued", "name": "Issued", "type": "terminal", "terminal_status": "ISSUED"}}],
  "edges": [{{"from": "apply", "to": "review"}}, {{"from": "review", "to": "issued"}}]}})",
      id, review_type);
}

std::string permit_case(const std::string& instance) {
  bj::array events;
  const char* steps[] = {"apply", "review", "issued"};
  for (int i = 0; i < 3; ++i)
    events.push_back(bj::object{{"workflow_id", "permit_v1"}, {"instance_id", instance},
                                {"step_id", steps[i]}, {"status", "completed"},
                                {"started_at", iso_at(i * 1000)}, {"completed_at", iso_at(i * 1000 + 400)}});
  return events_body(events);
}

}  // namespace

TEST_CASE("durability: stored workflow definitions come back, a changed one is refused",
          "[process][durability]") {
  temp_dir dir;
  const std::string db = dir.file("defs.db");
  write_workflow(dir.path / "v1", "approval");
  write_workflow(dir.path / "v2", "action");
  answer report;
  {
    server_process s({"--db", db, "--workflows", (dir.path / "v1").string()});
    REQUIRE(call(s.port, "POST", base + "/events", permit_case("p-1")).status == 200);
    report = call(s.port, "GET", base + "/workflows/permit_v1/performance");
    CHECK(s.stop() == 0);
  }
  {
    // Without --workflows: the example workflows, and permit_v1 from the store
    // with its history.
    server_process s({"--db", db});
    const auto workflows = get_json(s.port, "/workflows").at("workflows").as_array();
    REQUIRE(workflows.size() == 5);
    CHECK(workflows.at(4).at("workflow_id") == "permit_v1");
    CHECK(call(s.port, "GET", base + "/workflows/permit_v1/performance") == report);
    // Events of the restored workflow are accepted.
    REQUIRE(call(s.port, "POST", base + "/events", permit_case("p-2")).status == 200);
    CHECK(s.stop() == 0);
  }
  {
    // The examples are stored now too: with --workflows v1 they come back after it.
    server_process s({"--db", db, "--workflows", (dir.path / "v1").string()});
    CHECK(get_json(s.port, "/workflows").at("workflows").as_array().size() == 5);
    CHECK(get_json(s.port, "/workflows/permit_v1/performance").at("completed_instances") == 2);
    CHECK(s.stop() == 0);
  }
  const file_state before = state_of(db);
  CHECK(store_error_of({"--db", db, "--workflows", (dir.path / "v2").string()}) ==
        "civicperf-server: workflow 'permit_v1' differs from its definition in sqlite:" + db +
            ": step 2 is 'review' (ActionStep) here but 'review' (ApprovalStep) in the store. Its "
            "stored history was recorded with the stored steps: restore that definition (or give "
            "the changed workflow a new id), or start with another --db\n");
  CHECK(state_of(db) == before);
}

TEST_CASE("durability: imported event logs are neither stored nor writable", "[process][durability]") {
  temp_dir dir;
  const std::string db = dir.file("import.db");
  const std::string log = std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/running-example.csv";
  {
    server_process s({"--db", db, "--import", log, "--workflow-id", "compensation"});
    CHECK(replayed(s.proc)[1] == "0");
    const std::string event =
        R"({"events":[{"workflow_id":"compensation","instance_id":"x","step_id":"decide",)"
        R"("status":"completed","started_at":"2025-07-01T08:00:00Z"}]})";
    const answer refused = call(s.port, "POST", base + "/events", event);
    CHECK(refused.status == 422);
    CHECK(bj::parse(refused.body).at("detail") ==
          "events[0].workflow_id: 'compensation' is imported from an event log (--import) and "
          "accepts no new events");
    CHECK(call(s.port, "POST", base + "/steps/execute?user_id=a",
               R"({"step_id":"decide","workflow_id":"compensation"})").status == 422);
    CHECK(s.stop() == 0);
  }
  {
    server_process s({"--db", db});
    CHECK(replayed(s.proc)[1] == "0");
    CHECK(get_json(s.port, "/workflows").at("workflows").as_array().size() == 4);   // not stored
    CHECK(s.stop() == 0);
  }
  // A stored workflow of that id (with history) and an import of the same id
  // would mix: refused before anything is imported or written.
  write_workflow(dir.path / "defs", "approval", "compensation");
  {
    server_process s({"--db", db, "--workflows", (dir.path / "defs").string()});
    REQUIRE(call(s.port, "POST", base + "/events", R"({"events":[{"workflow_id":"compensation",)"
                 R"("instance_id":"x","step_id":"apply","status":"completed","started_at":"2025-07-01T08:00:00Z"}]})")
                .status == 200);
    CHECK(s.stop() == 0);
  }
  const file_state before = state_of(db);
  const std::string error = store_error_of({"--db", db, "--import", log, "--workflow-id", "compensation"});
  CHECK(error == "civicperf-server: --import: workflow 'compensation' has stored history in sqlite:" +
                     db + ", which the import would be mixed with; name the import otherwise with "
                          "--workflow-id ID\n");
  CHECK(state_of(db) == before);
}

TEST_CASE("durability: stored events of a workflow without a definition are reported, not counted",
          "[process][durability]") {
  temp_dir dir;
  const std::string db = dir.file("ghost.db");
  make_store(db, 2);   // 40 events of citizen_registration_v1, definitions stored
  {
    // Written by an embedding program that never stored this definition.
    sqlite_store store(db);
    std::vector<step_result> batch(3);
    for (auto& r : batch) {
      r.workflow_id = "ghost_v1";
      r.instance_id = "g";
      r.step_id = "haunt";
      r.status = step_status::completed;
      r.started_at = server::test::t0();
    }
    store.append(batch);
    store.close();
  }
  server_process s({"--db", db});
  const auto m = replayed(s.proc);
  CHECK(m[1] == "43");
  CHECK(m[2] == "3");
  CHECK(tracked(s.port) == 40);
  CHECK(s.stop() == 0);
  CHECK_THAT(s.proc.err(),
             Catch::Contains("civicperf-server: warning: 3 of the replayed events name a workflow "
                             "or step that is not defined; they are not counted\n"));
}
