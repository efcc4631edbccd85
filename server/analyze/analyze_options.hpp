#pragma once
/// \file
/// Command-line options of civicperf-analyze.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "civicperf/eventlog.hpp"

namespace civicperf::analyze {

struct analyze_options {
  std::string file;
  bool json = false;
  bool quiet = false;              ///< no progress line
  std::string workflow_id;         ///< empty: the file name without extension
  eventlog_options log;            ///< format, columns, separator, skip_bad
  double threshold_ms = 5000;      ///< slow steps / slow transitions
  std::int64_t min_executions = 10;
  std::size_t top = 10;            ///< rows per table of the text report
  bool help = false;
  bool version = false;
};

/// A bad command line; the message says what is wrong.
class options_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses the arguments after the program name: `--name value` or
/// `--name=value`, and exactly one FILE. Throws options_error.
[[nodiscard]] analyze_options parse_options(std::span<const std::string_view> args);

/// The --help text.
[[nodiscard]] std::string usage_text();

}  // namespace civicperf::analyze
