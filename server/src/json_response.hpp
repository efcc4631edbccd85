#pragma once
/// \file
/// JSON answers and the error model of the API: every error is
/// `{"detail": ...}` with a status; handlers throw api_error and the service
/// turns it into a response.

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_types.hpp"

namespace civicperf::server {

/// A client error (or a deliberate server error) with its HTTP status and the
/// text of `detail`. `extra` members are added next to `detail` (e.g. the
/// candidate workflows of an ambiguous step id).
class api_error : public std::runtime_error {
 public:
  api_error(unsigned status, std::string detail, boost::json::object extra = {})
      : std::runtime_error(detail), status_(status), extra_(std::move(extra)) {}
  [[nodiscard]] unsigned status() const noexcept { return status_; }
  [[nodiscard]] const boost::json::object& extra() const noexcept { return extra_; }

 private:
  unsigned status_;
  boost::json::object extra_;
};

/// 200 (or `status`) with `jv` serialized by civicperf::to_json_text.
[[nodiscard]] http_response json_response(const boost::json::value& jv, unsigned status = 200);

/// 200 with a report (any type civicperf/json.hpp converts). The JSON tree
/// is built in a monotonic arena on the stack and serialized at once: a report
/// costs a few allocations instead of one per member.
template <class Report>
[[nodiscard]] http_response report_response(const Report& report) {
  unsigned char arena[16 * 1024];
  boost::json::monotonic_resource resource(arena, sizeof arena);
  return json_response(boost::json::value_from(report, boost::json::storage_ptr(&resource)));
}

/// `{"detail": detail, ...extra}` with `status`.
[[nodiscard]] http_response error_response(unsigned status, std::string_view detail,
                                           const boost::json::object& extra = {});

/// Limits of request bodies parsed as JSON.
struct json_limits {
  std::size_t max_depth = 32;
};

/// Parses a request body that must be one JSON object. Throws api_error 422
/// for an empty body, malformed JSON, nesting deeper than the limit, or a
/// document that is not an object.
[[nodiscard]] boost::json::object parse_json_object(std::string_view body,
                                                    const json_limits& limits);

/// The JSON type name used in messages: `an object`, `a string`, ...
[[nodiscard]] std::string_view json_kind_name(const boost::json::value& jv) noexcept;

}  // namespace civicperf::server
