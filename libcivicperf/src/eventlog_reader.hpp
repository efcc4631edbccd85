#pragma once
// Shared pieces of the event-log readers: the byte source (a file or memory,
// read in chunks, rewindable for the second pass), the reading context
// (options, statistics, the skip-bad policy, progress), timestamp parsing and
// the lifecycle start/complete pairing.

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "civicperf/eventlog.hpp"

namespace civicperf::detail {

using event_sink = std::function<void(const log_event&)>;

/// A file or a block of memory, read front to back in chunks.
/// Thread safety: none; one reader at a time.
class byte_source {
 public:
  /// Throws eventlog_error when the file cannot be opened.
  static byte_source open_file(const std::string& path);
  static byte_source from_text(std::string_view text, std::string name);

  /// Up to `n` bytes into `dst`; 0 at the end. Throws eventlog_error on a read error.
  std::size_t read(char* dst, std::size_t n);
  void rewind();
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t position() const noexcept { return position_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string name_;
  std::unique_ptr<std::FILE, file_closer> file_;
  std::string_view text_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
};

/// The file's format: the option, else the extension, else the first
/// non-blank byte (`<`: XES). May read the start of `src` (and rewinds it).
[[nodiscard]] eventlog_format detect_format(byte_source& src, eventlog_format requested);

/// Options, statistics and the error policy of one pass.
struct read_context {
  read_context(const byte_source& src, const eventlog_options& opt, eventlog_read_stats& st,
               int pass_number)
      : source(src), options(opt), stats(st), pass(pass_number) {}

  const byte_source& source;
  const eventlog_options& options;
  eventlog_read_stats& stats;
  int pass;

  /// A malformed row or element: counted when skip_bad, else thrown.
  void bad(std::uint64_t line, std::string problem);
  /// A problem that leaves the rest of the file unreadable: always thrown.
  [[noreturn]] void fatal(std::uint64_t line, std::string problem) const;
  /// One data record read (counts it, reports progress).
  void record_read() {
    ++stats.records;
    if (options.progress && options.progress_every > 0 &&
        stats.records % options.progress_every == 0)
      report_progress();
  }
  void report_progress() const;
};

/// `'value'` for a message: at most 60 bytes, control bytes as `?`.
[[nodiscard]] std::string quoted(std::string_view value);

/// ISO-8601 as parse_iso8601, and also: surrounding blanks, more than six
/// fraction digits (truncated to microseconds), a date alone (midnight UTC).
[[nodiscard]] std::optional<timestamp> parse_log_timestamp(std::string_view text) noexcept;

enum class lifecycle_kind : std::uint8_t { complete, start, other };
/// `complete` (or empty) / `start`, any case; anything else is `other`.
[[nodiscard]] lifecycle_kind classify_lifecycle(std::string_view text) noexcept;

/// One row / event element, before start/complete pairing.
struct raw_record {
  std::string_view case_id;
  std::string_view activity;
  std::string_view resource;
  lifecycle_kind kind = lifecycle_kind::complete;
  timestamp time{};                  ///< the (completion) timestamp
  std::optional<timestamp> start;    ///< an explicit start timestamp
  std::uint64_t line = 0;
  std::uint64_t sequence = 0;
};

/// Turns raw records into events: a `complete` closes the oldest open
/// `start` of the same (case, activity); other lifecycle transitions are
/// counted and dropped. Holds only the open starts.
/// Thread safety: none.
class event_pairing {
 public:
  void add(const raw_record& r, read_context& ctx, const event_sink& sink);
  /// Drops every open start (counted as unmatched).
  void flush(read_context& ctx);

 private:
  struct open_start {
    timestamp start;
    std::uint64_t line;
    std::uint64_t sequence;
    std::string resource;
  };
  std::unordered_map<std::string, std::deque<open_start>> open_;
  std::size_t open_count_ = 0;
  std::string key_;
};

/// The readers: every event of the source to `sink`. Throw eventlog_error.
void read_csv(byte_source& src, read_context& ctx, const event_sink& sink);
void read_xes(byte_source& src, read_context& ctx, const event_sink& sink);

/// Detects the format and runs the matching reader.
void read_events(byte_source& src, read_context& ctx, const event_sink& sink);

}  // namespace civicperf::detail
