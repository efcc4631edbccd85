#pragma once
/// \file
/// Rendered report bodies, kept while the data they were computed from is
/// unchanged. Dashboards poll the same reports over and over; as long as the
/// monitor's version for a workflow stays the same, its reports do too, so a
/// repeated request costs a copy instead of a snapshot, an analysis and a
/// serialization. A changed version recomputes: an answer is never stale.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "http_types.hpp"

namespace civicperf::server {

/// Thread safety: every member function may be called concurrently (one
/// mutex, held only to look up or store a body, never while computing).
class report_cache {
 public:
  /// At most `max_entries` bodies; when full, the cache starts over.
  explicit report_cache(std::size_t max_entries = 512) : max_entries_(max_entries) {}

  /// The answer for `key` computed at `version`: the cached body when it was
  /// computed at that version, else `compute()` (a 200 answer is kept).
  /// `version` must be read before anything `compute` reads.
  [[nodiscard]] http_response get(const std::string& key, std::uint64_t version,
                                  const std::function<http_response()>& compute);

  [[nodiscard]] std::uint64_t hits() const;
  [[nodiscard]] std::uint64_t misses() const;

 private:
  struct entry {
    std::uint64_t version = 0;
    std::string body;
  };
  std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace civicperf::server
