#include "report_cache.hpp"

namespace civicperf::server {

http_response report_cache::get(const std::string& key, std::uint64_t version,
                                const std::function<http_response()>& compute) {
  {
    std::lock_guard guard(mutex_);
    if (const auto it = entries_.find(key); it != entries_.end() && it->second.version == version) {
      ++hits_;
      http_response res;
      res.body = it->second.body;
      return res;
    }
    ++misses_;
  }
  http_response res = compute();
  if (res.status == 200) {
    std::lock_guard guard(mutex_);
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) entries_.clear();
    entries_[key] = entry{version, res.body};
  }
  return res;
}

std::uint64_t report_cache::hits() const {
  std::lock_guard guard(mutex_);
  return hits_;
}

std::uint64_t report_cache::misses() const {
  std::lock_guard guard(mutex_);
  return misses_;
}

}  // namespace civicperf::server
