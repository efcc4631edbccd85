#include "query.hpp"

#include <catch2/catch.hpp>

#include "json_response.hpp"

using namespace civicperf::server;

TEST_CASE("split_target separates path, query and fragment", "[query]") {
  auto s = split_target("/a/b?x=1&y=2#frag");
  CHECK(s.path == "/a/b");
  CHECK(s.query == "x=1&y=2");
  s = split_target("/plain");
  CHECK(s.path == "/plain");
  CHECK(s.query.empty());
}

TEST_CASE("percent_decode decodes escapes and rejects malformed ones", "[query]") {
  CHECK(percent_decode("a%20b%2Fc", false) == "a b/c");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK_FALSE(percent_decode("%2", false));
  CHECK_FALSE(percent_decode("%zz", false));
  CHECK_FALSE(percent_decode("abc%", false));
  CHECK_FALSE(percent_decode("nul%00", false));
}

TEST_CASE("query_params parses, types and checks parameters", "[query]") {
  const auto q = query_params::parse("threshold_ms=1500.5&min_executions=3&workflow_id=a%5Fb&&");
  REQUIRE(q.items().size() == 3);
  CHECK(q.non_negative_number("threshold_ms") == 1500.5);
  CHECK(q.non_negative_integer("min_executions") == 3);
  CHECK(q.text("workflow_id") == "a_b");
  CHECK_FALSE(q.text("absent"));
  CHECK_NOTHROW(q.allow_only({"threshold_ms", "min_executions", "workflow_id"}));

  const auto status_of = [](auto&& fn) {
    try {
      fn();
    } catch (const api_error& e) {
      return e.status();
    }
    return 0u;
  };
  CHECK(status_of([&] { q.allow_only({"threshold_ms"}); }) == 422);
  CHECK(status_of([] { (void)query_params::parse("x=%G1"); }) == 422);
  CHECK(status_of([] { query_params::parse("a=1&a=2").allow_only({"a"}); }) == 422);
  for (const char* bad : {"abc", "-1", "1e3", "nan", "inf", "", "1.5.2", " 5"}) {
    INFO(bad);
    const auto p = query_params::parse(std::string("t=") + bad);
    CHECK(status_of([&] { (void)p.non_negative_number("t"); }) == 422);
  }
  for (const char* bad : {"abc", "-1", "1.5", "", "99999999999999999999"}) {
    INFO(bad);
    const auto p = query_params::parse(std::string("n=") + bad);
    CHECK(status_of([&] { (void)p.non_negative_integer("n"); }) == 422);
  }
  CHECK(query_params::parse("n=0").non_negative_integer("n") == 0);
  CHECK(query_params::parse("t=0").non_negative_number("t") == 0.0);
}
