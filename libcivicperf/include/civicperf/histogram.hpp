#pragma once
/// \file
/// A mergeable log-linear histogram with bounded relative error, and the
/// count/sum/min/max summary built on it.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace civicperf {

/// Counts of integer values (microseconds in civicperf) in log-linear buckets:
/// values 0..127 exactly, then 64 buckets per power of two, so a quantile is
/// reported within 1/128 (< 1 %) of a true sample value. Negative values (a
/// transition where activities overlap) are kept in mirrored buckets. Memory
/// grows only with the range of values seen (at most ~30 KB per sign), never
/// with the number of values.
/// Thread safety: a plain value type; synchronise externally.
class log_histogram {
 public:
  static constexpr int sub_bucket_bits = 6;
  static constexpr std::int64_t exact_limit = std::int64_t{2} << sub_bucket_bits;  // 128
  /// Upper bound of |reported quantile - a true sample| / |true sample|.
  static constexpr double max_relative_error = 1.0 / 128.0;

  /// Adds `n` occurrences of `v`. Allocates only when `v` lies outside the
  /// bucket range seen so far; if that allocation fails the value is counted
  /// in lost() instead of thrown.
  void record(std::int64_t v, std::uint64_t n = 1) noexcept;
  /// Adds every count of `other`.
  void merge(const log_histogram& other);
  void clear() noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t lost() const noexcept { return lost_; }
  /// The value at quantile q in [0, 1] (nearest rank: the ceil(q*n)-th
  /// smallest), as the midpoint of its bucket; nullopt when empty.
  [[nodiscard]] std::optional<std::int64_t> quantile(double q) const noexcept;
  /// Several quantiles in one pass over the buckets: `qs` ascending, `out`
  /// the same size. False (and `out` untouched) when empty.
  bool quantiles(std::span<const double> qs, std::span<std::int64_t> out) const noexcept;

  /// Bucket index of a non-negative value, and the inclusive value range of
  /// an index (exposed for tests and for exporters).
  [[nodiscard]] static std::uint32_t bucket_of(std::uint64_t magnitude) noexcept;
  [[nodiscard]] static std::uint64_t bucket_low(std::uint32_t index) noexcept;
  [[nodiscard]] static std::uint64_t bucket_high(std::uint32_t index) noexcept;

  friend bool operator==(const log_histogram&, const log_histogram&) noexcept;

 private:
  // A window of buckets [first, first + counts.size()) for one sign.
  struct window {
    std::uint32_t first = 0;
    std::vector<std::uint64_t> counts;
    bool add(std::uint32_t index, std::uint64_t n) noexcept;
    void merge(const window& other);
    [[nodiscard]] std::uint64_t total() const noexcept;
  };
  window positive_;   // values >= 0
  window negative_;   // magnitudes of values < 0
  std::uint64_t count_ = 0;
  std::uint64_t lost_ = 0;
};

/// count, sum, min, max and a histogram of integer values.
/// Thread safety: a plain value type; synchronise externally.
struct value_stats {
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int64_t min = 0;   ///< meaningful when count > 0
  std::int64_t max = 0;   ///< meaningful when count > 0
  log_histogram histogram;

  void add(std::int64_t v) noexcept;
  void merge(const value_stats& other);
  [[nodiscard]] double mean() const noexcept {
    return count > 0 ? static_cast<double>(sum) / static_cast<double>(count) : 0.0;
  }
  [[nodiscard]] std::optional<std::int64_t> quantile(double q) const noexcept;
  /// Several quantiles in one pass (see log_histogram::quantiles), clamped to [min, max].
  bool quantiles(std::span<const double> qs, std::span<std::int64_t> out) const noexcept;
  friend bool operator==(const value_stats&, const value_stats&) noexcept = default;
};

}  // namespace civicperf
