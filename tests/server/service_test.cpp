// Every endpoint and every error class of the API, through service::handle()
// (no sockets). Expected bodies are written out by hand.

#include "service.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace civicperf;
using namespace civicperf::server;
using civicperf::server::test::body_json;
using civicperf::server::test::detail_of;
using civicperf::server::test::service_fixture;

namespace {

const std::string base = "/api/v1/performance";

std::string header(const http_response& res, std::string_view name) {
  for (const auto& [k, v] : res.headers)
    if (k == name) return v;
  return {};
}

std::int64_t total_executions(service_fixture& f) {
  return body_json(f.get(base + "/health")).at("total_tracked_executions").as_int64();
}

}  // namespace

TEST_CASE("GET /workflows lists the example workflows", "[service]") {
  service_fixture f;
  const auto res = f.get(base + "/workflows");
  REQUIRE(res.status == 200);
  CHECK(res.content_type == "application/json");
  const auto jv = body_json(res);
  const auto& items = jv.at("workflows").as_array();
  REQUIRE(items.size() == 4);
  std::vector<std::pair<std::string, std::int64_t>> ids;
  for (const auto& w : items)
    ids.emplace_back(std::string(w.at("workflow_id").as_string()), w.at("step_count").as_int64());
  CHECK(ids == std::vector<std::pair<std::string, std::int64_t>>{{"business_license_v1", 25},
                                                                 {"citizen_registration_v1", 17},
                                                                 {"complaint_handling_v1", 21},
                                                                 {"permit_renewal_v1", 23}});
  CHECK(items[1] == boost::json::parse(
                        R"({"workflow_id":"citizen_registration_v1","name":"Citizen Registration",)"
                        R"("description":"Complete workflow for registering new citizens with age-based routing",)"
                        R"("step_count":17})"));
}

TEST_CASE("GET /steps lists steps with their wire type, optionally per workflow", "[service]") {
  service_fixture f;
  const auto all = body_json(f.get(base + "/steps"));
  CHECK(all.at("steps").as_array().size() == 25 + 17 + 21 + 23);

  const auto res = f.get(base + "/steps?workflow_id=citizen_registration_v1");
  REQUIRE(res.status == 200);
  const auto jv = body_json(res);
  const auto& steps = jv.at("steps").as_array();
  REQUIRE(steps.size() == 17);
  CHECK(steps[0] == boost::json::parse(R"({"step_id":"validate_identity","name":"Validate Identity",)"
                                       R"("type":"ActionStep","workflow_id":"citizen_registration_v1"})"));
  std::map<std::string, std::string> types;
  for (const auto& s : steps)
    types[std::string(s.at("step_id").as_string())] = std::string(s.at("type").as_string());
  CHECK(types["identity_check"] == "ConditionalStep");
  CHECK(types["adult_approval"] == "ApprovalStep");
  CHECK(types["blockchain_record"] == "IntegrationStep");
  CHECK(types["registration_success"] == "TerminalStep");

  CHECK(f.get(base + "/steps?workflow_id=nope").status == 404);
  CHECK(detail_of(f.get(base + "/steps?workflow_id=nope")) == "Workflow 'nope' not found");
  CHECK(f.get(base + "/steps?workflow_id=").status == 422);
  CHECK(f.get(base + "/steps?workflow=citizen_registration_v1").status == 422);
}

TEST_CASE("GET /steps/{id}/metrics: zeros without data, 404 unknown, 409 ambiguous", "[service]") {
  service_fixture f;
  const auto res = f.get(base + "/steps/validate_identity/metrics");
  REQUIRE(res.status == 200);
  CHECK(res.body ==
        R"({"step_id":"validate_identity","workflow_id":"citizen_registration_v1",)"
        R"("step_name":"Validate Identity","total_executions":0,"successful_executions":0,)"
        R"("failed_executions":0,"pending_executions":0,"success_rate":0,"average_duration_ms":0,)"
        R"("min_duration_ms":0,"max_duration_ms":0,"p50_duration_ms":0,"p90_duration_ms":0,)"
        R"("p95_duration_ms":0,"p99_duration_ms":0,"average_queue_time_ms":0,)"
        R"("average_validation_time_ms":0,"average_memory_usage_mb":0,"max_memory_usage_mb":0,)"
        R"("total_retries":0,"common_errors":[],"bottleneck_indicators":{)"
        R"("approval_bottleneck_percentage":0,"external_service_bottleneck_percentage":0,)"
        R"("long_queue_time_percentage":0,"suggested_optimizations":[]}})");

  const auto unknown = f.get(base + "/steps/no_such_step/metrics");
  CHECK(unknown.status == 404);
  CHECK(detail_of(unknown) == "Step 'no_such_step' not found");

  const auto ambiguous = f.get(base + "/steps/process_payment/metrics");
  CHECK(ambiguous.status == 409);
  CHECK(ambiguous.body ==
        R"({"detail":"Step id 'process_payment' is ambiguous: it exists in workflows )"
        R"(business_license_v1, permit_renewal_v1; add workflow_id to choose one",)"
        R"("candidates":["business_license_v1","permit_renewal_v1"]})");

  const auto chosen = f.get(base + "/steps/process_payment/metrics?workflow_id=permit_renewal_v1");
  CHECK(chosen.status == 200);
  CHECK(body_json(chosen).at("workflow_id") == "permit_renewal_v1");

  CHECK(f.get(base + "/steps/process_payment/metrics?workflow_id=nope").status == 404);
  const auto wrong_wf =
      f.get(base + "/steps/validate_identity/metrics?workflow_id=permit_renewal_v1");
  CHECK(wrong_wf.status == 404);
  CHECK(detail_of(wrong_wf) == "Step 'validate_identity' not found in workflow 'permit_renewal_v1'");
  CHECK(f.get(base + "/steps/validate_identity/metrics?x=1").status == 422);
}

TEST_CASE("POST /steps/validate validates only, with a timestamp", "[service]") {
  service_fixture f;
  const auto res = f.post(base + "/steps/validate",
                          R"({"step_id":"validate_identity","inputs":{"first_name":"John",)"
                          R"("last_name":"Doe"},"dry_run":true})");
  REQUIRE(res.status == 200);
  CHECK(res.body == R"({"step_id":"validate_identity","validation_result":{"is_valid":false,)"
                    R"("errors":["Missing required input: id_number","Missing required input: id_document"]},)"
                    R"("timestamp":"2025-07-01T08:00:00.000Z"})");
  const auto email = f.post(base + "/steps/validate",
                            R"({"step_id":"check_duplicates","inputs":{"email":"invalid-email","id_number":"1"}})");
  CHECK(body_json(email).at("validation_result") ==
        boost::json::parse(R"({"is_valid":false,"errors":["Invalid email format"]})"));
  CHECK(total_executions(f) == 0);

  CHECK(f.post(base + "/steps/validate", R"({"inputs":{}})").status == 422);
  CHECK(detail_of(f.post(base + "/steps/validate", R"({"inputs":{}})")) == "step_id: missing");
  CHECK(detail_of(f.post(base + "/steps/validate", R"({"step_id":"validate_identity","inputs":[]})")) ==
        "inputs: expected an object, not an array");
  CHECK(f.post(base + "/steps/validate", R"({"step_id":"process_payment"})").status == 409);
  CHECK(f.post(base + "/steps/validate", R"({"step_id":"nope"})").status == 404);
}

TEST_CASE("POST /steps/execute: user_id required, dry run records nothing", "[service]") {
  service_fixture f;
  const std::string body =
      R"({"step_id":"validate_identity","inputs":{"first_name":"John","last_name":"Doe",)"
      R"("id_number":"123456789","id_document":"passport"},"context":{},"dry_run":false,"environment":"manual"})";

  const auto no_user = f.post(base + "/steps/execute", body);
  CHECK(no_user.status == 422);
  CHECK(detail_of(no_user) == "Query parameter 'user_id' is required");
  CHECK(f.post(base + "/steps/execute?user_id=", body).status == 422);

  const auto dry = f.post(base + "/steps/execute?user_id=admin",
                          R"({"step_id":"validate_identity","inputs":{"first_name":"John"},"dry_run":true})");
  REQUIRE(dry.status == 200);
  CHECK(dry.body == R"({"step_id":"validate_identity","validation_result":{"is_valid":false,)"
                    R"("errors":["Missing required input: last_name","Missing required input: id_number",)"
                    R"("Missing required input: id_document"]},"dry_run":true})");
  CHECK(total_executions(f) == 0);

  const auto run = f.post(base + "/steps/execute?user_id=admin", body);
  REQUIRE(run.status == 200);
  const auto jv = body_json(run);
  CHECK(jv.at("step_id") == "validate_identity");
  CHECK(jv.at("dry_run") == false);
  const auto& r = jv.at("execution_result");
  CHECK(r.at("step_id") == "validate_identity");
  CHECK(r.at("workflow_id") == "citizen_registration_v1");
  CHECK(r.at("status") == "completed");
  CHECK(r.at("executed_by") == "admin");
  CHECK(r.at("execution_environment") == "manual");
  CHECK(r.at("instance_id").is_null());
  // The manual clock does not move: every duration is exactly zero.
  CHECK(r.at("started_at") == "2025-07-01T08:00:00.000Z");
  CHECK(r.at("execution_duration_ms") == 0);
  CHECK(r.at("queue_time_ms") == 0);
  CHECK(total_executions(f) == 1);

  // A validation failure is a failed execution, recorded.
  const auto failed = f.post(base + "/steps/execute?user_id=admin",
                             R"({"step_id":"validate_identity","inputs":{"first_name":"John",)"
                             R"("last_name":"Doe","id_number":"1"}})");
  REQUIRE(failed.status == 200);
  CHECK(body_json(failed).at("execution_result").at("status") == "failed");
  CHECK(body_json(failed).at("execution_result").at("error") ==
        "Validation failed: Missing required input: id_document");
  CHECK(total_executions(f) == 2);

  // With an instance and a non-manual environment the execution joins a case.
  const auto in_case = f.post(base + "/steps/execute?user_id=engine",
                              R"({"step_id":"validate_identity","workflow_id":"citizen_registration_v1",)"
                              R"("environment":"production","instance_id":"case-9","inputs":{}})");
  REQUIRE(in_case.status == 200);
  CHECK(body_json(in_case).at("execution_result").at("instance_id") == "case-9");
  CHECK(body_json(f.get(base + "/health")).at("open_instances") == 1);

  CHECK(f.post(base + "/steps/execute?user_id=a", R"({"step_id":"process_payment"})").status == 409);
  CHECK(f.post(base + "/steps/execute?user_id=a", R"({"step_id":"nope"})").status == 404);
  CHECK(f.post(base + "/steps/execute?user_id=a", R"({"step_id":"validate_identity","dry_run":"yes"})")
            .status == 422);
  CHECK(detail_of(f.post(base + "/steps/execute?user_id=a",
                         R"({"step_id":"validate_identity","colour":"red"})")) ==
        "colour: unknown field (expected step_id, inputs, context, dry_run, workflow_id, "
        "environment, instance_id)");
  CHECK(f.post(base + "/steps/execute?user_id=a&x=1", body).status == 422);
  CHECK(total_executions(f) == 3);   // none of the refused requests recorded anything
}

TEST_CASE("POST /steps/execute runs the example handlers when registered", "[service]") {
  service_fixture f({}, /*example_handlers=*/true);
  const auto res = f.post(base + "/steps/execute?user_id=admin",
                          R"({"step_id":"validate_identity","inputs":{"first_name":"John",)"
                          R"("last_name":"Doe","id_number":"123456789","id_document":"passport"}})");
  REQUIRE(res.status == 200);
  const auto jv = body_json(res);
  const auto& outputs = jv.at("execution_result").at("outputs");
  CHECK(outputs.at("identity_verified") == true);
}

TEST_CASE("workflow reports answer zeros without data and 404 for unknown workflows", "[service]") {
  service_fixture f;
  const auto perf = f.get(base + "/workflows/citizen_registration_v1/performance");
  REQUIRE(perf.status == 200);
  CHECK(perf.body == R"({"workflow_id":"citizen_registration_v1","total_instances":0,)"
                     R"("completed_instances":0,"completion_rate":0,"average_completion_time_ms":0,)"
                     R"("terminal_status_counts":{},"step_metrics":[],"bottleneck_analysis":{)"
                     R"("total_steps":17,"steps_with_data":0,"average_step_success_rate":0,)"
                     R"("slowest_step":null,"most_error_prone_step":null},"optimization_suggestions":[]})");

  const auto bottlenecks = f.get(base + "/workflows/citizen_registration_v1/bottlenecks");
  REQUIRE(bottlenecks.status == 200);
  CHECK(bottlenecks.body == R"({"workflow_id":"citizen_registration_v1","threshold_ms":5000,)"
                            R"("min_executions":10,"critical_path_steps":[],"critical_path_time_ms":0,)"
                            R"("slowest_steps":[],"approval_bottlenecks":[],)"
                            R"("external_service_bottlenecks":[],"queue_bottlenecks":[],"recommendations":[]})");

  const auto timing = f.get(base + "/workflows/citizen_registration_v1/timing-analysis");
  REQUIRE(timing.status == 200);
  CHECK(timing.body == R"({"workflow_id":"citizen_registration_v1","instance_id":null,"threshold_ms":5000,)"
                       R"("step_transitions":[],"bottleneck_transitions":[],"completed_instances":0,)"
                       R"("total_average_completion_time_ms":0,"citizen_active_time_ms":0,)"
                       R"("citizen_waiting_time_ms":0,"rework_transitions":0})");

  for (const char* suffix : {"/performance", "/bottlenecks", "/timing-analysis"}) {
    const auto res = f.get(base + "/workflows/nope" + suffix);
    CHECK(res.status == 404);
    CHECK(detail_of(res) == "Workflow 'nope' not found");
  }
  const auto no_case =
      f.get(base + "/workflows/citizen_registration_v1/timing-analysis?instance_id=ghost");
  CHECK(no_case.status == 404);
  CHECK(detail_of(no_case) == "Instance 'ghost' not found in workflow 'citizen_registration_v1' "
                              "(only open and recently completed cases are kept)");
}

TEST_CASE("bad query parameters are 422 with the parameter named", "[service]") {
  service_fixture f;
  const std::string b = base + "/workflows/citizen_registration_v1/bottlenecks";
  CHECK(detail_of(f.get(b + "?threshold_ms=abc")) ==
        "Query parameter 'threshold_ms' must be a non-negative number, not 'abc'");
  CHECK(detail_of(f.get(b + "?min_executions=-1")) ==
        "Query parameter 'min_executions' must be a non-negative integer, not '-1'");
  CHECK(f.get(b + "?min_executions=1.5").status == 422);
  CHECK(f.get(b + "?threshold_ms=-5").status == 422);
  CHECK(detail_of(f.get(b + "?treshold_ms=5")) ==
        "Unknown query parameter 'treshold_ms' (expected threshold_ms, min_executions)");
  CHECK(f.get(b + "?threshold_ms=1&threshold_ms=2").status == 422);
  CHECK(body_json(f.get(b + "?threshold_ms=1000&min_executions=0")).at("threshold_ms") == 1000);
  const std::string t = base + "/workflows/citizen_registration_v1/timing-analysis";
  CHECK(f.get(t + "?threshold_ms=abc").status == 422);
  CHECK(f.get(t + "?instance_id=").status == 422);
  CHECK(f.get(t + "?threshold_ms=250").status == 200);
  CHECK(f.get(base + "/health?verbose=1").status == 422);
  CHECK(f.get(base + "/workflows?x=%zz").status == 422);
}

TEST_CASE("GET /health counts steps with data and executions", "[service]") {
  service_fixture f;
  const auto res = f.get(base + "/health");
  REQUIRE(res.status == 200);
  CHECK(res.body == R"({"status":"healthy","service":"performance_monitoring",)"
                    R"("executor_metrics_count":0,"total_tracked_executions":0,"open_instances":0})");
}

TEST_CASE("unknown routes are 404, wrong methods 405 with Allow", "[service]") {
  service_fixture f;
  for (const std::string& target : std::vector<std::string>{
           "/", "/api/v1/performanceX/health", "/api/v1/performance", base + "/nope",
           base + "/steps/x", base + "/workflows/a/b", base + "/health/extra"}) {
    INFO(target);
    const auto res = f.get(target);
    CHECK(res.status == 404);
    CHECK(detail_of(res) == "Not Found");
  }
  const auto del = f.call(http_method::delete_, base + "/health");
  CHECK(del.status == 405);
  CHECK(header(del, "Allow") == "GET, HEAD");
  CHECK(detail_of(del) == "Method Not Allowed");
  const auto get_post = f.get(base + "/events");
  CHECK(get_post.status == 405);
  CHECK(header(get_post, "Allow") == "POST");
  CHECK(header(f.get(base + "/steps/execute"), "Allow") == "POST");
  CHECK(f.call(http_method::post, base + "/workflows").status == 405);
  CHECK(f.call(http_method::head, base + "/health").status == 200);
  CHECK(f.call(http_method::options, base + "/health").status == 405);
}

TEST_CASE("POST /events: malformed JSON, depth, batch size, nothing recorded", "[service]") {
  service_config cfg;
  cfg.max_batch_events = 2;
  service_fixture f(cfg);
  const std::string ev = R"({"workflow_id":"citizen_registration_v1","instance_id":"c",)"
                         R"("step_id":"validate_identity","status":"completed","started_at":"2025-07-01T08:00:00Z"})";

  CHECK(detail_of(f.post(base + "/events", "")) == "Request body is empty: expected a JSON object");
  CHECK(detail_of(f.post(base + "/events", R"({"events": [)")) ==
        "Malformed JSON at byte 12: incomplete JSON");
  CHECK(f.post(base + "/events", R"({"events": [1,}")").status == 422);
  CHECK(detail_of(f.post(base + "/events", "[]")) == "Request body must be a JSON object, not an array");
  std::string deep = R"({"events":[{"outputs":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}]}";
  CHECK(detail_of(f.post(base + "/events", deep)) == "Malformed JSON: nested deeper than 32 levels");

  const auto big = f.post(base + "/events", "{\"events\":[" + ev + "," + ev + "," + ev + "]}");
  CHECK(big.status == 413);
  CHECK(detail_of(big) == "Too many events in one batch: 3 (at most 2)");

  // One bad event spoils the batch: the good one before it is not recorded.
  const auto bad = f.post(base + "/events", "{\"events\":[" + ev + R"(,{"workflow_id":"x"}]})");
  CHECK(bad.status == 422);
  CHECK(detail_of(bad) == "events[1].workflow_id: unknown workflow 'x'");
  CHECK(total_executions(f) == 0);

  const auto ok = f.post(base + "/events", "{\"events\":[" + ev + "]}");
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"accepted":1})");
  CHECK(total_executions(f) == 1);
}

TEST_CASE("with a token every POST needs Authorization: Bearer", "[service]") {
  service_config cfg;
  cfg.token = "s3cret-token";
  service_fixture f(cfg);
  const std::string body = R"({"step_id":"validate_identity","inputs":{}})";

  const auto none = f.post(base + "/steps/validate", body);
  CHECK(none.status == 401);
  CHECK(header(none, "WWW-Authenticate") == "Bearer");
  CHECK(detail_of(none) == "Not authenticated: send Authorization: Bearer <token>");
  const auto wrong = f.post(base + "/steps/validate", body, "Bearer s3cret-tokeN");
  CHECK(wrong.status == 401);
  CHECK(detail_of(wrong) == "Invalid token");
  CHECK(f.post(base + "/steps/validate", body, "Bearer s3cret-token-and-more").status == 401);
  CHECK(f.post(base + "/steps/validate", body, "Basic s3cret-token").status == 401);
  CHECK(f.post(base + "/events", R"({"events":[]})").status == 401);

  CHECK(f.post(base + "/steps/validate", body, "Bearer s3cret-token").status == 200);
  CHECK(f.post(base + "/steps/validate", body, "bearer s3cret-token").status == 200);
  CHECK(f.get(base + "/health").status == 200);   // reads need no token
}

TEST_CASE("constant_time_equal compares whole strings", "[service]") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK(constant_time_equal("", ""));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK_FALSE(constant_time_equal("ab", "abc"));
  CHECK_FALSE(constant_time_equal("", "a"));
}

TEST_CASE("an internal error is a logged 500 with a generic detail", "[service]") {
  std::vector<std::string> logged;
  service_config cfg;
  cfg.log_error = [&](std::string_view m) { logged.emplace_back(m); };
  service_fixture f(cfg);
  f.registry.add_step_validator("citizen_registration_v1", "validate_identity",
                                [](const value&) -> std::vector<std::string> {
                                  throw std::runtime_error("validator exploded");
                                });
  const auto res = f.post(base + "/steps/validate", R"({"step_id":"validate_identity"})");
  CHECK(res.status == 500);
  CHECK(detail_of(res) == "Internal server error");
  REQUIRE(logged.size() == 1);
  CHECK_THAT(logged[0], Catch::Contains("validator exploded"));
  CHECK(f.get(base + "/health").status == 200);   // and the service carries on
}

TEST_CASE("repeated report requests are answered from the cache until the data changes",
          "[service]") {
  service_fixture f;
  const std::string bottlenecks =
      base + "/workflows/citizen_registration_v1/bottlenecks?min_executions=1";
  const std::string event = R"({"events":[{"workflow_id":"citizen_registration_v1",)"
                            R"("instance_id":"c-1","step_id":"validate_identity","status":"completed",)"
                            R"("started_at":"2025-07-03T10:30:00Z","completed_at":"2025-07-03T10:30:09Z"}]})";
  REQUIRE(f.post(base + "/events", event).status == 200);
  const auto first = f.get(bottlenecks);
  const auto hits = f.api->cache().hits();
  const auto second = f.get(bottlenecks);
  CHECK(f.api->cache().hits() == hits + 1);
  CHECK(second.body == first.body);
  CHECK(body_json(first).at("slowest_steps").as_array().size() == 1);   // 9 s > 5 s

  // Other parameters are another report.
  const auto higher = f.get(base + "/workflows/citizen_registration_v1/bottlenecks?min_executions=1&threshold_ms=10000");
  CHECK(body_json(higher).at("slowest_steps").as_array().empty());

  // New data: recomputed, never stale.
  const std::string again = R"({"events":[{"workflow_id":"citizen_registration_v1",)"
                            R"("instance_id":"c-2","step_id":"validate_identity","status":"completed",)"
                            R"("started_at":"2025-07-03T11:00:00Z","completed_at":"2025-07-03T11:00:01Z"}]})";
  REQUIRE(f.post(base + "/events", again).status == 200);
  const auto third = f.get(bottlenecks);
  CHECK(third.body != first.body);
  // (9 s + 1 s) / 2 = 5 s is not above the 5 s threshold any more.
  CHECK(body_json(third).at("slowest_steps").as_array().empty());
  const auto metrics = body_json(f.get(base + "/steps/validate_identity/metrics"));
  CHECK(metrics.at("total_executions").as_int64() == 2);
  CHECK(metrics.at("average_duration_ms").to_number<double>() == 5000.0);
}
