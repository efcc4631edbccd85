#pragma once
// Helpers of the server tests: a service over the example workflows on a
// manual clock, and a blocking loopback HTTP client with a timeout on every
// read (so a misbehaving server fails a test instead of hanging it).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "civicperf/civicperf.hpp"
#include "service.hpp"

namespace civicperf::server::test {

/// 2025-07-01T08:00:00Z: the epoch of the hand-made histories.
[[nodiscard]] timestamp t0();
/// t0 + ms as ISO-8601 (`2025-07-01T08:00:01.500Z`).
[[nodiscard]] std::string iso(std::int64_t ms);

/// A service over the four example workflows, its own registry and monitor,
/// an in-memory event store behind a durable recorder (the server's code
/// path), and a manual clock standing at t0.
struct service_fixture {
  explicit service_fixture(service_config config = {}, bool example_handlers = false,
                           memory_store_options store_options = {});

  step_registry registry;
  performance_monitor monitor;
  manual_clock clock{t0()};
  memory_store store;
  durable_recorder recorder;
  std::unique_ptr<service> api;

  [[nodiscard]] http_response get(std::string target);
  [[nodiscard]] http_response post(std::string target, std::string body,
                                   std::string authorization = {});
  [[nodiscard]] http_response call(http_method method, std::string target, std::string body = {},
                                   std::string authorization = {});
};

/// The body of an answer as JSON (fails the test when it is not JSON).
[[nodiscard]] boost::json::value body_json(const http_response& res);
[[nodiscard]] std::string detail_of(const http_response& res);

using response = boost::beast::http::response<boost::beast::http::string_body>;

/// A loopback client on plain POSIX sockets: nothing it does can block for
/// longer than its timeout.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void send(std::string_view bytes);
  /// Reads one complete response; throws std::runtime_error on timeout or
  /// when the connection ends first. `head`: the answer to a HEAD request.
  [[nodiscard]] response read_response(bool head = false);
  /// A whole request: method, target, optional body and extra header lines
  /// (`"Name: value\r\n"`), HTTP/1.1 with keep-alive.
  [[nodiscard]] response request(std::string_view method, std::string_view target,
                                 std::string_view body = {}, std::string_view extra_headers = {});
  /// True when the server closes the connection (EOF or reset) within the
  /// client's timeout, discarding anything it still sends.
  [[nodiscard]] bool wait_closed();

 private:
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string pending_;   // received, not yet parsed
};

/// `METHOD target HTTP/1.1` with Host and Content-Length.
[[nodiscard]] std::string make_request(std::string_view method, std::string_view target,
                                       std::string_view body = {},
                                       std::string_view extra_headers = {});

}  // namespace civicperf::server::test
