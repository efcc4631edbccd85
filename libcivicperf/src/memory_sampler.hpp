#pragma once
// Resident memory of this process from /proc/self/statm. The file stays open
// and is re-read with pread(), which costs a few microseconds instead of an
// open/read/close each time.

#include <optional>

namespace civicperf::detail {

class memory_sampler {
 public:
  memory_sampler() noexcept;
  ~memory_sampler();
  memory_sampler(const memory_sampler&) = delete;
  memory_sampler& operator=(const memory_sampler&) = delete;

  /// Resident set size in MB; nullopt where /proc is unavailable.
  [[nodiscard]] std::optional<double> resident_mb() const noexcept;

 private:
  int fd_ = -1;
  double page_mb_ = 0;
};

}  // namespace civicperf::detail
