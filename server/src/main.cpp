// civicperf-server: the REST API of civicperf on 127.0.0.1:8000 by default.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
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

void simulate(step_registry& registry, performance_monitor& monitor, const server_options& opt,
              const std::vector<std::string>& workflows) {
  simulation_options so;
  so.cases = *opt.simulate;
  so.seed = opt.seed;
  so.workflows = workflows;   // empty: the example workflows
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

/// The id of an import's workflow: --workflow-id, else the file name without
/// its extension (as replay_eventlog names it).
std::string import_workflow_id(const import_option& imp) {
  return imp.workflow_id.empty() ? default_workflow_id(imp.path) : imp.workflow_id;
}

/// Imports one log into the monitor and its discovered workflow into the
/// registry.
void import_log(step_registry& registry, performance_monitor& monitor,
                       const eventlog_scan& scan, const import_option& imp) {
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

// The steps of two definitions differ in what the monitor's fold depends on:
// ids, order, types, terminal statuses. Empty when they agree.
std::string steps_difference(const workflow_definition& configured,
                             const workflow_definition& stored) {
  const auto describe = [](const step_definition& s) {
    std::string text = fmt::format("'{}' ({}", s.id, wire_name(s.type));
    if (!s.terminal_status.empty()) text += ", " + s.terminal_status;
    return text + ")";
  };
  const std::size_t n = std::min(configured.steps.size(), stored.steps.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = configured.steps[i];
    const auto& b = stored.steps[i];
    if (a.id != b.id || a.type != b.type || a.terminal_status != b.terminal_status)
      return fmt::format("step {} is {} here but {} in the store", i + 1, describe(a), describe(b));
  }
  if (configured.steps.size() != stored.steps.size())
    return fmt::format("{} steps here but {} in the store", configured.steps.size(),
                       stored.steps.size());
  return {};
}

/// Adds the stored definitions the registry lacks (after the configured and
/// imported ones, in stored order) to the registry and the monitor, so that
/// every workflow with stored history is known; refuses a configured
/// definition whose steps differ from the stored one.
void merge_stored_definitions(step_registry& registry, performance_monitor& monitor,
                              const event_store& store, std::vector<workflow_definition> stored_defs) {
  for (auto& stored : stored_defs) {
    const auto known = registry.find_workflow(stored.id);
    if (!known) {
      monitor.add_workflow(stored);
      registry.add_workflow(std::move(stored));
      continue;
    }
    if (const std::string diff = steps_difference(*known, stored); !diff.empty())
      throw std::runtime_error(fmt::format(
          "workflow '{}' differs from its definition in {}: {}. Its stored history was recorded "
          "with the stored steps: restore that definition (or give the changed workflow a new "
          "id), or start with another --db",
          stored.id, store.describe(), diff));
  }
}

std::unique_ptr<event_store> open_store(const server_options& opt) {
  if (!opt.persist) {
    memory_store_options mo;
    mo.retain_events = false;   // nothing to replay later: keep only counters
    return std::make_unique<memory_store>(std::move(mo));
  }
  // Absolute, so every message says which file (the default is relative).
  return std::make_unique<sqlite_store>(std::filesystem::absolute(opt.db).string());
}

// Replays the store into the monitor, with a progress line about once a second.
void replay_store(durable_recorder& recorder, const server_options& opt) {
  const std::string label = opt.persist ? std::filesystem::absolute(opt.db).string() : "memory";
  replay_options ro;
  ro.progress = [&label](const replay_progress& p) {
    const double pct = p.total_events > 0 ? 100.0 * static_cast<double>(p.events) /
                                                static_cast<double>(p.total_events)
                                          : 100.0;
    fmt::print(stderr, "replaying {}: {}/{} events ({:.0f}%), {:.1f} s\n", label, p.events,
               p.total_events, pct, std::chrono::duration<double>(p.elapsed).count());
    std::fflush(stderr);
  };
  const replay_summary r = recorder.replay(ro);
  if (!opt.persist) {
    fmt::print("--no-persist: recorded events are kept in memory only and lost at exit\n");
    return;
  }
  const double seconds = std::chrono::duration<double>(r.elapsed).count();
  fmt::print("replayed {} events ({} batches) from {} in {:.2f} s", r.events, r.batches, label,
             seconds);
  if (r.events > 0) fmt::print(" ({:.0f} events/s)", r.events_per_second());
  fmt::print("\n");
  if (r.rejected > 0)
    fmt::print(stderr,
               "civicperf-server: warning: {} of the replayed events name a workflow or step "
               "that is not defined; they are not counted\n",
               r.rejected);
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
  // The simulation runs over the configured workflows only (not imported or
  // stored ones).
  std::vector<std::string> simulated;
  if (!opt.workflows_dir.empty())
    for (const auto& w : registry.list_workflows()) simulated.push_back(w.workflow_id);

  // Event logs are scanned first: the monitor needs room for the cases an
  // import holds open at once.
  std::vector<eventlog_scan> scans;
  monitor_options mo;
  std::vector<std::string> import_ids;
  for (const auto& imp : opt.imports) {
    scans.push_back(scan_log(imp, opt.skip_bad));
    mo.max_open_instances += static_cast<std::size_t>(scans.back().max_open_cases());
    // Checked now, before the event store is opened (or created).
    std::string id = import_workflow_id(imp);
    if (registry.find_workflow(id) ||
        std::find(import_ids.begin(), import_ids.end(), id) != import_ids.end())
      throw config_error(fmt::format(
          "--import {}: workflow '{}' is already defined; name the import with --workflow-id ID",
          imp.path, id));
    import_ids.push_back(std::move(id));
  }

  // Opened once the command line is known to be good (a bad option creates
  // no file), before the slow work; store_error ends the start with exit 1,
  // the file untouched.
  const std::unique_ptr<event_store> store = open_store(opt);
  std::vector<workflow_definition> stored_defs = store->definitions();
  for (const auto& def : stored_defs)
    if (std::find(import_ids.begin(), import_ids.end(), def.id) != import_ids.end())
      throw std::runtime_error(fmt::format(
          "--import: workflow '{}' has stored history in {}, which the import would be mixed "
          "with; name the import otherwise with --workflow-id ID",
          def.id, store->describe()));

  performance_monitor monitor(mo);
  for (const auto& def : registry.workflows()) monitor.add_workflow(*def);
  for (std::size_t i = 0; i < scans.size(); ++i) import_log(registry, monitor, scans[i], opt.imports[i]);
  merge_stored_definitions(registry, monitor, *store, std::move(stored_defs));
  // Imported workflows are not stored: their history is the log, read again
  // at every start, and a stored copy would outlive the --import (and clash
  // with a changed log).
  for (const auto& def : registry.workflows())
    if (std::find(import_ids.begin(), import_ids.end(), def->id) == import_ids.end())
      store->put_definition(*def);

  // Demonstration data goes straight into the monitor, never into the store,
  // before the replay: the same order as while it ran, so the reports after a
  // restart equal the ones before it.
  if (opt.simulate && *opt.simulate > 0) simulate(registry, monitor, opt, simulated);

  durable_recorder recorder(monitor, *store);
  replay_store(recorder, opt);

  service_config sc;
  sc.max_batch_events = opt.max_events;
  sc.token = token;
  sc.read_only_workflows = import_ids;
  service api(registry, monitor, recorder, system_clock_source::instance(), sc);

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

  {
    http_server server(cfg, api.handler());
    server.start();
    const bool ipv6 = opt.host.find(':') != std::string::npos;
    fmt::print("civicperf-server listening on http://{}{}{}:{}\n", ipv6 ? "[" : "", opt.host,
               ipv6 ? "]" : "", server.port());
    std::fflush(stdout);
    server.wait();   // every request in flight has been answered
  }
  // Nothing records any more: commit what is left, then release the file.
  recorder.close();
  store->close();
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
  } catch (const store_error& e) {   // the event store cannot be used; the file is untouched
    fmt::print(stderr, "civicperf-server: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "civicperf-server: {}\n", e.what());
    return 1;
  }
}
