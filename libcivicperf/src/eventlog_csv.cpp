// The CSV event-log reader (RFC 4180).

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "eventlog_reader.hpp"

namespace civicperf::detail {

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
