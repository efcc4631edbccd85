// POST /events: parsing and validating a 1000-event body (what the server does
// before recording), and the whole ingestion including record_batch.

#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <string>

#include <fmt/format.h>

#include "bench_support.hpp"
#include "events_parser.hpp"

namespace {

using namespace civicperf;

// 1000 events: 100 cases through the first ten steps of citizen registration.
std::string thousand_event_body() {
  static const char* steps[] = {"validate_identity", "identity_check", "check_duplicates",
                                "duplicate_check",   "age_verification", "adult_approval",
                                "process_approval",  "approval_check",   "create_account",
                                "send_welcome"};
  std::string body = R"({"events":[)";
  for (int c = 0; c < 100; ++c) {
    for (int s = 0; s < 10; ++s) {
      const int t = c * 60 + s * 5;
      if (c + s > 0) body += ',';
      body += fmt::format(
          R"({{"workflow_id":"citizen_registration_v1","instance_id":"case-{:05}","step_id":"{}",)"
          R"("status":"completed","queued_at":"2026-03-01T09:{:02}:{:02}.000Z",)"
          R"("started_at":"2026-03-01T09:{:02}:{:02}.250Z","completed_at":"2026-03-01T09:{:02}:{:02}.900Z",)"
          R"("validation_duration_ms":3.5,"retry_count":0,"execution_environment":"production"}})",
          c, steps[s], t / 60 % 60, t % 60, t / 60 % 60, t % 60, t / 60 % 60, t % 60);
    }
  }
  body += "]}";
  return body;
}

void BM_ingest_parse(benchmark::State& state) {
  step_registry registry;
  for (const auto& def : example_workflows()) registry.add_workflow(def);
  const std::string body = thousand_event_body();
  for (auto _ : state) {
    const boost::json::value v = boost::json::parse(body);
    auto outcome = server::parse_event_batch(v.as_object(), registry, 10'000);
    benchmark::DoNotOptimize(outcome);
    if (!std::holds_alternative<server::event_batch>(outcome)) state.SkipWithError("batch rejected");
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_ingest_parse)->Unit(benchmark::kMicrosecond);

void BM_ingest_parse_and_record(benchmark::State& state) {
  step_registry registry;
  performance_monitor monitor;
  for (const auto& def : example_workflows()) {
    registry.add_workflow(def);
    monitor.add_workflow(def);
  }
  const std::string body = thousand_event_body();
  for (auto _ : state) {
    const boost::json::value v = boost::json::parse(body);
    auto outcome = server::parse_event_batch(v.as_object(), registry, 10'000);
    benchmark::DoNotOptimize(monitor.record_batch(std::get<server::event_batch>(outcome).events));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ingest_parse_and_record)->Unit(benchmark::kMicrosecond);

}  // namespace
