#pragma once
/// \file
/// Time types shared by the whole library, ISO-8601 conversion and the
/// injectable clock used by the executor.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace civicperf {

/// Every duration in civicperf is an integer number of microseconds: exact,
/// cheap to add, and fine enough for a no-op step.
using duration = std::chrono::microseconds;

/// A wall-clock instant (UTC), microseconds since the Unix epoch.
using timestamp = std::chrono::sys_time<duration>;

/// Milliseconds as reported on the wire (three decimals: microsecond precision).
[[nodiscard]] constexpr double to_ms(duration d) noexcept {
  return static_cast<double>(d.count()) / 1000.0;
}

/// Formats `t` as ISO-8601 UTC with milliseconds: `2025-07-03T10:30:00.157Z`.
[[nodiscard]] std::string format_iso8601(timestamp t);

/// Parses ISO-8601 date-times: `T` or space between date and time, optional
/// fraction (up to nine digits; beyond microseconds they are dropped), and
/// `Z`, `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH` or no offset (taken as UTC).
/// Offsets (at most 18 hours) are honoured. Returns nullopt when `text` is
/// not such a date-time, names an impossible date, or falls outside the years
/// 0000..9999 once the offset is applied.
[[nodiscard]] std::optional<timestamp> parse_iso8601(std::string_view text) noexcept;

/// Source of time for the executor. Tests and simulations inject a
/// manual_clock so every recorded duration is deterministic.
/// Thread safety: implementations must be safe to call from several threads.
class clock_source {
 public:
  virtual ~clock_source() = default;
  /// Wall-clock time: used for started_at / completed_at.
  [[nodiscard]] virtual timestamp wall_now() noexcept = 0;
  /// Monotonic time: used for durations.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point steady_now() noexcept = 0;
  /// Blocks for `d` (retry back-off). A manual clock advances instead.
  virtual void sleep_for(duration d) = 0;
};

/// The real clocks. Thread safety: stateless, safe from any thread.
class system_clock_source final : public clock_source {
 public:
  [[nodiscard]] timestamp wall_now() noexcept override;
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() noexcept override;
  void sleep_for(duration d) override;
  /// A shared instance for callers that do not inject a clock.
  [[nodiscard]] static system_clock_source& instance() noexcept;
};

/// A clock that only moves when told to; both readings advance together.
/// Thread safety: reads and advances are atomic, safe from several threads.
class manual_clock final : public clock_source {
 public:
  explicit manual_clock(timestamp start = timestamp{}) noexcept;
  [[nodiscard]] timestamp wall_now() noexcept override;
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() noexcept override;
  /// Advances the clock by `d` instead of sleeping.
  void sleep_for(duration d) override;
  void advance(duration d) noexcept;
  void set(timestamp t) noexcept;

 private:
  std::atomic<std::int64_t> now_us_;
};

}  // namespace civicperf
