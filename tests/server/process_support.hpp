#pragma once
// Helpers of the tests that run the real civicperf-server executable: a child
// process with captured output, temporary directories and file snapshots.

#include <sys/types.h>

#include <catch2/catch.hpp>

#include "file_state.hpp"
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace civicperf::server::test {

/// How to start a child.
struct child_options {
  std::vector<std::string> env_extra;        ///< `NAME=value` added to the environment
  std::string working_directory;             ///< empty: the test's own
  std::optional<uid_t> uid;                  ///< run as this user (and its group id = uid)
};

/// civicperf-server (CIVICPERF_SERVER_EXE) as a child process, its stdout and
/// stderr captured through pipes. The destructor SIGKILLs it if it still runs.
/// Not thread-safe: one thread uses it (Catch2 assertions inside).
class child {
 public:
  explicit child(std::vector<std::string> args, child_options options = {});
  ~child();
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  /// Reads stdout until a line matching `pattern` appears (or 30 s pass); the
  /// child must not exit before.
  std::smatch wait_for_line(const std::regex& pattern);
  /// Waits for `civicperf-server listening on http://127.0.0.1:PORT` and returns PORT.
  std::uint16_t wait_listening();
  /// Waits for the exit status (or 30 s); returns the exit code, -1 when
  /// killed by a signal.
  int wait_exit();
  void signal(int sig);
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// What was read so far (everything, after wait_exit()).
  [[nodiscard]] const std::string& out() const { return out_text_; }
  [[nodiscard]] const std::string& err() const { return err_text_; }

 private:
  void drain();

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_text_;
  std::string err_text_;
  std::string line_;
  std::size_t scanned_ = 0;
};

/// A directory of its own under the system temp dir (mode 0755), removed with
/// everything in it afterwards.
struct temp_dir {
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path path;
};

// file_state, state_of, listing: tests/common/file_state.hpp.
using civicperf::test::file_state;
using civicperf::test::listing;
using civicperf::test::state_of;

}  // namespace civicperf::server::test

