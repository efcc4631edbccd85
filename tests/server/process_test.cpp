// The civicperf-server executable as a user runs it: exit codes, the
// "listening" line, and SIGTERM ending it gracefully with status 0.

#include <signal.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "process_support.hpp"
#include "test_support.hpp"

using civicperf::server::test::child;
using civicperf::server::test::child_options;
using civicperf::server::test::listing;
using civicperf::server::test::temp_dir;

TEST_CASE("civicperf-server: --version, --help and bad options", "[process]") {
  // Run where the default event store would go: a refused start creates no file.
  temp_dir cwd;
  child_options in_cwd;
  in_cwd.working_directory = cwd.path.string();
  {
    child c({"--version"});
    CHECK(c.wait_exit() == 0);
    CHECK(c.out().starts_with("civicperf-server "));
  }
  {
    child c({"--help"});
    CHECK(c.wait_exit() == 0);
    CHECK_THAT(c.out(), Catch::Contains("--simulate N"));
  }
  {
    child c({"--port", "banana"}, in_cwd);
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--port: expected an integer from 0 to 65535"));
  }
  {
    child c({"--workflows", "/nonexistent-civicperf-dir"}, in_cwd);
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--workflows"));
  }
  {
    child c({"--token-file", "/nonexistent-civicperf-token"}, in_cwd);
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--token-file"));
  }
  {
    child c({"--no-persist", "--db", "x.db"}, in_cwd);
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--db and --no-persist exclude each other"));
  }
  CHECK(listing(cwd.path).empty());
}

TEST_CASE("civicperf-server: serves on the printed port and stops on SIGTERM with 0",
          "[process]") {
  child_options token;
  token.env_extra = {"CIVICPERF_TOKEN=t0k"};
  child c({"--port", "0", "--threads", "2", "--access-log", "--no-persist"}, token);
  const auto m = c.wait_for_line(std::regex(R"(^civicperf-server listening on http://127\.0\.0\.1:(\d+)$)"));
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  {
    civicperf::server::test::raw_client client(port);
    CHECK(client.request("GET", "/api/v1/performance/health").result_int() == 200);
    // The token from the environment guards every POST.
    CHECK(client.request("POST", "/api/v1/performance/events", R"({"events":[]})").result_int() == 401);
    CHECK(client
              .request("POST", "/api/v1/performance/events", R"({"events":[]})",
                       "Authorization: Bearer t0k\r\n")
              .result_int() == 200);
  }
  c.wait_for_line(std::regex("^POST /api/v1/performance/events 200 "));   // the access log
  c.signal(SIGTERM);
  CHECK(c.wait_exit() == 0);
  CHECK_THAT(c.err(), Catch::Contains("stopped"));
}

TEST_CASE("civicperf-server: --import serves an event log's discovered workflow", "[process]") {
  const std::string log = std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/running-example.csv";
  child c({"--port", "0", "--threads", "1", "--no-persist", "--import", log, "--workflow-id",
           "compensation"});
  // running-example: 6 cases, 42 events, 8 activities (tests/data/eventlogs/README.md).
  c.wait_for_line(std::regex(
      "^imported .*running-example\\.csv as workflow 'compensation': 6 cases, 42 events, 8 activities"));
  const auto m = c.wait_for_line(std::regex(R"(^civicperf-server listening on http://127\.0\.0\.1:(\d+)$)"));
  civicperf::server::test::raw_client client(static_cast<std::uint16_t>(std::stoi(m[1].str())));
  const auto perf = boost::json::parse(
      client.request("GET", "/api/v1/performance/workflows/compensation/performance").body());
  CHECK(perf.at("total_instances").as_int64() == 6);
  CHECK(perf.at("completed_instances").as_int64() == 6);
  CHECK(perf.at("terminal_status_counts").at("COMPLETED").as_int64() == 6);
  // "decide" occurs 9 times in the log.
  const auto decide = boost::json::parse(
      client.request("GET", "/api/v1/performance/steps/decide/metrics?workflow_id=compensation").body());
  CHECK(decide.at("total_executions").as_int64() == 9);
  CHECK(client.request("GET", "/api/v1/performance/workflows/compensation/bottlenecks").result_int() == 200);
  c.signal(SIGTERM);
  CHECK(c.wait_exit() == 0);
}

TEST_CASE("civicperf-server: bad imports are refused at start", "[process]") {
  temp_dir cwd;
  child_options in_cwd;
  in_cwd.working_directory = cwd.path.string();
  {
    child c({"--workflow-id", "x"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--workflow-id names the workflow of a preceding --import"));
  }
  {
    child c({"--import", "/nonexistent-civicperf-log.csv"}, in_cwd);
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("/nonexistent-civicperf-log.csv: cannot open"));
  }
  {
    const std::string log = std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/running-example.csv";
    child c({"--import", log, "--workflow-id", "citizen_registration_v1"}, in_cwd);
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("workflow 'citizen_registration_v1' is already defined; "
                                        "name the import with --workflow-id ID"));
  }
  CHECK(listing(cwd.path).empty());
}
