#pragma once
/// \file
/// civicperf::value — a small JSON-like dynamic value for step inputs, outputs
/// and context, so the core headers need no JSON library. `civicperf/json.hpp`
/// converts it to and from boost::json::value.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace civicperf {

/// A null, bool, integer, double, string, array or object (members keep
/// their insertion order). Thread safety: a plain value type; concurrent reads
/// are safe, writes need external synchronisation.
class value {
 public:
  using array = std::vector<value>;
  using member = std::pair<std::string, value>;
  using object = std::vector<member>;
  enum class kind : std::uint8_t { null, boolean, integer, number, string, array, object };

  value() noexcept = default;
  value(std::nullptr_t) noexcept {}
  value(bool b) noexcept : v_(b) {}
  value(int i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(long long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(double d) noexcept : v_(d) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(std::string s) noexcept : v_(std::move(s)) {}
  value(array a) noexcept : v_(std::move(a)) {}
  value(object o) noexcept : v_(std::move(o)) {}

  /// An empty object (`{}`); `value{}` is null.
  [[nodiscard]] static value make_object() { return value(object{}); }
  /// An object from `{{"key", value}, ...}`.
  [[nodiscard]] static value make_object(std::initializer_list<member> members) {
    return value(object(members));
  }
  [[nodiscard]] static value make_array(std::initializer_list<value> items) {
    return value(array(items));
  }

  [[nodiscard]] kind type() const noexcept { return static_cast<kind>(v_.index()); }
  [[nodiscard]] bool is_null() const noexcept { return type() == kind::null; }
  [[nodiscard]] bool is_bool() const noexcept { return type() == kind::boolean; }
  [[nodiscard]] bool is_integer() const noexcept { return type() == kind::integer; }
  [[nodiscard]] bool is_number() const noexcept {
    return type() == kind::integer || type() == kind::number;
  }
  [[nodiscard]] bool is_string() const noexcept { return type() == kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return type() == kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return type() == kind::object; }

  /// Typed access; nullptr when the value holds another kind.
  [[nodiscard]] const bool* if_bool() const noexcept { return std::get_if<bool>(&v_); }
  [[nodiscard]] const std::int64_t* if_integer() const noexcept {
    return std::get_if<std::int64_t>(&v_);
  }
  [[nodiscard]] const std::string* if_string() const noexcept {
    return std::get_if<std::string>(&v_);
  }
  [[nodiscard]] const array* if_array() const noexcept { return std::get_if<array>(&v_); }
  [[nodiscard]] array* if_array() noexcept { return std::get_if<array>(&v_); }
  [[nodiscard]] const object* if_object() const noexcept { return std::get_if<object>(&v_); }
  [[nodiscard]] object* if_object() noexcept { return std::get_if<object>(&v_); }
  /// The number as a double (integers converted); nullopt for other kinds.
  [[nodiscard]] std::optional<double> as_number() const noexcept;

  /// Object member lookup; nullptr when absent or not an object.
  [[nodiscard]] const value* find(std::string_view key) const noexcept;
  [[nodiscard]] value* find(std::string_view key) noexcept;
  /// Object member access, inserting null when absent. A null value becomes
  /// an empty object first. Throws std::logic_error on other kinds.
  value& operator[](std::string_view key);
  /// Inserts or replaces a member (same rules as operator[]).
  void set(std::string_view key, value v) { (*this)[key] = std::move(v); }

  /// Array or object size; 0 for scalars.
  [[nodiscard]] std::size_t size() const noexcept;

  friend bool operator==(const value& a, const value& b) noexcept;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, array, object> v_;
};

/// True when `v` is absent, null, an empty string or an empty array/object:
/// the notion of "missing" the validation rules use.
[[nodiscard]] bool is_blank(const value* v) noexcept;

}  // namespace civicperf
