#include "civicperf/event_store.hpp"

#include <catch2/catch.hpp>

#include "step_result_check.hpp"

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace civicperf;
using civicperf::test::at_ms;
using civicperf::test::check_same;
using civicperf::test::make_result;
using civicperf::test::make_step;

namespace {

// a (action) -> b (approval) -> c (terminal DONE)
workflow_definition small_workflow(std::string id = "w") {
  workflow_definition w;
  w.id = std::move(id);
  w.name = "Small";
  w.start_steps = {"a"};
  w.steps = {make_step("a", step_type::action), make_step("b", step_type::approval),
             make_step("c", step_type::terminal, "DONE")};
  w.edges = {{"a", "b", ""}, {"b", "c", ""}};
  return w;
}

step_result full_result() {
  step_result r = make_result("w", "case-1", "b", step_status::failed, 0, 250, 1250);
  r.outputs = value::make_object({{"ok", false}, {"n", 2}, {"x", 2.0}, {"list", value::make_array({1, "two"})}});
  r.error = "approver unavailable";
  r.execution_duration = std::chrono::milliseconds(999);
  r.queue_time = std::chrono::microseconds(250'001);
  r.validation_duration = std::chrono::microseconds(17);
  r.retry_count = 3;
  r.memory_usage_mb = 12.3;
  r.executed_by = "clerk-7";
  r.execution_environment = "production";
  r.step_version = "2.1";
  r.waiting_for_approval = true;
  r.waiting_for_external_service = false;
  r.blocking_dependencies = {"id_document", "proof_of_address"};
  return r;
}


struct read_batch {
  std::int64_t batch_id = 0;
  std::int64_t first_seq = 0;
  std::vector<step_result> events;
};

std::vector<read_batch> read_all(event_store& store, std::int64_t from = 1) {
  std::vector<read_batch> out;
  store.read(from, [&](const stored_batch& b) {
    out.push_back(read_batch{b.batch_id, b.first_seq, {b.events.begin(), b.events.end()}});
    return true;
  });
  return out;
}

// One case of the small workflow, its three steps in started_at order.
std::vector<step_result> one_case(const std::string& instance, std::int64_t base_ms) {
  return {make_result("w", instance, "a", step_status::completed, base_ms, base_ms + 10, base_ms + 30),
          make_result("w", instance, "b", step_status::completed, base_ms + 40, base_ms + 50,
                      base_ms + 500),
          make_result("w", instance, "c", step_status::completed, base_ms + 510, base_ms + 520,
                      base_ms + 525)};
}

// Lets a test hold the writer thread inside an append until it says go.
struct gate {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool open = false;
  void wait_here() {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void wait_entered() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("memory store: every field of a result reads back equal", "[event_store]") {
  memory_store store;
  step_result minimal;
  minimal.workflow_id = "w";
  minimal.step_id = "a";
  step_result empty_error = make_result("w", "case-2", "a", step_status::failed, 5, 6, -1);
  empty_error.error = "";
  const std::vector<step_result> batch{full_result(), minimal, empty_error};
  const append_receipt receipt = store.append(batch);
  CHECK(receipt == append_receipt{1, 1, 3});

  const auto batches = read_all(store);
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].batch_id == 1);
  CHECK(batches[0].first_seq == 1);
  REQUIRE(batches[0].events.size() == 3);
  for (std::size_t i = 0; i < batch.size(); ++i) check_same(batches[0].events[i], batch[i]);
  CHECK(store.size() == store_size{3, 1, 3, 0});
}

TEST_CASE("memory store: sequence numbers, batch boundaries, reading from the middle",
          "[event_store]") {
  memory_store store;
  const auto c1 = one_case("c1", 0);
  const auto c2 = one_case("c2", 1000);
  CHECK(store.append(c1) == append_receipt{1, 1, 3});
  CHECK(store.append(std::span<const step_result>{}) == append_receipt{0, 4, 0});
  const std::span<const step_result> group[] = {std::span(c2).first(1), std::span(c2).subspan(1)};
  const auto receipts = store.append_group(group);
  REQUIRE(receipts.size() == 2);
  CHECK(receipts[0] == append_receipt{2, 4, 1});
  CHECK(receipts[1] == append_receipt{3, 5, 2});
  CHECK(store.size() == store_size{6, 3, 6, 0});

  auto all = read_all(store);
  REQUIRE(all.size() == 3);
  CHECK(all[0].events.size() == 3);
  CHECK(all[1].first_seq == 4);
  CHECK(all[1].events.size() == 1);
  CHECK(all[2].first_seq == 5);
  CHECK(all[2].events[1].step_id == "c");

  auto tail = read_all(store, 2);   // inside the first batch: its tail
  REQUIRE(tail.size() == 3);
  CHECK(tail[0].batch_id == 1);
  CHECK(tail[0].first_seq == 2);
  REQUIRE(tail[0].events.size() == 2);
  CHECK(tail[0].events[0].step_id == "b");

  CHECK(read_all(store, 7).empty());

  int seen = 0;
  const read_summary stopped = store.read(1, [&](const stored_batch&) { return ++seen < 2; });
  CHECK(seen == 2);
  CHECK(stopped.stopped);
  CHECK(stopped.batches == 2);
  CHECK(stopped.events == 4);
  CHECK(stopped.next_seq == 5);
}

TEST_CASE("memory store: an append that fails midway leaves nothing", "[event_store]") {
  memory_store_options o;
  o.before_event = [](std::int64_t seq, const step_result& r) {
    if (r.step_id == "boom") throw std::runtime_error("injected at " + std::to_string(seq));
  };
  memory_store store(o);
  const auto good = one_case("c1", 0);
  store.append(good);
  auto bad = one_case("c2", 1000);
  bad[1].step_id = "boom";
  const std::span<const step_result> group[] = {good, bad};
  CHECK_THROWS_MATCHES(store.append_group(group), store_error,
                       Catch::Matchers::Message("memory: append failed: injected at 8"));
  CHECK(store.size() == store_size{3, 1, 3, 0});
  CHECK(read_all(store).size() == 1);
  CHECK(store.append(good) == append_receipt{2, 4, 3});   // numbering continues without a gap
}

TEST_CASE("memory store without retained events keeps counts and definitions only",
          "[event_store]") {
  memory_store_options o;
  o.retain_events = false;
  memory_store store(o);
  const auto c1 = one_case("c1", 0);
  CHECK(store.append(c1) == append_receipt{1, 1, 3});
  CHECK(store.append(c1) == append_receipt{2, 4, 3});
  store.put_definition(small_workflow());
  CHECK(store.size() == store_size{6, 2, 6, 1});
  const read_summary r = store.read(1, [](const stored_batch&) { return true; });
  CHECK(r.batches == 0);
  CHECK(r.next_seq == 7);
}

TEST_CASE("memory store: definitions in first-stored order, replaced in place", "[event_store]") {
  memory_store store;
  store.put_definition(small_workflow("w1"));
  store.put_definition(small_workflow("w2"));
  workflow_definition changed = small_workflow("w1");
  changed.name = "Renamed";
  store.put_definition(changed);
  const auto defs = store.definitions();
  REQUIRE(defs.size() == 2);
  CHECK(defs[0] == changed);
  CHECK(defs[1] == small_workflow("w2"));
  CHECK(store.definition("w2") == small_workflow("w2"));
  CHECK_FALSE(store.definition("nope"));
  workflow_definition broken = small_workflow("w3");
  broken.edges.push_back({"a", "missing", ""});
  CHECK_THROWS_AS(store.put_definition(broken), definition_error);
  CHECK(store.size().definitions == 2);
}

TEST_CASE("memory store: a closed store refuses every call", "[event_store]") {
  memory_store store;
  store.close();
  store.close();
  const auto c1 = one_case("c1", 0);
  CHECK_THROWS_MATCHES(store.append(c1), store_error,
                       Catch::Matchers::Message("memory: the event store is closed"));
  CHECK_THROWS_AS(store.size(), store_error);
  CHECK_THROWS_AS(store.read(1, [](const stored_batch&) { return true; }), store_error);
  CHECK(store.describe() == "memory");
}

TEST_CASE("replay folds the stored batches through record_batch, same boundaries",
          "[event_store][replay]") {
  memory_store store;
  performance_monitor live;
  live.add_workflow(small_workflow());
  {
    durable_recorder recorder(live, store);
    // Within a batch the monitor folds by started_at: this batch arrives out
    // of order and must be re-sorted identically on replay.
    auto c1 = one_case("c1", 0);
    std::swap(c1[0], c1[2]);
    CHECK(recorder.record(c1).recorded == 3);
    // Across batches arrival order rules: b arrives before a here.
    auto c2 = one_case("c2", 2000);
    CHECK(recorder.record(std::span(c2).subspan(1, 1)).recorded == 1);
    CHECK(recorder.record(std::span(c2).first(1)).recorded == 1);
    step_result unknown = make_result("other", "c9", "a", step_status::completed, 0, 1, 2);
    const record_outcome o = recorder.record(unknown);   // stored, rejected by the monitor
    CHECK(o.stored == append_receipt{4, 6, 1});
    CHECK(o.recorded == 0);
    recorder.close();
  }
  performance_monitor rebuilt;
  rebuilt.add_workflow(small_workflow());
  int progress_calls = 0;
  replay_options ro;
  ro.progress = [&](const replay_progress& p) {
    ++progress_calls;
    CHECK(p.total_events == 6);
  };
  ro.progress_interval = std::chrono::milliseconds(0);   // every batch
  const replay_summary s = replay(store, rebuilt, ro);
  CHECK(s.batches == 4);
  CHECK(s.events == 6);
  CHECK(s.recorded == 5);
  CHECK(s.rejected == 1);
  CHECK(s.next_seq == 7);
  CHECK(progress_calls == 4);
  CHECK(rebuilt.snapshot() == live.snapshot());
  CHECK(rebuilt.instance("w", "c1") == live.instance("w", "c1"));
  CHECK(rebuilt.instance("w", "c2") == live.instance("w", "c2"));
  CHECK(rebuilt.totals().total_executions == 5);
  CHECK(rebuilt.totals().rejected == live.totals().rejected);
  CHECK(rebuilt.totals().open_instances == live.totals().open_instances);
  const auto w = rebuilt.snapshot("w");
  REQUIRE(w);
  CHECK(w->instances.completed_instances == 1);   // c2 has no terminal event
  CHECK(w->transitions.size() == 3);

  // From a later sequence number only the rest is folded.
  performance_monitor part;
  part.add_workflow(small_workflow());
  const replay_summary tail = replay(store, part, replay_options{4, {}, {}});
  CHECK(tail.events == 3);
  CHECK(tail.batches == 3);
}

TEST_CASE("durable recorder: synchronous record returns after the append, then the monitor has it",
          "[event_store][recorder]") {
  memory_store store;
  performance_monitor monitor;
  durable_recorder recorder(monitor, store);
  recorder.add_workflow(small_workflow());
  CHECK(store.definitions() == std::vector<workflow_definition>{small_workflow()});
  const auto c1 = one_case("c1", 0);
  const record_outcome o = recorder.record(c1);
  CHECK(o.ok());
  CHECK(o.stored == append_receipt{1, 1, 3});
  CHECK(o.recorded == 3);
  CHECK(store.size().events == 3);
  CHECK(monitor.totals().total_executions == 3);
  const recorder_stats st = recorder.stats();
  CHECK(st.committed_batches == 1);
  CHECK(st.committed_events == 3);
  CHECK(st.transactions == 1);
  CHECK(st.queued_events == 0);
}

TEST_CASE("durable recorder: a failed synchronous batch is neither stored nor recorded",
          "[event_store][recorder]") {
  memory_store_options so;
  so.before_event = [](std::int64_t, const step_result& r) {
    if (r.instance_id == "bad") throw std::runtime_error("disk on fire");
  };
  memory_store store(so);
  performance_monitor monitor;
  monitor.add_workflow(small_workflow());
  durable_recorder recorder(monitor, store);
  const auto bad = one_case("bad", 0);
  CHECK_THROWS_MATCHES(recorder.record(bad), store_error,
                       Catch::Matchers::Message("memory: append failed: disk on fire"));
  CHECK(store.size().events == 0);
  CHECK(monitor.totals().total_executions == 0);
  CHECK(recorder.stats().failed_batches == 1);
  recorder.flush();   // a synchronous failure was reported to its caller already
  CHECK(recorder.record(one_case("good", 0)).stored == append_receipt{1, 1, 3});
}

TEST_CASE("durable recorder: asynchronous posts are committed on close, completions in order",
          "[event_store][recorder]") {
  memory_store store;
  performance_monitor monitor;
  monitor.add_workflow(small_workflow());
  std::vector<std::int64_t> firsts;   // written by the writer thread only
  {
    durable_recorder recorder(monitor, store);
    for (int i = 0; i < 50; ++i)
      CHECK(recorder.post(one_case("c" + std::to_string(i), i * 1000),
                          [&](const record_outcome& o) { firsts.push_back(o.stored.first_seq); }));
    recorder.close();
    CHECK_FALSE(recorder.post(one_case("late", 0)));
    CHECK_THROWS_AS(recorder.record(one_case("late", 0)), std::logic_error);
    CHECK(recorder.stats().rejected_posts == 1);
  }
  CHECK(store.size() == store_size{150, 50, 150, 0});
  REQUIRE(firsts.size() == 50);
  for (std::size_t i = 0; i < firsts.size(); ++i) CHECK(firsts[i] == static_cast<std::int64_t>(3 * i + 1));
  const auto w = monitor.snapshot("w");
  REQUIRE(w);
  CHECK(w->instances.completed_instances == 50);
}

TEST_CASE("durable recorder: destruction flushes what was posted", "[event_store][recorder]") {
  memory_store store;
  performance_monitor monitor;
  monitor.add_workflow(small_workflow());
  {
    durable_recorder recorder(monitor, store);
    for (int i = 0; i < 20; ++i) recorder.post(one_case("c" + std::to_string(i), 0));
  }
  CHECK(store.size().events == 60);
  CHECK(monitor.totals().total_executions == 60);
}

TEST_CASE("durable recorder: one failing batch of a group fails alone, posted failures surface",
          "[event_store][recorder]") {
  gate g;
  memory_store_options so;
  so.before_event = [&](std::int64_t, const step_result& r) {
    if (r.instance_id == "hold") g.wait_here();
    if (r.instance_id == "bad") throw std::runtime_error("rejected by the disk");
  };
  memory_store store(so);
  performance_monitor monitor;
  monitor.add_workflow(small_workflow());
  durable_recorder recorder(monitor, store);
  std::vector<std::string> outcomes;   // writer thread only
  const auto note = [&](const record_outcome& o) {
    outcomes.push_back(o.ok() ? "ok " + std::to_string(o.stored.first_seq) : "error " + o.error);
  };
  REQUIRE(recorder.post(one_case("hold", 0), note));
  g.wait_entered();   // the writer is inside the first append: the next three queue up
  REQUIRE(recorder.post(one_case("good1", 0), note));
  REQUIRE(recorder.post(one_case("bad", 0), note));
  REQUIRE(recorder.post(one_case("good2", 0), note));
  g.release();
  CHECK_THROWS_MATCHES(
      recorder.flush(), store_error,
      Catch::Matchers::Message("memory: 1 posted batch(es) (3 events) could not be stored; "
                               "last error: memory: append failed: rejected by the disk"));
  recorder.flush();   // reported once
  CHECK(outcomes == std::vector<std::string>{"ok 1", "ok 4",
                                             "error memory: append failed: rejected by the disk",
                                             "ok 7"});
  const recorder_stats st = recorder.stats();
  CHECK(st.committed_batches == 3);
  CHECK(st.failed_batches == 1);
  CHECK(st.failed_events == 3);
  CHECK(st.transactions == 3);   // hold; then the failed group of three, retried one by one: 2 commits
  CHECK(store.size().events == 9);
  CHECK(monitor.totals().total_executions == 9);
  const auto all = read_all(store);
  REQUIRE(all.size() == 3);
  CHECK(all[1].events[0].instance_id == "good1");
  CHECK(all[2].events[0].instance_id == "good2");
}

TEST_CASE("durable recorder: a full queue rejects or blocks, never drops",
          "[event_store][recorder][concurrency]") {
  gate g;
  memory_store_options so;
  so.before_event = [&](std::int64_t, const step_result& r) {
    if (r.instance_id == "hold") g.wait_here();
  };
  memory_store store(so);
  performance_monitor monitor;
  monitor.add_workflow(small_workflow());

  SECTION("reject") {
    recorder_options ro;
    ro.queue_capacity = 6;
    ro.when_full = full_queue_policy::reject;
    durable_recorder recorder(monitor, store, ro);
    REQUIRE(recorder.post(one_case("hold", 0)));
    g.wait_entered();
    CHECK(recorder.post(one_case("c1", 0)));         // 6 events queued or in flight
    CHECK_FALSE(recorder.post(one_case("c2", 0)));   // the caller keeps this one
    CHECK(recorder.stats().queued_events == 6);
    CHECK(recorder.stats().rejected_posts == 1);
    g.release();
    recorder.flush();
    CHECK(recorder.post(one_case("c2", 0)));
    recorder.close();
    CHECK(store.size().events == 9);
  }
  SECTION("block") {
    recorder_options ro;
    ro.queue_capacity = 6;
    durable_recorder recorder(monitor, store, ro);
    REQUIRE(recorder.post(one_case("hold", 0)));
    g.wait_entered();
    CHECK(recorder.post(one_case("c1", 0)));
    bool posted = false;
    std::thread blocked([&] { posted = recorder.post(one_case("c2", 0)); });
    g.release();   // room appears once the writer commits
    blocked.join();
    CHECK(posted);
    recorder.close();
    CHECK(store.size().events == 9);
    CHECK(recorder.stats().rejected_posts == 0);
  }
}

TEST_CASE("durable recorder: replay on the writer thread, only before recording",
          "[event_store][recorder]") {
  memory_store store;
  {
    performance_monitor first;
    durable_recorder recorder(first, store);
    recorder.add_workflow(small_workflow());
    recorder.record(one_case("c1", 0));
    recorder.record(one_case("c2", 1000));
  }
  performance_monitor monitor;
  durable_recorder recorder(monitor, store);
  for (const auto& def : store.definitions()) recorder.add_workflow(def);
  const replay_summary s = recorder.replay();
  CHECK(s.batches == 2);
  CHECK(s.events == 6);
  CHECK(s.recorded == 6);
  CHECK(s.next_seq == 7);
  CHECK_THROWS_AS(recorder.replay(), std::logic_error);
  recorder.record(one_case("c3", 2000));
  CHECK(monitor.snapshot("w")->instances.completed_instances == 3);
}

TEST_CASE("durable recorder: concurrent synchronous recorders are group-committed, batches whole",
          "[event_store][recorder][concurrency]") {
  memory_store store;
  performance_monitor monitor;
  monitor.add_workflow(small_workflow());
  constexpr int threads = 4;
  constexpr int batches_per_thread = 200;
  {
    durable_recorder recorder(monitor, store);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int i = 0; i < batches_per_thread; ++i)
          recorder.record(one_case("t" + std::to_string(t) + "-" + std::to_string(i), i));
      });
    for (auto& th : pool) th.join();
    const recorder_stats st = recorder.stats();
    CHECK(st.committed_batches == threads * batches_per_thread);
    CHECK(st.transactions <= st.committed_batches);
  }
  CHECK(store.size().events == 3 * threads * batches_per_thread);
  std::int64_t expected_seq = 1;
  for (const auto& b : read_all(store)) {
    REQUIRE(b.events.size() == 3);
    CHECK(b.first_seq == expected_seq);
    expected_seq += 3;
    CHECK(b.events[0].instance_id == b.events[2].instance_id);
  }
  CHECK(monitor.snapshot("w")->instances.completed_instances == threads * batches_per_thread);
}
