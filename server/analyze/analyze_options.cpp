#include "analyze_options.hpp"

#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>

namespace civicperf::analyze {
namespace {

std::int64_t parse_integer(std::string_view name, std::string_view text, std::int64_t min,
                           std::int64_t max) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max)
    throw options_error(
        fmt::format("--{}: expected an integer from {} to {}, got '{}'", name, min, max, text));
  return v;
}

double parse_ms(std::string_view name, std::string_view text) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v,
                                         std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) ||
      v < 0)
    throw options_error(
        fmt::format("--{}: expected milliseconds (a number >= 0), got '{}'", name, text));
  return v;
}

}  // namespace

std::string usage_text() {
  return R"(Usage: civicperf-analyze FILE [options]

Reads a process-mining event log (CSV or XES), discovers its workflow
(activities -> steps, directly-follows pairs -> edges), replays every case
through civicperf's performance monitor and reports where cases wait.

Options:
  --json                  print one JSON document {"workflow", "performance",
                          "bottlenecks", "timing"} (the API's report shapes)
  --skip-bad              skip malformed rows / elements and report how many
  --workflow-id ID        id of the discovered workflow (default: the file
                          name without extension)
  --format csv|xes        the file's format (default: by extension / content)
  --case-column C         column (XES: trace attribute) of the case id
                          (default case:concept:name)
  --activity-column A     activity column / event attribute (default concept:name)
  --timestamp-column T    completion timestamp (default time:timestamp)
  --start-column S        start timestamp (default start_timestamp, if present)
  --lifecycle-column L    lifecycle transition (default lifecycle:transition, if present)
  --resource-column R     resource (default org:resource, if present)
  --separator C           CSV separator: a character or 'tab' (default: detected)
  --threshold-ms MS       slow step / slow transition threshold (default 5000)
  --min-executions N      steps with fewer executions are left out of the
                          bottleneck lists (default 10)
  --top N                 rows per table of the text report (default 10)
  --quiet                 no progress line on stderr
  -h, --help              this text
  --version               the version

Exit status: 0 success, 1 unreadable log, 2 bad options.
)";
}

analyze_options parse_options(std::span<const std::string_view> args) {
  analyze_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      continue;
    }
    if (arg == "--version") {
      o.version = true;
      continue;
    }
    if (!arg.starts_with("--") || arg == "--") {
      if (arg == "--") {
        if (++i >= args.size()) throw options_error("'--' must be followed by FILE");
        arg = args[i];
      } else if (arg.starts_with("-") && arg.size() > 1) {
        throw options_error(fmt::format("unknown option '{}'", arg));
      }
      if (!o.file.empty()) throw options_error(fmt::format("more than one FILE: '{}' and '{}'", o.file, arg));
      o.file = std::string(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const auto flag = [&](bool& target) {
      if (inline_value) throw options_error(fmt::format("--{} takes no value", name));
      target = true;
    };
    const auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw options_error(fmt::format("--{} needs a value", name));
      return args[++i];
    };
    const auto text = [&](std::string& target) {
      const std::string_view v = value();
      if (v.empty()) throw options_error(fmt::format("--{}: empty value", name));
      target = std::string(v);
    };
    if (name == "json") {
      flag(o.json);
    } else if (name == "skip-bad") {
      flag(o.log.skip_bad);
    } else if (name == "quiet") {
      flag(o.quiet);
    } else if (name == "workflow-id") {
      text(o.workflow_id);
    } else if (name == "format") {
      const std::string_view v = value();
      if (v == "csv") {
        o.log.format = eventlog_format::csv;
      } else if (v == "xes") {
        o.log.format = eventlog_format::xes;
      } else {
        throw options_error(fmt::format("--format: expected csv or xes, got '{}'", v));
      }
    } else if (name == "case-column") {
      text(o.log.columns.case_id);
    } else if (name == "activity-column") {
      text(o.log.columns.activity);
    } else if (name == "timestamp-column") {
      text(o.log.columns.timestamp);
    } else if (name == "start-column") {
      text(o.log.columns.start);
    } else if (name == "lifecycle-column") {
      text(o.log.columns.lifecycle);
    } else if (name == "resource-column") {
      text(o.log.columns.resource);
    } else if (name == "separator") {
      const std::string_view v = value();
      if (v == "tab" || v == "\\t") {
        o.log.separator = '\t';
      } else if (v.size() == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r') {
        o.log.separator = v[0];
      } else {
        throw options_error(fmt::format("--separator: expected one character or 'tab', got '{}'", v));
      }
    } else if (name == "threshold-ms") {
      o.threshold_ms = parse_ms(name, value());
    } else if (name == "min-executions") {
      o.min_executions = parse_integer(name, value(), 0, std::int64_t{1} << 62);
    } else if (name == "top") {
      o.top = static_cast<std::size_t>(parse_integer(name, value(), 1, 1'000'000));
    } else {
      throw options_error(fmt::format("unknown option '--{}'", name));
    }
  }
  if (o.file.empty() && !o.help && !o.version) throw options_error("no FILE given");
  return o;
}

}  // namespace civicperf::analyze
