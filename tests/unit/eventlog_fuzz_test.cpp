// Never a crash: truncated and garbled versions of the real logs, and random
// bytes, must either import or throw eventlog_error — with and without
// skip_bad — and whatever imports must analyse and serialise.

#include "civicperf/eventlog.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "civicperf/analyzer.hpp"
#include "civicperf/json.hpp"
#include "civicperf/monitor.hpp"

using namespace civicperf;

namespace {

std::string load(const std::string& file, std::size_t max_bytes) {
  std::ifstream in(std::string(CIVICPERF_TEST_DATA_DIR) + "/eventlogs/" + file, std::ios::binary);
  REQUIRE(in);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) text.resize(max_bytes);
  return text;
}

struct outcome {
  int imported = 0;
  int rejected = 0;
};

// One variant: import (scan + replay), analyse and serialise, or an eventlog_error.
void attempt(const std::string& text, const std::string& name, bool skip_bad, outcome& out) {
  eventlog_options opt;
  opt.skip_bad = skip_bad;
  opt.max_record_bytes = 64 * 1024;
  try {
    const eventlog_scan scan = scan_eventlog_text(text, name, opt);
    performance_monitor monitor;
    const eventlog_import imp = replay_eventlog(scan, monitor);
    const workflow_snapshot snap = *monitor.snapshot(imp.workflow.id);
    boost::json::object doc;
    doc["workflow"] = boost::json::value_from(imp.workflow);
    doc["performance"] = boost::json::value_from(analyze_workflow(snap, imp.workflow));
    doc["bottlenecks"] = boost::json::value_from(analyze_bottlenecks(snap, imp.workflow, 5000, 10));
    doc["timing"] = boost::json::value_from(analyze_timing(snap, imp.workflow, 5000));
    CHECK_FALSE(to_json_text(doc).empty());
    CHECK(imp.events == scan.events());
    CHECK(snap.instances.completed_instances == scan.cases());
    ++out.imported;
  } catch (const eventlog_error& e) {
    CHECK(std::string(e.what()).starts_with(name + ": "));
    ++out.rejected;
  }
  // Any other exception escapes and fails the test case.
}

std::string mutate(std::string text, std::mt19937_64& rng) {
  static constexpr char specials[] = {'"', ',', '\n', '\r', '<', '>', '&', '/', '=', '\'', ';',
                                      '-', ':', '+', '.', 'T', ' ', '\0', '\x80', '\xff'};
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % std::max<std::size_t>(n, 1)); };
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int k = 0; k < edits && !text.empty(); ++k) {
    const std::size_t at = pick(text.size());
    switch (rng() % 6) {
      case 0: text[at] = specials[pick(sizeof specials)]; break;                        // replace
      case 1: text.insert(at, 1, specials[pick(sizeof specials)]); break;               // insert
      case 2: text.erase(at, 1 + pick(64)); break;                                      // delete
      case 3: text.insert(at, text.substr(pick(text.size()), 1 + pick(200))); break;    // duplicate
      case 4: text[at] = static_cast<char>(rng()); break;                               // any byte
      default:                                                                          // digit
        if (std::isdigit(static_cast<unsigned char>(text[at]))) text[at] = static_cast<char>('0' + rng() % 10);
        break;
    }
  }
  return text;
}

void fuzz_file(const std::string& file, std::size_t max_bytes, int garbled, std::uint64_t seed) {
  const std::string original = load(file, max_bytes);
  std::mt19937_64 rng(seed);
  outcome out;
  // Truncations: near the start (header, declaration), then spread out.
  for (std::size_t cut : {0, 1, 5, 17, 40, 41, 80, 200, 333}) {
    if (cut >= original.size()) continue;
    for (bool skip : {false, true}) attempt(original.substr(0, cut), file, skip, out);
  }
  for (int i = 1; i <= 24; ++i) {
    const std::size_t cut = original.size() * static_cast<std::size_t>(i) / 25 + rng() % 97;
    for (bool skip : {false, true}) attempt(original.substr(0, std::min(cut, original.size())), file, skip, out);
  }
  for (int i = 0; i < garbled; ++i) {
    const std::string variant = mutate(original, rng);
    for (bool skip : {false, true}) attempt(variant, file, skip, out);
  }
  INFO(file << ": " << out.imported << " imported, " << out.rejected << " rejected");
  CHECK(out.rejected > 0);
  // A cut XML document is never well formed; a cut CSV file still has rows.
  const bool whole = original.size() < max_bytes;
  if (whole || file.ends_with(".csv")) CHECK(out.imported > 0);
}

}  // namespace

TEST_CASE("fuzz: truncated and garbled CSV logs import or throw eventlog_error", "[eventlog][fuzz]") {
  fuzz_file("running-example.csv", 1 << 20, 150, 1);
  fuzz_file("roadtraffic100traces.csv", 1 << 20, 60, 2);
  fuzz_file("interval_event_log.csv", 120'000, 40, 3);
  fuzz_file("receipt.csv", 150'000, 40, 4);
}

TEST_CASE("fuzz: truncated and garbled XES logs import or throw eventlog_error", "[eventlog][fuzz]") {
  fuzz_file("running-example.xes", 1 << 20, 150, 5);
  fuzz_file("roadtraffic100traces.xes", 1 << 20, 40, 6);
  fuzz_file("interval_event_log.xes", 150'000, 30, 7);
  fuzz_file("receipt.xes", 250'000, 30, 8);
}

TEST_CASE("fuzz: random bytes import or throw eventlog_error", "[eventlog][fuzz]") {
  std::mt19937_64 rng(42);
  outcome out;
  for (int i = 0; i < 200; ++i) {
    std::string text(static_cast<std::size_t>(rng() % 2048), '\0');
    for (auto& c : text) c = static_cast<char>(rng());
    if (i % 4 == 1) text = "case:concept:name,concept:name,time:timestamp\n" + text;
    if (i % 4 == 2) text = "<log><trace>" + text;
    for (const char* name : {"random.csv", "random.xes", "random.bin"})
      for (bool skip : {false, true}) attempt(text, name, skip, out);
  }
  CHECK(out.rejected > 0);
  // A valid header followed by well-formed random rows imports.
  std::string rows = "case:concept:name,concept:name,time:timestamp,start_timestamp\n";
  for (int i = 0; i < 500; ++i) {
    const auto day = 1 + rng() % 28;
    const auto hour = rng() % 24;
    rows += "c" + std::to_string(rng() % 37) + ",a" + std::to_string(rng() % 9) + ",2020-02-" +
            (day < 10 ? "0" : "") + std::to_string(day) + " " + (hour < 10 ? "0" : "") +
            std::to_string(hour) + ":00:00+01:00,\n";
  }
  const int before = out.imported;
  attempt(rows, "rows.csv", false, out);
  CHECK(out.imported == before + 1);
}
