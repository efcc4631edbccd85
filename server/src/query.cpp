#include "query.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "json_response.hpp"

namespace civicperf::server {
namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Shown back to the client inside a message: bounded, so a huge parameter
// does not become a huge error.
std::string quoted(std::string_view s) {
  constexpr std::size_t max = 64;
  if (s.size() <= max) return fmt::format("'{}'", s);
  return fmt::format("'{}...'", s.substr(0, max));
}

}  // namespace

split_target_result split_target(std::string_view target) noexcept {
  if (const auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_digit(text[i + 1]);
      const int lo = hex_digit(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

query_params query_params::parse(std::string_view query) {
  query_params q;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;   // `a=1&&b=2`
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                                true);
    if (!name || !value)
      throw api_error(422, fmt::format("Malformed percent-encoding in query parameter {}",
                                       quoted(pair)));
    q.items_.emplace_back(std::move(*name), std::move(*value));
  }
  return q;
}

void query_params::allow_only(std::initializer_list<std::string_view> allowed) const {
  for (std::size_t i = 0; i < items_.size(); ++i) {
    const std::string& name = items_[i].first;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      if (allowed.size() == 0)
        throw api_error(422, fmt::format("Unknown query parameter {}: this endpoint takes none",
                                         quoted(name)));
      throw api_error(422, fmt::format("Unknown query parameter {} (expected {})", quoted(name),
                                       fmt::join(allowed, ", ")));
    }
    for (std::size_t j = 0; j < i; ++j)
      if (items_[j].first == name)
        throw api_error(422, fmt::format("Query parameter {} is given more than once", quoted(name)));
  }
}

const std::string* query_params::find(std::string_view name) const noexcept {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

bool query_params::has(std::string_view name) const noexcept { return find(name) != nullptr; }

std::optional<std::string> query_params::text(std::string_view name) const {
  const std::string* v = find(name);
  if (v == nullptr) return std::nullopt;
  if (v->empty()) throw api_error(422, fmt::format("Query parameter '{}' must not be empty", name));
  return *v;
}

std::optional<double> query_params::non_negative_number(std::string_view name) const {
  const std::string* v = find(name);
  if (v == nullptr) return std::nullopt;
  double d = 0;
  const char* end = v->data() + v->size();
  const auto [ptr, ec] = std::from_chars(v->data(), end, d, std::chars_format::fixed);
  if (v->empty() || ec != std::errc() || ptr != end || !std::isfinite(d) || d < 0)
    throw api_error(422, fmt::format("Query parameter '{}' must be a non-negative number, not {}",
                                     name, quoted(*v)));
  return d == 0.0 ? 0.0 : d;   // no "-0"
}

std::optional<std::int64_t> query_params::non_negative_integer(std::string_view name) const {
  const std::string* v = find(name);
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  const char* end = v->data() + v->size();
  const auto [ptr, ec] = std::from_chars(v->data(), end, n);
  if (v->empty() || ec != std::errc() || ptr != end || n < 0)
    throw api_error(422, fmt::format("Query parameter '{}' must be a non-negative integer, not {}",
                                     name, quoted(*v)));
  return n;
}

}  // namespace civicperf::server
