// The CSV event-log reader (RFC 4180), and the pieces both readers share
// (byte source, reading context, timestamps, lifecycle pairing; they would
// sit in an eventlog_reader.cpp of their own).

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "eventlog_reader.hpp"

namespace civicperf {

eventlog_error::eventlog_error(std::string source, std::uint64_t line, std::string problem)
    : std::runtime_error(line > 0 ? fmt::format("{}: line {}: {}", source, line, problem)
                                  : fmt::format("{}: {}", source, problem)),
      source_(std::move(source)),
      line_(line),
      problem_(std::move(problem)) {}

std::string_view to_string(eventlog_format f) noexcept {
  switch (f) {
    case eventlog_format::csv: return "csv";
    case eventlog_format::xes: return "xes";
    case eventlog_format::detect: break;
  }
  return "detect";
}

}  // namespace civicperf

namespace civicperf::detail {

// ---------------------------------------------------------------------------
// Shared by both readers.

byte_source byte_source::open_file(const std::string& path) {
  byte_source s;
  s.name_ = path;
  s.file_.reset(std::fopen(path.c_str(), "rb"));
  if (!s.file_) throw eventlog_error(path, 0, fmt::format("cannot open: {}", std::strerror(errno)));
  if (std::fseek(s.file_.get(), 0, SEEK_END) == 0) {
    const long end = std::ftell(s.file_.get());
    if (end > 0) s.size_ = static_cast<std::uint64_t>(end);
    std::fseek(s.file_.get(), 0, SEEK_SET);
  }
  return s;
}

byte_source byte_source::from_text(std::string_view text, std::string name) {
  byte_source s;
  s.name_ = std::move(name);
  s.text_ = text;
  s.size_ = text.size();
  return s;
}

std::size_t byte_source::read(char* dst, std::size_t n) {
  std::size_t got = 0;
  if (file_) {
    got = std::fread(dst, 1, n, file_.get());
    if (got < n && std::ferror(file_.get()))
      throw eventlog_error(name_, 0, fmt::format("read error: {}", std::strerror(errno)));
  } else {
    got = std::min<std::size_t>(n, text_.size() - position_);
    std::memcpy(dst, text_.data() + position_, got);
  }
  position_ += got;
  return got;
}

void byte_source::rewind() {
  if (file_ && std::fseek(file_.get(), 0, SEEK_SET) != 0)
    throw eventlog_error(name_, 0, fmt::format("cannot read again: {}", std::strerror(errno)));
  position_ = 0;
}

eventlog_format detect_format(byte_source& src, eventlog_format requested) {
  if (requested != eventlog_format::detect) return requested;
  const std::string& name = src.name();
  const auto dot = name.find_last_of('.');
  if (dot != std::string::npos && name.find_first_of("/\\", dot) == std::string::npos) {
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == "csv" || ext == "tsv" || ext == "txt") return eventlog_format::csv;
    if (ext == "xes" || ext == "xml") return eventlog_format::xes;
  }
  std::array<char, 512> head{};
  const std::size_t n = src.read(head.data(), head.size());
  src.rewind();
  std::string_view s(head.data(), n);
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  const auto first = s.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && s[first] == '<' ? eventlog_format::xes
                                                            : eventlog_format::csv;
}

void read_context::bad(std::uint64_t line, std::string problem) {
  if (!options.skip_bad) throw eventlog_error(source.name(), line, std::move(problem));
  ++stats.skipped;
  if (stats.skipped_examples.size() < 5)
    stats.skipped_examples.push_back(fmt::format("line {}: {}", line, problem));
}

void read_context::fatal(std::uint64_t line, std::string problem) const {
  throw eventlog_error(source.name(), line, std::move(problem));
}

void read_context::report_progress() const {
  options.progress(eventlog_progress{pass, source.position(), source.size(), stats.records});
}

std::string quoted(std::string_view value) {
  constexpr std::size_t limit = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
  }
  if (value.size() > limit) out += "...";
  out.push_back('\'');
  return out;
}

std::optional<timestamp> parse_log_timestamp(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (auto t = parse_iso8601(text)) return t;
  std::array<char, 48> buf{};
  if (text.size() == 10) {   // YYYY-MM-DD
    std::memcpy(buf.data(), text.data(), 10);
    std::memcpy(buf.data() + 10, "T00:00:00", 9);
    return parse_iso8601(std::string_view(buf.data(), 19));
  }
  // Nanoseconds (or more): keep the microseconds.
  if (text.size() > 26 && text[19] == '.') {
    std::size_t end = 20;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    const std::size_t rest = text.size() - end;
    if (end - 20 > 6 && 26 + rest <= buf.size()) {
      std::memcpy(buf.data(), text.data(), 26);
      std::memcpy(buf.data() + 26, text.data() + end, rest);
      return parse_iso8601(std::string_view(buf.data(), 26 + rest));
    }
  }
  return std::nullopt;
}

lifecycle_kind classify_lifecycle(std::string_view text) noexcept {
  if (text == "complete") return lifecycle_kind::complete;   // the usual spelling, at once
  const auto is = [&](std::string_view word) {
    if (text.size() != word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
      if (static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))) != word[i])
        return false;
    return true;
  };
  if (text.empty() || is("complete")) return lifecycle_kind::complete;
  if (is("start")) return lifecycle_kind::start;
  return lifecycle_kind::other;
}

void event_pairing::add(const raw_record& r, read_context& ctx, const event_sink& sink) {
  log_event e;
  e.case_id = r.case_id;
  e.activity = r.activity;
  e.resource = r.resource;
  e.line = r.line;
  e.sequence = r.sequence;
  switch (r.kind) {
    case lifecycle_kind::other:
      ++ctx.stats.ignored_lifecycle;
      return;
    case lifecycle_kind::start: {
      key_.assign(r.case_id).push_back('\x1f');
      key_.append(r.activity);
      open_[key_].push_back(open_start{r.time, r.line, r.sequence, std::string(r.resource)});
      ++open_count_;
      return;
    }
    case lifecycle_kind::complete:
      break;
  }
  e.started_at = r.start.value_or(r.time);
  e.completed_at = r.time;
  std::string resource;
  if (!r.start && open_count_ > 0) {
    key_.assign(r.case_id).push_back('\x1f');
    key_.append(r.activity);
    const auto it = open_.find(key_);
    if (it != open_.end()) {
      open_start s = std::move(it->second.front());
      it->second.pop_front();
      if (it->second.empty()) open_.erase(it);
      --open_count_;
      if (s.start > r.time) {
        ctx.bad(r.line, fmt::format("'{}' completes at {} before its start at line {} ({})",
                                    r.activity, format_iso8601(r.time), s.line,
                                    format_iso8601(s.start)));
        return;
      }
      e.started_at = s.start;
      e.line = s.line;
      e.sequence = s.sequence;
      if (e.resource.empty()) {
        resource = std::move(s.resource);
        e.resource = resource;
      }
    }
  }
  ++ctx.stats.events;
  sink(e);
}

void event_pairing::flush(read_context& ctx) {
  ctx.stats.unmatched_starts += static_cast<std::int64_t>(open_count_);
  open_.clear();
  open_count_ = 0;
}

void read_events(byte_source& src, read_context& ctx, const event_sink& sink) {
  ctx.stats.format = detect_format(src, ctx.options.format);
  if (ctx.stats.format == eventlog_format::xes) {
    read_xes(src, ctx, sink);
  } else {
    read_csv(src, ctx, sink);
  }
  ctx.stats.bytes = src.position();
  if (ctx.options.progress) ctx.report_progress();
}

// ---------------------------------------------------------------------------
// CSV.

namespace {

constexpr std::size_t chunk_bytes = std::size_t{1} << 20;

struct column {
  explicit column(std::string_view w) : what(w) {}
  std::string_view what;   // for messages
  std::string name;
  std::size_t index = 0;
  bool present = false;
};

class csv_reader {
 public:
  csv_reader(byte_source& src, read_context& ctx, const event_sink& sink)
      : src_(src), ctx_(ctx), sink_(sink) {}

  void run();

 private:
  bool next_record(char*& begin, char*& end, std::uint64_t& newlines);
  bool refill();
  void split(char* begin, char* end, std::uint64_t line, bool& ok);
  void read_header(char* begin, char* end, std::uint64_t line);
  void data_row(std::uint64_t line);

  byte_source& src_;
  read_context& ctx_;
  const event_sink& sink_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;   // unread data is buf_[begin_, end_)
  std::size_t end_ = 0;
  bool eof_ = false;
  std::uint64_t line_ = 1;   // line where the next record starts
  char sep_ = ',';
  std::vector<std::string_view> fields_;
  std::vector<std::string> header_;
  column case_{"case id"};
  column activity_{"activity"};
  column time_{"timestamp"};
  column start_{"start timestamp"};
  column lifecycle_{"lifecycle"};
  column resource_{"resource"};
  event_pairing pairing_;
};

// Moves the unread tail to the front and reads more behind it; false at the end.
bool csv_reader::refill() {
  if (eof_) return false;
  const std::size_t pending = end_ - begin_;
  if (pending > ctx_.options.max_record_bytes) {
    ctx_.fatal(line_, fmt::format("record longer than {} bytes (an unterminated quote?)",
                                  ctx_.options.max_record_bytes));
  }
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, pending);
    begin_ = 0;
    end_ = pending;
  }
  if (buf_.size() - end_ < chunk_bytes / 2) buf_.resize(end_ + chunk_bytes);
  const std::size_t got = src_.read(buf_.data() + end_, buf_.size() - end_);
  end_ += got;
  if (got == 0) eof_ = true;
  return got > 0;
}

// The next record (without its line end) in [begin, end); false at the end
// of the input. Quoted fields may hold newlines.
bool csv_reader::next_record(char*& begin, char*& end, std::uint64_t& newlines) {
  std::size_t scan_from = begin_;
  for (;;) {
    char* const first = buf_.data() + begin_;
    char* const last = buf_.data() + end_;
    char* const from = buf_.data() + scan_from;
    char* nl = static_cast<char*>(std::memchr(from, '\n', static_cast<std::size_t>(last - from)));
    if (nl != nullptr && std::memchr(first, '"', static_cast<std::size_t>(nl - first)) == nullptr) {
      begin = first;
      end = nl;
      newlines = 1;
      begin_ = static_cast<std::size_t>(nl + 1 - buf_.data());
      break;
    }
    if (nl != nullptr || eof_) {
      // Quotes: find the first newline outside a quoted field. As in split(),
      // a quote opens a field only at its start (a second quote right after a
      // closing one is an escaped quote); elsewhere it is an ordinary byte.
      bool in_quotes = false;
      bool field_start = true;
      bool after_close = false;
      std::uint64_t count = 0;
      char* p = first;
      for (; p < last; ++p) {
        const char c = *p;
        if (in_quotes) {
          if (c == '"') {
            in_quotes = false;
            after_close = true;
          } else if (c == '\n') {
            ++count;
          }
          continue;
        }
        if (c == '"' && (field_start || after_close)) {
          in_quotes = true;
          field_start = after_close = false;
          continue;
        }
        if (c == '\n') {
          ++count;
          break;
        }
        after_close = false;
        field_start = c == sep_;
      }
      if (p < last) {
        begin = first;
        end = p;
        newlines = count;
        begin_ = static_cast<std::size_t>(p + 1 - buf_.data());
        break;
      }
      if (eof_) {
        if (first == last) return false;
        if (in_quotes) {
          // The rest of the file is one broken record.
          begin_ = end_;
          ctx_.bad(line_, "unterminated quoted field");
          line_ += count;
          return false;
        }
        begin = first;
        end = last;
        newlines = count;
        begin_ = end_;
        break;
      }
    }
    scan_from = end_;
    const std::size_t offset = scan_from - begin_;
    refill();
    scan_from = begin_ + offset;
    if (eof_ && begin_ == end_) return false;
  }
  if (end > begin && end[-1] == '\r') --end;
  return true;
}

// Splits [begin, end) into fields_, unescaping quoted fields in place.
void csv_reader::split(char* begin, char* end, std::uint64_t line, bool& ok) {
  fields_.clear();
  ok = true;
  char* p = begin;
  for (;;) {
    if (p < end && *p == '"') {
      char* w = p + 1;
      char* r = p + 1;
      for (;;) {
        char* q = static_cast<char*>(std::memchr(r, '"', static_cast<std::size_t>(end - r)));
        if (q == nullptr) {   // only at the end of the input: reported by next_record
          ctx_.bad(line, "unterminated quoted field");
          ok = false;
          return;
        }
        if (w != r) std::memmove(w, r, static_cast<std::size_t>(q - r));
        w += q - r;
        if (q + 1 < end && q[1] == '"') {
          *w++ = '"';
          r = q + 2;
          continue;
        }
        r = q + 1;
        break;
      }
      fields_.emplace_back(p + 1, static_cast<std::size_t>(w - (p + 1)));
      if (r == end) return;
      if (*r != sep_) {
        ctx_.bad(line, fmt::format("unexpected character after the closing quote of field {}",
                                   fields_.size()));
        ok = false;
        return;
      }
      p = r + 1;
      continue;
    }
    char* q = static_cast<char*>(std::memchr(p, sep_, static_cast<std::size_t>(end - p)));
    if (q == nullptr) {
      fields_.emplace_back(p, static_cast<std::size_t>(end - p));
      return;
    }
    fields_.emplace_back(p, static_cast<std::size_t>(q - p));
    p = q + 1;
  }
}

void csv_reader::read_header(char* begin, char* end, std::uint64_t line) {
  if (end - begin >= 3 && std::memcmp(begin, "\xEF\xBB\xBF", 3) == 0) begin += 3;
  sep_ = ctx_.options.separator;
  if (sep_ == 0) {
    std::array<std::size_t, 3> counts{};
    constexpr std::array<char, 3> candidates{',', ';', '\t'};
    bool in_quotes = false;
    for (const char* p = begin; p < end; ++p) {
      if (*p == '"') in_quotes = !in_quotes;
      for (std::size_t i = 0; i < candidates.size() && !in_quotes; ++i)
        counts[i] += *p == candidates[i] ? 1 : 0;
    }
    const auto best = std::max_element(counts.begin(), counts.end());
    sep_ = *best > 0 ? candidates[static_cast<std::size_t>(best - counts.begin())] : ',';
  }
  bool ok = true;
  split(begin, end, line, ok);
  if (!ok) ctx_.fatal(line, "malformed header row");
  for (auto f : fields_) {
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    header_.emplace_back(f);
  }
  const eventlog_columns& c = ctx_.options.columns;
  const auto resolve = [&](column& col, const std::string& given, std::string_view fallback,
                           bool required) {
    col.name = given.empty() ? std::string(fallback) : given;
    const auto it = std::find(header_.begin(), header_.end(), col.name);
    col.present = it != header_.end();
    col.index = static_cast<std::size_t>(it - header_.begin());
    if (!col.present && (required || !given.empty())) {
      std::string found;
      for (const auto& h : header_) {
        if (!found.empty()) found += ", ";
        found += h.empty() ? std::string("(unnamed)") : quoted(h);
      }
      ctx_.fatal(line, fmt::format("no {} column {}; columns found: {}", col.what,
                                   quoted(col.name), found));
    }
  };
  resolve(case_, c.case_id, "case:concept:name", true);
  resolve(activity_, c.activity, "concept:name", true);
  resolve(time_, c.timestamp, "time:timestamp", true);
  resolve(start_, c.start, "start_timestamp", false);
  resolve(lifecycle_, c.lifecycle, "lifecycle:transition", false);
  resolve(resource_, c.resource, "org:resource", false);
}

void csv_reader::data_row(std::uint64_t line) {
  const std::uint64_t sequence = static_cast<std::uint64_t>(ctx_.stats.records);
  ctx_.record_read();
  if (fields_.size() != header_.size()) {
    ctx_.bad(line, fmt::format("expected {} fields, found {}", header_.size(), fields_.size()));
    return;
  }
  raw_record r;
  r.line = line;
  r.sequence = sequence;
  r.case_id = fields_[case_.index];
  r.activity = fields_[activity_.index];
  if (r.case_id.empty()) return ctx_.bad(line, fmt::format("empty case id in column {}", quoted(case_.name)));
  if (r.activity.empty()) return ctx_.bad(line, fmt::format("empty activity in column {}", quoted(activity_.name)));
  const std::string_view time_text = fields_[time_.index];
  if (time_text.empty()) return ctx_.bad(line, fmt::format("empty timestamp in column {}", quoted(time_.name)));
  const auto time = parse_log_timestamp(time_text);
  if (!time) {
    return ctx_.bad(line, fmt::format("invalid timestamp in column {}: {}", quoted(time_.name),
                                      quoted(time_text)));
  }
  r.time = *time;
  if (start_.present && !fields_[start_.index].empty()) {
    const std::string_view start_text = fields_[start_.index];
    r.start = parse_log_timestamp(start_text);
    if (!r.start) {
      return ctx_.bad(line, fmt::format("invalid timestamp in column {}: {}", quoted(start_.name),
                                        quoted(start_text)));
    }
    if (*r.start > r.time) {
      return ctx_.bad(line, fmt::format("{} {} is after {} {}", start_.name, quoted(start_text),
                                        time_.name, quoted(time_text)));
    }
  }
  if (lifecycle_.present) r.kind = classify_lifecycle(fields_[lifecycle_.index]);
  if (resource_.present) r.resource = fields_[resource_.index];
  pairing_.add(r, ctx_, sink_);
}

void csv_reader::run() {
  buf_.resize(chunk_bytes);
  bool have_header = false;
  if (ctx_.options.separator != 0) sep_ = ctx_.options.separator;
  char* begin = nullptr;
  char* end = nullptr;
  std::uint64_t newlines = 0;
  while (next_record(begin, end, newlines)) {
    const std::uint64_t line = line_;
    line_ += newlines;
    if (begin == end) continue;   // a blank line
    if (static_cast<std::size_t>(end - begin) > ctx_.options.max_record_bytes) {
      ctx_.fatal(line, fmt::format("record longer than {} bytes (an unterminated quote?)",
                                   ctx_.options.max_record_bytes));
    }
    if (!have_header) {
      read_header(begin, end, line);
      have_header = true;
      continue;
    }
    bool ok = true;
    split(begin, end, line, ok);
    if (!ok) {
      ctx_.record_read();
      continue;
    }
    data_row(line);
  }
  if (!have_header) ctx_.fatal(0, "empty file: no header row");
  pairing_.flush(ctx_);
}

}  // namespace

void read_csv(byte_source& src, read_context& ctx, const event_sink& sink) {
  csv_reader reader(src, ctx, sink);
  reader.run();
}

}  // namespace civicperf::detail
