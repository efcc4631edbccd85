#include "options.hpp"

#include <catch2/catch.hpp>
#include <string_view>
#include <vector>

using namespace civicperf::server;

namespace {

server_options parse(std::vector<std::string_view> args) { return parse_options(args); }

}  // namespace

TEST_CASE("options have the documented defaults", "[options]") {
  const auto o = parse({});
  CHECK(o.host == "127.0.0.1");
  CHECK(o.port == 8000);
  CHECK(o.threads == 0);
  CHECK(o.max_body == 1024 * 1024);
  CHECK(o.max_header == 8 * 1024);
  CHECK(o.max_events == 10'000);
  CHECK(o.read_timeout == std::chrono::seconds(30));
  CHECK_FALSE(o.simulate);
  CHECK_FALSE(o.access_log);
  CHECK(o.workflows_dir.empty());
  CHECK(o.db == "civicperf.db");
  CHECK(o.persist);
}

TEST_CASE("the event store options: --db PATH or --no-persist, not both", "[options]") {
  CHECK(parse({"--db", "/var/lib/civicperf/events.db"}).db == "/var/lib/civicperf/events.db");
  CHECK(parse({"--db=x.db"}).db == "x.db");
  CHECK_FALSE(parse({"--no-persist"}).persist);
  CHECK_THROWS_WITH(parse({"--db", "x.db", "--no-persist"}),
                    "--db and --no-persist exclude each other: --no-persist uses no file");
  CHECK_THROWS_WITH(parse({"--no-persist", "--db=x.db"}),
                    "--db and --no-persist exclude each other: --no-persist uses no file");
  CHECK_THROWS_WITH(parse({"--db", ""}), "--db: expected a file path");
  CHECK_THROWS_WITH(parse({"--no-persist=yes"}), "--no-persist takes no value");
}

TEST_CASE("options accept both spellings and sizes with suffixes", "[options]") {
  const auto o = parse({"--host", "0.0.0.0", "--port=0", "--threads", "3", "--max-body", "2M",
                        "--max-header=16K", "--read-timeout", "0.2", "--idle-timeout=5",
                        "--simulate", "500", "--seed", "42", "--access-log", "--workflows",
                        "dir", "--token-file", "tok", "--max-events", "20"});
  CHECK(o.host == "0.0.0.0");
  CHECK(o.port == 0);
  CHECK(o.threads == 3);
  CHECK(o.max_body == 2 * 1024 * 1024);
  CHECK(o.max_header == 16 * 1024);
  CHECK(o.read_timeout == std::chrono::milliseconds(200));
  CHECK(o.idle_timeout == std::chrono::seconds(5));
  CHECK(o.simulate == 500u);
  CHECK(o.seed == 42u);
  CHECK(o.access_log);
  CHECK(o.workflows_dir == "dir");
  CHECK(o.token_file == "tok");
  CHECK(o.max_events == 20u);
  CHECK(parse({"--help"}).help);
  CHECK(parse({"--version"}).version);
}

TEST_CASE("bad options are refused with a message", "[options]") {
  const std::vector<std::vector<std::string_view>> bad{
      {"--port", "65536"}, {"--port", "x"},       {"--port"},           {"--threads", "0"},
      {"--max-body", "0"}, {"--max-body", "1X"},  {"--read-timeout", "-1"},
      {"--bogus"},         {"positional"},        {"--help=yes"},       {"--simulate", "-5"},
      {"--host", ""}};
  for (const auto& args : bad) {
    INFO(args.front());
    CHECK_THROWS_AS(parse(args), options_error);
  }
  CHECK_THROWS_WITH(parse({"--port", "x"}), Catch::Contains("--port"));
}
