#include "civicperf/value.hpp"

#include <stdexcept>

namespace civicperf {

std::optional<double> value::as_number() const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  return std::nullopt;
}

const value* value::find(std::string_view key) const noexcept {
  const auto* members = std::get_if<object>(&v_);
  if (members == nullptr) return nullptr;
  for (const auto& [k, v] : *members) {
    if (k == key) return &v;
  }
  return nullptr;
}

value* value::find(std::string_view key) noexcept {
  return const_cast<value*>(std::as_const(*this).find(key));
}

value& value::operator[](std::string_view key) {
  if (is_null()) v_ = object{};
  auto* members = std::get_if<object>(&v_);
  if (members == nullptr) {
    throw std::logic_error("civicperf::value: operator[] on a value that is not an object");
  }
  for (auto& [k, v] : *members) {
    if (k == key) return v;
  }
  return members->emplace_back(std::string(key), value{}).second;
}

std::size_t value::size() const noexcept {
  if (const auto* a = std::get_if<array>(&v_)) return a->size();
  if (const auto* o = std::get_if<object>(&v_)) return o->size();
  return 0;
}

bool operator==(const value& a, const value& b) noexcept {
  if (a.type() != b.type()) return false;
  // Objects compare as JSON objects: same members, in any order (keys are
  // unique because operator[] never inserts a key twice).
  if (const auto* ao = a.if_object()) {
    const auto& bo = *b.if_object();
    if (ao->size() != bo.size()) return false;
    for (const auto& [k, v] : *ao) {
      const value* other = b.find(k);
      if (other == nullptr || !(*other == v)) return false;
    }
    return true;
  }
  return a.v_ == b.v_;
}

bool is_blank(const value* v) noexcept {
  if (v == nullptr) return true;
  switch (v->type()) {
    case value::kind::null:
      return true;
    case value::kind::string:
      return v->if_string()->empty();
    case value::kind::array:
    case value::kind::object:
      return v->size() == 0;
    default:
      return false;
  }
}

}  // namespace civicperf
