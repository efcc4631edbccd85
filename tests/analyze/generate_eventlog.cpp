// civicperf-eventlog-gen: writes a synthetic CSV event log for measuring the
// import speed of civicperf-analyze (the file is generated, never committed).
//
//   civicperf-eventlog-gen OUT.csv [EVENTS] [--intervals]
//
// Cases of 2..25 events walk a random process of 24 activities with rework;
// 2000 cases are active at a time, so cases interleave as in a real export.
// Columns as in the public logs: case:concept:name, concept:name,
// time:timestamp (microseconds and a +01:00 / +02:00 offset), org:resource,
// lifecycle:transition, an unused amount column, and with --intervals a
// start_timestamp column.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace {

struct rng {
  std::uint64_t state;
  std::uint64_t next() {   // splitmix64
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

struct active_case {
  std::uint64_t id = 0;
  int remaining = 0;
  int activity = 0;
  std::int64_t time_us = 0;   // local wall-clock microseconds since 1970
};

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
void civil(std::int64_t days, int& y, unsigned& m, unsigned& d) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

void put_time(std::string& out, std::int64_t local_us, bool summer) {
  const std::int64_t days = local_us / 86'400'000'000;
  const std::int64_t rest = local_us % 86'400'000'000;
  int y;
  unsigned m, d;
  civil(days, y, m, d);
  const std::int64_t s = rest / 1'000'000;
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}{}", y, m, d,
                 s / 3600, s / 60 % 60, s % 60, rest % 1'000'000, summer ? "+02:00" : "+01:00");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: civicperf-eventlog-gen OUT.csv [EVENTS] [--intervals]\n");
    return 2;
  }
  const std::string path = argv[1];
  std::uint64_t events = 3'000'000;
  bool intervals = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--intervals") {
      intervals = true;
    } else {
      events = std::strtoull(argv[i], nullptr, 10);
    }
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    fmt::print(stderr, "cannot write {}\n", path);
    return 1;
  }
  constexpr int activities = 24;
  std::vector<std::string> names;
  for (int a = 0; a < activities; ++a) names.push_back(fmt::format("T{:02} Step number {}", a, a));

  rng r{2024};
  std::vector<active_case> active(2000);
  std::uint64_t next_id = 10'000;
  const std::int64_t epoch = std::int64_t{1'300'000'000} * 1'000'000;   // March 2011
  const auto fresh = [&](active_case& c) {
    c.id = next_id++;
    c.remaining = 2 + static_cast<int>(r.below(24));
    c.activity = 0;
    c.time_us = epoch + static_cast<std::int64_t>(r.below(std::uint64_t{400} * 86'400'000'000));
  };
  for (auto& c : active) fresh(c);

  std::string out;
  out.reserve(1 << 22);
  out += "case:concept:name,concept:name,time:timestamp,org:resource,lifecycle:transition,amount";
  out += intervals ? ",start_timestamp\n" : "\n";
  for (std::uint64_t n = 0; n < events; ++n) {
    active_case& c = active[r.below(active.size())];
    const std::int64_t start = c.time_us;
    const std::int64_t end = intervals ? start + static_cast<std::int64_t>(r.below(7'200'000'000)) : start;
    const bool summer = (end / 86'400'000'000) % 365 > 90 && (end / 86'400'000'000) % 365 < 300;
    fmt::format_to(std::back_inserter(out), "case-{},{},", c.id, names[static_cast<std::size_t>(c.activity)]);
    put_time(out, end, summer);
    fmt::format_to(std::back_inserter(out), ",Resource{:02},complete,{}.0", r.below(48), r.below(1000));
    if (intervals) {
      out += ',';
      put_time(out, start, summer);
    }
    out += '\n';
    // Next activity: mostly forward, sometimes back (rework).
    const std::uint64_t roll = r.below(100);
    c.activity = roll < 80 ? (c.activity + 1) % activities
                 : roll < 90 ? static_cast<int>(r.below(activities))
                             : std::max(0, c.activity - 2);
    c.time_us = end + static_cast<std::int64_t>(r.below(3 * 86'400'000'000ull));
    if (--c.remaining == 0) fresh(c);
    if (out.size() > (1u << 22) - 512) {
      std::fwrite(out.data(), 1, out.size(), f);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), f);
  if (std::fclose(f) != 0) return 1;
  return 0;
}
