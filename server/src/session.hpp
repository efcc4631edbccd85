#pragma once
/// \file
/// One HTTP/1.1 connection (server-internal; shows Beast types).

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "http_types.hpp"
#include "server.hpp"

namespace civicperf::server::detail {

class session;

/// State shared by the server and its sessions: configuration, the handler,
/// the stopping flag and the set of live sessions (so shutdown can reach
/// them). Sessions hold it by shared_ptr, so it outlives the last of them.
/// Thread safety: the session set is guarded by a mutex; `stopping` is atomic.
struct connection_hub {
  connection_hub(server_config c, request_handler h)
      : config(std::move(c)), handler(std::move(h)) {}

  const server_config config;
  const request_handler handler;
  std::atomic<bool> stopping{false};

  void add(const std::shared_ptr<session>& s);
  /// Called by a session's destructor.
  void remove(session* s) noexcept;
  [[nodiscard]] std::vector<std::shared_ptr<session>> live() const;
  [[nodiscard]] std::size_t size() const;
  /// Called (outside the lock) when the last session goes while stopping.
  void set_on_drained(std::function<void()> fn);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<session*, std::weak_ptr<session>> sessions_;
  std::function<void()> on_drained_;
};

/// Reads requests, hands them to the handler, writes the answers; one strand
/// per connection, so every member runs on it (except the constructor and
/// the posting entry points).
/// Thread safety: start(), notify_stop() and force_close() may be called
/// from any thread (they post onto the strand).
class session : public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<connection_hub> hub);
  ~session();

  void start();
  /// Graceful shutdown: closes the connection if it is idle between
  /// requests; otherwise the request in progress is answered with
  /// `Connection: close`.
  void notify_stop();
  /// Closes the connection whatever it is doing.
  void force_close();

 private:
  enum class phase : std::uint8_t { awaiting_request, reading, handling, writing, closing };
  using request_parser =
      boost::beast::http::request_parser<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  void do_read();
  void on_first_bytes(boost::beast::error_code ec, std::size_t bytes);
  void read_header();
  void on_header(boost::beast::error_code ec, std::size_t bytes);
  void read_body();
  void on_body(boost::beast::error_code ec, std::size_t bytes);
  void handle_request();
  /// Answers without reading (the rest of) the request, then closes.
  void refuse(unsigned status, std::string_view detail);
  void write(bool keep_alive, bool drain_after);
  void on_write(bool keep_alive, bool drain_after, boost::beast::error_code ec, std::size_t bytes);
  /// Half-closes and reads what the client still sends for a short while,
  /// so our answer is not destroyed by a reset.
  void linger();
  void close() noexcept;
  void log_access(unsigned status, std::size_t body_bytes);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<connection_hub> hub_;
  std::optional<request_parser> parser_;
  response res_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> continue_;
  phase phase_ = phase::awaiting_request;
  bool first_request_ = true;
  bool head_request_ = false;
  std::size_t body_bytes_ = 0;   // for the access log
  std::string method_;   // for the access log
  std::string target_;
  std::chrono::steady_clock::time_point started_{};
  std::array<char, 4096> discard_{};
};

}  // namespace civicperf::server::detail
