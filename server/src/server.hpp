#pragma once
/// \file
/// civicperf's HTTP/1.1 server: an asynchronous Beast listener with one strand
/// per connection, keep-alive, body/header limits, read and idle timeouts and
/// graceful shutdown. It knows nothing of the API: every request goes to a
/// request_handler. No Beast or Asio types in this header.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http_types.hpp"

namespace civicperf::server {

struct server_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                              ///< 0: any free port (see port())
  unsigned threads = 1;                                ///< I/O threads running the io_context
  std::size_t max_body = 1024 * 1024;                  ///< larger bodies get 413
  std::size_t max_header = 8 * 1024;                   ///< larger headers get 431
  std::chrono::milliseconds read_timeout{30'000};      ///< to receive one request
  std::chrono::milliseconds idle_timeout{60'000};      ///< between keep-alive requests
  std::chrono::milliseconds shutdown_timeout{10'000};  ///< drain time before forcing connections closed
  std::chrono::milliseconds linger_timeout{1'000};     ///< reading the rest of a refused request
  /// When set, called once per answered request with
  /// `METHOD target status bytes microseconds` (no newline).
  std::function<void(std::string_view)> access_log;
  /// Where transport problems are reported (default: stderr).
  std::function<void(std::string_view)> log_error;
  /// Stop gracefully on SIGINT / SIGTERM.
  bool handle_signals = false;
};

/// Serves `handler` over HTTP/1.1.
/// Lifecycle: start() binds and starts the I/O threads; stop() begins a
/// graceful shutdown (stop accepting, close idle connections, answer requests
/// in flight with `Connection: close`, force the rest closed after
/// shutdown_timeout); wait() joins the threads. The destructor stops and
/// waits.
/// Thread safety: stop() may be called from any thread, including from a
/// handler or a signal; the other members from the owning thread.
class http_server {
 public:
  http_server(server_config config, request_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds, listens and starts the I/O threads. Throws std::runtime_error when
  /// the address cannot be resolved or bound.
  void start();
  /// The bound port (after start()).
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// Begins a graceful shutdown; idempotent.
  void stop() noexcept;
  /// Blocks until every I/O thread has finished (after stop() or a signal).
  void wait();
  /// Connections currently open (for tests and diagnostics).
  [[nodiscard]] std::size_t open_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace civicperf::server
