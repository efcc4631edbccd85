#include "json_response.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/parse_options.hpp>
#include <fmt/format.h>

#include "civicperf/json.hpp"

namespace civicperf::server {

namespace bj = boost::json;

http_response json_response(const bj::value& jv, unsigned status) {
  http_response res;
  res.status = status;
  res.body = to_json_text(jv);
  return res;
}

http_response error_response(unsigned status, std::string_view detail, const bj::object& extra) {
  bj::object o;
  o.reserve(1 + extra.size());
  o.emplace("detail", detail);
  for (const auto& member : extra) o.emplace(member.key(), member.value());
  return json_response(o, status);
}

bj::object parse_json_object(std::string_view body, const json_limits& limits) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw api_error(422, "Request body is empty: expected a JSON object");
  bj::parse_options opts;
  opts.max_depth = limits.max_depth;
  bj::parser parser(bj::storage_ptr(), opts);
  bj::error_code ec;
  const std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec == bj::error::too_deep)
    throw api_error(422, fmt::format("Malformed JSON: nested deeper than {} levels",
                                     limits.max_depth));
  if (ec) throw api_error(422, fmt::format("Malformed JSON at byte {}: {}", consumed, ec.message()));
  bj::value jv = parser.release();
  if (!jv.is_object())
    throw api_error(422, fmt::format("Request body must be a JSON object, not {}",
                                     json_kind_name(jv)));
  return std::move(jv.get_object());
}

std::string_view json_kind_name(const bj::value& jv) noexcept {
  switch (jv.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "a boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_: return "a number";
    case bj::kind::string: return "a string";
    case bj::kind::array: return "an array";
    case bj::kind::object: return "an object";
  }
  return "a value";
}

}  // namespace civicperf::server
