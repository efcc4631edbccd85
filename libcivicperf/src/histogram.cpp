#include "civicperf/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <new>

#include "saturating.hpp"

namespace civicperf {
namespace {

constexpr std::uint32_t sub_buckets = 1u << log_histogram::sub_bucket_bits;   // 64
constexpr std::uint32_t exact_buckets = 2 * sub_buckets;                       // 128
constexpr std::uint32_t max_index = exact_buckets + (63 - 7) * sub_buckets + sub_buckets - 1;

// Extra buckets allocated on each side when a window grows, so that a slowly
// widening range does not reallocate on every new extreme.
constexpr std::uint32_t growth_slack = 32;

std::uint64_t magnitude(std::int64_t v) noexcept {
  // Avoids overflow on INT64_MIN.
  return v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
}

std::int64_t midpoint(std::uint32_t index) noexcept {
  const std::uint64_t lo = log_histogram::bucket_low(index);
  const std::uint64_t hi = log_histogram::bucket_high(index);
  const std::uint64_t mid = lo + (hi - lo) / 2;
  return mid > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(mid);
}

}  // namespace

std::uint32_t log_histogram::bucket_of(std::uint64_t m) noexcept {
  if (m < exact_buckets) return static_cast<std::uint32_t>(m);
  const int exponent = 63 - std::countl_zero(m);   // >= 7
  const int shift = exponent - sub_bucket_bits;
  const auto top = static_cast<std::uint32_t>(m >> shift);   // in [64, 127]
  return exact_buckets + static_cast<std::uint32_t>(exponent - 7) * sub_buckets + (top - sub_buckets);
}

std::uint64_t log_histogram::bucket_low(std::uint32_t index) noexcept {
  if (index < exact_buckets) return index;
  const std::uint32_t k = index - exact_buckets;
  const std::uint32_t exponent = 7 + k / sub_buckets;
  const std::uint64_t top = sub_buckets + k % sub_buckets;
  return top << (exponent - sub_bucket_bits);
}

std::uint64_t log_histogram::bucket_high(std::uint32_t index) noexcept {
  if (index < exact_buckets) return index;
  const std::uint32_t exponent = 7 + (index - exact_buckets) / sub_buckets;
  return bucket_low(index) + ((std::uint64_t{1} << (exponent - sub_bucket_bits)) - 1);
}

bool log_histogram::window::add(std::uint32_t index, std::uint64_t n) noexcept {
  const auto size = static_cast<std::uint32_t>(counts.size());
  if (size != 0 && index >= first && index < first + size) {
    counts[index - first] += n;
    return true;
  }
  try {
    std::uint32_t lo = size == 0 ? index : std::min(first, index);
    std::uint32_t hi = size == 0 ? index : std::max(first + size - 1, index);
    lo = lo > growth_slack ? lo - growth_slack : 0;
    hi = std::min(hi + growth_slack, max_index);
    std::vector<std::uint64_t> grown(hi - lo + 1, 0);
    if (size != 0) std::copy(counts.begin(), counts.end(), grown.begin() + (first - lo));
    grown[index - lo] += n;
    counts = std::move(grown);
    first = lo;
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

void log_histogram::window::merge(const window& other) {
  if (other.counts.empty()) return;
  if (counts.empty()) {
    *this = other;
    return;
  }
  const auto other_size = static_cast<std::uint32_t>(other.counts.size());
  const auto size = static_cast<std::uint32_t>(counts.size());
  const std::uint32_t lo = std::min(first, other.first);
  const std::uint32_t hi = std::max(first + size, other.first + other_size);
  if (lo != first || hi != first + size) {
    std::vector<std::uint64_t> grown(hi - lo, 0);
    std::copy(counts.begin(), counts.end(), grown.begin() + (first - lo));
    counts = std::move(grown);
    first = lo;
  }
  for (std::uint32_t i = 0; i < other_size; ++i) counts[other.first - first + i] += other.counts[i];
}

std::uint64_t log_histogram::window::total() const noexcept {
  std::uint64_t t = 0;
  for (auto c : counts) t += c;
  return t;
}

void log_histogram::record(std::int64_t v, std::uint64_t n) noexcept {
  window& w = v < 0 ? negative_ : positive_;
  if (w.add(bucket_of(magnitude(v)), n)) {
    count_ += n;
  } else {
    lost_ += n;
  }
}

void log_histogram::merge(const log_histogram& other) {
  positive_.merge(other.positive_);
  negative_.merge(other.negative_);
  count_ += other.count_;
  lost_ += other.lost_;
}

void log_histogram::clear() noexcept { *this = log_histogram{}; }

std::optional<std::int64_t> log_histogram::quantile(double q) const noexcept {
  std::int64_t v = 0;
  if (!quantiles(std::span<const double>(&q, 1), std::span<std::int64_t>(&v, 1))) return std::nullopt;
  return v;
}

bool log_histogram::quantiles(std::span<const double> qs, std::span<std::int64_t> out) const noexcept {
  if (count_ == 0 || qs.empty() || out.size() < qs.size()) return false;
  // Nearest rank; the small epsilon keeps 0.9 * 10 at rank 9, not 10.
  const auto rank_of = [&](double q) {
    auto r = static_cast<std::uint64_t>(
        std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_) - 1e-9));
    return std::clamp<std::uint64_t>(r, 1, count_);
  };
  std::size_t next = 0;
  std::uint64_t rank = rank_of(qs[0]);
  std::uint64_t seen = 0;
  // Called once the running count reaches the next rank: the bucket's
  // midpoint answers every quantile whose rank falls in it.
  const auto take = [&](std::int64_t value) {
    while (next < qs.size() && seen >= rank) {
      out[next++] = value;
      if (next < qs.size()) rank = rank_of(qs[next]);
    }
    return next == qs.size();
  };
  // Negative values first, largest magnitude (smallest value) first.
  for (std::size_t i = negative_.counts.size(); i-- > 0;) {
    seen += negative_.counts[i];
    if (seen >= rank && take(-midpoint(negative_.first + static_cast<std::uint32_t>(i))))
      return true;
  }
  for (std::size_t i = 0; i < positive_.counts.size(); ++i) {
    seen += positive_.counts[i];
    if (seen >= rank && take(midpoint(positive_.first + static_cast<std::uint32_t>(i))))
      return true;
  }
  return next == qs.size();   // always true while counts and count_ agree
}

// Equal when they hold the same counts, whatever slack their windows carry.
bool operator==(const log_histogram& a, const log_histogram& b) noexcept {
  if (a.count_ != b.count_ || a.lost_ != b.lost_) return false;
  const auto same = [](const log_histogram::window& x, const log_histogram::window& y) {
    const auto at = [](const log_histogram::window& w, std::uint32_t i) -> std::uint64_t {
      return i >= w.first && i - w.first < w.counts.size() ? w.counts[i - w.first] : 0;
    };
    const std::uint32_t lo = std::min(x.first, y.first);
    const std::uint32_t hi = std::max(x.first + static_cast<std::uint32_t>(x.counts.size()),
                                      y.first + static_cast<std::uint32_t>(y.counts.size()));
    for (std::uint32_t i = lo; i < hi; ++i)
      if (at(x, i) != at(y, i)) return false;
    return true;
  };
  return same(a.positive_, b.positive_) && same(a.negative_, b.negative_);
}

void value_stats::add(std::int64_t v) noexcept {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  ++count;
  detail::add_to(sum, v);
  histogram.record(v);
}

void value_stats::merge(const value_stats& other) {
  if (other.count == 0) return;
  if (count == 0) {
    min = other.min;
    max = other.max;
  } else {
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }
  count += other.count;
  detail::add_to(sum, other.sum);
  histogram.merge(other.histogram);
}

std::optional<std::int64_t> value_stats::quantile(double q) const noexcept {
  auto v = histogram.quantile(q);
  if (v) *v = std::clamp(*v, min, max);
  return v;
}

bool value_stats::quantiles(std::span<const double> qs, std::span<std::int64_t> out) const noexcept {
  if (!histogram.quantiles(qs, out)) return false;
  for (std::size_t i = 0; i < qs.size(); ++i) out[i] = std::clamp(out[i], min, max);
  return true;
}

}  // namespace civicperf
