#include "options.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace civicperf::server {
namespace {

std::uint64_t parse_unsigned(std::string_view name, std::string_view text, std::uint64_t min,
                             std::uint64_t max) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max)
    throw options_error(fmt::format("--{}: expected an integer from {} to {}, got '{}'", name, min,
                                    max, text));
  return v;
}

// Bytes with an optional binary suffix: 1048576, 1024K, 1M.
std::size_t parse_bytes(std::string_view name, std::string_view text) {
  std::uint64_t unit = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k': case 'K': unit = 1024; break;
      case 'm': case 'M': unit = 1024 * 1024; break;
      case 'g': case 'G': unit = 1024 * 1024 * 1024; break;
      default: break;
    }
    if (unit != 1) digits.remove_suffix(1);
  }
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  constexpr std::uint64_t max = std::uint64_t{1} << 40;
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || v == 0 ||
      v > max / unit)
    throw options_error(fmt::format(
        "--{}: expected a positive size in bytes (optionally with K, M or G), got '{}'", name, text));
  return static_cast<std::size_t>(v * unit);
}

std::chrono::milliseconds parse_seconds(std::string_view name, std::string_view text) {
  double s = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), s,
                                         std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(s) ||
      s <= 0 || s > 86'400)
    throw options_error(
        fmt::format("--{}: expected seconds (e.g. 30 or 0.2), at most 86400, got '{}'", name, text));
  return std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(s * 1000)));
}

}  // namespace

std::string usage_text() {
  return R"(Usage: civicperf-server [options]

Serves the civicperf REST API (/api/v1/performance/...) over HTTP/1.1.

Options:
  --host ADDR             address to bind (default 127.0.0.1)
  --port N                port (default 8000; 0 picks a free port and prints it)
  --threads N             I/O threads (default: hardware concurrency); a POST
                          waits on its thread for the commit, so more threads
                          than cores let more batches share one commit
  --workflows DIR         load workflow definitions (*.json) from DIR
                          (default: the four example workflows)
  --simulate N            simulate N citizen cases before serving, so the
                          reports show real bottlenecks (demonstration data:
                          not persisted, simulated again at each start)
  --seed S                simulation seed (default 1)
  --import FILE           import a CSV or XES event log before serving; its
                          discovered workflow is served like the others
                          (repeatable; read-only and not persisted: imported
                          again at each start)
  --workflow-id ID        name the workflow of the preceding --import
                          (default: the file name without its extension)
  --skip-bad              imports skip malformed rows and report how many
  --db PATH               the event store (an SQLite file; default civicperf.db
                          in the working directory): every accepted event is
                          committed to it before it is acknowledged, and
                          replayed from it at start
  --no-persist            keep recorded events in memory only: no file is read
                          or written, and a restart starts empty
  --token-file PATH       require "Authorization: Bearer <token>" on every POST;
                          the token is the file's first line (env CIVICPERF_TOKEN
                          works too)
  --max-body BYTES        request body limit (default 1M; K/M/G suffixes)
  --max-header BYTES      request header limit (default 8K)
  --max-events N          events per POST /events batch (default 10000)
  --read-timeout SEC      time to receive one request (default 30)
  --idle-timeout SEC      keep-alive idle time between requests (default 60)
  --shutdown-timeout SEC  drain time for in-flight requests on SIGINT/SIGTERM
                          (default 10)
  --access-log            one line per request on stdout:
                          method target status bytes microseconds
  --help                  show this text
  --version               show the version
)";
}

server_options parse_options(std::span<const std::string_view> args) {
  server_options o;
  bool db_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--"))
      throw options_error(fmt::format("unexpected argument '{}' (see --help)", arg));
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const auto flag = [&] {
      if (inline_value) throw options_error(fmt::format("--{} takes no value", name));
    };
    const auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw options_error(fmt::format("--{} needs a value", name));
      return args[++i];
    };

    if (name == "help") {
      flag();
      o.help = true;
    } else if (name == "version") {
      flag();
      o.version = true;
    } else if (name == "access-log") {
      flag();
      o.access_log = true;
    } else if (name == "host") {
      o.host = std::string(value());
      if (o.host.empty()) throw options_error("--host: expected an address");
    } else if (name == "port") {
      o.port = static_cast<std::uint16_t>(parse_unsigned(name, value(), 0, 65535));
    } else if (name == "threads") {
      o.threads = static_cast<unsigned>(parse_unsigned(name, value(), 1, 1024));
    } else if (name == "workflows") {
      o.workflows_dir = std::string(value());
      if (o.workflows_dir.empty()) throw options_error("--workflows: expected a directory");
    } else if (name == "simulate") {
      o.simulate = static_cast<std::size_t>(parse_unsigned(name, value(), 0, 100'000'000));
    } else if (name == "seed") {
      o.seed = parse_unsigned(name, value(), 0, std::numeric_limits<std::uint64_t>::max());
    } else if (name == "import") {
      o.imports.push_back(import_option{std::string(value()), {}});
      if (o.imports.back().path.empty()) throw options_error("--import: expected a file");
    } else if (name == "workflow-id") {
      const std::string_view id = value();
      if (o.imports.empty())
        throw options_error("--workflow-id names the workflow of a preceding --import FILE");
      if (!o.imports.back().workflow_id.empty())
        throw options_error(fmt::format("--workflow-id: '{}' already names the workflow of {}",
                                        o.imports.back().workflow_id, o.imports.back().path));
      if (id.empty()) throw options_error("--workflow-id: expected a workflow id");
      o.imports.back().workflow_id = std::string(id);
    } else if (name == "skip-bad") {
      flag();
      o.skip_bad = true;
    } else if (name == "db") {
      o.db = std::string(value());
      if (o.db.empty()) throw options_error("--db: expected a file path");
      db_given = true;
    } else if (name == "no-persist") {
      flag();
      o.persist = false;
    } else if (name == "token-file") {
      o.token_file = std::string(value());
      if (o.token_file.empty()) throw options_error("--token-file: expected a path");
    } else if (name == "max-body") {
      o.max_body = parse_bytes(name, value());
    } else if (name == "max-header") {
      o.max_header = parse_bytes(name, value());
    } else if (name == "max-events") {
      o.max_events = static_cast<std::size_t>(parse_unsigned(name, value(), 1, 10'000'000));
    } else if (name == "read-timeout") {
      o.read_timeout = parse_seconds(name, value());
    } else if (name == "idle-timeout") {
      o.idle_timeout = parse_seconds(name, value());
    } else if (name == "shutdown-timeout") {
      o.shutdown_timeout = parse_seconds(name, value());
    } else {
      throw options_error(fmt::format("unknown option '--{}' (see --help)", name));
    }
  }
  if (db_given && !o.persist)
    throw options_error("--db and --no-persist exclude each other: --no-persist uses no file");
  return o;
}

}  // namespace civicperf::server
