#include "memory_sampler.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

namespace civicperf::detail {

memory_sampler::memory_sampler() noexcept
    : fd_(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)),
      page_mb_(static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0)) {}

memory_sampler::~memory_sampler() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<double> memory_sampler::resident_mb() const noexcept {
  if (fd_ < 0) return std::nullopt;
  char buf[128];
  const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  // "size resident shared ...": the second field, in pages.
  const char* p = buf;
  const char* end = buf + n;
  while (p < end && *p != ' ') ++p;
  ++p;
  unsigned long long pages = 0;
  if (p >= end || std::from_chars(p, end, pages).ec != std::errc{}) return std::nullopt;
  return static_cast<double>(pages) * page_mb_;
}

}  // namespace civicperf::detail
