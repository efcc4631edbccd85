#pragma once
// A tiny test-and-test-and-set lock for critical sections of a few dozen
// nanoseconds (one recording), where a futex-based mutex costs more than the
// work it protects. Yields after a short spin so a preempted holder is not
// starved on an oversubscribed machine.

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CIVICPERF_CPU_RELAX() _mm_pause()
#else
#define CIVICPERF_CPU_RELAX() ((void)0)
#endif

namespace civicperf::detail {

class spinlock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          CIVICPERF_CPU_RELAX();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace civicperf::detail
