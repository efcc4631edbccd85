#include "service.hpp"

#include <cstdio>
#include <new>

#include <fmt/format.h>

#include "handlers.hpp"

namespace civicperf::server {
namespace {

constexpr std::string_view bearer_prefix = "Bearer ";

// The last resort when even building an error answer fails (out of memory).
http_response static_error(unsigned status) noexcept {
  http_response res;
  res.status = status;
  try {
    res.body = status == 503 ? R"({"detail":"Service temporarily unavailable"})"
                             : R"({"detail":"Internal server error"})";
  } catch (...) {
  }
  return res;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Every byte of the longer string is read whatever the contents, so the time
  // taken reveals at most the lengths.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

service::service(step_registry& registry, performance_monitor& monitor,
                 durable_recorder& recorder, clock_source& clock, service_config config)
    : registry_(registry),
      monitor_(monitor),
      recorder_(recorder),
      clock_(clock),
      config_(std::move(config)),
      // No monitor: a manual execution's result is recorded through the
      // recorder like any other, so it is durable and replayed at start.
      executor_(registry, nullptr, clock),
      context_{registry_, monitor_, recorder_, executor_, clock_, config_, cache_} {
  for (const auto& def : registry_.workflows()) monitor_.add_workflow(*def);
  if (!config_.log_error)
    config_.log_error = [](std::string_view message) {
      fmt::print(stderr, "civicperf-server: {}\n", message);
    };

  const auto bind = [this](http_response (*fn)(handler_context&, const route_request&)) {
    return [this, fn](const route_request& rr) { return fn(context_, rr); };
  };
  using m = http_method;
  // Literal routes before parameterised ones of the same length.
  router_.add(m::get, "/workflows", bind(handlers::list_workflows));
  router_.add(m::get, "/workflows/{}/performance", bind(handlers::workflow_performance));
  router_.add(m::get, "/workflows/{}/bottlenecks", bind(handlers::workflow_bottlenecks));
  router_.add(m::get, "/workflows/{}/timing-analysis", bind(handlers::timing_analysis));
  router_.add(m::get, "/steps", bind(handlers::list_steps));
  router_.add(m::post, "/steps/execute", bind(handlers::execute_step));
  router_.add(m::post, "/steps/validate", bind(handlers::validate_step));
  router_.add(m::get, "/steps/{}/metrics", bind(handlers::step_metrics));
  router_.add(m::post, "/events", bind(handlers::ingest_events));
  router_.add(m::get, "/health", bind(handlers::health));
}

bool service::authorized(const http_request& request) const noexcept {
  if (config_.token.empty()) return true;
  std::string_view header = request.authorization;
  if (header.size() < bearer_prefix.size()) return false;
  // The scheme is case-insensitive (RFC 7235); the token is compared exactly.
  for (std::size_t i = 0; i < bearer_prefix.size(); ++i) {
    const char c = header[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const char want = bearer_prefix[i];
    const char want_lower =
        (want >= 'A' && want <= 'Z') ? static_cast<char>(want - 'A' + 'a') : want;
    if (lower != want_lower) return false;
  }
  header.remove_prefix(bearer_prefix.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  return constant_time_equal(header, config_.token);
}

http_response service::dispatch(const http_request& request) {
  const auto [path, query] = split_target(request.target);
  if (!path.starts_with(api_prefix) ||
      (path.size() > api_prefix.size() && path[api_prefix.size()] != '/'))
    throw api_error(404, "Not Found");
  const auto match = router_.match(request.method, path.substr(api_prefix.size()));
  switch (match.result) {
    case router::match_result::outcome::no_route:
      throw api_error(404, "Not Found");
    case router::match_result::outcome::wrong_method: {
      http_response res = error_response(405, "Method Not Allowed");
      res.headers.emplace_back("Allow", match.allow);
      return res;
    }
    case router::match_result::outcome::found:
      break;
  }
  if (request.method == http_method::post && !authorized(request)) {
    http_response res = error_response(
        401, request.authorization.empty() ? "Not authenticated: send Authorization: Bearer <token>"
                                           : "Invalid token");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
  }
  const route_request rr{request, match.params, query_params::parse(query)};
  return (*match.handler)(rr);
}

http_response service::handle(const http_request& request) noexcept {
  try {
    try {
      return dispatch(request);
    } catch (const api_error& e) {
      return error_response(e.status(), e.what(), e.extra());
    } catch (const std::bad_alloc&) {
      config_.log_error(fmt::format("out of memory answering {} {}", to_string(request.method),
                                    request.target.substr(0, 200)));
      return static_error(503);
    } catch (const std::exception& e) {
      config_.log_error(fmt::format("internal error answering {} {}: {}",
                                    to_string(request.method), request.target.substr(0, 200),
                                    e.what()));
      return error_response(500, "Internal server error");
    } catch (...) {
      config_.log_error(fmt::format("unknown exception answering {} {}",
                                    to_string(request.method), request.target.substr(0, 200)));
      return error_response(500, "Internal server error");
    }
  } catch (...) {   // includes failures while reporting the failure
    return static_error(500);
  }
}

}  // namespace civicperf::server
