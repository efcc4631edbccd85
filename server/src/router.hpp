#pragma once
/// \file
/// A small path router: patterns of literal segments and `{}` parameters,
/// several methods per pattern, 404 vs 405 (with the `Allow` list).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"
#include "query.hpp"

namespace civicperf::server {

/// What a handler receives: the request, the decoded path parameters in
/// pattern order, and the decoded query.
struct route_request {
  const http_request& request;
  std::vector<std::string> params;
  query_params query;
};

using route_handler = std::function<http_response(const route_request&)>;

/// Thread safety: build it once (add), then match() from any thread.
class router {
 public:
  /// `pattern` is a path such as `/steps/{}/metrics`; `{}` matches one
  /// non-empty segment. A GET route also answers HEAD.
  void add(http_method method, std::string_view pattern, route_handler handler);

  struct match_result {
    enum class outcome { found, no_route, wrong_method };
    outcome result = outcome::no_route;
    const route_handler* handler = nullptr;   ///< when found
    std::vector<std::string> params;          ///< when found
    std::string allow;                        ///< when wrong_method: `GET, HEAD`
  };

  /// Matches a path (no query). Segments are percent-decoded; a malformed
  /// escape throws api_error 422. One trailing slash is ignored.
  [[nodiscard]] match_result match(http_method method, std::string_view path) const;

 private:
  struct route {
    std::vector<std::string> segments;   // "{}" for a parameter
    struct entry {
      http_method method;
      route_handler handler;
    };
    std::vector<entry> methods;
  };
  std::vector<route> routes_;
};

}  // namespace civicperf::server
