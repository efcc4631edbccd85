#include "civicperf/histogram.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using civicperf::log_histogram;
using civicperf::value_stats;

namespace {

// The nearest-rank quantile of sorted data: the ceil(q*n)-th smallest value.
std::int64_t exact_quantile(const std::vector<std::int64_t>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

}  // namespace

TEST_CASE("bucket boundaries are exact below 128 and 64 per octave above", "[histogram]") {
  CHECK(log_histogram::bucket_of(0) == 0);
  CHECK(log_histogram::bucket_of(127) == 127);
  CHECK(log_histogram::bucket_of(128) == 128);
  CHECK(log_histogram::bucket_of(129) == 128);   // [128, 129] has width 2
  CHECK(log_histogram::bucket_of(130) == 129);
  CHECK(log_histogram::bucket_of(255) == 191);
  CHECK(log_histogram::bucket_of(256) == 192);   // [256, 259] has width 4
  CHECK(log_histogram::bucket_low(192) == 256);
  CHECK(log_histogram::bucket_high(192) == 259);
  CHECK(log_histogram::bucket_low(128) == 128);
  CHECK(log_histogram::bucket_high(128) == 129);
  CHECK(log_histogram::bucket_of(std::uint64_t{1} << 63) == 128 + 56 * 64);
  CHECK(log_histogram::bucket_of(std::numeric_limits<std::uint64_t>::max()) == 128 + 56 * 64 + 63);
}

TEST_CASE("every value lies in its bucket and the bucket midpoint is within 1/128", "[histogram]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200'000; ++i) {
    const int bits = static_cast<int>(rng() % 62);
    const std::uint64_t v = rng() >> (63 - bits);
    const std::uint32_t b = log_histogram::bucket_of(v);
    const std::uint64_t lo = log_histogram::bucket_low(b);
    const std::uint64_t hi = log_histogram::bucket_high(b);
    REQUIRE(lo <= v);
    REQUIRE(v <= hi);
    const double mid = static_cast<double>(lo + (hi - lo) / 2);
    REQUIRE(std::abs(mid - static_cast<double>(v)) <=
            log_histogram::max_relative_error * static_cast<double>(v) + 1e-9);
  }
}

TEST_CASE("quantiles of small integers are exact", "[histogram]") {
  log_histogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.quantile(0.0) == 1);
  CHECK(h.quantile(0.5) == 50);
  CHECK(h.quantile(0.9) == 90);
  CHECK(h.quantile(0.95) == 95);
  CHECK(h.quantile(0.99) == 99);
  CHECK(h.quantile(1.0) == 100);
  CHECK_FALSE(log_histogram{}.quantile(0.5).has_value());
}

TEST_CASE("quantiles of a wide distribution are within 1% of the exact ones", "[histogram]") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(12.0, 3.0);   // microseconds: ms to days
  std::vector<std::int64_t> values;
  log_histogram h;
  for (int i = 0; i < 20'000; ++i) {
    const auto v = static_cast<std::int64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const auto exact = static_cast<double>(exact_quantile(values, q));
    const auto approx = static_cast<double>(*h.quantile(q));
    INFO("q=" << q << " exact=" << exact << " approx=" << approx);
    CHECK(std::abs(approx - exact) <= 0.01 * exact + 0.5);
  }
}

TEST_CASE("negative values sort before positive ones", "[histogram]") {
  log_histogram h;
  h.record(-5);
  h.record(-3);
  h.record(10);
  CHECK(h.quantile(0.0) == -5);
  CHECK(h.quantile(0.5) == -3);
  CHECK(h.quantile(1.0) == 10);
}

TEST_CASE("merging equals recording everything in one histogram", "[histogram]") {
  log_histogram a, b, all;
  for (std::int64_t v : {5, 900, 70'000, -40}) {
    a.record(v);
    all.record(v);
  }
  for (std::int64_t v : {3, 1'000'000'000, 901, 902}) {
    b.record(v);
    all.record(v);
  }
  log_histogram merged = a;
  merged.merge(b);
  CHECK(merged == all);
  CHECK(merged.count() == 8);
  for (double q : {0.0, 0.3, 0.5, 0.8, 1.0}) CHECK(merged.quantile(q) == all.quantile(q));
  log_histogram empty;
  empty.merge(all);
  CHECK(empty == all);
}

TEST_CASE("a repeated value in the same range keeps memory constant", "[histogram]") {
  log_histogram h;
  h.record(1'000, 3);
  CHECK(h.count() == 3);
  CHECK(h.quantile(0.5) == 1'003);   // bucket [1000, 1007], midpoint 1003
  h.record(1'000, 1'000'000'000);
  CHECK(h.count() == 1'000'000'003);
  CHECK(h.lost() == 0);
}

TEST_CASE("value_stats keeps count, sum, min, max and clamps quantiles to them", "[histogram]") {
  value_stats s;
  CHECK(s.mean() == 0.0);
  s.add(1'000);
  CHECK(s.quantile(0.5) == 1'000);   // the midpoint 1003 clamped to max
  s.add(3'000);
  s.add(-500);
  CHECK(s.count == 3);
  CHECK(s.sum == 3'500);
  CHECK(s.min == -500);
  CHECK(s.max == 3'000);
  CHECK(s.mean() == Approx(3'500.0 / 3.0));
  value_stats t;
  t.add(10'000);
  s.merge(t);
  CHECK(s.count == 4);
  CHECK(s.max == 10'000);
  CHECK(s.quantile(1.0) == 10'000);
}

TEST_CASE("several quantiles in one pass equal the single ones", "[histogram]") {
  std::mt19937_64 rng(3);
  log_histogram h;
  value_stats s;
  for (int i = 0; i < 5'000; ++i) {
    const auto v = static_cast<std::int64_t>(rng() % 10'000'000) - 1'000'000;
    h.record(v);
    s.add(v);
  }
  const double qs[] = {0.0, 0.01, 0.5, 0.5, 0.9, 0.95, 0.99, 1.0};
  std::int64_t out[8] = {};
  REQUIRE(h.quantiles(qs, out));
  for (std::size_t i = 0; i < 8; ++i) CHECK(out[i] == *h.quantile(qs[i]));
  REQUIRE(s.quantiles(qs, out));
  for (std::size_t i = 0; i < 8; ++i) CHECK(out[i] == *s.quantile(qs[i]));
  CHECK_FALSE(log_histogram{}.quantiles(qs, out));
}
