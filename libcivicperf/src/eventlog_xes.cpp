// The XES event-log reader: a streaming expat parse that keeps only the
// current trace's attributes, its current event, and the events read before
// the trace's name (XES puts trace attributes first, so normally none).

#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <expat.h>
#include <fmt/format.h>

#include "eventlog_reader.hpp"

namespace civicperf::detail {
namespace {

constexpr int chunk_bytes = 1 << 20;
// Namespace-aware parsing reports `uri<sep>local`; only the local name counts,
// so `<trace>`, `<xes:trace>` and a default namespace read alike.
constexpr char ns_separator = '\x01';

enum class frame : std::uint8_t { log, trace, event, ignored };

std::string_view local_name(const XML_Char* name) noexcept {
  const char* sep = std::strrchr(name, ns_separator);
  return sep ? std::string_view(sep + 1) : std::string_view(name);
}

bool is_attribute(std::string_view n) noexcept {
  return n == "string" || n == "date" || n == "int" || n == "float" || n == "boolean" ||
         n == "id" || n == "list" || n == "container";
}

struct owned_event {
  std::string activity;
  std::string resource;
  lifecycle_kind kind = lifecycle_kind::complete;
  timestamp time{};
  std::optional<timestamp> start;
  std::uint64_t line = 0;
  std::uint64_t sequence = 0;
};

class xes_reader {
 public:
  xes_reader(byte_source& src, read_context& ctx, const event_sink& sink)
      : src_(src), ctx_(ctx), sink_(sink) {
    const eventlog_columns& c = ctx.options.columns;
    case_key_ = c.case_id.empty() ? "concept:name" : c.case_id;
    if (case_key_.starts_with("case:")) case_key_.erase(0, 5);
    activity_key_ = c.activity.empty() ? "concept:name" : c.activity;
    time_key_ = c.timestamp.empty() ? "time:timestamp" : c.timestamp;
    start_key_ = c.start.empty() ? "start_timestamp" : c.start;
    lifecycle_key_ = c.lifecycle.empty() ? "lifecycle:transition" : c.lifecycle;
    resource_key_ = c.resource.empty() ? "org:resource" : c.resource;
  }
  xes_reader(const xes_reader&) = delete;
  xes_reader& operator=(const xes_reader&) = delete;
  ~xes_reader() {
    if (parser_ != nullptr) XML_ParserFree(parser_);
  }

  void run();

 private:
  static void XMLCALL on_start(void* self, const XML_Char* name, const XML_Char** atts);
  static void XMLCALL on_end(void* self, const XML_Char* name);

  std::uint64_t current_line() const noexcept {
    return static_cast<std::uint64_t>(XML_GetCurrentLineNumber(parser_));
  }
  void start_element(std::string_view name, const XML_Char** atts);
  void end_element();
  void end_event();
  void end_trace();
  void emit(const owned_event& e);

  byte_source& src_;
  read_context& ctx_;
  const event_sink& sink_;
  XML_Parser parser_ = nullptr;
  std::exception_ptr error_;
  std::vector<frame> stack_;
  bool seen_root_ = false;

  std::string case_key_, activity_key_, time_key_, start_key_, lifecycle_key_, resource_key_;

  // The current trace.
  std::string case_id_;
  bool has_case_ = false;
  std::uint64_t trace_line_ = 0;
  std::vector<owned_event> early_;   // events read before the trace's name

  // The current event.
  owned_event event_;
  bool has_activity_ = false;
  std::string time_text_, start_text_;
  bool has_time_ = false, has_start_ = false;

  event_pairing pairing_;
};

void XMLCALL xes_reader::on_start(void* self, const XML_Char* name, const XML_Char** atts) {
  auto* r = static_cast<xes_reader*>(self);
  if (r->error_) return;
  try {
    r->start_element(local_name(name), atts);
  } catch (...) {   // never unwind through expat's C frames
    r->error_ = std::current_exception();
    XML_StopParser(r->parser_, XML_FALSE);
  }
}

void XMLCALL xes_reader::on_end(void* self, const XML_Char* /*name*/) {
  auto* r = static_cast<xes_reader*>(self);
  if (r->error_) return;
  try {
    r->end_element();
  } catch (...) {
    r->error_ = std::current_exception();
    XML_StopParser(r->parser_, XML_FALSE);
  }
}

void xes_reader::start_element(std::string_view name, const XML_Char** atts) {
  if (stack_.empty()) {
    if (seen_root_ || name != "log")
      ctx_.fatal(current_line(), fmt::format("the root element is <{}>, not <log>", name));
    seen_root_ = true;
    stack_.push_back(frame::log);
    return;
  }
  const frame parent = stack_.back();
  if (parent == frame::log && name == "trace") {
    case_id_.clear();
    has_case_ = false;
    trace_line_ = current_line();
    early_.clear();
    stack_.push_back(frame::trace);
    return;
  }
  if (parent == frame::trace && name == "event") {
    event_ = owned_event{};
    event_.line = current_line();
    event_.sequence = static_cast<std::uint64_t>(ctx_.stats.records);
    has_activity_ = has_time_ = has_start_ = false;
    stack_.push_back(frame::event);
    return;
  }
  stack_.push_back(frame::ignored);
  if ((parent != frame::trace && parent != frame::event) || !is_attribute(name)) return;
  const XML_Char* key = nullptr;
  const XML_Char* value = nullptr;
  for (const XML_Char** a = atts; *a != nullptr; a += 2) {
    const std::string_view attr = local_name(a[0]);
    if (attr == "key") key = a[1];
    if (attr == "value") value = a[1];
  }
  if (key == nullptr || value == nullptr) return;
  const std::string_view k(key);
  if (parent == frame::trace) {
    if (k != case_key_) return;
    case_id_.assign(value);
    has_case_ = true;
    for (const auto& e : early_) emit(e);
    early_.clear();
    return;
  }
  if (k == activity_key_) {
    event_.activity.assign(value);
    has_activity_ = true;
  }
  if (k == time_key_) {
    time_text_.assign(value);
    has_time_ = true;
  }
  if (k == start_key_) {
    start_text_.assign(value);
    has_start_ = true;
  }
  if (k == lifecycle_key_) event_.kind = classify_lifecycle(value);
  if (k == resource_key_) event_.resource.assign(value);
}

void xes_reader::end_element() {
  const frame f = stack_.back();
  stack_.pop_back();
  if (f == frame::event) end_event();
  if (f == frame::trace) end_trace();
}

void xes_reader::end_event() {
  ctx_.record_read();
  const std::uint64_t line = event_.line;
  if (!has_activity_ || event_.activity.empty())
    return ctx_.bad(line, fmt::format("event without {}", quoted(activity_key_)));
  if (!has_time_) return ctx_.bad(line, fmt::format("event without {}", quoted(time_key_)));
  const auto time = parse_log_timestamp(time_text_);
  if (!time) {
    return ctx_.bad(line, fmt::format("invalid timestamp in {}: {}", quoted(time_key_),
                                      quoted(time_text_)));
  }
  event_.time = *time;
  if (has_start_) {
    event_.start = parse_log_timestamp(start_text_);
    if (!event_.start) {
      return ctx_.bad(line, fmt::format("invalid timestamp in {}: {}", quoted(start_key_),
                                        quoted(start_text_)));
    }
    if (*event_.start > event_.time) {
      return ctx_.bad(line, fmt::format("{} {} is after {} {}", start_key_, quoted(start_text_),
                                        time_key_, quoted(time_text_)));
    }
  }
  if (has_case_) {
    emit(event_);
  } else {
    early_.push_back(std::move(event_));
  }
}

void xes_reader::end_trace() {
  if (!has_case_) {
    const auto dropped = static_cast<std::int64_t>(early_.size());
    early_.clear();
    ctx_.bad(trace_line_, dropped > 0 ? fmt::format("trace without {} (holding {} event{})",
                                                    quoted(case_key_), dropped,
                                                    dropped == 1 ? "" : "s")
                                      : fmt::format("trace without {}", quoted(case_key_)));
  } else if (case_id_.empty()) {
    ctx_.bad(trace_line_, fmt::format("trace with an empty {}", quoted(case_key_)));
  }
  pairing_.flush(ctx_);
}

void xes_reader::emit(const owned_event& e) {
  if (case_id_.empty()) return;   // reported at the end of the trace
  raw_record r;
  r.case_id = case_id_;
  r.activity = e.activity;
  r.resource = e.resource;
  r.kind = e.kind;
  r.time = e.time;
  r.start = e.start;
  r.line = e.line;
  r.sequence = e.sequence;
  pairing_.add(r, ctx_, sink_);
}

void xes_reader::run() {
  parser_ = XML_ParserCreateNS(nullptr, ns_separator);
  if (parser_ == nullptr) ctx_.fatal(0, "out of memory creating the XML parser");
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, &xes_reader::on_start, &xes_reader::on_end);
  for (;;) {
    void* buffer = XML_GetBuffer(parser_, chunk_bytes);
    if (buffer == nullptr) ctx_.fatal(current_line(), "out of memory in the XML parser");
    const std::size_t got = src_.read(static_cast<char*>(buffer), chunk_bytes);
    const bool last = got == 0;
    if (XML_ParseBuffer(parser_, static_cast<int>(got), last ? XML_TRUE : XML_FALSE) ==
        XML_STATUS_ERROR) {
      if (error_) std::rethrow_exception(error_);
      ctx_.fatal(current_line(),
                 fmt::format("XML error: {}", XML_ErrorString(XML_GetErrorCode(parser_))));
    }
    if (error_) std::rethrow_exception(error_);
    if (last) break;
  }
  if (!seen_root_) ctx_.fatal(0, "no <log> element");
}

}  // namespace

void read_xes(byte_source& src, read_context& ctx, const event_sink& sink) {
  xes_reader reader(src, ctx, sink);
  reader.run();
}

}  // namespace civicperf::detail
