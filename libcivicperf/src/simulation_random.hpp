#pragma once
// Random numbers for the simulation. The distributions are written out here
// rather than taken from <random>, whose std::*_distribution algorithms are
// implementation-defined: with these, a seed gives the same history with any
// standard library. Private header: never installed.

#include <array>
#include <cmath>
#include <cstdint>
#include <random>

namespace civicperf::detail {

/// SplitMix64: turns (seed, index) into well-spread seeds for sub-streams.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A seeded std::mt19937_64 with hand-rolled distributions.
/// Thread safety: none; one instance per thread.
class sim_random {
 public:
  explicit sim_random(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in [0, 1), 53 random bits.
  [[nodiscard]] double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  [[nodiscard]] bool chance(double p) { return uniform() < p; }
  /// Uniform in [0, n); 0 when n is 0. (The modulo bias is below 2^-40 for
  /// the small n used here.)
  [[nodiscard]] std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : engine_() % n; }
  /// Uniform in [lo, hi].
  [[nodiscard]] std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  /// Exponential with the given mean (inversion).
  [[nodiscard]] double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  /// Standard normal (Box-Muller, one value per call).
  [[nodiscard]] double normal() {
    const double u1 = 1.0 - uniform();   // (0, 1]: log() stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// Log-normal with the given mean and shape sigma (of the underlying normal).
  [[nodiscard]] double lognormal(double mean, double sigma) {
    const double mu = std::log(mean) - 0.5 * sigma * sigma;
    return std::exp(mu + sigma * normal());
  }
  template <class T, std::size_t N>
  [[nodiscard]] const T& pick(const std::array<T, N>& items) {
    return items[below(N)];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace civicperf::detail
