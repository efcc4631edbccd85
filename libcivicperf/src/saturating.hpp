#pragma once
// Sums of microseconds saturate instead of overflowing: a hostile or broken
// input (a duration of millennia, repeated) must not wrap a statistic into
// nonsense or be undefined behaviour.

#include <cstdint>
#include <limits>

namespace civicperf::detail {

inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

inline std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

inline void add_to(std::int64_t& total, std::int64_t v) noexcept { total = saturating_add(total, v); }

}  // namespace civicperf::detail
