#include "router.hpp"

#include <array>

#include "json_response.hpp"

namespace civicperf::server {
namespace {

constexpr std::array<std::pair<http_method, std::string_view>, 7> method_names{{
    {http_method::get, "GET"},
    {http_method::head, "HEAD"},
    {http_method::post, "POST"},
    {http_method::put, "PUT"},
    {http_method::patch, "PATCH"},
    {http_method::delete_, "DELETE"},
    {http_method::options, "OPTIONS"},
}};

std::vector<std::string_view> split_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

}  // namespace

std::string_view to_string(http_method m) noexcept {
  for (const auto& [method, name] : method_names)
    if (method == m) return name;
  return "OTHER";
}

http_method parse_method(std::string_view s) noexcept {
  for (const auto& [method, name] : method_names)
    if (name == s) return method;
  return http_method::other;
}

void router::add(http_method method, std::string_view pattern, route_handler handler) {
  std::vector<std::string> segments;
  for (auto s : split_path(pattern)) segments.emplace_back(s);
  for (auto& r : routes_) {
    if (r.segments == segments) {
      r.methods.push_back({method, std::move(handler)});
      return;
    }
  }
  routes_.push_back(route{std::move(segments), {{method, std::move(handler)}}});
}

router::match_result router::match(http_method method, std::string_view path) const {
  match_result out;
  const auto raw = split_path(path);
  std::vector<std::string> decoded;
  decoded.reserve(raw.size());
  for (auto s : raw) {
    auto d = percent_decode(s, false);
    if (!d) throw api_error(422, "Malformed percent-encoding in the path");
    decoded.push_back(std::move(*d));
  }
  for (const auto& r : routes_) {
    if (r.segments.size() != decoded.size()) continue;
    bool matches = true;
    for (std::size_t i = 0; matches && i < decoded.size(); ++i)
      matches = r.segments[i] == "{}" ? !decoded[i].empty() : r.segments[i] == decoded[i];
    if (!matches) continue;

    const route::entry* exact = nullptr;
    const route::entry* get = nullptr;
    for (const auto& e : r.methods) {
      if (e.method == method) exact = &e;
      if (e.method == http_method::get) get = &e;
    }
    if (exact == nullptr && method == http_method::head) exact = get;
    if (exact != nullptr) {
      out.result = match_result::outcome::found;
      out.handler = &exact->handler;
      for (std::size_t i = 0; i < decoded.size(); ++i)
        if (r.segments[i] == "{}") out.params.push_back(std::move(decoded[i]));
      return out;
    }
    out.result = match_result::outcome::wrong_method;
    for (const auto& e : r.methods) {
      if (!out.allow.empty()) out.allow += ", ";
      out.allow += to_string(e.method);
      if (e.method == http_method::get) out.allow += ", HEAD";
    }
    return out;
  }
  return out;
}

}  // namespace civicperf::server
