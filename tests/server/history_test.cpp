// A known history posted through POST /events, and the exact reports that
// DESIGN.md's semantics give for it, computed by hand below.
//
// Times are milliseconds after t0 (2025-07-01T08:00:00Z); q/s/c are queued_at,
// started_at and completed_at; exec = c - s, queue = s - q.
//
// case-A, an adult registered successfully (12 events):
//   validate_identity      q 0          s 1000       c 1500        exec 500     queue 1000
//   identity_check         q 1500       s 1500       c 1600        exec 100
//   check_duplicates       q 1600       s 2600       c 3600        exec 1000    queue 1000
//   duplicate_check        q 3600       s 3600       c 3700        exec 100
//   age_verification       q 3700       s 3700       c 3800        exec 100
//   adult_approval         q 3800       s 4800       c 7204800     exec 7200000 queue 1000 (approval)
//   process_approval       q 9004800    s 9004800    c 9005000     exec 200
//   approval_check         q 9005000    s 9005000    c 9005100     exec 100
//   create_account         q 9005100    s 9005100    c 9005600     exec 500
//   send_welcome           q 9005600    s 9005600    c 9005900     exec 300
//   blockchain_record      q 9005900    s 9011900    c 9041900     exec 30000   queue 6000 (external)
//   registration_success   q 9041900    s 9041900    c 9041900     exec 0       -> SUCCESS
// case-B, identity not verified (3 events):
//   validate_identity      q 10000000   s 10003000   c 10003700    exec 700     queue 3000
//   identity_check         q 10003700   s 10003700   c 10003800    exec 100
//   identity_failed        q 10003800   s 10003800   c 10003800    exec 0       -> FAILURE
// case-C, still open, one failure and a retry (4 events):
//   validate_identity      q 20000000   s 20000500   c 20001100    exec 600     queue 500
//   identity_check         q 20001100   s 20001100   c 20001200    exec 100
//   check_duplicates       q 20001200   s 20001200   c 20001300    failed "Invalid email format"
//   check_duplicates       q 20061300   s 20061300   c 20062300    exec 1000, retry_count 1
// one manual execution (no case):
//   validate_identity      q 30000000   s 30000000   c 30000300    exec 300
//
// Case A is posted in reverse order: the batch is folded in started_at order.

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace civicperf;
using namespace civicperf::server;
using civicperf::server::test::body_json;
using civicperf::server::test::iso;
using civicperf::server::test::service_fixture;
namespace bj = boost::json;

namespace {

const std::string base = "/api/v1/performance";
const std::string wf = "citizen_registration_v1";

struct row {
  std::string instance;
  std::string step;
  std::int64_t q, s, c;
  std::string status = "completed";
  bj::object extra = {};
};

bj::object to_event(const row& r) {
  bj::object o;
  o["workflow_id"] = wf;
  if (!r.instance.empty()) o["instance_id"] = r.instance;
  o["step_id"] = r.step;
  o["status"] = r.status;
  o["queued_at"] = iso(r.q);
  o["started_at"] = iso(r.s);
  o["completed_at"] = iso(r.c);
  for (const auto& m : r.extra) o[m.key()] = m.value();
  return o;
}

std::string batch(const std::vector<row>& rows) {
  bj::array events;
  for (const auto& r : rows) events.push_back(to_event(r));
  return bj::serialize(bj::object{{"events", std::move(events)}});
}

std::vector<row> case_a() {
  return {{"case-A", "validate_identity", 0, 1000, 1500},
          {"case-A", "identity_check", 1500, 1500, 1600},
          {"case-A", "check_duplicates", 1600, 2600, 3600},
          {"case-A", "duplicate_check", 3600, 3600, 3700},
          {"case-A", "age_verification", 3700, 3700, 3800},
          {"case-A", "adult_approval", 3800, 4800, 7'204'800},
          {"case-A", "process_approval", 9'004'800, 9'004'800, 9'005'000},
          {"case-A", "approval_check", 9'005'000, 9'005'000, 9'005'100},
          {"case-A", "create_account", 9'005'100, 9'005'100, 9'005'600},
          {"case-A", "send_welcome", 9'005'600, 9'005'600, 9'005'900},
          {"case-A", "blockchain_record", 9'005'900, 9'011'900, 9'041'900},
          {"case-A", "registration_success", 9'041'900, 9'041'900, 9'041'900}};
}

std::vector<row> first_batch() {
  auto rows = case_a();
  std::reverse(rows.begin(), rows.end());
  rows.push_back({"case-B", "validate_identity", 10'000'000, 10'003'000, 10'003'700});
  rows.push_back({"case-B", "identity_check", 10'003'700, 10'003'700, 10'003'800});
  rows.push_back({"case-B", "identity_failed", 10'003'800, 10'003'800, 10'003'800});
  return rows;
}

std::vector<row> second_batch() {
  return {{"case-C", "validate_identity", 20'000'000, 20'000'500, 20'001'100},
          {"case-C", "identity_check", 20'001'100, 20'001'100, 20'001'200},
          {"case-C", "check_duplicates", 20'001'200, 20'001'200, 20'001'300, "failed",
           {{"error", "Invalid email format"}}},
          {"case-C", "check_duplicates", 20'061'300, 20'061'300, 20'062'300, "completed",
           {{"retry_count", 1}}},
          {"", "validate_identity", 30'000'000, 30'000'000, 30'000'300, "completed",
           {{"execution_environment", "manual"}, {"executed_by", "admin"}}}};
}

struct history : service_fixture {
  history() {
    const auto one = post(base + "/events", batch(first_batch()));
    REQUIRE(one.status == 200);
    REQUIRE(one.body == R"({"accepted":15})");
    const auto two = post(base + "/events", batch(second_batch()));
    REQUIRE(two.status == 200);
    REQUIRE(two.body == R"({"accepted":5})");
  }
  bj::value json(const std::string& target) {
    const auto res = get(base + target);
    INFO(target << " -> " << res.body);
    REQUIRE(res.status == 200);
    return body_json(res);
  }
};

double num(const bj::value& v) { return v.to_number<double>(); }

Approx within_1pct(double x) { return Approx(x).epsilon(0.01).margin(1e-9); }

// Every field of a step_transitions entry; p90 from the histogram, within 1 %.
void check_transition(const bj::value& t, std::string_view from, std::string_view to,
                      std::int64_t count, double mean, double min, double max, double p90,
                      bool rework) {
  INFO(bj::serialize(t));
  CHECK(t.at("from_step").as_string() == from);
  CHECK(t.at("to_step").as_string() == to);
  CHECK(t.at("count") == count);
  CHECK(num(t.at("average_transition_time_ms")) == mean);
  CHECK(num(t.at("min_transition_time_ms")) == min);
  CHECK(num(t.at("max_transition_time_ms")) == max);
  CHECK(num(t.at("p90_transition_time_ms")) == within_1pct(p90));
  CHECK(num(t.at("citizen_wait_time_ms")) == mean);   // no citizen steps in this workflow
  CHECK(t.at("rework") == rework);
}

}  // namespace

TEST_CASE_METHOD(history, "history: health counts every execution and the open case", "[history]") {
  CHECK(json("/health") == bj::parse(R"({"status":"healthy","service":"performance_monitoring",)"
                                     R"("executor_metrics_count":13,"total_tracked_executions":20,)"
                                     R"("open_instances":1})"));
}

TEST_CASE_METHOD(history, "history: step metrics", "[history]") {
  SECTION("validate_identity: three cases and one manual execution") {
    const auto m = json("/steps/validate_identity/metrics");
    CHECK(m.at("workflow_id").as_string() == wf);
    CHECK(m.at("step_name") == "Validate Identity");
    CHECK(m.at("total_executions") == 4);
    CHECK(m.at("successful_executions") == 4);
    CHECK(m.at("failed_executions") == 0);
    CHECK(num(m.at("success_rate")) == 100);
    CHECK(num(m.at("average_duration_ms")) == 525);   // (500 + 700 + 600 + 300) / 4
    CHECK(num(m.at("min_duration_ms")) == 300);
    CHECK(num(m.at("max_duration_ms")) == 700);
    CHECK(num(m.at("p50_duration_ms")) == within_1pct(500));   // 2nd of 300 500 600 700
    CHECK(num(m.at("p90_duration_ms")) == within_1pct(700));
    CHECK(num(m.at("p95_duration_ms")) == within_1pct(700));
    CHECK(num(m.at("p99_duration_ms")) == within_1pct(700));
    CHECK(num(m.at("average_queue_time_ms")) == 1125);   // (1000 + 3000 + 500 + 0) / 4
    CHECK(num(m.at("average_validation_time_ms")) == 0);
    CHECK(m.at("total_retries") == 0);
    CHECK(m.at("common_errors").as_array().empty());
    CHECK(m.at("bottleneck_indicators") ==
          bj::parse(R"({"approval_bottleneck_percentage":0,"external_service_bottleneck_percentage":0,)"
                    R"("long_queue_time_percentage":0,"suggested_optimizations":[]})"));
  }
  SECTION("check_duplicates: a failure and a retry") {
    const auto m = json("/steps/check_duplicates/metrics?workflow_id=" + wf);
    CHECK(m.at("total_executions") == 3);
    CHECK(m.at("successful_executions") == 2);
    CHECK(m.at("failed_executions") == 1);
    CHECK(num(m.at("success_rate")) == 66.667);
    CHECK(num(m.at("average_duration_ms")) == 1000);   // completed ones only
    CHECK(num(m.at("min_duration_ms")) == 1000);
    CHECK(num(m.at("max_duration_ms")) == 1000);
    CHECK(num(m.at("p50_duration_ms")) == within_1pct(1000));
    CHECK(num(m.at("average_queue_time_ms")) == 500);   // (1000 + 0) / 2
    CHECK(m.at("total_retries") == 1);
    CHECK(m.at("common_errors") == bj::parse(R"([{"error":"Invalid email format","count":1}])"));
    CHECK(m.at("bottleneck_indicators").at("suggested_optimizations") ==
          bj::parse(R"(["Reduce failures - 33.3% of executions fail; most common error: Invalid email format",)"
                    R"("Review retry causes - 0.33 retries per execution"])"));
  }
  SECTION("adult_approval: two hours waiting for approvers") {
    const auto m = json("/steps/adult_approval/metrics");
    CHECK(m.at("total_executions") == 1);
    CHECK(num(m.at("average_duration_ms")) == 7'200'000);
    CHECK(num(m.at("p99_duration_ms")) == within_1pct(7'200'000));
    CHECK(num(m.at("average_queue_time_ms")) == 1000);
    CHECK(m.at("bottleneck_indicators") ==
          bj::parse(R"({"approval_bottleneck_percentage":100,"external_service_bottleneck_percentage":0,)"
                    R"("long_queue_time_percentage":0,"suggested_optimizations":[)"
                    R"("Consider optimizing step logic - execution time is high",)"
                    R"("Consider streamlining approval process - many steps waiting for approval"]})"));
  }
  SECTION("blockchain_record: slow external service behind a queue") {
    const auto m = json("/steps/blockchain_record/metrics");
    CHECK(num(m.at("average_duration_ms")) == 30'000);
    CHECK(num(m.at("average_queue_time_ms")) == 6000);
    CHECK(m.at("bottleneck_indicators") ==
          bj::parse(R"({"approval_bottleneck_percentage":0,"external_service_bottleneck_percentage":100,)"
                    R"("long_queue_time_percentage":100,"suggested_optimizations":[)"
                    R"("Consider optimizing step logic - execution time is high",)"
                    R"("Consider adding more execution workers - queue time is high",)"
                    R"("Consider asynchronous calls or caching - the external service takes 30.0 s on average"]})"));
  }
  SECTION("a step without data answers zeros") {
    const auto m = json("/steps/guardian_notification/metrics");
    CHECK(m.at("total_executions") == 0);
    CHECK(num(m.at("average_duration_ms")) == 0);
  }
}

TEST_CASE_METHOD(history, "history: workflow performance", "[history]") {
  const auto p = json("/workflows/" + wf + "/performance");
  CHECK(p.at("total_instances") == 3);        // the manual execution opens no case
  CHECK(p.at("completed_instances") == 2);
  CHECK(num(p.at("completion_rate")) == 66.667);
  // (9041900 - 0 + 10003800 - 10000000) / 2
  CHECK(num(p.at("average_completion_time_ms")) == 4'522'850);
  CHECK(p.at("terminal_status_counts") == bj::parse(R"({"FAILURE":1,"SUCCESS":1})"));

  std::vector<std::string> with_data;
  for (const auto& m : p.at("step_metrics").as_array())
    with_data.emplace_back(m.at("step_id").as_string());
  CHECK(with_data == std::vector<std::string>{
                         "validate_identity", "identity_check", "check_duplicates", "identity_failed",
                         "duplicate_check", "age_verification", "adult_approval", "process_approval",
                         "approval_check", "create_account", "send_welcome", "blockchain_record",
                         "registration_success"});
  // Twelve steps at 100 % and check_duplicates at 66.667 %: 1266.667 / 13.
  CHECK(p.at("bottleneck_analysis") ==
        bj::parse(R"({"total_steps":17,"steps_with_data":13,"average_step_success_rate":97.436,)"
                  R"("slowest_step":"adult_approval","most_error_prone_step":"check_duplicates"})"));
  // By (mean duration + mean queue) x executions: adult_approval 7201000,
  // blockchain_record 36000, validate_identity 6600 (none), check_duplicates 4500.
  CHECK(p.at("optimization_suggestions") ==
        bj::parse(R"(["Consider optimizing step logic - execution time is high",)"
                  R"("Consider streamlining approval process - many steps waiting for approval",)"
                  R"("Consider adding more execution workers - queue time is high",)"
                  R"("Consider asynchronous calls or caching - the external service takes 30.0 s on average",)"
                  R"("Reduce failures - 33.3% of executions fail; most common error: Invalid email format",)"
                  R"("Review retry causes - 0.33 retries per execution"])"));
}

TEST_CASE_METHOD(history, "history: bottlenecks and the critical path", "[history]") {
  // Critical path, steps weighted by mean execution, edges by mean transition:
  // 525 + 0 + 100 + 500 + 1000 + 0 + 100 + 0 + 100 + 1000 + 7200000 + 1800000
  // + 200 + 0 + 100 + 0 + 500 + 0 + 300 + 6000 + 30000 + 0 + 0 = 9040425.
  const char* critical =
      R"("critical_path_steps":["validate_identity","identity_check","check_duplicates",)"
      R"("duplicate_check","age_verification","adult_approval","process_approval","approval_check",)"
      R"("create_account","send_welcome","blockchain_record","registration_success"],)"
      R"("critical_path_time_ms":9040425,)";

  SECTION("every step counts with min_executions=1") {
    CHECK(json("/workflows/" + wf + "/bottlenecks?threshold_ms=5000&min_executions=1") ==
          bj::parse(std::string(R"({"workflow_id":"citizen_registration_v1","threshold_ms":5000,)"
                                R"("min_executions":1,)") +
                    critical +
                    R"("slowest_steps":[)"
                    R"({"step_id":"adult_approval","step_name":"Adult Registration Approval","average_duration_ms":7200000,"executions":1},)"
                    R"({"step_id":"blockchain_record","step_name":"Record on Blockchain","average_duration_ms":30000,"executions":1}],)"
                    R"("approval_bottlenecks":[)"
                    R"({"step_id":"adult_approval","step_name":"Adult Registration Approval","approval_bottleneck_percentage":100,"executions":1}],)"
                    R"("external_service_bottlenecks":[)"
                    R"({"step_id":"blockchain_record","step_name":"Record on Blockchain","external_service_bottleneck_percentage":100,"executions":1}],)"
                    R"("queue_bottlenecks":[)"
                    R"({"step_id":"blockchain_record","step_name":"Record on Blockchain","average_queue_time_ms":6000,"executions":1}],)"
                    R"("recommendations":[)"
                    R"("Adult Registration Approval: Consider optimizing step logic - execution time is high",)"
                    R"("Adult Registration Approval: Consider streamlining approval process - many steps waiting for approval",)"
                    R"("Record on Blockchain: Consider optimizing step logic - execution time is high",)"
                    R"("Record on Blockchain: Consider adding more execution workers - queue time is high",)"
                    R"("Record on Blockchain: Consider asynchronous calls or caching - the external service takes 30.0 s on average"]})"));
  }
  SECTION("the defaults (10 executions) leave every list empty but keep the path") {
    CHECK(json("/workflows/" + wf + "/bottlenecks") ==
          bj::parse(std::string(R"({"workflow_id":"citizen_registration_v1","threshold_ms":5000,)"
                                R"("min_executions":10,)") +
                    critical +
                    R"("slowest_steps":[],"approval_bottlenecks":[],"external_service_bottlenecks":[],)"
                    R"("queue_bottlenecks":[],"recommendations":[]})"));
  }
  SECTION("threshold 1000 ms over steps with at least 3 executions") {
    // validate_identity queues 1125 ms > 500; check_duplicates' 500 ms is not above it.
    const auto b = json("/workflows/" + wf + "/bottlenecks?threshold_ms=1000&min_executions=3");
    CHECK(b.at("slowest_steps").as_array().empty());   // check_duplicates' 1000 ms is not above
    CHECK(b.at("queue_bottlenecks") ==
          bj::parse(R"([{"step_id":"validate_identity","step_name":"Validate Identity",)"
                    R"("average_queue_time_ms":1125,"executions":4}])"));
    CHECK(b.at("recommendations").as_array().empty());   // its metrics suggest nothing
  }
}

TEST_CASE_METHOD(history, "history: timing analysis of the workflow", "[history]") {
  const auto t = json("/workflows/" + wf + "/timing-analysis");
  CHECK(t.at("instance_id").is_null());
  const auto& tr = t.at("step_transitions").as_array();
  REQUIRE(tr.size() == 13);
  check_transition(tr[0], "validate_identity", "identity_check", 3, 0, 0, 0, 0, false);
  check_transition(tr[1], "identity_check", "check_duplicates", 2, 500, 0, 1000, 1000, false);
  check_transition(tr[2], "identity_check", "identity_failed", 1, 0, 0, 0, 0, false);
  check_transition(tr[3], "check_duplicates", "check_duplicates", 1, 60'000, 60'000, 60'000, 60'000, true);
  check_transition(tr[4], "check_duplicates", "duplicate_check", 1, 0, 0, 0, 0, false);
  check_transition(tr[5], "duplicate_check", "age_verification", 1, 0, 0, 0, 0, false);
  check_transition(tr[6], "age_verification", "adult_approval", 1, 1000, 1000, 1000, 1000, false);
  check_transition(tr[7], "adult_approval", "process_approval", 1, 1'800'000, 1'800'000, 1'800'000,
                   1'800'000, false);
  check_transition(tr[8], "process_approval", "approval_check", 1, 0, 0, 0, 0, false);
  check_transition(tr[9], "approval_check", "create_account", 1, 0, 0, 0, 0, false);
  check_transition(tr[10], "create_account", "send_welcome", 1, 0, 0, 0, 0, false);
  check_transition(tr[11], "send_welcome", "blockchain_record", 1, 6000, 6000, 6000, 6000, false);
  check_transition(tr[12], "blockchain_record", "registration_success", 1, 0, 0, 0, 0, false);

  CHECK(t.at("bottleneck_transitions") ==
        bj::parse(R"([{"transition":"adult_approval -> process_approval","from_step":"adult_approval",)"
                  R"("to_step":"process_approval","average_wait_time_ms":1800000,"count":1,)"
                  R"("total_wait_time_ms":1800000,"reason":"Manual approval process",)"
                  R"("suggestion":"Consider automated approval for low-risk cases"},)"
                  R"({"transition":"check_duplicates -> check_duplicates","from_step":"check_duplicates",)"
                  R"("to_step":"check_duplicates","average_wait_time_ms":60000,"count":1,)"
                  R"("total_wait_time_ms":60000,"reason":"Rework: Check Duplicates was repeated",)"
                  R"("suggestion":"Reduce failures and invalid inputs at Check Duplicates so cases do not repeat it"},)"
                  R"({"transition":"send_welcome -> blockchain_record","from_step":"send_welcome",)"
                  R"("to_step":"blockchain_record","average_wait_time_ms":6000,"count":1,)"
                  R"("total_wait_time_ms":6000,"reason":"Queue backlog before Record on Blockchain",)"
                  R"("suggestion":"Consider adding more execution workers for Record on Blockchain"}])"));
  CHECK(t.at("completed_instances") == 2);
  CHECK(num(t.at("total_average_completion_time_ms")) == 4'522'850);
  // Active: A 2900 (every step but the approval and the blockchain call), B 800.
  CHECK(num(t.at("citizen_active_time_ms")) == 1850);
  CHECK(num(t.at("citizen_waiting_time_ms")) == 4'521'000);   // (9039000 + 3000) / 2
  CHECK(t.at("rework_transitions") == 1);

  // A higher threshold keeps only the approval hand-off.
  const auto high = json("/workflows/" + wf + "/timing-analysis?threshold_ms=100000");
  REQUIRE(high.at("bottleneck_transitions").as_array().size() == 1);
  CHECK(high.at("bottleneck_transitions").at(0).at("transition") ==
        "adult_approval -> process_approval");
}

TEST_CASE_METHOD(history, "history: timing analysis of single cases", "[history]") {
  const auto a = json("/workflows/" + wf + "/timing-analysis?instance_id=case-A");
  CHECK(a.at("instance_id") == "case-A");
  const auto& tr = a.at("step_transitions").as_array();
  REQUIRE(tr.size() == 11);
  const std::vector<std::pair<std::string, double>> expected{
      {"validate_identity -> identity_check", 0},  {"identity_check -> check_duplicates", 1000},
      {"check_duplicates -> duplicate_check", 0},  {"duplicate_check -> age_verification", 0},
      {"age_verification -> adult_approval", 1000}, {"adult_approval -> process_approval", 1'800'000},
      {"process_approval -> approval_check", 0},   {"approval_check -> create_account", 0},
      {"create_account -> send_welcome", 0},       {"send_welcome -> blockchain_record", 6000},
      {"blockchain_record -> registration_success", 0}};
  for (std::size_t i = 0; i < tr.size(); ++i) {
    INFO(i);
    const std::string name = std::string(tr[i].at("from_step").as_string()) + " -> " +
                             std::string(tr[i].at("to_step").as_string());
    CHECK(name == expected[i].first);
    CHECK(num(tr[i].at("average_transition_time_ms")) == expected[i].second);
    CHECK(num(tr[i].at("p90_transition_time_ms")) == expected[i].second);   // exact per case
    CHECK(tr[i].at("count") == 1);
  }
  CHECK(a.at("bottleneck_transitions") ==
        bj::parse(R"([{"transition":"adult_approval -> process_approval","from_step":"adult_approval",)"
                  R"("to_step":"process_approval","average_wait_time_ms":1800000,"count":1,)"
                  R"("total_wait_time_ms":1800000,"reason":"Manual approval process",)"
                  R"("suggestion":"Consider automated approval for low-risk cases"},)"
                  R"({"transition":"send_welcome -> blockchain_record","from_step":"send_welcome",)"
                  R"("to_step":"blockchain_record","average_wait_time_ms":6000,"count":1,)"
                  R"("total_wait_time_ms":6000,"reason":"Waiting for external service blockchain_service",)"
                  R"("suggestion":"Consider asynchronous calls, caching or shorter timeouts for blockchain_service"}])"));
  CHECK(a.at("completed_instances") == 1);
  CHECK(num(a.at("total_average_completion_time_ms")) == 9'041'900);
  CHECK(num(a.at("citizen_active_time_ms")) == 2900);
  CHECK(num(a.at("citizen_waiting_time_ms")) == 9'039'000);

  // The open case: 62300 ms so far, 1800 of them active (the failed attempt too).
  const auto c = json("/workflows/" + wf + "/timing-analysis?instance_id=case-C");
  CHECK(c.at("completed_instances") == 0);
  CHECK(num(c.at("total_average_completion_time_ms")) == 62'300);
  CHECK(num(c.at("citizen_active_time_ms")) == 1800);
  CHECK(c.at("rework_transitions") == 1);
}

TEST_CASE_METHOD(history, "history: a rejected batch changes nothing", "[history]") {
  const auto before = json("/workflows/" + wf + "/performance");
  auto rows = second_batch();
  rows[1].c = rows[1].s - 1;   // completed before started
  const auto res = post(base + "/events", batch(rows));
  CHECK(res.status == 422);
  CHECK(test::detail_of(res) == "events[1].completed_at: before started_at");
  CHECK(json("/workflows/" + wf + "/performance") == before);
  CHECK(json("/health").at("total_tracked_executions") == 20);
}
