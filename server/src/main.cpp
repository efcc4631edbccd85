// civicperf-server: the REST API of civicperf on 127.0.0.1:8000 by default.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "civicperf/civicperf.hpp"
#include "options.hpp"
#include "server.hpp"
#include "service.hpp"

#ifndef CIVICPERF_VERSION
#define CIVICPERF_VERSION "0"
#endif

namespace {

using namespace civicperf;
using namespace civicperf::server;

/// A configuration problem: exit code 2 like a bad option.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string read_token(const server_options& opt) {
  if (!opt.token_file.empty()) {
    std::ifstream in(opt.token_file);
    if (!in) throw config_error(fmt::format("--token-file: cannot read '{}'", opt.token_file));
    std::string line;
    std::getline(in, line);
    std::string token = trim(std::move(line));
    if (token.empty())
      throw config_error(fmt::format("--token-file: '{}' holds no token", opt.token_file));
    return token;
  }
  if (const char* env = std::getenv("CIVICPERF_TOKEN"); env != nullptr) return trim(env);
  return {};
}

void simulate(step_registry& registry, performance_monitor& monitor, const server_options& opt) {
  simulation_options so;
  so.cases = *opt.simulate;
  so.seed = opt.seed;
  if (!opt.workflows_dir.empty())
    for (const auto& w : registry.list_workflows()) so.workflows.push_back(w.workflow_id);
  // A progress line that rewrites itself on a terminal; one line in a log.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  fmt::print(stderr, "simulating {} citizen cases (seed {})...", so.cases, so.seed);
  if (tty) {
    so.progress_every = std::max<std::size_t>(1, so.cases / 20);
    so.progress = [](std::size_t done, std::size_t total) {
      fmt::print(stderr, "\rsimulating citizen cases: {}/{}", done, total);
      std::fflush(stderr);
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  const simulation_summary s = run_simulation(registry, monitor, so);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print(stderr, "\n");
  fmt::print("simulated {} cases ({} completed, {} abandoned), {} step executions, "
             "from {} to {}, in {:.2f} s\n",
             s.cases, s.completed_cases, s.abandoned_cases, s.executions,
             format_iso8601(s.first_arrival), format_iso8601(s.last_event), seconds);
}

// Progress of an import on stderr, about once a second, for large logs.
std::function<void(const eventlog_progress&)> import_progress(const std::string& path) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [path, last](const eventlog_progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::seconds(1)) return;
    *last = now;
    if (p.bytes_total > 0)
      fmt::print(stderr, "importing {}: pass {}/2, {:.0f}% ({} records)\n", path, p.pass,
                 100.0 * static_cast<double>(p.bytes_read) / static_cast<double>(p.bytes_total),
                 p.records);
    else
      fmt::print(stderr, "importing {}: pass {}/2, {} records\n", path, p.pass, p.records);
  };
}

eventlog_scan scan_log(const import_option& imp, bool skip_bad) {
  eventlog_options eo;
  eo.skip_bad = skip_bad;
  eo.progress = import_progress(imp.path);
  try {
    return scan_eventlog(imp.path, eo);
  } catch (const eventlog_error& e) {
    throw config_error(fmt::format("--import: {}", e.what()));
  }
}

void import_log(step_registry& registry, performance_monitor& monitor, const eventlog_scan& scan,
                const import_option& imp) {
  const auto t0 = std::chrono::steady_clock::now();
  eventlog_import result;
  try {
    result = replay_eventlog(scan, monitor, imp.workflow_id, import_progress(imp.path));
    registry.add_workflow(result.workflow);
  } catch (const eventlog_error& e) {
    throw config_error(fmt::format("--import: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    throw config_error(fmt::format("--import {}: {}", imp.path, e.what()));
  } catch (const definition_error& e) {
    throw config_error(fmt::format("--import {}: {}", imp.path, e.what()));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string skipped;
  if (scan.stats().skipped > 0)
    skipped = fmt::format(", {} malformed records skipped", scan.stats().skipped);
  fmt::print("imported {} as workflow '{}': {} cases, {} events, {} activities{}, in {:.2f} s\n",
             imp.path, result.workflow.id, result.cases, result.events,
             result.workflow.steps.size(), skipped, seconds);
}

int run(const server_options& opt) {
  const std::string token = read_token(opt);

  step_registry registry;
  if (opt.workflows_dir.empty()) {
    registry.add_workflows(example_workflows());
    register_example_handlers(registry);
  } else {
    try {
      registry.add_workflows(load_workflow_dir(opt.workflows_dir));
    } catch (const definition_error& e) {
      throw config_error(fmt::format("--workflows: {}", e.what()));
    }
    if (registry.list_workflows().empty())
      throw config_error(fmt::format("--workflows: no *.json definitions in '{}'", opt.workflows_dir));
  }
  // Event logs are scanned first: the monitor needs room for the cases an
  // import holds open at once.
  std::vector<eventlog_scan> scans;
  monitor_options mo;
  for (const auto& imp : opt.imports) {
    scans.push_back(scan_log(imp, opt.skip_bad));
    mo.max_open_instances += static_cast<std::size_t>(scans.back().max_open_cases());
  }
  performance_monitor monitor(mo);
  for (const auto& def : registry.workflows()) monitor.add_workflow(*def);
  for (std::size_t i = 0; i < scans.size(); ++i) import_log(registry, monitor, scans[i], opt.imports[i]);

  if (opt.simulate && *opt.simulate > 0) simulate(registry, monitor, opt);

  service_config sc;
  sc.max_batch_events = opt.max_events;
  sc.token = token;
  service api(registry, monitor, system_clock_source::instance(), sc);

  server_config cfg;
  cfg.host = opt.host;
  cfg.port = opt.port;
  cfg.threads = opt.threads;
  cfg.max_body = opt.max_body;
  cfg.max_header = opt.max_header;
  cfg.read_timeout = opt.read_timeout;
  cfg.idle_timeout = opt.idle_timeout;
  cfg.shutdown_timeout = opt.shutdown_timeout;
  cfg.handle_signals = true;
  if (opt.access_log)
    cfg.access_log = [](std::string_view line) {
      const std::string text = fmt::format("{}\n", line);
      std::fwrite(text.data(), 1, text.size(), stdout);   // one call: lines never interleave
    };

  http_server server(cfg, api.handler());
  server.start();
  const bool ipv6 = opt.host.find(':') != std::string::npos;
  fmt::print("civicperf-server listening on http://{}{}{}:{}\n", ipv6 ? "[" : "", opt.host,
             ipv6 ? "]" : "", server.port());
  std::fflush(stdout);
  server.wait();
  fmt::print(stderr, "civicperf-server: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);   // the access log and the banner appear at once
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  server_options opt;
  try {
    opt = parse_options(args);
  } catch (const options_error& e) {
    fmt::print(stderr, "civicperf-server: {}\n", e.what());
    return 2;
  }
  if (opt.help) {
    fmt::print("{}", usage_text());
    return 0;
  }
  if (opt.version) {
    fmt::print("civicperf-server {}\n", CIVICPERF_VERSION);
    return 0;
  }
  if (opt.threads == 0) opt.threads = std::max(1u, std::thread::hardware_concurrency());
  try {
    return run(opt);
  } catch (const config_error& e) {
    fmt::print(stderr, "civicperf-server: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "civicperf-server: {}\n", e.what());
    return 1;
  }
}
