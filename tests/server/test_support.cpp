#include "test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace civicperf::server::test {

namespace http = boost::beast::http;

timestamp t0() {
  static const timestamp t = *parse_iso8601("2025-07-01T08:00:00Z");
  return t;
}

std::string iso(std::int64_t ms) { return format_iso8601(t0() + std::chrono::milliseconds(ms)); }

service_fixture::service_fixture(service_config config, bool example_handlers,
                                 memory_store_options store_options)
    : store(std::move(store_options)), recorder(monitor, store) {
  registry.add_workflows(example_workflows());
  if (example_handlers) register_example_handlers(registry);
  api = std::make_unique<service>(registry, monitor, recorder, clock, std::move(config));
}

http_response service_fixture::call(http_method method, std::string target, std::string body,
                                    std::string authorization) {
  http_request req;
  req.method = method;
  req.target = std::move(target);
  req.body = std::move(body);
  req.authorization = std::move(authorization);
  return api->handle(req);
}

http_response service_fixture::get(std::string target) {
  return call(http_method::get, std::move(target));
}

http_response service_fixture::post(std::string target, std::string body,
                                    std::string authorization) {
  return call(http_method::post, std::move(target), std::move(body), std::move(authorization));
}

boost::json::value body_json(const http_response& res) {
  boost::json::error_code ec;
  auto jv = boost::json::parse(res.body, ec);
  INFO(res.body);
  REQUIRE_FALSE(ec);
  return jv;
}

std::string detail_of(const http_response& res) {
  const auto jv = body_json(res);
  INFO(res.body);
  REQUIRE(jv.is_object());
  REQUIRE(jv.as_object().contains("detail"));
  REQUIRE(jv.at("detail").is_string());
  return std::string(jv.at("detail").as_string());
}

std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}", method, target,
                                extra_headers);
  if (!body.empty() || method == "POST") out += fmt::format("Content-Length: {}\r\n", body.size());
  out += "\r\n";
  out += body;
  return out;
}

// --- raw_client --------------------------------------------------------------

raw_client::raw_client(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(fmt::format("connect: {}", std::strerror(e)));
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

raw_client::~raw_client() {
  if (fd_ >= 0) ::close(fd_);
}

void raw_client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("send: {}", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

response raw_client::read_response(bool head) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(std::uint64_t{64} << 20);
  if (head) parser.skip(true);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    while (!pending_.empty()) {
      boost::beast::error_code ec;
      const std::size_t used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) throw std::runtime_error(fmt::format("bad response: {}", ec.message()));
      if (parser.is_done()) return parser.release();
      if (used == 0) break;
    }
    if (parser.is_done()) return parser.release();

    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("timed out waiting for a response");
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) throw std::runtime_error("timed out waiting for a response");
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Nothing of a response yet: put_eof would "complete" an empty one.
      if (!parser.got_some()) throw std::runtime_error("connection closed before a response");
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (!ec && parser.is_done()) return parser.release();
      throw std::runtime_error("connection closed before a complete response");
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

response raw_client::request(std::string_view method, std::string_view target,
                             std::string_view body, std::string_view extra_headers) {
  send(make_request(method, target, body, extra_headers));
  return read_response(method == "HEAD");
}

bool raw_client::wait_closed() {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return true;   // reset
    }
  }
}

}  // namespace civicperf::server::test
