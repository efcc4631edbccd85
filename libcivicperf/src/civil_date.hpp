#pragma once
// Proleptic Gregorian calendar arithmetic on plain integers (Howard Hinnant's
// days_from_civil / civil_from_days), shared by the ISO-8601 parser and the
// date validation rule. Private header: never installed.

#include <cstdint>

namespace civicperf::detail {

inline constexpr std::int64_t us_per_day = 86'400'000'000;

struct civil_date {
  std::int64_t year;
  unsigned month;   // 1..12
  unsigned day;     // 1..31
};

[[nodiscard]] constexpr bool is_leap_year(std::int64_t y) noexcept {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

[[nodiscard]] constexpr int days_in_month(std::int64_t y, int m) noexcept {
  constexpr int table[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : table[m - 1];
}

[[nodiscard]] constexpr bool valid_date(std::int64_t y, int m, int d) noexcept {
  return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/// Days since 1970-01-01 of a valid date.
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (m + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// The date `days` days after 1970-01-01.
[[nodiscard]] constexpr civil_date civil_from_days(std::int64_t days) noexcept {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).year == 2000 && civil_from_days(11017).month == 3);

}  // namespace civicperf::detail
