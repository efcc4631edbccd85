// The civicperf-server executable as a user runs it: exit codes, the
// "listening" line, and SIGTERM ending it gracefully with status 0.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "test_support.hpp"

extern char** environ;

namespace {

/// A child process with its stdout and stderr captured through pipes.
class child {
 public:
  explicit child(std::vector<std::string> args, std::vector<std::string> env_extra = {}) {
    int out[2];
    int err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    args.insert(args.begin(), CIVICPERF_SERVER_EXE);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
    for (auto& e : env_extra) env_store.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    REQUIRE(rc == 0);
  }
  ~child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
    ::close(err_);
  }

  /// Reads stdout until a line matching `pattern` appears (or 30 s pass).
  std::smatch wait_for_line(const std::regex& pattern) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      std::size_t nl;
      while ((nl = out_text_.find('\n', scanned_)) != std::string::npos) {
        line_ = out_text_.substr(scanned_, nl - scanned_);
        scanned_ = nl + 1;
        std::smatch m;
        if (std::regex_search(line_, m, pattern)) return m;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      REQUIRE(left.count() > 0);
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      REQUIRE(n > 0);   // the child must not exit before printing the line
      out_text_.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// Waits for the exit status (or 30 s); returns the exit code, -1 when killed by a signal.
  int wait_exit() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      drain();
      ::usleep(10'000);   // polling the child's status, not a timing assertion
    }
    pid_ = -1;
    drain();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void signal(int sig) { ::kill(pid_, sig); }
  [[nodiscard]] const std::string& out() const { return out_text_; }
  [[nodiscard]] const std::string& err() const { return err_text_; }

 private:
  void drain() {
    for (int fd : {out_, err_}) {
      pollfd p{fd, POLLIN, 0};
      while (::poll(&p, 1, 0) > 0) {
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        (fd == out_ ? out_text_ : err_text_).append(buf, static_cast<std::size_t>(n));
      }
    }
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_text_;
  std::string err_text_;
  std::string line_;
  std::size_t scanned_ = 0;
};

}  // namespace

TEST_CASE("civicperf-server: --version, --help and bad options", "[process]") {
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
    child c({"--port", "banana"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--port: expected an integer from 0 to 65535"));
  }
  {
    child c({"--workflows", "/nonexistent-civicperf-dir"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--workflows"));
  }
  {
    child c({"--token-file", "/nonexistent-civicperf-token"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--token-file"));
  }
}

TEST_CASE("civicperf-server: serves on the printed port and stops on SIGTERM with 0",
          "[process]") {
  child c({"--port", "0", "--threads", "2", "--access-log"}, {"CIVICPERF_TOKEN=t0k"});
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
  child c({"--port", "0", "--threads", "1", "--import", log, "--workflow-id", "compensation"});
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
  {
    child c({"--workflow-id", "x"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("--workflow-id names the workflow of a preceding --import"));
  }
  {
    child c({"--import", "/nonexistent-civicperf-log.csv"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("/nonexistent-civicperf-log.csv: cannot open"));
  }
  {
    const std::string log = std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/running-example.csv";
    child c({"--import", log, "--workflow-id", "citizen_registration_v1"});
    CHECK(c.wait_exit() == 2);
    CHECK_THAT(c.err(), Catch::Contains("'citizen_registration_v1' is already"));
  }
}
