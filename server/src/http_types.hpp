#pragma once
/// \file
/// Plain request/response structs between the Beast session and the service,
/// so routing and handlers are tested without sockets (and without Beast).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace civicperf::server {

enum class http_method : std::uint8_t { get, head, post, put, patch, delete_, options, other };

/// `GET`, `POST`, ... (`OTHER` for anything unknown).
[[nodiscard]] std::string_view to_string(http_method m) noexcept;
/// The method of a request line; `other` when not one of the above.
[[nodiscard]] http_method parse_method(std::string_view s) noexcept;

/// What the service needs of an HTTP request.
struct http_request {
  http_method method = http_method::get;
  std::string target;          ///< origin-form: path plus optional `?query`
  std::string authorization;   ///< the Authorization header, empty when absent
  std::string body;
};

/// What the service answers. The session adds Content-Length, Server and the
/// connection headers.
struct http_response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// Extra headers, e.g. `Allow` for a 405 or `WWW-Authenticate` for a 401.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The one function the transport calls for every complete request. Must not
/// throw (the service catches everything); the session still guards it.
using request_handler = std::function<http_response(const http_request&)>;

}  // namespace civicperf::server
