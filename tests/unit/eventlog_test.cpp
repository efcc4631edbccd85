#include "civicperf/eventlog.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "civicperf/analyzer.hpp"
#include "civicperf/monitor.hpp"

using namespace civicperf;

namespace {

// One import into a fresh monitor, with the reports a test looks at.
struct imported {
  std::unique_ptr<performance_monitor> monitor = std::make_unique<performance_monitor>();
  eventlog_import result;
  workflow_snapshot snap;
  timing_report timing;
};

imported import_text(std::string_view text, std::string_view name, const eventlog_options& opt = {}) {
  imported out;
  const eventlog_scan scan = scan_eventlog_text(text, name, opt);
  out.result = replay_eventlog(scan, *out.monitor);
  out.snap = *out.monitor->snapshot(out.result.workflow.id);
  out.timing = analyze_timing(out.snap, out.result.workflow, 5000);
  return out;
}

const transition_entry* transition(const timing_report& t, std::string_view from, std::string_view to) {
  for (const auto& e : t.step_transitions)
    if (e.from_step == from && e.to_step == to) return &e;
  return nullptr;
}


struct event_copy {
  std::string case_id;
  std::string activity;
  std::string resource;
  timestamp started_at;
  timestamp completed_at;
  std::uint64_t line;
};

std::vector<event_copy> read_all(std::string_view text, std::string_view name,
                                 const eventlog_options& opt, eventlog_read_stats* stats = nullptr) {
  std::vector<event_copy> out;
  const auto s = read_eventlog_text(text, name, opt, [&](const log_event& e) {
    out.push_back({std::string(e.case_id), std::string(e.activity), std::string(e.resource),
                   e.started_at, e.completed_at, e.line});
  });
  if (stats) *stats = s;
  return out;
}

timestamp utc(std::string_view iso) { return *parse_iso8601(iso); }

std::string error_of(std::string_view text, std::string_view name, eventlog_options opt = {}) {
  try {
    (void)read_eventlog_text(text, name, opt, [](const log_event&) {});
  } catch (const eventlog_error& e) {
    return e.what();
  }
  return "no error";
}

constexpr std::int64_t hour_ms = 3'600'000;

}  // namespace

TEST_CASE("csv: RFC 4180 quoting with separators, doubled quotes and newlines", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp,org:resource\n"
      "\"c,1\",\"say \"\"hello\"\"\",2020-01-01 10:00:00+00:00,\"Ann\nSmith\"\n"
      "\"c,1\",plain,2020-01-01 11:00:00+00:00,\"\"\n"
      "c2,\"multi\r\nline\",2020-01-01 12:00:00+00:00,Bob\n";
  eventlog_read_stats stats;
  const auto events = read_all(text, "q.csv", {}, &stats);
  REQUIRE(events.size() == 3);
  CHECK(events[0].case_id == "c,1");
  CHECK(events[0].activity == "say \"hello\"");
  CHECK(events[0].resource == "Ann\nSmith");
  CHECK(events[0].line == 2);
  CHECK(events[1].activity == "plain");
  CHECK(events[1].resource.empty());
  CHECK(events[1].line == 4);   // the quoted newline moved it down one line
  CHECK(events[2].activity == "multi\r\nline");
  CHECK(events[2].line == 5);
  // A quote inside an unquoted field is an ordinary character (no quoting starts).
  const auto inch = read_all("case:concept:name,concept:name,time:timestamp\n"
                             "c1,5\" screen,2020-01-01 10:00:00Z\n"
                             "c1,17\" screen,2020-01-01 11:00:00Z\n",
                             "inch.csv", {});
  REQUIRE(inch.size() == 2);
  CHECK(inch[0].activity == "5\" screen");
  CHECK(inch[1].activity == "17\" screen");
  CHECK(inch[1].line == 3);
  CHECK(stats.records == 3);
  CHECK(stats.events == 3);
  CHECK(stats.format == eventlog_format::csv);
  // An error after the quoted newlines names the right line.
  CHECK(error_of(text + "c3,x,yesterday,Bob\n", "q.csv") ==
        "q.csv: line 7: invalid timestamp in column 'time:timestamp': 'yesterday'");
}

TEST_CASE("csv: CRLF line ends, a BOM, blank lines, no final newline", "[eventlog]") {
  const std::string text =
      "\xEF\xBB\xBF" "case:concept:name,concept:name,time:timestamp\r\n"
      "\r\n"
      "c1,a,2020-01-01T10:00:00Z\r\n"
      "\n"
      "c1,b,2020-01-01T10:00:01Z";
  const auto events = read_all(text, "crlf.csv", {});
  REQUIRE(events.size() == 2);
  CHECK(events[0].activity == "a");
  CHECK(events[0].line == 3);
  CHECK(events[1].activity == "b");
  CHECK(events[1].line == 5);
  CHECK(events[1].completed_at - events[0].completed_at == std::chrono::seconds(1));
}

TEST_CASE("csv: named columns, a detected separator and the conventional names", "[eventlog]") {
  const std::string text =
      "Case ID;Activity;Start;End;Who\n"
      "k1;Intake;2020-03-01 08:00:00+01:00;2020-03-01 09:00:00+01:00;Eve\n"
      "k1;Review;2020-03-01 10:30:00+01:00;2020-03-01 11:00:00+01:00;Eve\n";
  eventlog_options opt;
  opt.columns.case_id = "Case ID";
  opt.columns.activity = "Activity";
  opt.columns.timestamp = "End";
  opt.columns.start = "Start";
  opt.columns.resource = "Who";
  const auto events = read_all(text, "named.csv", opt);
  REQUIRE(events.size() == 2);
  CHECK(events[0].case_id == "k1");
  CHECK(events[0].started_at == utc("2020-03-01T07:00:00Z"));
  CHECK(events[0].completed_at == utc("2020-03-01T08:00:00Z"));
  CHECK(events[1].resource == "Eve");

  const auto r = import_text(text, "named.csv", opt);
  const auto* t = transition(r.timing, "Intake", "Review");
  REQUIRE(t);
  CHECK(t->count == 1);
  CHECK(t->average_transition_time_ms == 1.5 * hour_ms);
  const step_snapshot* intake = r.snap.find_step("Intake");
  REQUIRE(intake);
  CHECK(intake->execution.count == 1);
  CHECK(intake->execution.sum == std::int64_t{3'600'000'000});

  // Without the options the conventional names are missing: the message lists what is there.
  CHECK(error_of(text, "named.csv") ==
        "named.csv: line 1: no case id column 'case:concept:name'; columns found: 'Case ID', "
        "'Activity', 'Start', 'End', 'Who'");
  eventlog_options wrong = opt;
  wrong.columns.resource = "Resource";
  CHECK(error_of(text, "named.csv", wrong) ==
        "named.csv: line 1: no resource column 'Resource'; columns found: 'Case ID', "
        "'Activity', 'Start', 'End', 'Who'");
}

TEST_CASE("timestamps: offsets are honoured across a DST change", "[eventlog]") {
  // Central European time: 23:00 CEST (+02:00) and 02:00 CET (+01:00) on the
  // night the clocks went back are four hours apart, not three.
  const std::string text =
      "case:concept:name,concept:name,time:timestamp\n"
      "w1,T02,2011-10-29 23:00:00.000000+02:00\n"
      "w1,T04,2011-10-30 02:00:00.000000+01:00\n"
      "w1,T05,2011-10-30 02:00:00.000000+02:00\n";   // an hour BEFORE the previous event
  const auto r = import_text(text, "dst.csv");
  const auto* a = transition(r.timing, "T02", "T05");
  REQUIRE(a);   // replayed in time order: T02, T05, T04
  CHECK(a->average_transition_time_ms == 3 * hour_ms);
  const auto* b = transition(r.timing, "T05", "T04");
  REQUIRE(b);
  CHECK(b->average_transition_time_ms == 1 * hour_ms);
  CHECK(transition(r.timing, "T02", "T04") == nullptr);
  CHECK(r.result.reordered_cases == 1);
  CHECK(r.timing.total_average_completion_time_ms == 4 * hour_ms);
}

TEST_CASE("timestamps: fractions, T or space, Z, nanoseconds truncated, dates", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp\n"
      "c,a,2011-10-11 13:45:40.276000+02:00\n"
      "c,b,2011-10-11T11:45:40.276Z\n"
      "c,c,2011-10-11T11:45:40.276123999+00:00\n"
      "c,d,2011-10-12\n"
      "c,e, 2011-10-12 00:00:01 \n";
  const auto events = read_all(text, "t.csv", {});
  REQUIRE(events.size() == 5);
  CHECK(events[0].completed_at == events[1].completed_at);
  CHECK((events[2].completed_at - events[1].completed_at).count() == 123);
  CHECK(events[3].completed_at == utc("2011-10-12T00:00:00Z"));
  CHECK(events[4].completed_at == utc("2011-10-12T00:00:01Z"));
  CHECK(events[0].started_at == events[0].completed_at);   // instantaneous
}

TEST_CASE("ordering: ties keep file order, out-of-order cases are reordered", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp\n"
      "x,late,2020-01-02 00:00:00+00:00\n"
      "y,first,2020-01-01 00:00:00+00:00\n"
      "x,tie2,2020-01-01 00:00:00+00:00\n"   // before 'late' in time: case x is reordered
      "x,tie1,2020-01-01 00:00:00+00:00\n"
      "y,second,2020-01-01 00:00:00+00:00\n";
  const auto r = import_text(text, "order.csv");
  CHECK(r.result.reordered_cases == 1);
  const auto x = r.monitor->instance(r.result.workflow.id, "x");
  REQUIRE(x);
  REQUIRE(x->events.size() == 3);
  CHECK(x->events[0].step_id == "tie2");
  CHECK(x->events[1].step_id == "tie1");
  CHECK(x->events[2].step_id == "late");
  const auto y = r.monitor->instance(r.result.workflow.id, "y");
  REQUIRE(y);
  REQUIRE(y->events.size() == 2);
  CHECK(y->events[0].step_id == "first");
  CHECK(y->events[1].step_id == "second");
  CHECK(transition(r.timing, "tie2", "tie1")->average_transition_time_ms == 0);
  CHECK(transition(r.timing, "tie1", "late")->average_transition_time_ms == 24 * hour_ms);
}

TEST_CASE("ordering: roadtraffic's tied days keep the file order", "[eventlog]") {
  for (const char* ext : {".csv", ".xes"}) {
    const std::string file =
        std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/roadtraffic100traces" + ext;
    performance_monitor m;
    const auto r = import_eventlog(file, m);
    CHECK(r.reordered_cases == 0);
    const auto c = m.instance("roadtraffic100traces", "C13687");
    REQUIRE(c);
    REQUIRE(c->events.size() >= 3);
    CHECK(c->events[0].step_id == "Create Fine");
    CHECK(c->events[1].step_id == "Send Fine");
    CHECK(c->events[2].step_id == "Insert Fine Notification");
    CHECK(c->events[0].started_at == c->events[2].started_at);
    const auto a = m.instance("roadtraffic100traces", "A43678");
    REQUIRE(a);
    const auto penalty = std::find_if(a->events.begin(), a->events.end(),
                                      [](const auto& e) { return e.step_id == "Add penalty"; });
    REQUIRE(penalty != a->events.end());
    REQUIRE(penalty + 1 != a->events.end());
    CHECK((penalty + 1)->step_id == "Payment");
    CHECK((penalty + 1)->started_at == penalty->started_at);
  }
}

TEST_CASE("intervals: durations, and negative transitions where activities overlap", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp,start_timestamp\n"
      "o1,pack,2015-01-05 12:00:00+00:00,2015-01-05 10:00:00+00:00\n"
      "o1,invoice,2015-01-05 13:00:00+00:00,2015-01-05 11:00:00+00:00\n"
      "o1,ship,2015-01-05 15:00:00+00:00,2015-01-05 14:00:00+00:00\n";
  const auto r = import_text(text, "iv.csv");
  const auto* overlap = transition(r.timing, "pack", "invoice");
  REQUIRE(overlap);
  CHECK(overlap->average_transition_time_ms == -1 * hour_ms);   // started an hour before pack completed
  CHECK(overlap->min_transition_time_ms == -1 * hour_ms);
  CHECK(transition(r.timing, "invoice", "ship")->average_transition_time_ms == 1 * hour_ms);
  const auto perf = analyze_workflow(r.snap, r.result.workflow);
  for (const auto& m : perf.step_metrics) CHECK(m.average_duration_ms == (m.step_id == "ship" ? 1 : 2) * hour_ms);
  CHECK(r.timing.total_average_completion_time_ms == 5 * hour_ms);   // 10:00 .. 15:00
  CHECK(r.result.case_durations.max == std::chrono::hours(5));

  // The real interval log has overlaps too: some transition has a negative minimum.
  performance_monitor m;
  const auto imp = import_eventlog(std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/interval_event_log.csv", m);
  const auto timing = analyze_timing(*m.snapshot(imp.workflow.id), imp.workflow, 5000);
  CHECK(std::any_of(timing.step_transitions.begin(), timing.step_transitions.end(),
                    [](const auto& t) { return t.min_transition_time_ms < 0; }));
}

TEST_CASE("xes: start/complete pairing per (case, activity), first in first out", "[eventlog]") {
  const std::string text = R"(<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <trace>
    <string key="concept:name" value="p1"/>
    <event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="start"/><date key="time:timestamp" value="2020-01-01T10:00:00Z"/><string key="org:resource" value="ann"/></event>
    <event><string key="concept:name" value="B"/><string key="lifecycle:transition" value="start"/><date key="time:timestamp" value="2020-01-01T10:10:00Z"/></event>
    <event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="start"/><date key="time:timestamp" value="2020-01-01T10:20:00Z"/></event>
    <event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="complete"/><date key="time:timestamp" value="2020-01-01T10:30:00Z"/></event>
    <event><string key="concept:name" value="B"/><string key="lifecycle:transition" value="COMPLETE"/><date key="time:timestamp" value="2020-01-01T10:40:00Z"/></event>
    <event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="complete"/><date key="time:timestamp" value="2020-01-01T10:50:00Z"/></event>
    <event><string key="concept:name" value="C"/><string key="lifecycle:transition" value="schedule"/><date key="time:timestamp" value="2020-01-01T11:00:00Z"/></event>
    <event><string key="concept:name" value="C"/><date key="time:timestamp" value="2020-01-01T11:05:00Z"/></event>
    <event><string key="concept:name" value="D"/><string key="lifecycle:transition" value="start"/><date key="time:timestamp" value="2020-01-01T11:10:00Z"/></event>
  </trace>
</log>
)";
  eventlog_read_stats stats;
  const auto events = read_all(text, "pairs.xes", {}, &stats);
  CHECK(stats.format == eventlog_format::xes);
  CHECK(stats.records == 9);
  CHECK(stats.ignored_lifecycle == 1);
  CHECK(stats.unmatched_starts == 1);
  REQUIRE(events.size() == 4);
  // Delivered when completed; the first A start pairs with the first A complete.
  CHECK(events[0].activity == "A");
  CHECK(events[0].started_at == utc("2020-01-01T10:00:00Z"));
  CHECK(events[0].completed_at == utc("2020-01-01T10:30:00Z"));
  CHECK(events[0].resource == "ann");   // from the start event
  CHECK(events[0].line == 5);
  CHECK(events[1].activity == "B");
  CHECK(events[1].started_at == utc("2020-01-01T10:10:00Z"));
  CHECK(events[2].activity == "A");
  CHECK(events[2].started_at == utc("2020-01-01T10:20:00Z"));
  CHECK(events[2].completed_at == utc("2020-01-01T10:50:00Z"));
  CHECK(events[3].activity == "C");   // complete without start: instantaneous
  CHECK(events[3].started_at == events[3].completed_at);

  // Replayed by start: A(10:00-10:30), B(10:10-10:40), A(10:20-10:50), C(11:05),
  // which is also the order of the starts in the file.
  const auto r = import_text(text, "pairs.xes");
  CHECK(r.result.reordered_cases == 0);
  CHECK(transition(r.timing, "A", "B")->average_transition_time_ms == -20 * 60'000);
  CHECK(transition(r.timing, "B", "A")->average_transition_time_ms == -20 * 60'000);
  CHECK(transition(r.timing, "A", "C")->average_transition_time_ms == 15 * 60'000);
  CHECK(r.snap.find_step("A")->execution.sum == std::int64_t{60} * 60'000'000);
}

TEST_CASE("csv: lifecycle start/complete rows pair the same way", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,lifecycle:transition,time:timestamp\n"
      "c1,A,start,2020-01-01 10:00:00Z\n"
      "c2,A,start,2020-01-01 10:01:00Z\n"
      "c1,A,complete,2020-01-01 10:05:00Z\n"
      "c2,A,complete,2020-01-01 10:09:00Z\n"
      "c1,B,assign,2020-01-01 10:06:00Z\n";
  eventlog_read_stats stats;
  const auto events = read_all(text, "lc.csv", {}, &stats);
  REQUIRE(events.size() == 2);
  CHECK(events[0].case_id == "c1");
  CHECK(events[0].completed_at - events[0].started_at == std::chrono::minutes(5));
  CHECK(events[0].line == 2);
  CHECK(events[1].case_id == "c2");
  CHECK(events[1].completed_at - events[1].started_at == std::chrono::minutes(8));
  CHECK(stats.ignored_lifecycle == 1);
  CHECK(stats.unmatched_starts == 0);
  CHECK(error_of("case:concept:name,concept:name,lifecycle:transition,time:timestamp\n"
                 "c1,A,start,2020-01-01 10:00:00Z\n"
                 "c1,A,complete,2020-01-01 09:00:00Z\n",
                 "lc.csv") ==
        "lc.csv: line 3: 'A' completes at 2020-01-01T09:00:00.000Z before its start at line 2 "
        "(2020-01-01T10:00:00.000Z)");
}

TEST_CASE("xes: namespaces, nested and unknown elements, globals, late trace names", "[eventlog]") {
  const std::string text = R"(<?xml version='1.0' encoding='UTF-8'?>
<x:log xmlns:x="http://www.xes-standard.org/">
  <x:global scope="event"><x:string key="concept:name" value="GLOBAL"/><x:date key="time:timestamp" value="1970-01-01T00:00:00Z"/></x:global>
  <x:string key="concept:name" value="log name"/>
  <x:trace>
    <x:event>
      <x:string key="concept:name" value="first">
        <x:string key="concept:name" value="nested, ignored"/>
      </x:string>
      <x:date key="time:timestamp" value="2020-01-01T10:00:00.000+01:00"/>
      <x:unknown><x:string key="concept:name" value="ignored too"/></x:unknown>
    </x:event>
    <x:string key="concept:name" value="late-name"/>
    <x:event><x:string key="concept:name" value="second"/><x:date key="time:timestamp" value="2020-01-01T10:00:00.000Z"/></x:event>
  </x:trace>
</x:log>
)";
  const auto events = read_all(text, "ns.xes", {});
  REQUIRE(events.size() == 2);
  CHECK(events[0].case_id == "late-name");
  CHECK(events[0].activity == "first");
  CHECK(events[0].line == 6);
  CHECK(events[0].completed_at == utc("2020-01-01T09:00:00Z"));
  CHECK(events[1].activity == "second");

  // The default namespace of OpenXES files reads the same.
  std::string plain = text;
  for (std::string::size_type p; (p = plain.find("x:")) != std::string::npos;) plain.erase(p, 2);
  for (std::string::size_type p; (p = plain.find("xmlns:x=")) != std::string::npos;) plain.replace(p, 8, "xmlns=");
  const auto again = read_all(plain, "plain.xes", {});
  REQUIRE(again.size() == 2);
  CHECK(again[0].activity == "first");
  CHECK(again[1].case_id == "late-name");
}

TEST_CASE("errors: every CSV problem names the file and the line", "[eventlog]") {
  const std::string header = "case:concept:name,concept:name,time:timestamp,start_timestamp\n";
  const std::string good = "c1,a,2015-01-05 09:00:00+00:00,\n";
  const auto err = [&](const std::string& row) { return error_of(header + good + row, "t.csv"); };
  CHECK(err("c1,a,2015-01-05 09:00:00+00:00\n") == "t.csv: line 3: expected 4 fields, found 3");
  CHECK(err(",a,2015-01-05 09:00:00+00:00,\n") == "t.csv: line 3: empty case id in column 'case:concept:name'");
  CHECK(err("c1,,2015-01-05 09:00:00+00:00,\n") == "t.csv: line 3: empty activity in column 'concept:name'");
  CHECK(err("c1,a,,\n") == "t.csv: line 3: empty timestamp in column 'time:timestamp'");
  CHECK(err("c1,a,2015-02-30 09:00:00+00:00,\n") ==
        "t.csv: line 3: invalid timestamp in column 'time:timestamp': '2015-02-30 09:00:00+00:00'");
  CHECK(err("c1,a,2015-01-05 09:00:00+00:00,soon\n") ==
        "t.csv: line 3: invalid timestamp in column 'start_timestamp': 'soon'");
  CHECK(err("c1,a,2015-01-05 09:00:00+00:00,2015-01-05 10:00:00+00:00\n") ==
        "t.csv: line 3: start_timestamp '2015-01-05 10:00:00+00:00' is after time:timestamp "
        "'2015-01-05 09:00:00+00:00'");
  CHECK(err("c1,\"a\"x,2015-01-05 09:00:00+00:00,\n") ==
        "t.csv: line 3: unexpected character after the closing quote of field 2");
  CHECK(err("c1,\"a,2015-01-05 09:00:00+00:00,\nc2,b,2015-01-05 09:00:00+00:00,\n") ==
        "t.csv: line 3: unterminated quoted field");
  CHECK(err(std::string("c1,a,\x01\x02,\n")) ==
        "t.csv: line 3: invalid timestamp in column 'time:timestamp': '\?\?'");
  eventlog_options small;
  small.max_record_bytes = 80;
  CHECK(error_of(header + good + "c1," + std::string(80, 'x') + ",2015-01-05 09:00:00+00:00,\n",
                 "t.csv", small) == "t.csv: line 3: record longer than 80 bytes (an unterminated quote?)");
  small.skip_bad = true;   // not skippable: where the record ends is unknown
  CHECK(error_of(header + good + "c1," + std::string(80, 'x') + ",2015-01-05 09:00:00+00:00,\n",
                 "t.csv", small) == "t.csv: line 3: record longer than 80 bytes (an unterminated quote?)");
  // A stray quote: the reader stops at the bound instead of buffering the rest.
  std::string stray = header + good + "c1,\"a,2015-01-05 09:00:00+00:00,\n";
  while (stray.size() < 3 * (std::size_t{1} << 20)) stray += good;
  CHECK(error_of(stray, "t.csv") ==
        "t.csv: line 3: record longer than 1048576 bytes (an unterminated quote?)");
  CHECK(error_of("", "t.csv") == "t.csv: empty file: no header row");
  CHECK(error_of("\n\n", "t.csv") == "t.csv: empty file: no header row");
  CHECK(error_of(",,\n", "t.csv") ==
        "t.csv: line 1: no case id column 'case:concept:name'; columns found: (unnamed), "
        "(unnamed), (unnamed)");
  try {
    (void)scan_eventlog_text(header, "t.csv");
    FAIL("no exception");
  } catch (const eventlog_error& e) {
    CHECK(std::string(e.what()) == "t.csv: no events");
    CHECK(e.line() == 0);
    CHECK(e.source() == "t.csv");
  }
  try {
    (void)read_eventlog("/nonexistent/dir/log.csv", {}, [](const log_event&) {});
    FAIL("no exception");
  } catch (const eventlog_error& e) {
    CHECK(std::string(e.what()) == "/nonexistent/dir/log.csv: cannot open: No such file or directory");
  }
}

TEST_CASE("errors: every XES problem names the file and the line", "[eventlog]") {
  const auto xes = [](const std::string& events, const std::string& trace_name =
                                                     "<string key=\"concept:name\" value=\"t1\"/>") {
    return "<log>\n<trace>\n" + trace_name + "\n" + events + "</trace>\n</log>\n";
  };
  const std::string ts = "<date key=\"time:timestamp\" value=\"2020-01-01T10:00:00Z\"/>";
  const std::string name = "<string key=\"concept:name\" value=\"A\"/>";
  CHECK(error_of(xes("<event>" + ts + "</event>\n"), "t.xes") == "t.xes: line 4: event without 'concept:name'");
  CHECK(error_of(xes("<event>\n" + name + "</event>\n"), "t.xes") ==
        "t.xes: line 4: event without 'time:timestamp'");
  CHECK(error_of(xes("<event>" + name + "<date key=\"time:timestamp\" value=\"2020-01-01\"/></event>\n"
                     "<event>" + name + "<date key=\"time:timestamp\" value=\"noon\"/></event>\n"),
                 "t.xes") == "t.xes: line 5: invalid timestamp in 'time:timestamp': 'noon'");
  CHECK(error_of(xes("<event>" + name + ts +
                     "<date key=\"start_timestamp\" value=\"2020-01-01T11:00:00Z\"/></event>\n"),
                 "t.xes") ==
        "t.xes: line 4: start_timestamp '2020-01-01T11:00:00Z' is after time:timestamp "
        "'2020-01-01T10:00:00Z'");
  CHECK(error_of(xes("<event>" + name + ts + "</event>\n", ""), "t.xes") ==
        "t.xes: line 2: trace without 'concept:name' (holding 1 event)");
  CHECK(error_of(xes("", "<string key=\"concept:name\" value=\"\"/>"), "t.xes") ==
        "t.xes: line 2: trace with an empty 'concept:name'");
  CHECK(error_of(xes("<event>" + name + ts + "</evnt>\n"), "t.xes") == "t.xes: line 4: XML error: mismatched tag");
  CHECK(error_of("<?xml version=\"1.0\"?>\n<logs/>\n", "t.xes") ==
        "t.xes: line 2: the root element is <logs>, not <log>");
  CHECK(error_of("<log>\n<trace>", "t.xes") == "t.xes: line 2: XML error: no element found");
  CHECK(error_of("", "t.xes") == "t.xes: line 1: XML error: no element found");
}

TEST_CASE("skip_bad: malformed records are skipped and counted", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp\n"
      "c1,a,2020-01-01 10:00:00Z\n"
      "c1,b,not a time\n"
      "c1,c\n"
      ",d,2020-01-01 11:00:00Z\n"
      "c1,e,2020-01-01 12:00:00Z\n"
      "c2,\"open,2020-01-01 12:00:00Z\n";
  eventlog_options opt;
  opt.skip_bad = true;
  const auto r = import_text(text, "bad.csv", opt);
  CHECK(r.result.events == 2);
  CHECK(r.result.stats.skipped == 4);
  CHECK(r.result.stats.records == 5);
  REQUIRE(r.result.stats.skipped_examples.size() == 4);
  CHECK(r.result.stats.skipped_examples[0] == "line 3: invalid timestamp in column 'time:timestamp': 'not a time'");
  CHECK(r.result.stats.skipped_examples[1] == "line 4: expected 3 fields, found 2");
  CHECK(r.result.stats.skipped_examples[2] == "line 5: empty case id in column 'case:concept:name'");
  CHECK(r.result.stats.skipped_examples[3] == "line 7: unterminated quoted field");
  CHECK(transition(r.timing, "a", "e")->average_transition_time_ms == 2 * hour_ms);

  const std::string xes =
      "<log><trace><string key=\"concept:name\" value=\"t\"/>\n"
      "<event><string key=\"concept:name\" value=\"A\"/><date key=\"time:timestamp\" value=\"2020-01-01T10:00:00Z\"/></event>\n"
      "<event><string key=\"concept:name\" value=\"B\"/></event>\n"
      "<event><string key=\"concept:name\" value=\"C\"/><date key=\"time:timestamp\" value=\"2020-01-01T10:00:05Z\"/></event>\n"
      "</trace><trace><event><string key=\"concept:name\" value=\"D\"/><date key=\"time:timestamp\" value=\"2020-01-01T10:00:00Z\"/></event></trace></log>\n";
  const auto x = import_text(xes, "bad.xes", opt);
  CHECK(x.result.events == 2);
  CHECK(x.result.cases == 1);
  CHECK(x.result.stats.skipped == 2);
  CHECK(x.result.stats.skipped_examples ==
        std::vector<std::string>{"line 3: event without 'time:timestamp'",
                                 "line 5: trace without 'concept:name' (holding 1 event)"});
  CHECK(transition(x.timing, "A", "C")->average_transition_time_ms == 5000);

  // Everything bad: no events, which is an error of its own.
  try {
    (void)scan_eventlog_text("case:concept:name,concept:name,time:timestamp\nc,a,x\n", "all-bad.csv", opt);
    FAIL("no exception");
  } catch (const eventlog_error& e) {
    CHECK(std::string(e.what()) == "all-bad.csv: no events (1 malformed records skipped)");
  }
}

TEST_CASE("discovery: steps, edges, starts, ends, a valid discovered definition", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp\n"
      "1,register,2020-01-01 09:00:00Z\n"
      "1,check,2020-01-01 10:00:00Z\n"
      "1,decide,2020-01-01 11:00:00Z\n"
      "1,check,2020-01-01 12:00:00Z\n"   // rework
      "1,decide,2020-01-01 13:00:00Z\n"
      "1,pay,2020-01-01 14:00:00Z\n"
      "2,register,2020-01-02 09:00:00Z\n"
      "2,check,2020-01-02 09:30:00Z\n"
      "2,decide,2020-01-02 10:00:00Z\n"
      "3,check,2020-01-03 09:00:00Z\n"   // starts elsewhere
      "3,decide,2020-01-03 09:10:00Z\n"
      "3,reject,2020-01-03 09:20:00Z\n";
  const auto r = import_text(text, "disc.csv");
  const workflow_definition& w = r.result.workflow;
  CHECK(w.id == "disc");
  CHECK(w.name == "disc");
  CHECK(w.description == "Discovered from disc.csv: 3 cases, 12 events, 5 activities");
  CHECK(w.discovered);
  std::vector<std::string> ids;
  for (const auto& s : w.steps) {
    ids.push_back(s.id);
    CHECK(s.name == s.id);
    CHECK(s.type == step_type::action);
  }
  CHECK(ids == std::vector<std::string>{"register", "check", "decide", "pay", "reject"});
  CHECK(w.start_steps == std::vector<std::string>{"register", "check"});
  CHECK(r.result.end_steps == std::vector<std::string>{"decide", "pay", "reject"});
  std::vector<std::string> edges;
  for (const auto& e : w.edges) edges.push_back(e.from + ">" + e.to);
  // By source in step order, the most frequent successor first.
  CHECK(edges == std::vector<std::string>{"register>check", "check>decide", "decide>check",
                                          "decide>pay", "decide>reject"});
  CHECK_NOTHROW(validate_definition(w, "disc.csv"));
  // The monitor saw exactly these transitions.
  CHECK(r.snap.transitions.size() == w.edges.size());
  CHECK(transition(r.timing, "check", "decide")->count == 4);
  CHECK(transition(r.timing, "decide", "check")->rework);
  CHECK(r.timing.rework_transitions == 1);
  // Every case completed at its last event.
  CHECK(r.snap.instances.total_instances == 3);
  CHECK(r.snap.instances.completed_instances == 3);
  CHECK(r.snap.instances.open_instances == 0);
  REQUIRE(r.snap.instances.terminal_status_counts.size() == 1);
  CHECK(r.snap.instances.terminal_status_counts[0].terminal_status == "COMPLETED");
  CHECK(r.snap.instances.terminal_status_counts[0].count == 3);
  const auto c1 = r.monitor->instance("disc", "1");
  REQUIRE(c1);
  CHECK(c1->completed);
  CHECK(c1->terminal_status == "COMPLETED");
  CHECK(r.result.case_durations.cases == 3);
  CHECK(r.result.case_durations.min == std::chrono::minutes(20));
  CHECK(r.result.case_durations.p50 == std::chrono::hours(1));
  CHECK(r.result.case_durations.p90 == std::chrono::hours(5));
  CHECK(r.result.case_durations.max == std::chrono::hours(5));
  CHECK(r.result.case_durations.mean_ms() == (20 + 60 + 300) * 60'000.0 / 3);
}

TEST_CASE("replay: the monitor must have room and must not know the workflow", "[eventlog]") {
  const std::string text =
      "case:concept:name,concept:name,time:timestamp\n"
      "a,x,2020-01-01 09:00:00Z\n"
      "b,x,2020-01-01 09:00:00Z\n"
      "c,x,2020-01-01 09:00:00Z\n"
      "a,y,2020-01-01 10:00:00Z\n"
      "b,y,2020-01-01 10:00:00Z\n"
      "c,y,2020-01-01 10:00:00Z\n";
  const eventlog_scan scan = scan_eventlog_text(text, "room.csv");
  CHECK(scan.cases() == 3);
  CHECK(scan.events() == 6);
  CHECK(scan.max_open_cases() == 3);
  CHECK(scan.unordered_cases() == 0);
  CHECK(scan.activities() == std::vector<std::string>{"x", "y"});
  monitor_options small;
  small.max_open_instances = 2;
  performance_monitor m(small);
  CHECK_THROWS_AS(replay_eventlog(scan, m), std::invalid_argument);
  CHECK_FALSE(m.has_workflow("room"));

  performance_monitor big;
  const auto r = replay_eventlog(scan, big, "history");
  CHECK(r.workflow.id == "history");
  CHECK(big.snapshot("history")->instances.completed_instances == 3);
  CHECK_THROWS_AS(replay_eventlog(scan, big, "history"), std::invalid_argument);
  // A second replay of the same scan into another monitor gives the same snapshot.
  performance_monitor again;
  (void)replay_eventlog(scan, again, "history");
  CHECK(*again.snapshot("history") == *big.snapshot("history"));
}

TEST_CASE("replay: a file that changed since the scan is an error", "[eventlog]") {
  const auto path = std::filesystem::temp_directory_path() / "civicperf-eventlog-changed.csv";
  const auto write = [&](const std::string& text) { std::ofstream(path, std::ios::binary) << text; };
  write("case:concept:name,concept:name,time:timestamp\na,x,2020-01-01 09:00:00Z\n");
  const eventlog_scan scan = scan_eventlog(path.string());
  write("case:concept:name,concept:name,time:timestamp\nb,x,2020-01-01 09:00:00Z\n");
  performance_monitor m;
  try {
    (void)replay_eventlog(scan, m);
    FAIL("no exception");
  } catch (const eventlog_error& e) {
    CHECK(std::string(e.what()) == path.string() + ": line 2: the file changed since it was scanned");
  }
  std::filesystem::remove(path);
}

TEST_CASE("progress: both passes report, the last call covers the whole file", "[eventlog]") {
  std::string text = "case:concept:name,concept:name,time:timestamp\n";
  for (int i = 0; i < 100; ++i) text += "c" + std::to_string(i % 7) + ",a,2020-01-01 09:00:00Z\n";
  std::vector<eventlog_progress> calls;
  eventlog_options opt;
  opt.progress_every = 30;
  opt.progress = [&](const eventlog_progress& p) { calls.push_back(p); };
  const eventlog_scan scan = scan_eventlog_text(text, "p.csv", opt);
  performance_monitor m;
  (void)replay_eventlog(scan, m, {}, opt.progress);
  // 30, 60, 90 and the end, twice.
  REQUIRE(calls.size() == 8);
  CHECK(calls[0].pass == 1);
  CHECK(calls[0].records == 30);
  CHECK(calls[3].records == 100);
  CHECK(calls[3].bytes_read == text.size());
  CHECK(calls[3].bytes_total == text.size());
  CHECK(calls[4].pass == 2);
  CHECK(calls[7].records == 100);
}

TEST_CASE("formats: detected by extension, else by content", "[eventlog]") {
  const std::string csv = "case:concept:name,concept:name,time:timestamp\nc,a,2020-01-01 09:00:00Z\n";
  const std::string xes =
      "\n  <log><trace><string key=\"concept:name\" value=\"c\"/><event><string key=\"concept:name\" "
      "value=\"a\"/><date key=\"time:timestamp\" value=\"2020-01-01T09:00:00Z\"/></event></trace></log>";
  eventlog_read_stats s;
  CHECK(read_all(csv, "history.log", {}, &s).size() == 1);
  CHECK(s.format == eventlog_format::csv);
  CHECK(read_all(xes, "history.log", {}, &s).size() == 1);
  CHECK(s.format == eventlog_format::xes);
  CHECK(read_all(xes, "history.XML", {}, &s).size() == 1);
  CHECK(s.format == eventlog_format::xes);
  eventlog_options forced;
  forced.format = eventlog_format::csv;
  CHECK(error_of(xes, "history.log", forced).starts_with("history.log: line 2: no case id column"));
  CHECK(to_string(eventlog_format::xes) == "xes");
}

TEST_CASE("an import's default workflow id is the file name without extension", "[eventlog]") {
  CHECK(civicperf::default_workflow_id("tests/data/eventlogs/receipt.csv") == "receipt");
  CHECK(civicperf::default_workflow_id("C:\\logs\\orders.v2.xes") == "orders.v2");
  CHECK(civicperf::default_workflow_id("plain") == "plain");
  CHECK(civicperf::default_workflow_id(".hidden") == ".hidden");
  CHECK(civicperf::default_workflow_id("dir/") == "eventlog");
}
