#pragma once
/// \file
/// Event-log import: process-mining logs (CSV, XES) read as a stream, their
/// workflow discovered (activities -> steps, directly-follows pairs -> edges)
/// and their cases replayed through the same performance_monitor fold as live
/// results, so every report works on history.
///
/// Semantics (DESIGN.md, "Event-log import"):
/// - An event with one timestamp is instantaneous (started = completed =
///   `time:timestamp`); with a start timestamp (`start_timestamp` column or a
///   `lifecycle:transition` start/complete pair) it has a duration. A
///   transition is the next event's start minus the previous event's
///   completion, negative where activities overlap.
/// - The events of a case are replayed ordered by started_at; ties keep file
///   order. Cases that the file holds in another order are reordered.
/// - Every case completes at its last event with terminal status `COMPLETED`.
/// - UTC offsets are honoured: `2011-10-30 02:30:00+02:00` and
///   `2011-10-30 02:30:00+01:00` are an hour apart.
///
/// Memory: a file is read twice (a scan, then the replay) in fixed-size
/// chunks, never loaded whole. Between the passes a table of O(cases) entries
/// (id, event count, first/last time) is kept; during the replay the events of
/// cases that must be reordered are buffered until their last event.

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/time.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

class performance_monitor;

enum class eventlog_format : std::uint8_t {
  detect,   ///< by extension (`.csv`, `.xes`, `.xml`), else by content (`<` first: XES)
  csv,
  xes,
};

/// `csv` or `xes` (`detect` for detect).
[[nodiscard]] std::string_view to_string(eventlog_format f) noexcept;

/// Where the fields of an event are. Empty means the conventional name given
/// with each member. In a CSV file these are column names; in an XES file
/// attribute keys (of the trace for `case_id`, where a leading `case:` is
/// dropped, so the default reads the trace's `concept:name`; of the event for
/// the others).
struct eventlog_columns {
  std::string case_id;     ///< `case:concept:name` (required)
  std::string activity;    ///< `concept:name` (required)
  std::string timestamp;   ///< `time:timestamp`, the completion time (required)
  std::string start;       ///< `start_timestamp` (optional unless named)
  std::string lifecycle;   ///< `lifecycle:transition` (optional unless named)
  std::string resource;    ///< `org:resource` (optional unless named)
};

/// How far a pass over a file has come.
struct eventlog_progress {
  int pass = 1;                    ///< 1: scan, 2: replay
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_total = 0;   ///< 0 when unknown
  std::int64_t records = 0;        ///< rows / event elements read so far in this pass
};

struct eventlog_options {
  eventlog_format format = eventlog_format::detect;
  eventlog_columns columns;
  /// CSV field separator; 0 picks the most frequent of `,` `;` and tab in the
  /// header line (`,` when none occurs).
  char separator = 0;
  /// Skip malformed rows / elements and count them instead of throwing.
  /// Errors that leave the rest of the file unreadable (XML not well formed,
  /// an over-long CSV record) still throw.
  bool skip_bad = false;
  /// A CSV record (with its quoted newlines) longer than this is an error:
  /// it bounds the memory a stray quote can claim.
  std::size_t max_record_bytes = std::size_t{1} << 20;
  /// Called every `progress_every` records of each pass, and once at the end.
  std::function<void(const eventlog_progress&)> progress;
  std::int64_t progress_every = std::int64_t{1} << 16;
};

/// A file that cannot be read as an event log: the message names the file
/// and, where there is one, the line: `receipt.csv: line 12: invalid
/// timestamp in column 'time:timestamp': '2011-13-01'`. `line()` is 0 for
/// problems of the whole file (cannot open, no events; a missing column is
/// reported at the header's line).
/// Thread safety: an immutable value, safe to read from any thread.
class eventlog_error : public std::runtime_error {
 public:
  eventlog_error(std::string source, std::uint64_t line, std::string problem);
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  [[nodiscard]] std::uint64_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

 private:
  std::string source_;
  std::uint64_t line_;
  std::string problem_;
};

/// One event as read from a log, after start/complete pairing. The views are
/// valid during the callback only.
struct log_event {
  std::string_view case_id;
  std::string_view activity;
  std::string_view resource;   ///< empty when the log has none
  timestamp started_at{};
  timestamp completed_at{};    ///< == started_at for an instantaneous event
  std::uint64_t line = 0;      ///< line of the row / element (of the start, when paired)
  std::uint64_t sequence = 0;  ///< file position (of the start, when paired): orders ties
};

/// What a pass over a log read.
struct eventlog_read_stats {
  eventlog_format format = eventlog_format::detect;
  std::uint64_t bytes = 0;
  std::int64_t records = 0;             ///< data rows / event elements read
  std::int64_t events = 0;              ///< events delivered
  std::int64_t skipped = 0;             ///< malformed rows / elements skipped (skip_bad)
  std::vector<std::string> skipped_examples;   ///< the first few skip messages
  std::int64_t ignored_lifecycle = 0;   ///< lifecycle transitions other than start / complete
  std::int64_t unmatched_starts = 0;    ///< `start` without a `complete`: dropped
};

/// Streams the events of a log to `sink` in file order (a paired event when
/// its completion is read). Lifecycle: `complete` (or none) ends an event,
/// `start` opens one that the next `complete` of the same (case, activity)
/// closes, first in first out; other transitions (`schedule`, `suspend`, ...)
/// are ignored and counted. Throws eventlog_error.
eventlog_read_stats read_eventlog(const std::string& path, const eventlog_options& options,
                                  const std::function<void(const log_event&)>& sink);
/// The same for a log held in memory; `name` stands for the file in messages
/// and in format detection.
eventlog_read_stats read_eventlog_text(std::string_view text, std::string_view name,
                                       const eventlog_options& options,
                                       const std::function<void(const log_event&)>& sink);

/// Exact statistics of the case durations (latest completion - earliest
/// start of each case).
struct case_duration_summary {
  std::int64_t cases = 0;
  duration total{};   ///< sum over cases
  duration min{};
  duration p50{};     ///< nearest rank: the ceil(q * n)-th smallest
  duration p90{};
  duration max{};
  [[nodiscard]] double mean_ms() const noexcept {
    return cases > 0 ? static_cast<double>(total.count()) / static_cast<double>(cases) / 1000.0
                     : 0.0;
  }
};

struct eventlog_import;

/// The first pass over a log: its cases (O(cases) memory, about 200 bytes
/// per case with its id), activities and counts, and how many cases the
/// replay will hold open at once. Keeps the
/// file name (or, for a scan of text, a view of the text: keep it alive) for
/// the replay.
/// Thread safety: immutable after construction; replays of one scan may run
/// concurrently.
class eventlog_scan {
 public:
  eventlog_scan(eventlog_scan&&) noexcept;
  eventlog_scan& operator=(eventlog_scan&&) noexcept;
  ~eventlog_scan();

  [[nodiscard]] const std::string& source() const noexcept;
  [[nodiscard]] eventlog_format format() const noexcept;
  [[nodiscard]] const eventlog_read_stats& stats() const noexcept;
  [[nodiscard]] std::int64_t cases() const noexcept;
  [[nodiscard]] std::int64_t events() const noexcept;
  /// Distinct activities, in step order (earliest start first, then by name).
  [[nodiscard]] const std::vector<std::string>& activities() const noexcept;
  /// Cases whose events the file does not hold in (started_at, file) order.
  [[nodiscard]] std::int64_t unordered_cases() const noexcept;
  /// The most cases the replay keeps open in a monitor at one time: the
  /// monitor needs that much room (monitor_options::max_open_instances) on
  /// top of its other open cases.
  [[nodiscard]] std::int64_t max_open_cases() const noexcept;
  [[nodiscard]] const case_duration_summary& case_durations() const noexcept;

  struct impl;

 private:
  friend eventlog_scan scan_eventlog(const std::string&, const eventlog_options&);
  friend eventlog_scan scan_eventlog_text(std::string_view, std::string_view,
                                          const eventlog_options&);
  friend eventlog_import replay_eventlog(const eventlog_scan&, performance_monitor&, std::string,
                                        const std::function<void(const eventlog_progress&)>&);
  explicit eventlog_scan(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

/// Pass 1 over a file. Throws eventlog_error.
[[nodiscard]] eventlog_scan scan_eventlog(const std::string& path,
                                          const eventlog_options& options = {});
/// Pass 1 over a log in memory; `text` must outlive the scan and its replays.
[[nodiscard]] eventlog_scan scan_eventlog_text(std::string_view text, std::string_view name,
                                               const eventlog_options& options = {});

/// What an import produced.
struct eventlog_import {
  /// The discovered workflow: one `action` step per activity (id and name =
  /// the activity, step order as eventlog_scan::activities()), an edge per
  /// observed directly-follows pair (grouped by source step in step order,
  /// the most frequent successor first, so that the analyzer's depth-first
  /// rework classification follows the main flow), the first
  /// activities of cases as start steps, their last activities as
  /// `end_steps`, `discovered = true`. It passes
  /// validate_definition.
  workflow_definition workflow;
  /// Activities that cases ended with, in step order. They may have outgoing
  /// edges (a case may end where another continues).
  std::vector<std::string> end_steps;
  std::string source;
  eventlog_read_stats stats;           ///< of the replay pass
  std::int64_t cases = 0;
  std::int64_t events = 0;             ///< recorded into the monitor
  std::int64_t reordered_cases = 0;
  std::int64_t max_open_cases = 0;
  case_duration_summary case_durations;
};

/// Pass 2: registers the discovered steps under `workflow_id` (default: the
/// file name without its extension) and records every event into `monitor`
/// as a completed step_result (environment `import`, executed_by = resource),
/// completing each case at its last event with complete_instance(...,
/// "COMPLETED"). The file is read again with the scan's options; `progress`
/// (optional) reports pass 2. The workflow must be new to the monitor and the
/// monitor must have room for max_open_cases() more open cases
/// (std::invalid_argument otherwise, nothing recorded); should a case still
/// be evicted, throws std::runtime_error (the monitor then holds a partial
/// import). Throws eventlog_error when the file changed since the scan.
[[nodiscard]] eventlog_import replay_eventlog(
    const eventlog_scan& scan, performance_monitor& monitor, std::string workflow_id = {},
    const std::function<void(const eventlog_progress&)>& progress = {});

/// The workflow id an import gets when none is given: the file name without
/// its directory and extension (`logs/receipt.csv` -> `receipt`; `eventlog`
/// when nothing is left).
[[nodiscard]] std::string default_workflow_id(std::string_view path);

/// scan_eventlog + replay_eventlog.
[[nodiscard]] eventlog_import import_eventlog(const std::string& path, performance_monitor& monitor,
                                              std::string workflow_id = {},
                                              const eventlog_options& options = {});

}  // namespace civicperf
