// embed_engine — a small workflow engine that embeds civicperf.
//
// This is a tutorial for authors of workflow engines. It shows everything an
// engine needs to get bottleneck reports out of civicperf:
//
//   1. a step_registry holding the workflow definitions and the step handlers;
//   2. a performance_monitor that folds every step result into statistics;
//   3. a step_executor that runs one step through its handler, times it and
//      records the result into the monitor;
//   4. the analyzer, which turns a monitor snapshot into reports.
//
// The engine runs a few hundred citizen registrations (citizen_registration_v1)
// end to end on a *simulated* clock, so a run of weeks of office work takes a
// fraction of a second and every run with the same seed prints the same
// numbers. Approvals are decided hours later by an officer, clerks take
// minutes to pick a case up, and the blockchain service is slow and sometimes
// times out (the executor retries it).
//
//   embed_engine [--cases N] [--seed S] [--json]
//
// (The library also has a full discrete-event simulation with worker queues,
// run_simulation() in <civicperf/simulation.hpp>; this engine is deliberately
// simpler so that it fits on a few screens.)

#include <civicperf/civicperf.hpp>
#include <civicperf/json.hpp>   // opt-in: only needed for --json

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

using namespace civicperf;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view workflow_id = "citizen_registration_v1";

// ---------------------------------------------------------------------------
// Part 1: the world the engine lives in — time and chance.
//
// Every civicperf component that reads time takes a clock_source. A real
// engine uses the system clock (the default); here a manual_clock stands in,
// and the engine moves it forward by hand: "this step took 4 minutes".

struct world {
  manual_clock clock{timestamp(std::chrono::sys_days(std::chrono::year(2026) / 1 / 5) + 8h)};
  std::mt19937_64 random;

  explicit world(std::uint64_t seed) : random(seed) {}

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random) < p; }
  // A duration around `mean`, skewed like real work times (log-normal).
  duration around(duration mean) {
    const double sigma = 0.6;
    std::lognormal_distribution<double> d(std::log(static_cast<double>(mean.count())) -
                                              sigma * sigma / 2,
                                          sigma);
    return duration(static_cast<duration::rep>(d(random)));
  }
};

// ---------------------------------------------------------------------------
// Part 2: handlers.
//
// register_example_handlers() installs handlers that behave like the original
// CivicStream steps (identity verification, duplicate check, account
// creation, ...). They compute outputs but take no time. The engine wraps each
// one so that it also spends the step's working time on the simulated clock —
// in a real engine the handler would just do the work and the executor would
// measure it on the real clock.

// How long each step's work takes, and how long a case waits in a clerk's
// inbox before the work starts (the queue time). Other steps are automatic:
// 50 ms, no inbox.
struct step_work {
  duration work;
  duration inbox;
};
step_work work_of(std::string_view step) {
  if (step == "validate_identity") return {2min, 20min};   // a clerk checks the document
  if (step == "create_account") return {10min, 45min};     // one clerk, a legacy system
  if (step == "guardian_notification") return {5s, 0s};
  if (step == "check_duplicates") return {3s, 0s};
  if (step == "send_welcome") return {2s, 0s};
  return {50ms, 0s};
}

void install_handlers(step_registry& registry, world& w) {
  register_example_handlers(registry);
  const auto def = registry.find_workflow(workflow_id);
  for (const auto& step : def->steps) {
    step_handler original = registry.handler(def->id, step.id);
    if (step.id == "blockchain_record") {
      // The external service: slow, and one call in five times out. Throwing
      // marks the attempt failed; the executor retries it (see Part 3).
      registry.set_handler(def->id, step.id, [original, &w](const step_context& ctx) {
        if (w.chance(0.2)) {
          w.clock.advance(10s);   // waited for the timeout
          throw std::runtime_error("blockchain_service timeout");
        }
        w.clock.advance(w.around(4s));
        return original(ctx);
      });
      continue;
    }
    registry.set_handler(def->id, step.id, [original, &w, &step](const step_context& ctx) {
      w.clock.advance(w.around(work_of(step.id).work));
      // Terminal steps have no example handler: return what the default would.
      return original ? original(ctx) : value::make_object({{"executed", true}});
    });
  }
}

// ---------------------------------------------------------------------------
// Part 3: the engine.
//
// A case walks the definition: run the current step, merge its outputs into
// the case context, follow the edge whose condition label holds, repeat until
// a terminal step. Approval steps come back `pending`; an officer decides
// later and the engine completes the pending result. Everything the executor
// runs is recorded into the monitor — the engine never computes a statistic.

// Does an edge label like "is_adult" or "not documents_verified" hold?
bool holds(std::string_view label, const value& context) {
  const bool negated = label.starts_with("not ");
  const value* v = context.find(negated ? label.substr(4) : label);
  const bool* b = v != nullptr ? v->if_bool() : nullptr;
  return b != nullptr && *b != negated;
}

// The next step after `step`: a step may name it in `next_step`, else the
// first edge whose label holds, else the unconditional edge.
const step_definition* next_step(const workflow_definition& def, const step_definition& step,
                                 const value& outputs, const value& context) {
  const edge_definition* fallback = nullptr;
  for (const auto& e : def.edges) {
    if (e.from != step.id) continue;
    if (const value* n = outputs.find("next_step"); n && n->if_string() && *n->if_string() == e.to)
      return def.find_step(e.to);
    if (!e.when.empty() && holds(e.when, context)) return def.find_step(e.to);
    if (e.when.empty() && fallback == nullptr) fallback = &e;
  }
  return fallback != nullptr ? def.find_step(fallback->to) : nullptr;
}

// A citizen's application: mostly valid, a few with mistakes.
value application(world& w, int n) {
  const bool minor = w.chance(0.12);
  const int age = minor ? 10 + n % 8 : 18 + n % 60;
  value a = value::make_object({
      {"first_name", "Citizen"},
      {"last_name", fmt::format("No{}", n)},
      {"id_number", w.chance(0.03) ? std::string("12345") : fmt::format("{}", 300000000 + n)},
      {"id_document", "passport"},
      {"email", w.chance(0.02) ? fmt::format("citizen{}-at-example.org", n)   // invalid
                               : fmt::format("citizen{}@example.org", n)},
      {"birth_date", fmt::format("{}-06-15", 2025 - age)},
  });
  if (minor) {
    a.set("guardian_name", "Guardian");
    a.set("guardian_email", fmt::format("guardian{}@example.org", n));
  }
  return a;
}

void run_case(step_executor& executor, const workflow_definition& def, world& w, int n) {
  const std::string instance = fmt::format("case-{:05}", n);
  value inputs = application(w, n);
  value context = value::make_object();
  const step_definition* step = def.find_step(def.start_steps.front());
  timestamp ready = w.clock.wall_now();   // when the current step became ready

  while (step != nullptr) {
    // A clerk picks the case up a while after it lands in the inbox;
    // automatic steps start at once. queued_at -> started_at is queue time.
    if (const duration inbox = work_of(step->id).inbox; inbox > 0s)
      w.clock.advance(w.around(inbox));

    execution_request request;
    request.workflow_id = def.id;
    request.step_id = step->id;
    request.instance_id = instance;   // ties the results of one case together
    request.inputs = inputs;
    request.context = context;
    request.queued_at = ready;
    step_result result = executor.execute(request).result;   // recorded by the executor

    if (result.status == step_status::pending) {
      // An approval: the officer decides hours later. complete_pending()
      // records the decision as the end of the same execution.
      w.clock.advance(w.around(8h));
      const bool approved = w.chance(0.9);
      result = executor.complete_pending(
          result, value::make_object({{"approved", approved},
                                      {"decision", approved ? "approved" : "rejected"}}));
    }
    if (result.status != step_status::completed) {
      // Invalid data or a service that kept failing: a real engine would
      // notify the citizen and wait. The case stays open in the monitor.
      return;
    }
    if (step->type == step_type::terminal) return;   // the monitor closes the case

    for (const auto& [key, v] : *result.outputs.if_object()) context.set(key, v);
    step = next_step(def, *step, result.outputs, context);
    ready = w.clock.wall_now();
  }
}

// ---------------------------------------------------------------------------
// Part 4: reports, as text.

std::string human(double ms) {
  if (ms >= 48 * 3'600'000.0) return fmt::format("{:.1f} d", ms / 86'400'000.0);
  if (ms >= 3'600'000) return fmt::format("{:.1f} h", ms / 3'600'000.0);
  if (ms >= 60'000) return fmt::format("{:.1f} min", ms / 60'000.0);
  if (ms >= 1'000) return fmt::format("{:.1f} s", ms / 1'000.0);
  return fmt::format("{:.0f} ms", ms);
}

void print_performance(const workflow_performance_report& p) {
  fmt::print("== Workflow performance: {}\n", p.workflow_id);
  fmt::print("cases: {} seen, {} completed ({:.1f}%), average completion {}\n",
             p.total_instances, p.completed_instances, p.completion_rate,
             human(p.average_completion_time_ms));
  for (const auto& t : p.terminal_status_counts)
    fmt::print("  ended {:<10} {:>5}\n", t.terminal_status, t.count);
  fmt::print("\n{:<24} {:>6} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "step", "execs",
             "ok %", "mean", "p50", "p95", "p99", "queue");
  for (const auto& m : p.step_metrics) {
    fmt::print("{:<24} {:>6} {:>7.1f} {:>10} {:>10} {:>10} {:>10} {:>10}\n", m.step_id,
               m.total_executions, m.success_rate, human(m.average_duration_ms),
               human(m.p50_duration_ms), human(m.p95_duration_ms), human(m.p99_duration_ms),
               human(m.average_queue_time_ms));
  }
  if (p.bottleneck_analysis.slowest_step)
    fmt::print("slowest step: {}\n", *p.bottleneck_analysis.slowest_step);
  if (p.bottleneck_analysis.most_error_prone_step)
    fmt::print("most error-prone step: {}\n", *p.bottleneck_analysis.most_error_prone_step);
}

void print_bottlenecks(const bottleneck_report& b) {
  fmt::print("\n== Bottlenecks (threshold {} ms, at least {} executions)\n", b.threshold_ms,
             b.min_executions);
  fmt::print("critical path ({}): {}\n", human(b.critical_path_time_ms),
             fmt::join(b.critical_path_steps, " -> "));
  fmt::print("slowest steps:\n");
  for (const auto& s : b.slowest_steps)
    fmt::print("  {:<30} mean {:>10} x {} executions\n", s.step_name,
               human(s.average_duration_ms), s.executions);
  for (const auto& s : b.approval_bottlenecks)
    fmt::print("approval bottleneck: {} ({:.0f}% wait for approval)\n", s.step_name,
               s.percentage);
  for (const auto& s : b.external_service_bottlenecks)
    fmt::print("external service bottleneck: {} ({:.0f}% wait for the service)\n", s.step_name,
               s.percentage);
  for (const auto& s : b.queue_bottlenecks)
    fmt::print("queue bottleneck: {} (mean queue {})\n", s.step_name,
               human(s.average_queue_time_ms));
  fmt::print("recommendations:\n");
  for (const auto& r : b.recommendations) fmt::print("  - {}\n", r);
}

void print_timing(const timing_report& t) {
  fmt::print("\n== Timing: where citizens wait\n");
  fmt::print("{:<44} {:>6} {:>10} {:>10}\n", "transition", "count", "mean", "p90");
  for (const auto& e : t.step_transitions) {
    fmt::print("{:<44} {:>6} {:>10} {:>10}{}\n", fmt::format("{} -> {}", e.from_step, e.to_step),
               e.count, human(e.average_transition_time_ms), human(e.p90_transition_time_ms),
               e.rework ? "  (rework)" : "");
  }
  for (const auto& b : t.bottleneck_transitions)
    fmt::print("slow hand-off: {} ({} on average) - {}: {}\n", b.transition,
               human(b.average_wait_time_ms), b.reason, b.suggestion);
  fmt::print("per completed case: {} in total, {} of work, {} waiting\n",
             human(t.total_average_completion_time_ms), human(t.citizen_active_time_ms),
             human(t.citizen_waiting_time_ms));
}

struct arguments {
  int cases = 300;
  std::uint64_t seed = 1;
  bool json = false;
};

arguments parse(int argc, char** argv) {
  arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto number = [&](std::string_view name) {
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", name));
      const char* text = argv[++i];
      char* end = nullptr;
      const unsigned long long v = std::strtoull(text, &end, 10);
      if (*text == '\0' || *end != '\0' || *text == '-')
        throw std::invalid_argument(fmt::format("{}: not a number: {}", name, text));
      return v;
    };
    if (arg == "--cases") {
      a.cases = static_cast<int>(std::min<unsigned long long>(number(arg), 1'000'000));
    } else if (arg == "--seed") {
      a.seed = number(arg);
    } else if (arg == "--json") {
      a.json = true;
    } else {
      throw std::invalid_argument(fmt::format("unknown argument: {}", arg));
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  arguments args;
  try {
    args = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_engine: %s\nusage: embed_engine [--cases N] [--seed S] [--json]\n",
                 e.what());
    return 2;
  }

  // 1. Definitions: the example workflows are compiled into the library.
  step_registry registry;
  performance_monitor monitor;
  for (const auto& def : example_workflows()) {
    if (def.id != workflow_id) continue;
    registry.add_workflow(def);
    monitor.add_workflow(def);   // the monitor needs the steps it will record
  }
  world w(args.seed);
  install_handlers(registry, w);

  // 2. The executor: the registry's handlers, the monitor to record into, the
  //    clock, and a retry policy for failing handlers (3 attempts, 2 s, 4 s).
  executor_options options;
  options.retry = retry_policy{3, 2s, 2.0, 30s};
  step_executor executor(registry, &monitor, w.clock, options);

  // 3. Run the cases. Each starts at its own arrival time (one every ~10
  //    minutes). Cases overlap in time, so the clock jumps back for each new
  //    one; the monitor orders each case's results by time, so that is fine.
  const auto def = registry.find_workflow(workflow_id);
  timestamp arrival = w.clock.wall_now();
  std::exponential_distribution<double> gap(1.0 / 600.0);   // seconds
  for (int n = 1; n <= args.cases; ++n) {
    w.clock.set(arrival);
    run_case(executor, *def, w, n);
    arrival += duration(static_cast<duration::rep>(gap(w.random) * 1e6));
  }

  // 4. Ask for the reports: a snapshot, then pure functions of it.
  const workflow_snapshot snap = *monitor.snapshot(workflow_id);
  const auto performance = analyze_workflow(snap, *def);
  const auto bottlenecks = analyze_bottlenecks(snap, *def, 5000, 10);
  const auto timing = analyze_timing(snap, *def, 5000);

  if (args.json) {
    boost::json::object out;
    out["workflow_performance"] = boost::json::value_from(performance);
    out["bottlenecks"] = boost::json::value_from(bottlenecks);
    out["timing_analysis"] = boost::json::value_from(timing);
    fmt::print("{}\n", to_json_pretty(boost::json::value(std::move(out))));
    return 0;
  }
  fmt::print("Ran {} citizen registrations (seed {}) on a simulated clock.\n\n", args.cases,
             args.seed);
  print_performance(performance);
  print_bottlenecks(bottlenecks);
  print_timing(timing);
  return 0;
}
