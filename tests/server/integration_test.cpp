// The real server on a loopback socket (port 0), in-process on its own
// threads: every endpoint, every error class, keep-alive, limits, timeouts,
// concurrent clients and graceful shutdown.

#include "server.hpp"

#include <boost/beast/http/field.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "test_support.hpp"

using namespace civicperf;
using namespace civicperf::server;
using civicperf::server::test::make_request;
using civicperf::server::test::raw_client;
using civicperf::server::test::service_fixture;
namespace http = boost::beast::http;
namespace bj = boost::json;

namespace {

const std::string base = "/api/v1/performance";

server_config test_config() {
  server_config c;
  c.port = 0;
  c.threads = 2;
  c.read_timeout = std::chrono::seconds(5);
  c.idle_timeout = std::chrono::seconds(5);
  return c;
}

/// The example service behind a real server; `handler` may wrap the service.
struct live_server {
  explicit live_server(server_config cfg = test_config(), service_config api_cfg = {},
                       std::function<http_response(service&, const http_request&)> wrap = {})
      : api(std::move(api_cfg)) {
    request_handler h = [this, wrap](const http_request& r) {
      return wrap ? wrap(*api.api, r) : api.api->handle(r);
    };
    server = std::make_unique<http_server>(std::move(cfg), std::move(h));
    server->start();
  }
  [[nodiscard]] std::uint16_t port() const { return server->port(); }

  service_fixture api;
  std::unique_ptr<http_server> server;
};

bj::value json_of(const test::response& res) {
  INFO(res.body());
  bj::error_code ec;
  auto jv = bj::parse(res.body(), ec);
  REQUIRE_FALSE(ec);
  return jv;
}

std::string detail(const test::response& res) {
  return std::string(json_of(res).at("detail").as_string());
}

std::string one_event(const std::string& instance, const std::string& step, std::int64_t ms) {
  return fmt::format(R"({{"workflow_id":"citizen_registration_v1","instance_id":"{}","step_id":"{}",)"
                     R"("status":"completed","started_at":"{}","completed_at":"{}"}})",
                     instance, step, test::iso(ms), test::iso(ms + 100));
}

/// A finished case: validate_identity -> identity_check -> identity_failed.
std::string case_batch(const std::string& instance) {
  return R"({"events":[)" + one_event(instance, "validate_identity", 0) + "," +
         one_event(instance, "identity_check", 200) + "," +
         one_event(instance, "identity_failed", 400) + "]}";
}

}  // namespace

TEST_CASE("every endpoint answers over one kept-alive connection", "[integration]") {
  live_server s;
  raw_client c(s.port());
  const auto check = [&](std::string_view method, const std::string& target,
                         std::string_view body = {}) {
    INFO(method << " " << target);
    auto res = c.request(method, target, body);
    CHECK(res.result_int() == 200);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(res[http::field::server].starts_with("civicperf-server/"));
    CHECK(res.keep_alive());
    return json_of(res);
  };
  CHECK(check("GET", base + "/workflows").at("workflows").as_array().size() == 4);
  CHECK(check("GET", base + "/steps?workflow_id=citizen_registration_v1").at("steps").as_array().size() == 17);
  CHECK(check("POST", base + "/events", case_batch("c1")).at("accepted") == 3);
  CHECK(check("GET", base + "/steps/validate_identity/metrics").at("total_executions") == 1);
  CHECK(check("POST", base + "/steps/validate", R"({"step_id":"validate_identity"})")
            .at("validation_result").at("is_valid") == false);
  CHECK(check("POST", base + "/steps/execute?user_id=admin",
              R"({"step_id":"validate_identity","dry_run":true})")
            .at("dry_run") == true);
  CHECK(check("POST", base + "/steps/execute?user_id=admin",
              R"({"step_id":"identity_check","workflow_id":"citizen_registration_v1"})")
            .at("execution_result").at("status") == "completed");
  CHECK(check("GET", base + "/workflows/citizen_registration_v1/performance").at("completed_instances") == 1);
  CHECK(check("GET", base + "/workflows/citizen_registration_v1/bottlenecks?min_executions=1")
            .at("critical_path_steps").as_array().size() == 3);
  CHECK(check("GET", base + "/workflows/citizen_registration_v1/timing-analysis")
            .at("step_transitions").as_array().size() == 2);
  CHECK(check("GET", base + "/workflows/citizen_registration_v1/timing-analysis?instance_id=c1")
            .at("instance_id") == "c1");
  CHECK(check("GET", base + "/health").at("total_tracked_executions") == 4);
  CHECK(s.server->open_connections() == 1);   // all of it on this one connection
}

TEST_CASE("HEAD, pipelining and HTTP/1.0 behave", "[integration]") {
  live_server s;
  raw_client c(s.port());
  const auto get = c.request("GET", base + "/workflows");
  const auto head = c.request("HEAD", base + "/workflows");
  CHECK(head.result_int() == 200);
  CHECK(head[http::field::content_length] == std::to_string(get.body().size()));
  CHECK(head.body().empty());

  // Two requests in one write: two answers, in order.
  c.send(make_request("GET", base + "/health") + make_request("GET", base + "/nope"));
  CHECK(c.read_response().result_int() == 200);
  CHECK(c.read_response().result_int() == 404);

  raw_client old(s.port());
  old.send("GET " + base + "/health HTTP/1.0\r\n\r\n");
  const auto res = old.read_response();
  CHECK(res.result_int() == 200);
  CHECK_FALSE(res.keep_alive());
  CHECK(old.wait_closed());
}

TEST_CASE("every error class over the socket", "[integration]") {
  server_config cfg = test_config();
  cfg.max_body = 4096;
  live_server s(cfg);
  raw_client c(s.port());

  auto res = c.request("GET", base + "/nope");
  CHECK(res.result_int() == 404);
  CHECK(detail(res) == "Not Found");

  res = c.request("DELETE", base + "/health");
  CHECK(res.result_int() == 405);
  CHECK(res[http::field::allow] == "GET, HEAD");

  res = c.request("GET", base + "/steps/process_payment/metrics");
  CHECK(res.result_int() == 409);
  CHECK(json_of(res).at("candidates") == bj::parse(R"(["business_license_v1","permit_renewal_v1"])"));

  res = c.request("POST", base + "/events", "{not json");
  CHECK(res.result_int() == 422);
  res = c.request("GET", base + "/workflows/citizen_registration_v1/bottlenecks?threshold_ms=abc");
  CHECK(res.result_int() == 422);
  res = c.request("POST", base + "/steps/execute", R"({"step_id":"validate_identity"})");
  CHECK(res.result_int() == 422);
  CHECK(res.keep_alive());   // client errors keep the connection

  SECTION("413 is answered from the header, before any body is sent") {
    raw_client big(s.port());
    big.send("POST " + base + "/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
    const auto r = big.read_response();
    CHECK(r.result_int() == 413);
    CHECK(detail(r) == "Request body too large: 1000000000 bytes (limit 4096 bytes)");
    CHECK_FALSE(r.keep_alive());
    CHECK(big.wait_closed());
  }
  SECTION("413 for a chunked body that grows over the limit") {
    raw_client big(s.port());
    std::string chunk(1000, 'x');
    std::string req = "POST " + base + "/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 6; ++i) req += fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk);
    req += "0\r\n\r\n";
    big.send(req);
    const auto r = big.read_response();
    CHECK(r.result_int() == 413);
    CHECK(detail(r) == "Request body too large (limit 4096 bytes)");
  }
  SECTION("413 for an endless chunk extension (it is not body, but must be bounded too)") {
    raw_client big(s.port());
    // Limits: 8 KiB header + 4 KiB body + 64 KiB slack; send 200 KB of one
    // chunk-size line that never ends.
    big.send("POST " + base + "/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=");
    const std::string filler(4096, 'a');
    for (int i = 0; i < 50; ++i) {
      try {
        big.send(filler);
      } catch (const std::exception&) {
        break;   // the server refused and closed: the rest cannot be sent
      }
    }
    const auto r = big.read_response();
    CHECK(r.result_int() == 413);
    CHECK_FALSE(r.keep_alive());
  }
  SECTION("431 for a header over the limit") {
    raw_client big(s.port());
    big.send("GET " + base + "/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(10'000, 'a') +
             "\r\n\r\n");
    const auto r = big.read_response();
    CHECK(r.result_int() == 431);
    CHECK_FALSE(r.keep_alive());
  }
  SECTION("400 for something that is not HTTP") {
    raw_client junk(s.port());
    junk.send("HELLO THERE\r\n\r\n");
    const auto r = junk.read_response();
    CHECK(r.result_int() == 400);
    CHECK(junk.wait_closed());
  }
  SECTION("401 when a token is configured") {
    service_config api;
    api.token = "tok-123";
    live_server guarded(test_config(), api);
    raw_client g(guarded.port());
    auto r = g.request("POST", base + "/events", R"({"events":[]})");
    CHECK(r.result_int() == 401);
    CHECK(r[http::field::www_authenticate] == "Bearer");
    r = g.request("POST", base + "/events", R"({"events":[]})", "Authorization: Bearer tok-123\r\n");
    CHECK(r.result_int() == 200);
    CHECK(g.request("GET", base + "/health").result_int() == 200);
  }
}

TEST_CASE("Expect: 100-continue gets an interim answer", "[integration]") {
  live_server s;
  raw_client c(s.port());
  const std::string body = case_batch("c-100");
  c.send(fmt::format("POST {}/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     "Content-Length: {}\r\n\r\n",
                     base, body.size()));
  CHECK(c.read_response().result_int() == 100);
  c.send(body);
  const auto res = c.read_response();
  CHECK(res.result_int() == 200);
  CHECK(res.body() == R"({"accepted":3})");
}

TEST_CASE("slow and idle clients are disconnected by the timeouts", "[integration]") {
  server_config cfg = test_config();
  cfg.read_timeout = std::chrono::milliseconds(200);
  cfg.idle_timeout = std::chrono::milliseconds(200);
  live_server s(cfg);

  raw_client slow_header(s.port());
  slow_header.send("GET " + base + "/health HTTP/1.1\r\nHo");   // and never the rest
  CHECK(slow_header.wait_closed());

  raw_client slow_body(s.port());
  slow_body.send("POST " + base + "/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ev");
  CHECK(slow_body.wait_closed());

  raw_client idle(s.port());
  CHECK(idle.request("GET", base + "/health").result_int() == 200);
  CHECK(idle.wait_closed());   // nothing more within the idle timeout

  raw_client fresh(s.port());   // the server itself is fine
  CHECK(fresh.request("GET", base + "/health").result_int() == 200);
}

TEST_CASE("on a kept-alive connection a started request gets the read timeout, not the idle one",
          "[integration]") {
  server_config cfg = test_config();
  cfg.read_timeout = std::chrono::milliseconds(200);
  cfg.idle_timeout = std::chrono::seconds(60);
  live_server s(cfg);
  raw_client c(s.port());   // gives up after 10 s: far below the idle timeout
  CHECK(c.request("GET", base + "/health").result_int() == 200);
  c.send("GET " + base + "/health HTTP/1.1\r\nHo");   // the next request starts, then stalls
  CHECK(c.wait_closed());
}

TEST_CASE("concurrent clients: every event counted exactly once", "[integration][concurrency]") {
  server_config cfg = test_config();
  cfg.threads = 4;
  live_server s(cfg);
  constexpr int clients = 8;
  constexpr int batches = 25;
  std::vector<std::thread> threads;
  std::vector<int> ok(clients, 0);
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      raw_client c(s.port());
      for (int i = 0; i < batches; ++i) {
        const auto res = c.request("POST", base + "/events", case_batch(fmt::format("t{}-{}", t, i)));
        const auto metrics = c.request("GET", base + "/steps/validate_identity/metrics");
        if (res.result_int() == 200 && res.body() == R"({"accepted":3})" &&
            metrics.result_int() == 200)
          ++ok[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < clients; ++t) CHECK(ok[static_cast<std::size_t>(t)] == batches);

  raw_client c(s.port());
  const auto health = json_of(c.request("GET", base + "/health"));
  CHECK(health.at("total_tracked_executions") == clients * batches * 3);
  CHECK(health.at("open_instances") == 0);
  const auto perf = json_of(c.request("GET", base + "/workflows/citizen_registration_v1/performance"));
  CHECK(perf.at("total_instances") == clients * batches);
  CHECK(perf.at("completed_instances") == clients * batches);
  CHECK(perf.at("terminal_status_counts") == bj::parse(fmt::format(R"({{"FAILURE":{}}})", clients * batches)));
}

TEST_CASE("graceful shutdown answers the request in flight and closes idle connections",
          "[integration][concurrency]") {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  live_server s(test_config(), {}, [&](service& api, const http_request& r) {
    if (r.target == "/slow") {
      entered.set_value();
      released.wait();
      http_response res;
      res.body = R"({"slow":true})";
      return res;
    }
    return api.handle(r);
  });
  const std::uint16_t port = s.port();

  raw_client idle(port);
  CHECK(idle.request("GET", base + "/health").result_int() == 200);

  raw_client busy(port);
  busy.send(make_request("GET", "/slow"));
  REQUIRE(entered.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);

  s.server->stop();
  CHECK(idle.wait_closed());   // idle: closed without waiting for anything
  release.set_value();
  const auto res = busy.read_response();
  CHECK(res.result_int() == 200);
  CHECK(res.body() == R"({"slow":true})");
  CHECK_FALSE(res.keep_alive());   // answered, with Connection: close
  s.server->wait();
  CHECK(s.server->open_connections() == 0);
  CHECK_THROWS(raw_client(port));   // no longer accepting
}

TEST_CASE("graceful shutdown lets an upload in progress finish", "[integration][concurrency]") {
  live_server s;
  raw_client up(s.port());
  const std::string body = case_batch("c-upload");
  up.send(fmt::format("POST {}/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                      "Content-Length: {}\r\n\r\n",
                      base, body.size()));
  REQUIRE(up.read_response().result_int() == 100);   // the server is reading the body now
  s.server->stop();
  up.send(body);
  const auto res = up.read_response();
  CHECK(res.result_int() == 200);
  CHECK(res.body() == R"({"accepted":3})");
  CHECK_FALSE(res.keep_alive());
  s.server->wait();
  CHECK(s.api.monitor.totals().total_executions == 3);
}

TEST_CASE("the access log has one line per request", "[integration]") {
  std::mutex m;
  std::vector<std::string> lines;
  server_config cfg = test_config();
  cfg.access_log = [&](std::string_view line) {
    std::lock_guard lock(m);
    lines.emplace_back(line);
  };
  live_server s(cfg);
  {
    raw_client c(s.port());
    CHECK(c.request("GET", base + "/health").result_int() == 200);
    CHECK(c.request("GET", base + "/nope?x=1").result_int() == 404);
  }
  s.server->stop();
  s.server->wait();   // every write has completed, so every line is written
  REQUIRE(lines.size() == 2);
  const auto fields = [](const std::string& line) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= line.size()) {
      const auto space = line.find(' ', pos);
      out.push_back(line.substr(pos, space - pos));
      if (space == std::string::npos) break;
      pos = space + 1;
    }
    return out;
  };
  const auto a = fields(lines[0]);
  REQUIRE(a.size() == 5);
  CHECK(a[0] == "GET");
  CHECK(a[1] == base + "/health");
  CHECK(a[2] == "200");
  const std::string health_body =
      R"({"status":"healthy","service":"performance_monitoring","executor_metrics_count":0,)"
      R"("total_tracked_executions":0,"open_instances":0})";
  CHECK(a[3] == std::to_string(health_body.size()));
  CHECK(a[4].find_first_not_of("0123456789") == std::string::npos);
  const auto b = fields(lines[1]);
  REQUIRE(b.size() == 5);
  CHECK(b[1] == base + "/nope?x=1");
  CHECK(b[2] == "404");
}

TEST_CASE("a port in use is reported, not crashed on", "[integration]") {
  live_server s;
  server_config cfg = test_config();
  cfg.port = s.port();
  http_server second(cfg, [](const http_request&) { return http_response{}; });
  CHECK_THROWS_WITH(second.start(), Catch::Contains("cannot listen on 127.0.0.1:"));
}

TEST_CASE("the drain timeout closes connections that do not finish", "[integration][concurrency]") {
  server_config cfg = test_config();
  cfg.read_timeout = std::chrono::minutes(5);   // only the drain timeout can end this upload
  cfg.shutdown_timeout = std::chrono::milliseconds(100);
  live_server s(cfg);
  raw_client stuck(s.port(), std::chrono::seconds(60));
  stuck.send("POST " + base + "/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: 100\r\n\r\n");
  REQUIRE(stuck.read_response().result_int() == 100);   // the server waits for the body
  stuck.send("{\"ev");
  s.server->stop();
  s.server->stop();   // idempotent
  auto stopped = std::async(std::launch::async, [&] { s.server->wait(); });
  // A generous bound: without the drain timeout this would take five minutes.
  REQUIRE(stopped.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  CHECK(stuck.wait_closed());
}
