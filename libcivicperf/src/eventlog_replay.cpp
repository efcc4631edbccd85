// Event-log import: the scan (pass 1: cases, activities, order), the replay
// (pass 2: every event through performance_monitor, cases completed at their
// last event, discovery of the directly-follows graph) and the public reading
// functions.

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "civicperf/eventlog.hpp"
#include "civicperf/monitor.hpp"
#include "eventlog_discovery.hpp"
#include "eventlog_reader.hpp"

namespace civicperf {
namespace {

struct transparent_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using string_map = std::unordered_map<std::string, V, transparent_hash, std::equal_to<>>;

std::int64_t us(timestamp t) noexcept { return t.time_since_epoch().count(); }

/// Index of `key` in `map`, inserting the next index when new.
std::uint32_t intern(string_map<std::uint32_t>& map, std::string_view key, bool& inserted) {
  if (const auto it = map.find(key); it != map.end()) {
    inserted = false;
    return it->second;
  }
  const auto index = static_cast<std::uint32_t>(map.size());
  map.emplace(std::string(key), index);
  inserted = true;
  return index;
}

}  // namespace

std::string default_workflow_id(std::string_view path) {
  const auto slash = path.find_last_of("/\\");
  std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  const auto dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.erase(dot);
  return name.empty() ? std::string("eventlog") : name;
}

struct eventlog_scan::impl {
  struct case_info {
    std::int64_t last_start = 0;   // (last_start, last_sequence): the previous event's key
    std::uint64_t last_sequence = 0;
    std::int64_t min_start = 0;
    std::int64_t max_end = 0;
    std::uint64_t first_emit = 0;   // positions in the stream of events
    std::uint64_t last_emit = 0;
    std::int64_t events = 0;
    bool ordered = true;
  };

  std::string source;
  std::string_view text;   // for a scan of text
  bool from_text = false;
  eventlog_options options;
  eventlog_read_stats stats;

  string_map<std::uint32_t> case_index;
  std::vector<case_info> cases;
  string_map<std::uint32_t> activity_index;    // name -> first-seen index
  std::vector<std::string> activity_seen;      // by first-seen index
  std::vector<std::int64_t> activity_first;    // earliest start, by first-seen index
  std::vector<std::uint32_t> step_of;          // first-seen index -> step index
  std::vector<std::string> activities;         // step order
  std::int64_t events = 0;
  std::int64_t unordered = 0;
  std::int64_t max_open = 0;
  case_duration_summary durations;

  [[nodiscard]] detail::byte_source open() const {
    return from_text ? detail::byte_source::from_text(text, source)
                     : detail::byte_source::open_file(source);
  }
  void run();
  void finish();
};

void eventlog_scan::impl::run() {
  detail::byte_source src = open();
  detail::read_context ctx(src, options, stats, 1);
  std::string last_case;
  std::uint32_t last_index = 0;
  bool have_last = false;
  detail::read_events(src, ctx, [&](const log_event& e) {
    std::uint32_t c = last_index;
    bool inserted = false;
    if (!have_last || e.case_id != last_case) {
      c = intern(case_index, e.case_id, inserted);
      if (inserted) cases.emplace_back();
      last_case.assign(e.case_id);
      last_index = c;
      have_last = true;
    }
    const std::int64_t start = us(e.started_at);
    const std::int64_t end = us(e.completed_at);
    const auto emit = static_cast<std::uint64_t>(events);
    case_info& info = cases[c];
    if (info.events == 0) {
      info.min_start = start;
      info.max_end = end;
      info.first_emit = emit;
    } else {
      if (start < info.last_start || (start == info.last_start && e.sequence < info.last_sequence))
        info.ordered = false;
      info.min_start = std::min(info.min_start, start);
      info.max_end = std::max(info.max_end, end);
    }
    info.last_start = start;
    info.last_sequence = e.sequence;
    info.last_emit = emit;
    ++info.events;

    const std::uint32_t a = intern(activity_index, e.activity, inserted);
    if (inserted) {
      activity_seen.emplace_back(e.activity);
      activity_first.push_back(start);
    } else {
      activity_first[a] = std::min(activity_first[a], start);
    }
    ++events;
  });
  finish();
}

void eventlog_scan::impl::finish() {
  if (events == 0) {
    throw eventlog_error(source, 0,
                         stats.skipped > 0
                             ? fmt::format("no events ({} malformed records skipped)", stats.skipped)
                             : std::string("no events"));
  }
  // Step order: earliest start first, then by name, so that a CSV and an XES
  // file of the same log give the same order whatever their layout.
  std::vector<std::uint32_t> order(activity_seen.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return activity_first[a] != activity_first[b] ? activity_first[a] < activity_first[b]
                                                  : activity_seen[a] < activity_seen[b];
  });
  step_of.assign(order.size(), 0);
  for (std::uint32_t s = 0; s < order.size(); ++s) {
    step_of[order[s]] = s;
    activities.push_back(activity_seen[order[s]]);
  }

  // Cases open in the monitor at once: an ordered case from its first to its
  // last event, a reordered one only at its last event.
  std::vector<std::pair<std::uint64_t, int>> marks;
  marks.reserve(2 * cases.size());
  std::vector<std::int64_t> lengths;
  lengths.reserve(cases.size());
  for (const case_info& c : cases) {
    unordered += c.ordered ? 0 : 1;
    marks.emplace_back(2 * (c.ordered ? c.first_emit : c.last_emit), +1);
    marks.emplace_back(2 * c.last_emit + 1, -1);
    lengths.push_back(c.max_end - c.min_start);
  }
  std::sort(marks.begin(), marks.end());
  std::int64_t open = 0;
  for (const auto& [at, delta] : marks) {
    open += delta;
    max_open = std::max(max_open, open);
  }

  std::sort(lengths.begin(), lengths.end());
  durations.cases = static_cast<std::int64_t>(lengths.size());
  std::int64_t total = 0;
  for (const auto l : lengths) total += l;
  const auto rank = [&](double q) {
    auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(lengths.size()) - 1e-9));
    return duration(lengths[std::clamp<std::size_t>(k, 1, lengths.size()) - 1]);
  };
  durations.total = duration(total);
  durations.min = duration(lengths.front());
  durations.max = duration(lengths.back());
  durations.p50 = rank(0.5);
  durations.p90 = rank(0.9);
}

eventlog_scan::eventlog_scan(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
eventlog_scan::eventlog_scan(eventlog_scan&&) noexcept = default;
eventlog_scan& eventlog_scan::operator=(eventlog_scan&&) noexcept = default;
eventlog_scan::~eventlog_scan() = default;

const std::string& eventlog_scan::source() const noexcept { return impl_->source; }
eventlog_format eventlog_scan::format() const noexcept { return impl_->stats.format; }
const eventlog_read_stats& eventlog_scan::stats() const noexcept { return impl_->stats; }
std::int64_t eventlog_scan::cases() const noexcept {
  return static_cast<std::int64_t>(impl_->cases.size());
}
std::int64_t eventlog_scan::events() const noexcept { return impl_->events; }
const std::vector<std::string>& eventlog_scan::activities() const noexcept {
  return impl_->activities;
}
std::int64_t eventlog_scan::unordered_cases() const noexcept { return impl_->unordered; }
std::int64_t eventlog_scan::max_open_cases() const noexcept { return impl_->max_open; }
const case_duration_summary& eventlog_scan::case_durations() const noexcept {
  return impl_->durations;
}

eventlog_scan scan_eventlog(const std::string& path, const eventlog_options& options) {
  auto p = std::make_unique<eventlog_scan::impl>();
  p->source = path;
  p->options = options;
  p->run();
  return eventlog_scan(std::move(p));
}

eventlog_scan scan_eventlog_text(std::string_view text, std::string_view name,
                                 const eventlog_options& options) {
  auto p = std::make_unique<eventlog_scan::impl>();
  p->source = std::string(name);
  p->text = text;
  p->from_text = true;
  p->options = options;
  p->run();
  return eventlog_scan(std::move(p));
}

namespace {

// An event of a case that is replayed once its last event has been read.
struct held_event {
  std::int64_t start;
  std::int64_t end;
  std::uint64_t sequence;
  std::uint32_t step;
  std::string resource;
};

}  // namespace

eventlog_import replay_eventlog(const eventlog_scan& scan, performance_monitor& monitor,
                                std::string workflow_id,
                                const std::function<void(const eventlog_progress&)>& progress) {
  const eventlog_scan::impl& s = *scan.impl_;
  if (workflow_id.empty()) workflow_id = default_workflow_id(s.source);
  if (monitor.has_workflow(workflow_id)) {
    throw std::invalid_argument(
        fmt::format("{}: workflow '{}' is already in the monitor", s.source, workflow_id));
  }
  const auto room = static_cast<std::int64_t>(monitor.options().max_open_instances) -
                    monitor.totals().open_instances;
  if (s.max_open > room) {
    throw std::invalid_argument(fmt::format(
        "{}: the replay holds up to {} cases open at once, the monitor has room for {} "
        "(monitor_options::max_open_instances)",
        s.source, s.max_open, room));
  }

  // The steps first (the monitor records by step); the edges once observed.
  workflow_definition steps_only;
  steps_only.id = workflow_id;
  steps_only.name = workflow_id;
  steps_only.discovered = true;
  for (const auto& a : s.activities) {
    step_definition step;
    step.id = a;
    step.name = a;
    steps_only.steps.push_back(std::move(step));
  }
  monitor.add_workflow(steps_only);
  std::vector<step_ref> refs;
  refs.reserve(s.activities.size());
  for (const auto& a : s.activities) refs.push_back(*monitor.resolve(workflow_id, a));

  detail::workflow_discovery discovery(s.activities.size());
  std::vector<std::int64_t> seen(s.cases.size(), 0);
  std::vector<std::uint32_t> previous(s.cases.size(), 0);
  std::unordered_map<std::uint32_t, std::vector<held_event>> held;
  std::int64_t recorded = 0;
  std::int64_t not_completed = 0;

  step_result r;
  r.workflow_id = workflow_id;
  r.status = step_status::completed;
  r.execution_environment = "import";

  const auto record = [&](std::uint32_t c, std::string_view case_id, std::uint32_t step,
                          std::int64_t start, std::int64_t end, std::string_view resource) {
    r.instance_id.assign(case_id);
    r.started_at = timestamp(duration(start));
    r.completed_at = timestamp(duration(end));
    r.executed_by.assign(resource);
    monitor.record(refs[step], r);
    ++recorded;
    if (seen[c] == 0) {
      discovery.case_start(step);
    } else {
      discovery.follows(previous[c], step);
    }
    previous[c] = step;
  };
  const auto finish_case = [&](std::uint32_t c, std::string_view case_id) {
    discovery.case_end(previous[c]);
    if (!monitor.complete_instance(workflow_id, case_id, "COMPLETED")) ++not_completed;
  };

  eventlog_options options = s.options;
  options.progress = progress;
  eventlog_read_stats stats;
  detail::byte_source src = s.open();
  detail::read_context ctx(src, options, stats, 2);
  std::string last_case;
  std::uint32_t last_index = 0;
  bool have_last = false;
  std::int64_t replayed_events = 0;   // counts events as they arrive (seen[] counts recorded ones)
  std::vector<std::int64_t> arrived(s.cases.size(), 0);
  const auto changed = [&](std::uint64_t line) {
    return eventlog_error(s.source, line, "the file changed since it was scanned");
  };
  detail::read_events(src, ctx, [&](const log_event& e) {
    std::uint32_t c = last_index;
    if (!have_last || e.case_id != last_case) {
      const auto it = s.case_index.find(e.case_id);
      if (it == s.case_index.end()) throw changed(e.line);
      c = it->second;
      last_case.assign(e.case_id);
      last_index = c;
      have_last = true;
    }
    const auto a = s.activity_index.find(e.activity);
    if (a == s.activity_index.end()) throw changed(e.line);
    const std::uint32_t step = s.step_of[a->second];
    const eventlog_scan::impl::case_info& info = s.cases[c];
    const std::int64_t n = ++arrived[c];
    if (n > info.events) throw changed(e.line);
    ++replayed_events;
    const std::int64_t start = us(e.started_at);
    const std::int64_t end = us(e.completed_at);
    if (info.ordered) {
      record(c, e.case_id, step, start, end, e.resource);
      ++seen[c];
      if (n == info.events) finish_case(c, e.case_id);
      return;
    }
    auto& events = held[c];
    events.push_back(held_event{start, end, e.sequence, step, std::string(e.resource)});
    if (n < info.events) return;
    std::sort(events.begin(), events.end(), [](const held_event& x, const held_event& y) {
      return x.start != y.start ? x.start < y.start : x.sequence < y.sequence;
    });
    for (const held_event& h : events) {
      record(c, e.case_id, h.step, h.start, h.end, h.resource);
      ++seen[c];
    }
    finish_case(c, e.case_id);
    held.erase(c);
  });
  if (replayed_events != s.events) throw changed(0);

  const auto snap = monitor.snapshot(workflow_id);
  if (not_completed > 0 || (snap && snap->instances.evicted_instances > 0)) {
    throw std::runtime_error(fmt::format(
        "{}: {} cases were evicted from the monitor's open-case table during the replay; "
        "raise monitor_options::max_open_instances",
        s.source, snap ? std::max(snap->instances.evicted_instances, not_completed) : not_completed));
  }

  eventlog_import out;
  const std::string file = s.source.substr(s.source.find_last_of("/\\") + 1);
  out.workflow = discovery.build(
      workflow_id, workflow_id,
      fmt::format("Discovered from {}: {} cases, {} events, {} activities", file, s.cases.size(),
                  s.events, s.activities.size()),
      s.activities, out.end_steps);
  out.source = s.source;
  out.stats = std::move(stats);
  out.cases = static_cast<std::int64_t>(s.cases.size());
  out.events = recorded;
  out.reordered_cases = s.unordered;
  out.max_open_cases = s.max_open;
  out.case_durations = s.durations;
  return out;
}

eventlog_import import_eventlog(const std::string& path, performance_monitor& monitor,
                                std::string workflow_id, const eventlog_options& options) {
  const eventlog_scan scan = scan_eventlog(path, options);
  return replay_eventlog(scan, monitor, std::move(workflow_id), options.progress);
}

eventlog_read_stats read_eventlog(const std::string& path, const eventlog_options& options,
                                  const std::function<void(const log_event&)>& sink) {
  detail::byte_source src = detail::byte_source::open_file(path);
  eventlog_read_stats stats;
  detail::read_context ctx(src, options, stats, 1);
  detail::read_events(src, ctx, sink);
  return stats;
}

eventlog_read_stats read_eventlog_text(std::string_view text, std::string_view name,
                                       const eventlog_options& options,
                                       const std::function<void(const log_event&)>& sink) {
  detail::byte_source src = detail::byte_source::from_text(text, std::string(name));
  eventlog_read_stats stats;
  detail::read_context ctx(src, options, stats, 1);
  detail::read_events(src, ctx, sink);
  return stats;
}

}  // namespace civicperf
