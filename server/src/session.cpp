#include "session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "json_response.hpp"

namespace civicperf::server::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

#ifndef CIVICPERF_VERSION
#define CIVICPERF_VERSION "0"
#endif
constexpr std::string_view server_name = "civicperf-server/" CIVICPERF_VERSION;

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// Errors of the peer or the clock, after which nothing can be answered.
bool is_connection_end(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == beast::error::timeout || ec == asio::error::operation_aborted || !is_http_error(ec);
}

}  // namespace

// --- connection_hub ---------------------------------------------------------

void connection_hub::add(const std::shared_ptr<session>& s) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(s.get(), s);
}

void connection_hub::remove(session* s) noexcept {
  std::function<void()> drained;
  try {
    std::lock_guard lock(mutex_);
    sessions_.erase(s);
    if (sessions_.empty() && stopping.load()) drained = on_drained_;
  } catch (...) {   // copying the callback failed: the drain timer ends the wait instead
  }
  if (drained) drained();
}

std::vector<std::shared_ptr<session>> connection_hub::live() const {
  std::vector<std::shared_ptr<session>> out;
  std::lock_guard lock(mutex_);
  out.reserve(sessions_.size());
  for (const auto& [ptr, weak] : sessions_)
    if (auto s = weak.lock()) out.push_back(std::move(s));
  return out;
}

std::size_t connection_hub::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void connection_hub::set_on_drained(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  on_drained_ = std::move(fn);
}

// --- session ----------------------------------------------------------------

session::session(asio::ip::tcp::socket&& socket, std::shared_ptr<connection_hub> hub)
    : stream_(std::move(socket)), hub_(std::move(hub)) {}

session::~session() { hub_->remove(this); }

void session::start() {
  hub_->add(shared_from_this());
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&session::do_read, shared_from_this()));
}

void session::notify_stop() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    // Idle between requests (nothing of the next one received): nobody is
    // waiting for an answer here, so the connection can go now.
    if (self->phase_ == phase::awaiting_request && self->buffer_.size() == 0) self->close();
  });
}

void session::force_close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void session::do_read() {
  if (hub_->stopping.load()) {
    close();
    return;
  }
  const server_config& cfg = hub_->config;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(cfg.max_header, UINT32_MAX)));
  // No body limit while reading the header: a Content-Length over the limit
  // is refused in on_header with a 413 that says so (Beast would report it as
  // a header parse error).
  parser_->body_limit(boost::none);
  // The limits above count header and body bytes only; chunk extensions and
  // chunk-size lines are held in the read buffer, which must not grow without
  // bound either (a client could send an endless extension).
  buffer_.max_size(cfg.max_header + cfg.max_body + 64 * 1024);
  phase_ = phase::awaiting_request;
  method_.clear();
  target_.clear();
  started_ = {};
  if (!first_request_ && buffer_.size() == 0) {
    // Kept alive: the next request may be a while coming (the idle timeout),
    // but once its first bytes are here it must arrive within the read
    // timeout like any other.
    stream_.expires_after(cfg.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&session::on_first_bytes, shared_from_this()));
    return;
  }
  read_header();
}

void session::on_first_bytes(beast::error_code ec, std::size_t bytes) {
  buffer_.commit(bytes);
  if (ec) return close();   // the client left, the idle timeout passed, or we are stopping
  read_header();
}

void session::read_header() {
  stream_.expires_after(hub_->config.read_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&session::on_header, shared_from_this()));
}

void session::on_header(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return refuse(431, "Request header fields too large");
  if (ec && !is_connection_end(ec)) return refuse(400, fmt::format("Bad request: {}", ec.message()));
  if (ec) return close();

  started_ = std::chrono::steady_clock::now();
  phase_ = phase::reading;
  first_request_ = false;
  const auto& req = parser_->get();
  method_ = std::string(req.method_string());
  target_ = std::string(req.target());
  head_request_ = req.method() == http::verb::head;

  // Refused from the header alone: the client need not send the body at all.
  if (const auto length = parser_->content_length(); length && *length > hub_->config.max_body)
    return refuse(413, fmt::format("Request body too large: {} bytes (limit {} bytes)", *length,
                                   hub_->config.max_body));
  parser_->body_limit(hub_->config.max_body);   // bounds chunked bodies

  if (beast::iequals(req[http::field::expect], "100-continue")) {
    continue_.emplace(http::status::continue_, req.version());
    stream_.expires_after(hub_->config.read_timeout);
    http::async_write(stream_, *continue_,
                      [self = shared_from_this()](beast::error_code wec, std::size_t) {
                        self->continue_.reset();
                        if (wec) return self->close();
                        self->read_body();
                      });
    return;
  }
  read_body();
}

void session::read_body() {
  stream_.expires_after(hub_->config.read_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&session::on_body, shared_from_this()));
}

void session::on_body(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
    return refuse(413, fmt::format("Request body too large (limit {} bytes)", hub_->config.max_body));
  if (ec && !is_connection_end(ec)) return refuse(400, fmt::format("Bad request: {}", ec.message()));
  if (ec) return close();
  handle_request();
}

void session::handle_request() {
  phase_ = phase::handling;
  http::request<http::string_body> req = parser_->release();
  parser_.reset();

  http_request request;
  request.method = parse_method(req.method_string());
  request.target = std::string(req.target());
  request.authorization = std::string(req[http::field::authorization]);
  request.body = std::move(req.body());

  http_response answer;
  try {
    answer = hub_->handler(request);
  } catch (const std::exception& e) {
    if (hub_->config.log_error) hub_->config.log_error(fmt::format("handler failed: {}", e.what()));
    answer = error_response(500, "Internal server error");
  } catch (...) {
    if (hub_->config.log_error) hub_->config.log_error("handler failed");
    answer = error_response(500, "Internal server error");
  }

  // Checked after the handler: a shutdown that began meanwhile still gets
  // this answer, but tells the client not to send another request.
  const bool keep_alive = req.keep_alive() && !hub_->stopping.load();
  res_ = response(static_cast<http::status>(answer.status), req.version());
  res_.set(http::field::server, server_name);
  res_.set(http::field::content_type, answer.content_type);
  for (const auto& [name, val] : answer.headers) res_.set(name, val);
  res_.keep_alive(keep_alive);
  const std::size_t body_size = answer.body.size();
  body_bytes_ = body_size;
  if (head_request_) {
    res_.content_length(body_size);   // what a GET would send, without the body
  } else {
    res_.body() = std::move(answer.body);
    res_.prepare_payload();
  }
  write(keep_alive, false);
}

void session::refuse(unsigned status, std::string_view detail) {
  const http_response answer = error_response(status, detail);
  res_ = response(static_cast<http::status>(status), 11);
  res_.set(http::field::server, server_name);
  res_.set(http::field::content_type, answer.content_type);
  res_.keep_alive(false);
  res_.body() = answer.body;
  res_.prepare_payload();
  body_bytes_ = answer.body.size();
  write(false, true);
}

void session::write(bool keep_alive, bool drain_after) {
  phase_ = phase::writing;
  stream_.expires_after(hub_->config.read_timeout);
  http::async_write(stream_, res_,
                    beast::bind_front_handler(&session::on_write, shared_from_this(), keep_alive,
                                              drain_after));
}

void session::on_write(bool keep_alive, bool drain_after, beast::error_code ec,
                       std::size_t /*bytes*/) {
  log_access(res_.result_int(), body_bytes_);
  if (ec) return close();
  if (drain_after) return linger();
  if (!keep_alive) {
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    return close();
  }
  do_read();
}

void session::linger() {
  phase_ = phase::closing;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  buffer_.clear();
  stream_.expires_after(hub_->config.linger_timeout);   // once: bounds the whole drain
  struct drain {
    std::shared_ptr<session> self;
    void operator()(beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      auto& s = *self;
      s.stream_.async_read_some(asio::buffer(s.discard_), std::move(*this));
    }
  };
  stream_.async_read_some(asio::buffer(discard_), drain{shared_from_this()});
}

void session::close() noexcept {
  phase_ = phase::closing;
  stream_.close();
}

void session::log_access(unsigned status, std::size_t body_bytes) {
  if (!hub_->config.access_log) return;
  const auto micros =
      started_ == std::chrono::steady_clock::time_point{}
          ? 0
          : std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - started_)
                .count();
  try {
    hub_->config.access_log(fmt::format("{} {} {} {} {}", method_.empty() ? "-" : method_,
                                        target_.empty() ? "-" : target_, status, body_bytes,
                                        micros));
  } catch (...) {   // a failing log must not take the connection down
  }
}

}  // namespace civicperf::server::detail
