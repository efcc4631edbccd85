#include "civicperf/time.hpp"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

using civicperf::duration;
using civicperf::format_iso8601;
using civicperf::parse_iso8601;
using civicperf::timestamp;
using namespace std::chrono_literals;

namespace {
// 2025-07-03T10:30:00Z: 20272 days after 1970-01-01 (55 years with 14 leap
// days to 2025-01-01, then 181 + 2 days) plus 37 800 s.
constexpr std::int64_t july3_1030_s = 20272LL * 86400 + 37800;   // 1 751 538 600

timestamp at_us(std::int64_t us) { return timestamp{duration{us}}; }
}  // namespace

TEST_CASE("time: to_ms keeps microsecond precision", "[time]") {
  CHECK(civicperf::to_ms(duration{1500}) == 1.5);
  CHECK(civicperf::to_ms(duration{1}) == 0.001);
  CHECK(civicperf::to_ms(duration{0}) == 0.0);
}

TEST_CASE("time: format_iso8601", "[time]") {
  CHECK(format_iso8601(at_us(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(at_us(july3_1030_s * 1'000'000 + 157'000)) == "2025-07-03T10:30:00.157Z");
  // microseconds are truncated to milliseconds, not rounded
  CHECK(format_iso8601(at_us(july3_1030_s * 1'000'000 + 157'999)) == "2025-07-03T10:30:00.157Z");
  CHECK(format_iso8601(at_us(951'782'400LL * 1'000'000)) == "2000-02-29T00:00:00.000Z");
  // before the epoch: floor, not truncation towards zero
  CHECK(format_iso8601(at_us(-1)) == "1969-12-31T23:59:59.999Z");
  CHECK(format_iso8601(at_us(-301'248'000LL * 1'000'000)) == "1960-06-15T08:00:00.000Z");
  CHECK(format_iso8601(at_us(86'399'999'999)) == "1970-01-01T23:59:59.999Z");
}

TEST_CASE("time: parse_iso8601 accepts the documented forms", "[time]") {
  const auto expected = at_us(july3_1030_s * 1'000'000 + 157'000);
  CHECK(parse_iso8601("2025-07-03T10:30:00.157Z") == expected);
  CHECK(parse_iso8601("2025-07-03 10:30:00.157Z") == expected);
  CHECK(parse_iso8601("2025-07-03t10:30:00.157z") == expected);
  CHECK(parse_iso8601("2025-07-03T10:30:00.157") == expected);   // no offset: UTC
  CHECK(parse_iso8601("2025-07-03T10:30:00.157+00:00") == expected);
  CHECK(parse_iso8601("2025-07-03T10:30:00.157-00:00") == expected);

  const auto whole = at_us(july3_1030_s * 1'000'000);
  CHECK(parse_iso8601("2025-07-03T10:30:00Z") == whole);
  CHECK(parse_iso8601("2025-07-03T10:30:00") == whole);
}

TEST_CASE("time: parse_iso8601 fractions up to nanoseconds, kept to microseconds", "[time]") {
  const std::int64_t base = july3_1030_s * 1'000'000;
  CHECK(parse_iso8601("2025-07-03T10:30:00.5Z") == at_us(base + 500'000));
  CHECK(parse_iso8601("2025-07-03T10:30:00.05Z") == at_us(base + 50'000));
  CHECK(parse_iso8601("2025-07-03T10:30:00.123456Z") == at_us(base + 123'456));
  CHECK(parse_iso8601("2025-07-03T10:30:00.000001Z") == at_us(base + 1));
  CHECK(parse_iso8601("2025-07-03T10:30:00.1234567Z") == at_us(base + 123'456));   // dropped
  CHECK(parse_iso8601("2025-07-03T10:30:00.123456999Z") == at_us(base + 123'456));   // not rounded
  CHECK_FALSE(parse_iso8601("2025-07-03T10:30:00.1234567890Z"));   // beyond nanoseconds
  CHECK_FALSE(parse_iso8601("2025-07-03T10:30:00.Z"));
  CHECK_FALSE(parse_iso8601("2025-07-03T10:30:00."));
}

TEST_CASE("time: parse_iso8601 honours offsets", "[time]") {
  const auto expected = at_us(july3_1030_s * 1'000'000);
  CHECK(parse_iso8601("2025-07-03T12:30:00+02:00") == expected);
  CHECK(parse_iso8601("2025-07-03T12:30:00+0200") == expected);
  CHECK(parse_iso8601("2025-07-03T05:00:00-05:30") == expected);
  CHECK(parse_iso8601("2025-07-03T05:00:00-0530") == expected);
  CHECK(parse_iso8601("2025-07-03T12:30:00.000+02:00") == expected);
  CHECK(parse_iso8601("2025-07-03T12:30:00+02") == expected);
  CHECK(parse_iso8601("2025-07-04T00:30:00+14:00") == expected);
  CHECK(parse_iso8601("2025-07-02T22:30:00-12:00") == expected);
  // across midnight and the year boundary: 2024-12-31T23:30:00Z = 1 735 687 800 s
  CHECK(parse_iso8601("2025-01-01T00:30:00+01:00") == at_us(1'735'687'800LL * 1'000'000));
  CHECK(format_iso8601(*parse_iso8601("2025-01-01T00:30:00+01:00")) == "2024-12-31T23:30:00.000Z");
}

TEST_CASE("time: parse_iso8601 rejects impossible dates and times", "[time]") {
  CHECK(parse_iso8601("2024-02-29T00:00:00Z"));   // leap year
  CHECK(parse_iso8601("2000-02-29T00:00:00Z") == at_us(951'782'400LL * 1'000'000));
  CHECK_FALSE(parse_iso8601("2025-02-29T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2100-02-29T00:00:00Z"));   // divisible by 100, not 400
  CHECK_FALSE(parse_iso8601("2025-02-30T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-04-31T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-13-01T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-00-10T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-01-00T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-01-32T00:00:00Z"));
  CHECK(parse_iso8601("2025-01-31T23:59:59Z"));
  CHECK_FALSE(parse_iso8601("2025-01-01T24:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-01-01T25:00:00Z"));
  CHECK_FALSE(parse_iso8601("2025-01-01T10:60:00Z"));
  CHECK_FALSE(parse_iso8601("2025-01-01T10:00:60Z"));
  CHECK_FALSE(parse_iso8601("2025-01-01T10:00:00+24:00"));
  CHECK_FALSE(parse_iso8601("2025-01-01T10:00:00+18:01"));
  // Offsets must not carry an instant out of the years 0000..9999.
  CHECK(parse_iso8601("0000-01-01T00:00:00Z"));
  CHECK(parse_iso8601("9999-12-31T23:59:59Z"));
  CHECK_FALSE(parse_iso8601("0000-01-01T00:00:00+00:01"));
  CHECK_FALSE(parse_iso8601("9999-12-31T23:59:59-00:01"));
  CHECK_FALSE(parse_iso8601("2025-01-01T10:00:00+01:60"));
}

TEST_CASE("time: parse_iso8601 rejects malformed text", "[time]") {
  for (const char* text : {"", "2025-07-03", "2025-07-03T10:30Z", "2025-07-03T10:30",
                           "2025-7-03T10:30:00Z", "2025-07-3T10:30:00Z", "25-07-03T10:30:00Z",
                           "2025/07/03T10:30:00Z", "2025-07-03X10:30:00Z", "2025-07-03T10-30-00Z",
                           "2025-07-03T10:30:00ZZ", "2025-07-03T10:30:00Z ", " 2025-07-03T10:30:00Z",
                           "2025-07-03T10:30:00+2", "2025-07-03T10:30:00+2:00",
                           "2025-07-03T10:30:00+02:0", "2025-07-03T10:30:00+02:000",
                           "2025-07-03T10:30:00+0a:00", "2025-07-03T1a:30:00Z",
                           "2025-07-03T10:30:00 +02:00", "abcd-ef-ghTij:kl:mnZ"}) {
    INFO(text);
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("time: format and parse round-trip", "[time]") {
  for (const char* text : {"2025-07-03T10:30:00.157Z", "1970-01-01T00:00:00.000Z",
                           "1999-12-31T23:59:59.999Z", "2024-02-29T12:00:00.001Z",
                           "1969-07-20T20:17:40.000Z"}) {
    const auto t = parse_iso8601(text);
    REQUIRE(t);
    CHECK(format_iso8601(*t) == text);
  }
}

TEST_CASE("time: manual_clock moves only when told", "[time]") {
  civicperf::manual_clock clock(at_us(1'000'000));
  CHECK(clock.wall_now() == at_us(1'000'000));
  const auto steady0 = clock.steady_now();
  CHECK(clock.wall_now() == at_us(1'000'000));   // reading does not advance

  clock.advance(250ms);
  CHECK(clock.wall_now() == at_us(1'250'000));
  CHECK(clock.steady_now() - steady0 == 250ms);

  clock.sleep_for(duration{5});
  CHECK(clock.wall_now() == at_us(1'250'005));
  CHECK(clock.steady_now() - steady0 == duration{250'005});

  clock.set(at_us(42));
  CHECK(clock.wall_now() == at_us(42));

  civicperf::manual_clock epoch;
  CHECK(epoch.wall_now() == timestamp{});
}

TEST_CASE("time: manual_clock advances atomically from several threads", "[time][concurrency]") {
  civicperf::manual_clock clock;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 10'000; ++i) clock.advance(duration{1});
    });
  }
  for (auto& t : threads) t.join();
  CHECK(clock.wall_now() == at_us(40'000));
}

TEST_CASE("time: system_clock_source reads the real clocks", "[time]") {
  auto& clock = civicperf::system_clock_source::instance();
  CHECK(&clock == &civicperf::system_clock_source::instance());
  const auto before = std::chrono::system_clock::now();
  const auto wall = clock.wall_now();
  const auto after = std::chrono::system_clock::now();
  CHECK(wall >= std::chrono::floor<duration>(before));
  CHECK(wall <= std::chrono::ceil<duration>(after));

  const auto s0 = clock.steady_now();
  clock.sleep_for(duration{2000});
  CHECK(clock.steady_now() - s0 >= 2ms);
}
