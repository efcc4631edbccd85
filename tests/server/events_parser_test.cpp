#include "events_parser.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "civicperf/civicperf.hpp"
#include "test_support.hpp"

using namespace civicperf;
using namespace civicperf::server;
using civicperf::server::test::iso;

namespace {

const step_registry& examples() {
  // Shared by every test of this file; reachable until exit, so not a leak.
  static const step_registry* registry = [] {
    auto* r = new step_registry;
    r->add_workflows(example_workflows());
    return r;
  }();
  return *registry;
}

std::string event(std::string extra = {}) {
  return R"({"workflow_id":"citizen_registration_v1","instance_id":"c1","step_id":"validate_identity",)"
         R"("status":"completed","started_at":")" +
         iso(1000) + R"(")" + extra + "}";
}

event_batch_outcome parse(const std::string& body, std::size_t max = 100) {
  return parse_event_batch(boost::json::parse(body).as_object(), examples(), max);
}

std::string error_of(const std::string& body) {
  const auto out = parse(body);
  const auto* e = std::get_if<event_batch_error>(&out);
  REQUIRE(e != nullptr);
  return e->message;
}

}  // namespace

TEST_CASE("a valid event becomes a step result", "[events]") {
  const auto out = parse(R"({"events":[)" + event(R"(,"queued_at":")" + iso(0) +
                                                   R"(","completed_at":")" + iso(1500) +
                                                   R"(","validation_duration_ms":2.5,"retry_count":1,)"
                                                   R"("memory_usage_mb":3.25,"error":null,"executed_by":"eng",)"
                                                   R"("execution_environment":"production","step_version":"2",)"
                                                   R"("waiting_for_approval":false,"waiting_for_external_service":true,)"
                                                   R"("blocking_dependencies":["x"],"outputs":{"a":[1,2]})") +
                         "]}");
  const auto* batch = std::get_if<event_batch>(&out);
  REQUIRE(batch != nullptr);
  REQUIRE(batch->events.size() == 1);
  const step_result& r = batch->events[0];
  CHECK(r.workflow_id == "citizen_registration_v1");
  CHECK(r.instance_id == "c1");
  CHECK(r.step_id == "validate_identity");
  CHECK(r.status == step_status::completed);
  CHECK(r.queued_at == test::t0());
  CHECK(r.started_at == test::t0() + std::chrono::milliseconds(1000));
  CHECK(r.completed_at == test::t0() + std::chrono::milliseconds(1500));
  CHECK(r.validation_duration == std::chrono::microseconds(2500));
  CHECK(r.retry_count == 1);
  CHECK(r.memory_usage_mb == 3.25);
  CHECK_FALSE(r.error);
  CHECK(r.executed_by == "eng");
  CHECK(r.execution_environment == "production");
  CHECK(r.step_version == "2");
  CHECK(r.waiting_for_approval == false);
  CHECK(r.waiting_for_external_service == true);
  CHECK(r.blocking_dependencies == std::vector<std::string>{"x"});
  CHECK(r.outputs == value::make_object({{"a", value::make_array({1, 2})}}));
}

TEST_CASE("an empty batch is valid, a manual event needs no instance", "[events]") {
  CHECK(std::get<event_batch>(parse(R"({"events":[]})")).events.empty());
  const auto out = parse(
      R"({"events":[{"workflow_id":"citizen_registration_v1","step_id":"validate_identity",)"
      R"("status":"failed","started_at":")" + iso(0) + R"(","execution_environment":"manual"}]})");
  CHECK(std::get<event_batch>(out).events.at(0).is_manual());
}

TEST_CASE("every problem names the event index and the field", "[events]") {
  const std::string wf = R"("workflow_id":"citizen_registration_v1","instance_id":"c1",)";
  const auto batch = [](const std::string& bad) {
    return R"({"events":[)" + event() + "," + bad + "]}";
  };
  CHECK(error_of(batch(event(R"(,"completed_at":")" + iso(999) + R"(")"))) ==
        "events[1].completed_at: before started_at");
  CHECK(error_of(batch(event(R"(,"queued_at":")" + iso(1001) + R"(")"))) ==
        "events[1].started_at: before queued_at");
  CHECK(error_of(batch(R"({"workflow_id":"nope","instance_id":"c","step_id":"s","status":"completed","started_at":")" +
                       iso(0) + R"("})")) == "events[1].workflow_id: unknown workflow 'nope'");
  CHECK(error_of(batch("{" + wf + R"("step_id":"nope","status":"completed","started_at":")" + iso(0) +
                       R"("})")) ==
        "events[1].step_id: unknown step 'nope' in workflow 'citizen_registration_v1'");
  CHECK(error_of(batch("{" + wf + R"("step_id":"validate_identity","status":"done","started_at":")" +
                       iso(0) + R"("})")) ==
        "events[1].status: unknown status 'done' (expected pending, running, completed, failed "
        "or skipped)");
  CHECK(error_of(batch("{" + wf + R"("step_id":"validate_identity","status":"completed"})")) ==
        "events[1].started_at: missing");
  CHECK(error_of(batch("{" + wf + R"("step_id":"validate_identity","status":"completed","started_at":"yesterday"})")) ==
        "events[1].started_at: not an ISO-8601 date-time: 'yesterday'");
  CHECK(error_of(batch("{" + wf + R"("step_id":"validate_identity","status":"completed","started_at":17})")) ==
        "events[1].started_at: expected an ISO-8601 date-time string, not a number");
  CHECK(error_of(batch(event(R"(,"retry_count":-1)"))) ==
        "events[1].retry_count: must be an integer from 0 to 2147483647");
  CHECK(error_of(batch(event(R"(,"retry_count":1.5)"))) ==
        "events[1].retry_count: expected an integer, not a number");
  CHECK(error_of(batch(event(R"(,"validation_duration_ms":-3)"))) ==
        "events[1].validation_duration_ms: must be a non-negative number");
  CHECK(error_of(batch(event(R"(,"memory_usage_mb":"big")"))) ==
        "events[1].memory_usage_mb: expected a number, not a string");
  CHECK(error_of(batch(event(R"(,"memory_usage_mb":1e300)"))) ==
        "events[1].memory_usage_mb: too large (at most 1e9 MB)");
  CHECK(error_of(batch("{" + wf + R"("step_id":"validate_identity","status":"completed","started_at":"0000-01-01T00:00:00Z"})")) ==
        "events[1].started_at: '0000-01-01T00:00:00Z' is outside 1970-01-01 .. 2199-12-31");
  CHECK(error_of(batch(event(R"(,"completed_at":"2200-01-01T00:00:00Z")"))) ==
        "events[1].completed_at: '2200-01-01T00:00:00Z' is outside 1970-01-01 .. 2199-12-31");
  CHECK(error_of(batch(event(R"(,"surprise":1)"))) == "events[1].surprise: unknown field");
  CHECK(error_of(batch(event(R"(,"waiting_for_approval":"yes")"))) ==
        "events[1].waiting_for_approval: expected a boolean, not a string");
  CHECK(error_of(batch(event(R"(,"blocking_dependencies":["a",2])"))) ==
        "events[1].blocking_dependencies[1]: expected a string, not a number");
  CHECK(error_of(batch(event(R"(,"outputs":[1])"))) ==
        "events[1].outputs: expected an object, not an array");
  CHECK(error_of(batch(R"({"workflow_id":"citizen_registration_v1","step_id":"validate_identity","status":"completed","started_at":")" +
                       iso(0) + R"("})")) ==
        "events[1].instance_id: required for a case event (only execution_environment "
        "\"manual\" events may omit it)");
  CHECK(error_of(batch("7")) == "events[1]: expected an object, not a number");
  CHECK(error_of(R"({"events":{}})") == "events: expected an array, not an object");
  CHECK(error_of(R"({})") == "events: missing");
  CHECK(error_of(R"({"events":[],"more":1})") ==
        "'more': unknown field (the body is {\"events\": [...]})");
}

TEST_CASE("a batch over the limit is too large", "[events]") {
  const auto out = parse(R"({"events":[)" + event() + "," + event() + "," + event() + "]}", 2);
  REQUIRE(std::holds_alternative<event_batch_too_large>(out));
  CHECK(std::get<event_batch_too_large>(out).count == 3);
}
