// The service records through the durable recorder: a store failure answers
// 503 and keeps nothing; manual executions are stored like events; imported
// (read-only) workflows accept no results; and concurrent clients of a real
// server over an SQLite store get every acknowledged batch stored whole.

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "civicperf/sqlite_store.hpp"
#include "process_support.hpp"
#include "server.hpp"
#include "service.hpp"
#include "test_support.hpp"

using namespace civicperf;
using namespace civicperf::server;
using civicperf::server::test::body_json;
using civicperf::server::test::detail_of;
using civicperf::server::test::iso;
using civicperf::server::test::service_fixture;

namespace {

const std::string base = "/api/v1/performance";

std::string one_case(const std::string& instance, std::int64_t ms = 0) {
  return fmt::format(
      R"({{"events":[{{"workflow_id":"citizen_registration_v1","instance_id":"{0}","step_id":"validate_identity",)"
      R"("status":"completed","started_at":"{1}","completed_at":"{2}"}},)"
      R"({{"workflow_id":"citizen_registration_v1","instance_id":"{0}","step_id":"identity_check",)"
      R"("status":"completed","started_at":"{3}","completed_at":"{4}"}}]}})",
      instance, iso(ms), iso(ms + 100), iso(ms + 300), iso(ms + 400));
}

std::int64_t total_executions(service_fixture& f) {
  return body_json(f.get(base + "/health")).at("total_tracked_executions").as_int64();
}

/// A service whose store fails every append while `failing` is set.
struct failing_store_fixture {
  static memory_store_options options(std::atomic<bool>& failing) {
    memory_store_options o;
    o.before_event = [&failing](std::int64_t, const step_result&) {
      if (failing.load()) throw std::runtime_error("disk full");
    };
    return o;
  }
  failing_store_fixture() : f(config(), false, options(failing)) {}
  static service_config config() {
    service_config c;
    c.log_error = [](std::string_view) {};   // the test checks the answers
    return c;
  }
  std::atomic<bool> failing{false};
  service_fixture f;
};

}  // namespace

TEST_CASE("POST /events answers 503 when the store fails, and keeps nothing", "[service][store]") {
  failing_store_fixture s;
  REQUIRE(s.f.post(base + "/events", one_case("c1")).status == 200);
  CHECK(s.f.store.size().events == 2);

  s.failing = true;
  const auto res = s.f.post(base + "/events", one_case("c2", 10'000));
  CHECK(res.status == 503);
  CHECK(detail_of(res) == "The batch was not stored: memory: append failed: disk full");
  CHECK(total_executions(s.f) == 2);
  CHECK(s.f.store.size().events == 2);
  CHECK(s.f.get(base + "/workflows/citizen_registration_v1/timing-analysis?instance_id=c2").status == 404);

  // A manual execution ran, but its result is not kept either.
  const auto exec = s.f.post(base + "/steps/execute?user_id=a", R"({"step_id":"validate_identity"})");
  CHECK(exec.status == 503);
  CHECK(detail_of(exec) ==
        "The step ran but its result was not stored: memory: append failed: disk full");
  CHECK(total_executions(s.f) == 2);

  // The store recovers: later batches are stored and counted.
  s.failing = false;
  CHECK(s.f.post(base + "/events", one_case("c3", 20'000)).status == 200);
  CHECK(total_executions(s.f) == 4);
  CHECK(s.f.store.size() == store_size{4, 2, 4, 0});
}

TEST_CASE("a store failure is logged", "[service][store]") {
  std::atomic<bool> failing{true};
  std::vector<std::string> logged;
  service_config c;
  c.log_error = [&](std::string_view m) { logged.emplace_back(m); };
  service_fixture f(c, false, failing_store_fixture::options(failing));
  CHECK(f.post(base + "/events", one_case("c1")).status == 503);
  CHECK(logged == std::vector<std::string>{"The batch was not stored: memory: append failed: disk full"});
}

TEST_CASE("manual executions go to the store like events, dry runs do not", "[service][store]") {
  service_fixture f({}, /*example_handlers=*/true);
  REQUIRE(f.post(base + "/steps/execute?user_id=clerk",
                 R"({"step_id":"validate_identity","inputs":{"first_name":"A","last_name":"B",)"
                 R"("id_number":"123456789","id_document":"passport"}})")
              .status == 200);
  REQUIRE(f.post(base + "/steps/execute?user_id=clerk",
                 R"({"step_id":"validate_identity","dry_run":true})")
              .status == 200);
  CHECK(f.store.size().events == 1);
  CHECK(f.store.size().batches == 1);
  std::vector<step_result> stored;
  f.store.read(1, [&](const stored_batch& b) {
    stored.assign(b.events.begin(), b.events.end());
    return true;
  });
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].workflow_id == "citizen_registration_v1");
  CHECK(stored[0].step_id == "validate_identity");
  CHECK(stored[0].executed_by == "clerk");
  CHECK(stored[0].execution_environment == "manual");
  CHECK(stored[0].status == step_status::completed);
  CHECK(total_executions(f) == 1);
}

TEST_CASE("read-only (imported) workflows accept no events or executions", "[service][store]") {
  service_config c;
  c.read_only_workflows = {"permit_renewal_v1"};
  service_fixture f(c);
  const std::string mixed =
      R"({"events":[{"workflow_id":"citizen_registration_v1","instance_id":"x","step_id":"validate_identity",)"
      R"("status":"completed","started_at":"2025-07-01T08:00:00Z"},)"
      R"({"workflow_id":"permit_renewal_v1","instance_id":"x","step_id":"lookup_permit",)"
      R"("status":"completed","started_at":"2025-07-01T08:00:00Z"}]})";
  const auto res = f.post(base + "/events", mixed);
  CHECK(res.status == 422);
  CHECK(detail_of(res) == "events[1].workflow_id: 'permit_renewal_v1' is imported from an event "
                          "log (--import) and accepts no new events");
  CHECK(f.store.size().events == 0);
  const auto exec = f.post(base + "/steps/execute?user_id=a",
                           R"({"step_id":"lookup_permit","workflow_id":"permit_renewal_v1"})");
  CHECK(exec.status == 422);
  CHECK(detail_of(exec) == "Workflow 'permit_renewal_v1' is imported from an event log (--import) "
                           "and accepts no new executions (dry_run still validates)");
  CHECK(f.post(base + "/steps/execute?user_id=a",
               R"({"step_id":"lookup_permit","workflow_id":"permit_renewal_v1","dry_run":true})")
            .status == 200);
  CHECK(total_executions(f) == 0);
}

TEST_CASE("concurrent clients over an SQLite store: every batch stored whole, replay equal",
          "[integration][concurrency][store]") {
  server::test::temp_dir dir;
  const std::string db = dir.file("events.db");
  constexpr int clients = 4;
  constexpr int batches_per_client = 30;
  std::string health_before;
  std::string performance_before;
  {
    step_registry registry;
    registry.add_workflows(example_workflows());
    performance_monitor monitor;
    sqlite_store store(db);
    durable_recorder recorder(monitor, store);
    service api(registry, monitor, recorder);
    server_config cfg;
    cfg.port = 0;
    cfg.threads = 3;
    http_server server(cfg, api.handler());
    server.start();

    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t)
      threads.emplace_back([&, t] {
        try {
          server::test::raw_client c(server.port());
          for (int n = 0; n < batches_per_client; ++n) {
            const auto res = c.request("POST", base + "/events",
                                       one_case(fmt::format("t{}-n{}", t, n), n * 1000));
            if (res.result_int() != 200 || res.body() != R"({"accepted":2})") failures.fetch_add(1);
          }
        } catch (const std::exception&) {
          failures.fetch_add(1);
        }
      });
    for (auto& th : threads) th.join();
    CHECK(failures.load() == 0);
    server.stop();
    server.wait();
    recorder.close();
    CHECK(store.size() == store_size{clients * batches_per_client * 2, clients * batches_per_client,
                                     clients * batches_per_client * 2, 0});
    const recorder_stats stats = recorder.stats();
    CHECK(stats.committed_batches == clients * batches_per_client);
    CHECK(stats.transactions <= stats.committed_batches);   // some grouped, none split
    health_before = api.handle({http_method::get, base + "/health", {}, {}}).body;
    performance_before =
        api.handle({http_method::get, base + "/workflows/citizen_registration_v1/performance", {}, {}}).body;
    store.close();
  }
  // A fresh monitor rebuilt from the file answers the same.
  step_registry registry;
  registry.add_workflows(example_workflows());
  performance_monitor monitor;
  for (const auto& def : registry.workflows()) monitor.add_workflow(*def);
  sqlite_store store(db);
  durable_recorder recorder(monitor, store);
  const replay_summary r = recorder.replay();
  CHECK(r.events == clients * batches_per_client * 2);
  CHECK(r.batches == clients * batches_per_client);
  CHECK(r.rejected == 0);
  service api(registry, monitor, recorder);
  CHECK(api.handle({http_method::get, base + "/health", {}, {}}).body == health_before);
  CHECK(api.handle({http_method::get, base + "/workflows/citizen_registration_v1/performance", {}, {}})
            .body == performance_before);
}
