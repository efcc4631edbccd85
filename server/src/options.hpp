#pragma once
/// \file
/// Command-line options of civicperf-server.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace civicperf::server {

/// An event log to import before serving (--import FILE [--workflow-id ID]).
struct import_option {
  std::string path;
  std::string workflow_id;   ///< empty: the file name without its extension
};

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;                          ///< 0: any free port
  unsigned threads = 0;                               ///< 0: hardware concurrency
  std::size_t max_body = 1024 * 1024;                 ///< request body limit, bytes
  std::size_t max_header = 8 * 1024;                  ///< request header limit, bytes
  std::size_t max_events = 10'000;                    ///< events per POST /events
  std::chrono::milliseconds read_timeout{30'000};     ///< to receive one request
  std::chrono::milliseconds idle_timeout{60'000};     ///< between keep-alive requests
  std::chrono::milliseconds shutdown_timeout{10'000}; ///< drain time on SIGINT/SIGTERM
  std::string workflows_dir;                          ///< empty: the example workflows
  bool access_log = false;
  std::string token_file;
  std::optional<std::size_t> simulate;                ///< cases to simulate before serving
  std::uint64_t seed = 1;
  std::vector<import_option> imports;                 ///< event logs, in order
  bool skip_bad = false;                              ///< imports skip malformed rows
  /// The event store file; relative paths are taken from the working directory.
  std::string db = "civicperf.db";
  /// False (--no-persist): recorded events live in memory only and nothing is
  /// written to disk.
  bool persist = true;
  bool help = false;
  bool version = false;
};

/// A bad command line; the message says what and how to fix it.
class options_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses the arguments after the program name: `--name value` or
/// `--name=value`. Throws options_error.
[[nodiscard]] server_options parse_options(std::span<const std::string_view> args);

/// The --help text.
[[nodiscard]] std::string usage_text();

}  // namespace civicperf::server
