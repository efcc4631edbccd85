#include <civicperf/json.hpp>

#include <catch2/catch.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>
#include <cstring>
#include <system_error>

namespace bj = boost::json;
using namespace std::chrono_literals;

namespace {

std::string text_of(double d) { return civicperf::to_json_text(bj::value(d)); }

double read_back(const std::string& s) {
  double d = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  REQUIRE(r.ec == std::errc{});
  REQUIRE(r.ptr == s.data() + s.size());
  return d;
}

civicperf::timestamp at(int hour, int minute, int second, int millisecond = 0) {
  using namespace std::chrono;
  return sys_days{year{2025} / July / 3} + hours{hour} + minutes{minute} + seconds{second} +
         milliseconds{millisecond};
}

}  // namespace

TEST_CASE("json: doubles are written the way people read them", "[json]") {
  CHECK(text_of(0.0) == "0");
  CHECK(text_of(-0.0) == "0");
  CHECK(text_of(150.5) == "150.5");
  CHECK(text_of(-150.5) == "-150.5");
  CHECK(text_of(2000.0) == "2000");
  CHECK(text_of(0.1) == "0.1");
  CHECK(text_of(0.1 + 0.2) == "0.30000000000000004");
  CHECK(text_of(86400000.0) == "86400000");
  CHECK(text_of(999999999999999.0) == "999999999999999");
  CHECK(text_of(1e-6) == "0.000001");
  CHECK(text_of(0.000123) == "0.000123");
}

TEST_CASE("json: tiny and huge doubles use a short exponent", "[json]") {
  CHECK(text_of(1e-7) == "1e-7");
  CHECK(text_of(1.5e-7) == "1.5e-7");
  CHECK(text_of(1e15) == "1e+15");
  CHECK(text_of(1e20) == "1e+20");
  CHECK(text_of(-2.5e21) == "-2.5e+21");
  CHECK(text_of(5e-324) == "5e-324");
  CHECK(text_of(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
}

TEST_CASE("json: NaN and infinities become null", "[json]") {
  CHECK(text_of(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(text_of(std::numeric_limits<double>::infinity()) == "null");
  CHECK(text_of(-std::numeric_limits<double>::infinity()) == "null");
}

TEST_CASE("json: integers are written exactly", "[json]") {
  using civicperf::to_json_text;
  CHECK(to_json_text(bj::value(std::int64_t{0})) == "0");
  CHECK(to_json_text(bj::value(std::int64_t{-42})) == "-42");
  CHECK(to_json_text(bj::value(std::numeric_limits<std::int64_t>::max())) ==
        "9223372036854775807");
  CHECK(to_json_text(bj::value(std::numeric_limits<std::int64_t>::min())) ==
        "-9223372036854775808");
  CHECK(to_json_text(bj::value(std::numeric_limits<std::uint64_t>::max())) ==
        "18446744073709551615");
}

TEST_CASE("json: every double reads back exactly", "[json]") {
  std::mt19937_64 rng(20250703);
  std::uniform_int_distribution<std::uint64_t> bits;
  std::uniform_real_distribution<double> ms(0.0, 1e7);
  for (int i = 0; i < 20000; ++i) {
    double d = 0;
    if (i % 2 == 0) {
      const std::uint64_t b = bits(rng);
      std::memcpy(&d, &b, sizeof d);
      if (!std::isfinite(d)) continue;
    } else {
      d = ms(rng);
    }
    const std::string s = text_of(d);
    INFO(s);
    CHECK(read_back(s) == d);
    const double magnitude = std::fabs(d);
    if (magnitude >= 1e-6 && magnitude < 1e15) CHECK(s.find('e') == std::string::npos);
  }
}

TEST_CASE("json: strings are escaped per RFC 8259, UTF-8 kept", "[json]") {
  using civicperf::to_json_text;
  CHECK(to_json_text(bj::value("plain")) == R"("plain")");
  CHECK(to_json_text(bj::value("")) == R"("")");
  CHECK(to_json_text(bj::value(R"(say "hi")")) == R"("say \"hi\"")");
  CHECK(to_json_text(bj::value(R"(C:\dir)")) == R"("C:\\dir")");
  CHECK(to_json_text(bj::value("a\nb\tc\rd\be\ff")) == R"("a\nb\tc\rd\be\ff")");
  CHECK(to_json_text(bj::value(bj::string_view("\x01\x1f\x00z", 4))) ==
        R"("\u0001\u001f\u0000z")");
  CHECK(to_json_text(bj::value("Müller — ü")) == "\"Müller — ü\"");
  CHECK(to_json_text(bj::value("a/b\x7f")) == "\"a/b\x7f\"");
  // Keys are escaped the same way.
  CHECK(to_json_text(bj::value{{"k\"\n", 1}}) == R"({"k\"\n":1})");
}

TEST_CASE("json: bytes that are not well-formed UTF-8 become U+FFFD", "[json]") {
  using civicperf::to_json_text;
  CHECK(to_json_text(bj::value("a\xff" "b")) == R"("a\ufffdb")");              // never valid
  CHECK(to_json_text(bj::value("\xc3")) == R"("\ufffd")");                     // cut sequence
  CHECK(to_json_text(bj::value("\xc0\xaf")) == R"("\ufffd\ufffd")");          // overlong '/'
  CHECK(to_json_text(bj::value("\xed\xa0\x80")) == R"("\ufffd\ufffd\ufffd")");  // surrogate
  CHECK(to_json_text(bj::value("\xf4\x90\x80\x80")) ==
        R"("\ufffd\ufffd\ufffd\ufffd")");                                     // above U+10FFFF
  CHECK(to_json_text(bj::value("\xf0\x9f\x98\x80 ok")) == "\"\xf0\x9f\x98\x80 ok\"");   // U+1F600
  // Whatever a string holds, the output parses.
  const std::string garbage = "caf\xc3\xa9 \x80\x81 \xe2\x82 end";
  CHECK_NOTHROW(bj::parse(to_json_text(bj::value(garbage))));
}

namespace {

// The obvious byte-at-a-time escaper, to check the fast one against.
std::string reference_escape(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[static_cast<unsigned char>(c) >> 4];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace

TEST_CASE("json: escaping agrees with a byte-by-byte escaper anywhere in long strings", "[json]") {
  // Escapes at every offset of 8-byte words, and strings that grow the buffer.
  // Tokens, so that every string is well-formed UTF-8 (ü is two bytes, € three).
  const std::vector<std::string> alphabet = {"a", "b", "c", "d", "e", "f", "g", "h", " ", "\"",
                                             "\\", "\n", "\x01", "\x1f", "\x7f", "/",
                                             "\xc3\xbc", "\xe2\x82\xac"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<std::size_t> length(0, 70);
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    for (std::size_t k = length(rng); k > 0; --k) s += alphabet[pick(rng)];
    INFO(s);
    CHECK(civicperf::to_json_text(bj::value(s)) == reference_escape(s));
  }
  const std::string controls(100000, '\x02');   // six times longer once escaped
  CHECK(civicperf::to_json_text(bj::value(controls)) == reference_escape(controls));
  const bj::array many(1000, bj::value(controls.substr(0, 100)));
  const std::string text = civicperf::to_json_text(many);
  CHECK(text.size() == 2 + 1000 * 602 + 999);
}

TEST_CASE("json: compact containers", "[json]") {
  using civicperf::to_json_text;
  CHECK(to_json_text(bj::value(nullptr)) == "null");
  CHECK(to_json_text(bj::value(true)) == "true");
  CHECK(to_json_text(bj::value(false)) == "false");
  CHECK(to_json_text(bj::array{}) == "[]");
  CHECK(to_json_text(bj::object{}) == "{}");
  const bj::value v = bj::parse(R"({"b":[1,2.5,"x",null,[]],"a":{"c":{}}})");
  // Insertion order is kept, not sorted.
  CHECK(to_json_text(v) == R"({"b":[1,2.5,"x",null,[]],"a":{"c":{}}})");
}

TEST_CASE("json: pretty printing indents by two spaces", "[json]") {
  using civicperf::to_json_pretty;
  const bj::value v =
      bj::parse(R"({"a":1,"b":[true,null,{"c":"d"}],"e":{},"f":[],"g":{"h":[2000.0]}})");
  CHECK(to_json_pretty(v) == R"({
  "a": 1,
  "b": [
    true,
    null,
    {
      "c": "d"
    }
  ],
  "e": {},
  "f": [],
  "g": {
    "h": [
      2000
    ]
  }
})");
  CHECK(to_json_pretty(bj::value(42)) == "42");
  CHECK(to_json_pretty(bj::array{}) == "[]");
  CHECK(to_json_pretty(bj::value("x\n")) == R"("x\n")");
}

TEST_CASE("json: health report", "[json]") {
  civicperf::health_report r;
  r.executor_metrics_count = 15;
  r.total_tracked_executions = 10000;
  r.open_instances = 3;
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"status":"healthy","service":"performance_monitoring","executor_metrics_count":15,)"
        R"("total_tracked_executions":10000,"open_instances":3})");
}

namespace {

civicperf::step_metrics_report sample_metrics() {
  civicperf::step_metrics_report m;
  m.step_id = "validate_identity";
  m.workflow_id = "citizen_registration_v1";
  m.step_name = "Validate Identity";
  m.total_executions = 1000;
  m.successful_executions = 950;
  m.failed_executions = 30;
  m.pending_executions = 20;
  m.success_rate = 95.0;
  m.average_duration_ms = 150.50049;   // rounds to 150.5
  m.min_duration_ms = 50;
  m.max_duration_ms = 2000;
  m.p50_duration_ms = 140.0004;        // rounds to 140
  m.p90_duration_ms = 0.1 + 0.2;       // rounds to 0.3
  m.p95_duration_ms = 1234.5678;       // rounds to 1234.568
  m.p99_duration_ms = 1999.9996;       // rounds to 2000
  m.average_queue_time_ms = 25.0;
  m.average_validation_time_ms = 10.2;
  m.average_memory_usage_mb = 2.5;
  m.max_memory_usage_mb = 4;
  m.total_retries = 7;
  m.common_errors = {{"Missing required input: id_number", 30}};
  m.indicators.approval_bottleneck_percentage = 15.0;
  m.indicators.external_service_bottleneck_percentage = 5.0;
  m.indicators.long_queue_time_percentage = -0.0001;   // rounds to 0, not -0
  m.indicators.suggested_optimizations = {
      "Consider optimizing step logic - execution time is high"};
  return m;
}

constexpr const char* sample_metrics_json =
    R"({"step_id":"validate_identity","workflow_id":"citizen_registration_v1",)"
    R"("step_name":"Validate Identity","total_executions":1000,"successful_executions":950,)"
    R"("failed_executions":30,"pending_executions":20,"success_rate":95,)"
    R"("average_duration_ms":150.5,"min_duration_ms":50,"max_duration_ms":2000,)"
    R"("p50_duration_ms":140,"p90_duration_ms":0.3,"p95_duration_ms":1234.568,)"
    R"("p99_duration_ms":2000,"average_queue_time_ms":25,"average_validation_time_ms":10.2,)"
    R"("average_memory_usage_mb":2.5,"max_memory_usage_mb":4,"total_retries":7,)"
    R"("common_errors":[{"error":"Missing required input: id_number","count":30}],)"
    R"("bottleneck_indicators":{"approval_bottleneck_percentage":15,)"
    R"("external_service_bottleneck_percentage":5,"long_queue_time_percentage":0,)"
    R"("suggested_optimizations":["Consider optimizing step logic - execution time is high"]}})";

}  // namespace

TEST_CASE("json: step metrics report", "[json]") {
  CHECK(civicperf::to_json_text(bj::value_from(sample_metrics())) == sample_metrics_json);

  civicperf::step_metrics_report empty;
  empty.step_id = "s";
  empty.workflow_id = "w";
  empty.step_name = "S";
  CHECK(civicperf::to_json_text(bj::value_from(empty)) ==
        R"({"step_id":"s","workflow_id":"w","step_name":"S","total_executions":0,)"
        R"("successful_executions":0,"failed_executions":0,"pending_executions":0,)"
        R"("success_rate":0,"average_duration_ms":0,"min_duration_ms":0,"max_duration_ms":0,)"
        R"("p50_duration_ms":0,"p90_duration_ms":0,"p95_duration_ms":0,"p99_duration_ms":0,)"
        R"("average_queue_time_ms":0,"average_validation_time_ms":0,)"
        R"("average_memory_usage_mb":0,"max_memory_usage_mb":0,"total_retries":0,)"
        R"("common_errors":[],"bottleneck_indicators":{"approval_bottleneck_percentage":0,)"
        R"("external_service_bottleneck_percentage":0,"long_queue_time_percentage":0,)"
        R"("suggested_optimizations":[]}})");
}

TEST_CASE("json: workflow performance report", "[json]") {
  civicperf::workflow_performance_report r;
  r.workflow_id = "citizen_registration_v1";
  r.total_instances = 3;
  r.completed_instances = 2;
  r.completion_rate = 200.0 / 3.0;   // 66.666... -> 66.667
  r.average_completion_time_ms = 300000;
  // The vector's order, not sorted.
  r.terminal_status_counts = {{"SUCCESS", 1}, {"REJECTED", 1}};
  r.step_metrics = {sample_metrics()};
  r.bottleneck_analysis.total_steps = 17;
  r.bottleneck_analysis.steps_with_data = 1;
  r.bottleneck_analysis.average_step_success_rate = 95;
  r.bottleneck_analysis.slowest_step = "validate_identity";
  r.optimization_suggestions = {"a", "b"};
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        std::string(R"({"workflow_id":"citizen_registration_v1","total_instances":3,)"
                    R"("completed_instances":2,"completion_rate":66.667,)"
                    R"("average_completion_time_ms":300000,)"
                    R"("terminal_status_counts":{"SUCCESS":1,"REJECTED":1},"step_metrics":[)") +
            sample_metrics_json +
            R"(],"bottleneck_analysis":{"total_steps":17,"steps_with_data":1,)"
            R"("average_step_success_rate":95,"slowest_step":"validate_identity",)"
            R"("most_error_prone_step":null},"optimization_suggestions":["a","b"]})");

  civicperf::workflow_performance_report empty;
  empty.workflow_id = "w";
  CHECK(civicperf::to_json_text(bj::value_from(empty)) ==
        R"({"workflow_id":"w","total_instances":0,"completed_instances":0,"completion_rate":0,)"
        R"("average_completion_time_ms":0,"terminal_status_counts":{},"step_metrics":[],)"
        R"("bottleneck_analysis":{"total_steps":0,"steps_with_data":0,)"
        R"("average_step_success_rate":0,"slowest_step":null,"most_error_prone_step":null},)"
        R"("optimization_suggestions":[]})");
}

TEST_CASE("json: bottleneck report", "[json]") {
  civicperf::bottleneck_report r;
  r.workflow_id = "citizen_registration_v1";
  r.threshold_ms = 1000;
  r.min_executions = 5;
  r.critical_path_steps = {"start", "adult_approval", "end"};
  r.critical_path_time_ms = 86405000.25;
  r.slowest_steps = {{"adult_approval", "Adult Registration Approval", 86400000, 5000}};
  r.approval_bottlenecks = {{"adult_approval", "Adult Registration Approval", 85.0, 5000}};
  r.external_service_bottlenecks = {{"blockchain_record", "Record on Blockchain", 25.0, 3000}};
  r.queue_bottlenecks = {{"blockchain_record", "Record on Blockchain", 2600.0001, 3000}};
  r.recommendations = {
      "Adult Registration Approval: Consider streamlining approval process - many steps "
      "waiting for approval"};
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"workflow_id":"citizen_registration_v1","threshold_ms":1000,"min_executions":5,)"
        R"("critical_path_steps":["start","adult_approval","end"],)"
        R"("critical_path_time_ms":86405000.25,)"
        R"("slowest_steps":[{"step_id":"adult_approval","step_name":"Adult Registration Approval",)"
        R"("average_duration_ms":86400000,"executions":5000}],)"
        R"("approval_bottlenecks":[{"step_id":"adult_approval",)"
        R"("step_name":"Adult Registration Approval","approval_bottleneck_percentage":85,)"
        R"("executions":5000}],)"
        R"("external_service_bottlenecks":[{"step_id":"blockchain_record",)"
        R"("step_name":"Record on Blockchain","external_service_bottleneck_percentage":25,)"
        R"("executions":3000}],)"
        R"("queue_bottlenecks":[{"step_id":"blockchain_record","step_name":"Record on Blockchain",)"
        R"("average_queue_time_ms":2600,"executions":3000}],)"
        R"("recommendations":["Adult Registration Approval: Consider streamlining approval )"
        R"(process - many steps waiting for approval"]})");

  civicperf::bottleneck_report empty;
  empty.workflow_id = "w";
  CHECK(civicperf::to_json_text(bj::value_from(empty)) ==
        R"({"workflow_id":"w","threshold_ms":5000,"min_executions":10,"critical_path_steps":[],)"
        R"("critical_path_time_ms":0,"slowest_steps":[],"approval_bottlenecks":[],)"
        R"("external_service_bottlenecks":[],"queue_bottlenecks":[],"recommendations":[]})");
}

TEST_CASE("json: timing report", "[json]") {
  civicperf::timing_report r;
  r.workflow_id = "citizen_registration_v1";
  r.threshold_ms = 5000;
  r.step_transitions = {
      {"validate_identity", "identity_check", 4, 150.25, 100, 200.5, 199.9999, 0, false},
      {"adult_approval", "adult_approval", 1, 86400000, 86400000, 86400000, 86400000, 86400000,
       true}};
  r.bottleneck_transitions = {{"adult_approval -> adult_approval", "adult_approval",
                               "adult_approval", 86400000, 1, 86400000,
                               "Manual approval process",
                               "Consider automated approval for low-risk cases"}};
  r.completed_instances = 2;
  r.total_average_completion_time_ms = 86405000;
  r.citizen_active_time_ms = 5000.0006;
  r.citizen_waiting_time_ms = 86400000;
  r.rework_transitions = 1;
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"workflow_id":"citizen_registration_v1","instance_id":null,"threshold_ms":5000,)"
        R"("step_transitions":[{"from_step":"validate_identity","to_step":"identity_check",)"
        R"("count":4,"average_transition_time_ms":150.25,"min_transition_time_ms":100,)"
        R"("max_transition_time_ms":200.5,"p90_transition_time_ms":200,)"
        R"("citizen_wait_time_ms":0,"rework":false},)"
        R"({"from_step":"adult_approval","to_step":"adult_approval","count":1,)"
        R"("average_transition_time_ms":86400000,"min_transition_time_ms":86400000,)"
        R"("max_transition_time_ms":86400000,"p90_transition_time_ms":86400000,)"
        R"("citizen_wait_time_ms":86400000,"rework":true}],)"
        R"("bottleneck_transitions":[{"transition":"adult_approval -> adult_approval",)"
        R"("from_step":"adult_approval","to_step":"adult_approval",)"
        R"("average_wait_time_ms":86400000,"count":1,"total_wait_time_ms":86400000,)"
        R"("reason":"Manual approval process",)"
        R"("suggestion":"Consider automated approval for low-risk cases"}],)"
        R"("completed_instances":2,"total_average_completion_time_ms":86405000,)"
        R"("citizen_active_time_ms":5000.001,"citizen_waiting_time_ms":86400000,)"
        R"("rework_transitions":1})");

  civicperf::timing_report one;
  one.workflow_id = "w";
  one.instance_id = "case-7";
  CHECK(civicperf::to_json_text(bj::value_from(one)) ==
        R"({"workflow_id":"w","instance_id":"case-7","threshold_ms":5000,"step_transitions":[],)"
        R"("bottleneck_transitions":[],"completed_instances":0,)"
        R"("total_average_completion_time_ms":0,"citizen_active_time_ms":0,)"
        R"("citizen_waiting_time_ms":0,"rework_transitions":0})");
}

TEST_CASE("json: validation result", "[json]") {
  civicperf::validation_result r;
  r.is_valid = false;
  r.errors = {"Missing required input: id_number", "Missing required input: id_document"};
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"is_valid":false,"errors":["Missing required input: id_number",)"
        R"("Missing required input: id_document"]})");

  civicperf::validation_result ok;
  CHECK(civicperf::to_json_text(bj::value_from(ok)) == R"({"is_valid":true,"errors":[]})");
  ok.derived = civicperf::value{};   // null counts as empty too
  CHECK(civicperf::to_json_text(bj::value_from(ok)) == R"({"is_valid":true,"errors":[]})");
}

TEST_CASE("json: validation result with derived values", "[json]") {
  civicperf::validation_result r;
  r.derived.set("calculated_age", 34);
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"is_valid":true,"errors":[],"derived":{"calculated_age":34}})");
}

TEST_CASE("json: step result as the spec's StepResult", "[json]") {
  civicperf::step_result r;
  r.workflow_id = "citizen_registration_v1";
  r.instance_id = "case-1";
  r.step_id = "validate_identity";
  r.status = civicperf::step_status::completed;
  r.outputs = civicperf::value::make_object(
      {{"identity_verified", true}, {"verification_method", "document_scan"},
       {"confidence_score", 0.95}});
  r.queued_at = at(10, 30, 0, 0);
  r.started_at = at(10, 30, 0, 12);
  r.completed_at = at(10, 30, 0, 157);
  r.validation_duration = 8250us;
  r.retry_count = 1;
  r.memory_usage_mb = 2.5;
  r.executed_by = "admin";
  r.execution_environment = "production";
  r.step_version = "1.0";
  r.waiting_for_external_service = true;
  r.blocking_dependencies = {"identity_check"};
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"step_id":"validate_identity","workflow_id":"citizen_registration_v1",)"
        R"("instance_id":"case-1","status":"completed","outputs":{"identity_verified":true,)"
        R"("verification_method":"document_scan","confidence_score":0.95},"error":null,)"
        R"("started_at":"2025-07-03T10:30:00.012Z","completed_at":"2025-07-03T10:30:00.157Z",)"
        R"("queued_at":"2025-07-03T10:30:00.000Z","execution_duration_ms":145,)"
        R"("queue_time_ms":12,"validation_duration_ms":8.25,"retry_count":1,)"
        R"("memory_usage_mb":2.5,"executed_by":"admin","execution_environment":"production",)"
        R"("step_version":"1.0","waiting_for_approval":false,)"
        R"("waiting_for_external_service":true,"blocking_dependencies":["identity_check"]})");
}

TEST_CASE("json: step result with nothing set", "[json]") {
  civicperf::step_result r;
  r.workflow_id = "w";
  r.step_id = "s";
  r.status = civicperf::step_status::failed;
  r.error = "Validation failed: Missing required input: email";
  // Explicit durations win over the (absent) timestamps.
  r.execution_duration = 1500us;
  CHECK(civicperf::to_json_text(bj::value_from(r)) ==
        R"({"step_id":"s","workflow_id":"w","instance_id":null,"status":"failed","outputs":{},)"
        R"("error":"Validation failed: Missing required input: email","started_at":null,)"
        R"("completed_at":null,"queued_at":null,"execution_duration_ms":1.5,)"
        R"("queue_time_ms":null,"validation_duration_ms":null,"retry_count":0,)"
        R"("memory_usage_mb":null,"executed_by":"","execution_environment":"",)"
        R"("step_version":null,"waiting_for_approval":false,)"
        R"("waiting_for_external_service":false,"blocking_dependencies":[]})");
}

TEST_CASE("json: parse_json_timestamp", "[json]") {
  using civicperf::parse_json_timestamp;
  CHECK(parse_json_timestamp(bj::value("2025-07-03T10:30:00.157Z")) == at(10, 30, 0, 157));
  CHECK_FALSE(parse_json_timestamp(bj::value("yesterday")).has_value());
  CHECK_FALSE(parse_json_timestamp(bj::value("")).has_value());
  CHECK_FALSE(parse_json_timestamp(bj::value(1751538600)).has_value());
  CHECK_FALSE(parse_json_timestamp(bj::value(nullptr)).has_value());
  CHECK_FALSE(parse_json_timestamp(bj::array{}).has_value());
}
