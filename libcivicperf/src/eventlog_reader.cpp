// The pieces both event-log readers share: byte source, reading context,
// timestamps, lifecycle pairing (eventlog_reader.hpp).

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
}  // namespace civicperf::detail
