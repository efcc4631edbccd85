#include "server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "session.hpp"

namespace civicperf::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct http_server::impl {
  impl(server_config config, request_handler handler)
      : hub(std::make_shared<detail::connection_hub>(std::move(config), std::move(handler))),
        control(asio::make_strand(ioc)),
        acceptor(control),
        signals(control),
        drain_timer(control),
        accept_retry(control) {}

  ~impl() {
    // The io_context's destructor destroys pending handlers, and with them
    // sessions, after this point: they must not post back into it.
    hub->set_on_drained(nullptr);
  }

  const server_config& config() const { return hub->config; }
  void log_error(std::string_view message) const {
    if (config().log_error) {
      config().log_error(message);
    } else {
      fmt::print(stderr, "civicperf-server: {}\n", message);
    }
  }

  void do_accept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          beast::bind_front_handler(&impl::on_accept, this));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec && !hub->stopping.load()) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<detail::session>(std::move(socket), hub)->start();
    } else if (ec && ec != asio::error::connection_aborted) {
      // e.g. EMFILE: pause briefly instead of spinning, then keep accepting.
      log_error(fmt::format("accept failed: {}", ec.message()));
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e && acceptor.is_open()) do_accept();
      });
      return;
    }
    do_accept();
  }

  // Runs on the control strand.
  void begin_shutdown() {
    beast::error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
    signals.cancel(ignored);
    if (config().handle_signals) {
      // A second Ctrl-C does not wait for the drain.
      signals.async_wait([this](beast::error_code ec, int) {
        if (ec) return;
        log_error("second signal: closing every connection now");
        force_close_all();
      });
    }
    drain_timer.expires_after(config().shutdown_timeout);
    drain_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;   // cancelled: everything drained in time
      force_close_all();
    });
    hub->set_on_drained([this] { asio::post(control, [this] { end_shutdown(); }); });
    const auto sessions = hub->live();
    for (const auto& s : sessions) s->notify_stop();
    if (hub->size() == 0) end_shutdown();
  }

  // Runs on the control strand: nothing is left to wait for, so the last
  // pending operations go and the I/O threads run out of work.
  void end_shutdown() {
    beast::error_code ignored;
    drain_timer.cancel();
    signals.cancel(ignored);
  }

  void force_close_all() {
    for (const auto& s : hub->live()) s->force_close();
  }

  std::shared_ptr<detail::connection_hub> hub;
  asio::io_context ioc;
  asio::strand<asio::io_context::executor_type> control;   // acceptor, signals, drain timer
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  asio::steady_timer accept_retry;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
};

http_server::http_server(server_config config, request_handler handler)
    : impl_(std::make_unique<impl>(std::move(config), std::move(handler))) {}

http_server::~http_server() {
  stop();
  wait();
}

void http_server::start() {
  impl& s = *impl_;
  const server_config& cfg = s.config();
  beast::error_code ec;
  tcp::resolver resolver(s.ioc);
  const auto results = resolver.resolve(cfg.host, std::to_string(cfg.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    throw std::runtime_error(fmt::format("cannot resolve host '{}': {}", cfg.host,
                                         ec ? ec.message() : "no address"));
  const tcp::endpoint endpoint = results.begin()->endpoint();
  const auto fail = [&](std::string_view what) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {} failed: {}", cfg.host,
                                         cfg.port, what, ec.message()));
  };
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open");
  s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail("setsockopt");
  s.acceptor.bind(endpoint, ec);
  if (ec) fail("bind");
  s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
  s.port = s.acceptor.local_endpoint().port();

  if (cfg.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([this](beast::error_code e, int) {
      if (!e) stop();
    });
  }
  asio::post(s.control, [&s] { s.do_accept(); });

  const unsigned n = std::max(1u, cfg.threads);
  s.threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    s.threads.emplace_back([&s] {
      for (;;) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {   // a handler threw: report and keep serving
          s.log_error(fmt::format("I/O thread: {}", e.what()));
        }
      }
    });
  }
}

std::uint16_t http_server::port() const noexcept { return impl_->port; }

void http_server::stop() noexcept {
  impl& s = *impl_;
  if (s.hub->stopping.exchange(true)) return;
  try {
    asio::post(s.control, [&s] { s.begin_shutdown(); });
  } catch (...) {   // cannot even post: stop hard
    s.ioc.stop();
  }
}

void http_server::wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

std::size_t http_server::open_connections() const { return impl_->hub->size(); }

}  // namespace civicperf::server
