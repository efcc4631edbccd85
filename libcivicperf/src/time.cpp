#include "civicperf/time.hpp"

#include <thread>

#include "civil_date.hpp"

namespace civicperf {

namespace {

void put2(char* p, unsigned v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Reads exactly `n` ASCII digits at `p`; false when one is not a digit.
bool read_digits(const char* p, int n, int& out) noexcept {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - static_cast<unsigned>('0');
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  out = v;
  return true;
}

}  // namespace

std::string format_iso8601(timestamp t) {
  const auto us = t.time_since_epoch().count();
  // floor division, so instants before 1970 format correctly too
  std::int64_t days = us / detail::us_per_day;
  std::int64_t rem = us % detail::us_per_day;
  if (rem < 0) {
    rem += detail::us_per_day;
    --days;
  }
  const auto date = detail::civil_from_days(days);
  const auto ms = static_cast<unsigned>(rem / 1000);
  const unsigned hour = ms / 3'600'000;
  const unsigned minute = ms / 60'000 % 60;
  const unsigned second = ms / 1000 % 60;
  const unsigned milli = ms % 1000;

  std::string out;
  if (date.year < 0 || date.year > 9999) {
    // outside ISO-8601's four-digit years: sign and as many digits as needed
    out.push_back(date.year < 0 ? '-' : '+');
    out.append(std::to_string(date.year < 0 ? -static_cast<std::int64_t>(date.year) : date.year));
  } else {
    out.resize(4);
    const auto y = static_cast<unsigned>(date.year);
    put2(out.data(), y / 100);
    put2(out.data() + 2, y % 100);
  }
  char buf[21] = "-MM-DDTHH:MM:SS.mmmZ";
  put2(buf + 1, date.month);
  put2(buf + 4, date.day);
  put2(buf + 7, hour);
  put2(buf + 10, minute);
  put2(buf + 13, second);
  buf[16] = static_cast<char>('0' + milli / 100);
  put2(buf + 17, milli % 100);
  out.append(buf, 20);
  return out;
}

std::optional<timestamp> parse_iso8601(std::string_view text) noexcept {
  // YYYY-MM-DD(T| )HH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM|+HHMM|-HHMM|+HH|-HH]
  const char* p = text.data();
  const std::size_t n = text.size();
  if (n < 19) return std::nullopt;
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!read_digits(p, 4, year) || p[4] != '-' || !read_digits(p + 5, 2, month) || p[7] != '-' ||
      !read_digits(p + 8, 2, day)) {
    return std::nullopt;
  }
  if (p[10] != 'T' && p[10] != 't' && p[10] != ' ') return std::nullopt;
  if (!read_digits(p + 11, 2, hour) || p[13] != ':' || !read_digits(p + 14, 2, minute) ||
      p[16] != ':' || !read_digits(p + 17, 2, second)) {
    return std::nullopt;
  }
  if (!detail::valid_date(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }

  std::size_t i = 19;
  std::int64_t micros = 0;
  if (i < n && p[i] == '.') {
    ++i;
    int digits = 0;
    // Up to nanoseconds (Java, Go write nine digits); beyond microseconds
    // the digits are dropped, not rounded.
    while (i < n && p[i] >= '0' && p[i] <= '9') {
      if (++digits > 9) return std::nullopt;
      if (digits <= 6) micros = micros * 10 + (p[i] - '0');
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 6; ++k) micros *= 10;
  }

  std::int64_t offset_minutes = 0;
  if (i < n) {
    const char c = p[i];
    if (c == 'Z' || c == 'z') {
      ++i;
    } else if (c == '+' || c == '-') {
      int oh = 0;
      int om = 0;
      const std::size_t rest = n - i - 1;
      if (rest == 5 && p[i + 3] == ':') {
        if (!read_digits(p + i + 1, 2, oh) || !read_digits(p + i + 4, 2, om)) return std::nullopt;
      } else if (rest == 4) {
        if (!read_digits(p + i + 1, 2, oh) || !read_digits(p + i + 3, 2, om)) return std::nullopt;
      } else if (rest == 2) {   // +HH
        if (!read_digits(p + i + 1, 2, oh)) return std::nullopt;
      } else {
        return std::nullopt;
      }
      // Real offsets lie within -12:00 .. +14:00; allow up to 18:00 like
      // java.time, no further.
      if (oh > 18 || om > 59 || oh * 60 + om > 18 * 60) return std::nullopt;
      offset_minutes = (c == '+' ? 1 : -1) * (oh * 60 + om);
      i = n;
    } else {
      return std::nullopt;
    }
  }
  if (i != n) return std::nullopt;

  const std::int64_t days = detail::days_from_civil(year, month, day);
  const std::int64_t seconds_of_day = hour * 3600 + minute * 60 + second - offset_minutes * 60;
  const std::int64_t us = days * detail::us_per_day + seconds_of_day * 1'000'000 + micros;
  // An offset must not carry the instant out of the years 0000..9999, which
  // format_iso8601 writes back in the same form.
  static const std::int64_t first_us = detail::days_from_civil(0, 1, 1) * detail::us_per_day;
  static const std::int64_t end_us = detail::days_from_civil(10000, 1, 1) * detail::us_per_day;
  if (us < first_us || us >= end_us) return std::nullopt;
  return timestamp{duration{us}};
}

timestamp system_clock_source::wall_now() noexcept {
  return std::chrono::floor<duration>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point system_clock_source::steady_now() noexcept {
  return std::chrono::steady_clock::now();
}

void system_clock_source::sleep_for(duration d) { std::this_thread::sleep_for(d); }

system_clock_source& system_clock_source::instance() noexcept {
  static system_clock_source clock;
  return clock;
}

manual_clock::manual_clock(timestamp start) noexcept
    : now_us_(start.time_since_epoch().count()) {}

timestamp manual_clock::wall_now() noexcept {
  return timestamp{duration{now_us_.load(std::memory_order_acquire)}};
}

std::chrono::steady_clock::time_point manual_clock::steady_now() noexcept {
  // The steady reading is the wall reading on the steady clock's axis, so
  // both advance together and durations are exact.
  return std::chrono::steady_clock::time_point{
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          duration{now_us_.load(std::memory_order_acquire)})};
}

void manual_clock::sleep_for(duration d) { advance(d); }

void manual_clock::advance(duration d) noexcept {
  now_us_.fetch_add(d.count(), std::memory_order_acq_rel);
}

void manual_clock::set(timestamp t) noexcept {
  now_us_.store(t.time_since_epoch().count(), std::memory_order_release);
}

}  // namespace civicperf
