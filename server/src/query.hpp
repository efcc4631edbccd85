#pragma once
/// \file
/// Request targets: splitting path and query, percent-decoding, and typed
/// query parameters whose problems become 422 answers.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace civicperf::server {

/// `/a/b?x=1` → {`/a/b`, `x=1`}; no `?` → empty query. A fragment is dropped.
struct split_target_result {
  std::string_view path;
  std::string_view query;
};
[[nodiscard]] split_target_result split_target(std::string_view target) noexcept;

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in
/// query strings). nullopt for a malformed escape or a decoded NUL byte.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// The decoded parameters of a query string, in order.
/// Typed getters throw api_error 422 naming the parameter and the problem.
class query_params {
 public:
  query_params() = default;
  /// Throws api_error 422 for a malformed escape.
  [[nodiscard]] static query_params parse(std::string_view query);

  /// Throws api_error 422 for a parameter not in `allowed` or given twice.
  void allow_only(std::initializer_list<std::string_view> allowed) const;

  [[nodiscard]] bool has(std::string_view name) const noexcept;
  /// The value; 422 when present but empty.
  [[nodiscard]] std::optional<std::string> text(std::string_view name) const;
  /// A finite number >= 0 (`1000`, `2.5`); 422 otherwise.
  [[nodiscard]] std::optional<double> non_negative_number(std::string_view name) const;
  /// An integer >= 0 that fits 64 bits; 422 otherwise.
  [[nodiscard]] std::optional<std::int64_t> non_negative_integer(std::string_view name) const;

  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const noexcept {
    return items_;
  }

 private:
  [[nodiscard]] const std::string* find(std::string_view name) const noexcept;
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace civicperf::server
