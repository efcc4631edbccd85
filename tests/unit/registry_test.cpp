#include "civicperf/registry.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using civicperf::step_lookup;
using civicperf::step_registry;
using civicperf::step_type;
using civicperf::value;
using civicperf::workflow_definition;
using strings = std::vector<std::string>;

namespace {

const civicperf::timestamp today{std::chrono::seconds(20272LL * 86400 + 37800)};   // 2025-07-03

workflow_definition small_workflow(std::string id, std::string first_step = "start") {
  workflow_definition def;
  def.id = std::move(id);
  def.name = "Small " + def.id;
  def.description = "A small workflow";
  def.start_steps = {first_step};
  civicperf::step_definition a;
  a.id = first_step;
  a.name = "Start Here";
  a.required_inputs = {"x"};
  civicperf::step_definition z;
  z.id = "end";
  z.name = "The End";
  z.type = step_type::terminal;
  z.terminal_status = "SUCCESS";
  def.steps = {a, z};
  def.edges = {{first_step, "end", ""}};
  return def;
}

std::string definition_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const civicperf::definition_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string invalid_argument_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

strings ids_of(const std::vector<civicperf::step_summary>& steps) {
  strings out;
  for (const auto& s : steps) out.push_back(s.workflow_id + "/" + s.step_id);
  return out;
}

}  // namespace

TEST_CASE("registry: listing the example workflows", "[registry]") {
  step_registry registry;
  registry.add_workflows(civicperf::example_workflows());

  const auto workflows = registry.list_workflows();
  REQUIRE(workflows.size() == 4);
  // registration order: example_workflows() is sorted by file name
  CHECK(workflows[0].workflow_id == "business_license_v1");
  CHECK(workflows[0].name == "Business License Application");
  CHECK(workflows[0].step_count == 25);
  CHECK(workflows[1].workflow_id == "citizen_registration_v1");
  CHECK(workflows[1].name == "Citizen Registration");
  CHECK(workflows[1].description ==
        "Complete workflow for registering new citizens with age-based routing");
  CHECK(workflows[1].step_count == 17);
  CHECK(workflows[2].workflow_id == "complaint_handling_v1");
  CHECK(workflows[2].step_count == 21);
  CHECK(workflows[3].workflow_id == "permit_renewal_v1");
  CHECK(workflows[3].step_count == 23);

  CHECK(registry.list_steps().size() == 25 + 17 + 21 + 23);
  const auto citizen = registry.list_steps("citizen_registration_v1");
  REQUIRE(citizen.size() == 17);
  CHECK(citizen[0].step_id == "validate_identity");
  CHECK(citizen[0].name == "Validate Identity");
  CHECK(citizen[0].type == step_type::action);
  CHECK(citizen[0].workflow_id == "citizen_registration_v1");
  CHECK(citizen[7].step_id == "adult_approval");
  CHECK(citizen[7].type == step_type::approval);
  CHECK(citizen[16].step_id == "registration_success");
  CHECK(citizen[16].type == step_type::terminal);
  CHECK(registry.list_steps("no_such_workflow").empty());

  const auto all = registry.list_steps();
  CHECK(all.front().workflow_id == "business_license_v1");
  CHECK(all.front().step_id == "submit_application");
  CHECK(all.back().workflow_id == "permit_renewal_v1");
  CHECK(all.back().step_id == "renewal_completed");

  REQUIRE(registry.workflows().size() == 4);
  CHECK(registry.workflows()[2]->id == "complaint_handling_v1");
  const auto found = registry.find_workflow("permit_renewal_v1");
  REQUIRE(found != nullptr);
  CHECK(found->steps.size() == 23);
  CHECK(registry.find_workflow("nope") == nullptr);
}

TEST_CASE("registry: step lookup, ambiguous ids", "[registry]") {
  step_registry registry;
  registry.add_workflows(civicperf::example_workflows());

  SECTION("by workflow and step") {
    const auto r = registry.find_step("permit_renewal_v1", "process_payment");
    REQUIRE(r.found());
    CHECK(r.workflow->id == "permit_renewal_v1");
    REQUIRE(r.step != nullptr);
    CHECK(r.step->description == "Process renewal fee payment");
    CHECK(r.candidates.empty());
  }
  SECTION("a bare id in several workflows is ambiguous") {
    const auto r = registry.find_step("", "process_payment");
    CHECK(r.result == step_lookup::outcome::ambiguous);
    CHECK_FALSE(r.found());
    CHECK(r.candidates == strings{"business_license_v1", "permit_renewal_v1"});
    CHECK(r.workflow == nullptr);
    CHECK(r.step == nullptr);
    // the other ids shared by the same two workflows
    CHECK(registry.find_step("", "payment_verification").candidates ==
          strings{"business_license_v1", "permit_renewal_v1"});
    CHECK(registry.find_step("", "schedule_inspection").candidates ==
          strings{"business_license_v1", "permit_renewal_v1"});
  }
  SECTION("a bare id in one workflow is found") {
    const auto r = registry.find_step("", "blockchain_record");
    REQUIRE(r.found());
    CHECK(r.workflow->id == "citizen_registration_v1");
    CHECK(r.step->service_name == "blockchain_service");
  }
  SECTION("unknown workflow, unknown step") {
    CHECK(registry.find_step("nope", "process_payment").result ==
          step_lookup::outcome::unknown_workflow);
    CHECK(registry.find_step("citizen_registration_v1", "process_payment").result ==
          step_lookup::outcome::unknown_step);
    CHECK(registry.find_step("", "nope").result == step_lookup::outcome::unknown_step);
  }
  SECTION("the step stays valid as long as the workflow pointer") {
    step_lookup r;
    {
      step_registry scoped;
      scoped.add_workflow(small_workflow("w"));
      r = scoped.find_step("w", "start");
    }
    REQUIRE(r.found());
    CHECK(r.step->name == "Start Here");
    CHECK(r.step == &r.workflow->steps[0]);
  }
}

TEST_CASE("registry: search by id or name, case-insensitively", "[registry]") {
  step_registry registry;
  registry.add_workflows(civicperf::example_workflows());
  CHECK(ids_of(registry.search_steps("PAYMENT")) ==
        strings{"business_license_v1/process_payment", "business_license_v1/payment_verification",
                "business_license_v1/payment_failed", "permit_renewal_v1/process_payment",
                "permit_renewal_v1/payment_verification", "permit_renewal_v1/payment_failed"});
  // by name only: "Record on Blockchain" (id blockchain_record) and by id only
  CHECK(ids_of(registry.search_steps("record on")) ==
        strings{"citizen_registration_v1/blockchain_record"});
  CHECK(ids_of(registry.search_steps("_SUCCESS")) ==
        strings{"citizen_registration_v1/registration_success"});
  CHECK(ids_of(registry.search_steps("Supervisor Dec")) ==
        strings{"complaint_handling_v1/process_supervisor_decision",
                "complaint_handling_v1/supervisor_decision_check"});
  CHECK(registry.search_steps("no step is called like this").empty());
  CHECK(registry.search_steps("").size() == 86);
}

TEST_CASE("registry: adding workflows", "[registry]") {
  step_registry registry;
  registry.add_workflow(small_workflow("w1"));
  CHECK(definition_error_of([&] { registry.add_workflow(small_workflow("w1")); }) ==
        "workflow 'w1': already registered");

  auto bad = small_workflow("w2");
  bad.edges.push_back({"start", "nowhere", ""});
  CHECK(definition_error_of([&] { registry.add_workflow(bad); }) ==
        "workflow 'w2': step 'start': edge to unknown step 'nowhere'");

  // add_workflows is all or nothing
  CHECK(definition_error_of([&] {
          registry.add_workflows({small_workflow("w3"), bad});
        }) == "workflow 'w2': step 'start': edge to unknown step 'nowhere'");
  CHECK(definition_error_of([&] {
          registry.add_workflows({small_workflow("w3"), small_workflow("w3")});
        }) == "workflow 'w3': defined twice");
  CHECK(definition_error_of([&] {
          registry.add_workflows({small_workflow("w3"), small_workflow("w1")});
        }) == "workflow 'w1': already registered");
  REQUIRE(registry.list_workflows().size() == 1);
  registry.add_workflows({small_workflow("w3"), small_workflow("w4")});
  CHECK(registry.list_workflows().size() == 3);
  CHECK(registry.list_workflows()[2].workflow_id == "w4");
}

TEST_CASE("registry: handlers", "[registry]") {
  step_registry registry;
  registry.add_workflow(small_workflow("w"));
  CHECK_FALSE(registry.handler("w", "start"));
  CHECK_FALSE(registry.handler("nope", "start"));

  registry.set_handler("w", "start", [](const civicperf::step_context& ctx) {
    return value::make_object({{"attempt", ctx.attempt}, {"step", ctx.step.id}});
  });
  const auto h = registry.handler("w", "start");
  REQUIRE(h);
  const auto def = registry.find_workflow("w");
  const value inputs = value::make_object();
  const value context = value::make_object();
  const civicperf::step_context ctx{*def, def->steps[0], inputs, context, "case-1", today, 2};
  CHECK(h(ctx) == value::make_object({{"attempt", 2}, {"step", "start"}}));
  CHECK_FALSE(registry.handler("w", "end"));

  // replacing
  registry.set_handler("w", "start", [](const civicperf::step_context&) { return value(1); });
  CHECK(registry.handler("w", "start")(ctx) == value(1));

  CHECK(invalid_argument_of([&] { registry.set_handler("nope", "start", {}); }) ==
        "set_handler: unknown workflow 'nope'");
  CHECK(invalid_argument_of([&] { registry.set_handler("w", "nope", {}); }) ==
        "set_handler: unknown step 'nope' in workflow 'w'");
}

TEST_CASE("registry: validate combines declarative, custom and step rules", "[registry]") {
  step_registry registry;
  auto def = small_workflow("w");
  civicperf::validation_rule zip;
  zip.rule = "postcode";
  zip.fields = {"zip"};
  def.steps[0].validations = {zip};
  registry.add_workflow(def);
  registry.add_workflows(civicperf::example_workflows());
  const auto w = registry.find_workflow("w");
  const auto& start = w->steps[0];

  CHECK(registry.validate(*w, start, value::make_object({{"x", 1}}), today).errors ==
        strings{"Unknown validation rule: postcode"});

  registry.add_rule("postcode", [](const civicperf::validation_rule& r, const value& inputs) {
    const value* v = inputs.find(r.fields.at(0));
    return v != nullptr && *v == value("75001") ? strings{} : strings{"bad postcode"};
  });
  CHECK(registry.validate(*w, start, value::make_object({{"x", 1}, {"zip", "75001"}}), today)
            .is_valid);
  CHECK(registry.validate(*w, start, value::make_object(), today).errors ==
        strings{"Missing required input: x", "bad postcode"});

  registry.add_step_validator("w", "start", [](const value& inputs) {
    return inputs.find("y") != nullptr ? strings{} : strings{"y is needed too"};
  });
  registry.add_step_validator("w", "start", [](const value&) { return strings{"always"}; });
  CHECK(registry.validate(*w, start, value::make_object(), today).errors ==
        strings{"Missing required input: x", "bad postcode", "y is needed too", "always"});
  // step validators belong to their (workflow, step) only
  const auto end = w->find_step("end");
  CHECK(registry.validate(*w, *end, value::make_object(), today).is_valid);

  // the declarative rules of an example, with the derived age
  const auto citizen = registry.find_step("citizen_registration_v1", "age_verification");
  REQUIRE(citizen.found());
  const auto r = registry.validate(*citizen.workflow, *citizen.step,
                                   value::make_object({{"birth_date", "2010-12-24"}}), today);
  CHECK(r.is_valid);
  CHECK(r.derived == value::make_object({{"calculated_age", 14}}));

  CHECK(invalid_argument_of([&] { registry.add_rule("postcode", [](auto&, auto&) { return strings{}; }); }) ==
        "add_rule: 'postcode' is already registered");
  CHECK(invalid_argument_of([&] { registry.add_rule("email", [](auto&, auto&) { return strings{}; }); }) ==
        "add_rule: 'email' is a built-in rule");
  CHECK(invalid_argument_of([&] { registry.add_rule("", [](auto&, auto&) { return strings{}; }); }) ==
        "add_rule: empty rule name");
  CHECK(invalid_argument_of([&] { registry.add_rule("other", {}); }) ==
        "add_rule: no validator for 'other'");
  CHECK(invalid_argument_of([&] { registry.add_step_validator("w", "nope", [](const value&) { return strings{}; }); }) ==
        "add_step_validator: unknown step 'nope' in workflow 'w'");
  CHECK(invalid_argument_of([&] { registry.add_step_validator("nope", "start", [](const value&) { return strings{}; }); }) ==
        "add_step_validator: unknown workflow 'nope'");
  CHECK(invalid_argument_of([&] { registry.add_step_validator("w", "start", {}); }) ==
        "add_step_validator: empty validator");
}

TEST_CASE("registry: a validator may call back into the registry", "[registry]") {
  step_registry registry;
  registry.add_workflow(small_workflow("w"));
  // validate() runs user code without holding the lock, so this cannot deadlock
  registry.add_step_validator("w", "start", [&registry](const value&) {
    return strings{std::to_string(registry.list_workflows().size())};
  });
  const auto w = registry.find_workflow("w");
  CHECK(registry.validate(*w, w->steps[0], value::make_object({{"x", 1}}), today).errors ==
        strings{"1"});
}

TEST_CASE("registry: concurrent readers and writers", "[registry][concurrency]") {
  step_registry registry;
  registry.add_workflows(civicperf::example_workflows());
  constexpr int writers = 2;
  constexpr int per_writer = 50;
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0};
  std::atomic<long> wrong{0};

  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      long local = 0;
      while (!stop.load()) {
        const auto r = registry.find_step("", "process_payment");
        if (r.result != step_lookup::outcome::ambiguous || r.candidates.size() != 2) {
          ++wrong;
          break;
        }
        const auto w = registry.find_step("complaint_handling_v1", "log_complaint");
        if (!w.found()) {
          ++wrong;
          break;
        }
        const auto v = registry.validate(*w.workflow, *w.step, value::make_object(), today);
        if (v.errors.size() != 6) {
          ++wrong;
          break;
        }
        (void)registry.list_workflows();
        (void)registry.search_steps("payment");
        (void)registry.handler("citizen_registration_v1", "validate_identity");
        ++local;
      }
      lookups += local;
    });
  }
  std::vector<std::thread> writer_threads;
  for (int t = 0; t < writers; ++t) {
    writer_threads.emplace_back([&registry, t] {
      for (int i = 0; i < per_writer; ++i) {
        const auto id = "w" + std::to_string(t) + "_" + std::to_string(i);
        registry.add_workflow(small_workflow(id));
        registry.set_handler(id, "start", [](const civicperf::step_context&) { return value(1); });
        registry.add_rule("rule_" + id, [](auto&, auto&) { return strings{}; });
        registry.set_handler("citizen_registration_v1", "validate_identity",
                             [](const civicperf::step_context&) { return value(2); });
      }
    });
  }
  for (auto& t : writer_threads) t.join();
  stop = true;
  for (auto& t : readers) t.join();

  CHECK(wrong.load() == 0);
  CHECK(lookups.load() > 0);
  CHECK(registry.list_workflows().size() == 4 + writers * per_writer);
  CHECK(registry.list_steps().size() == 86 + 2 * writers * per_writer);
  // "start" now exists in 100 workflows: ambiguous, candidates sorted
  const auto start = registry.find_step("", "start");
  CHECK(start.result == step_lookup::outcome::ambiguous);
  REQUIRE(start.candidates.size() == writers * per_writer);
  CHECK(start.candidates.front() == "w0_0");
  CHECK(start.candidates[1] == "w0_1");
  CHECK(start.candidates[2] == "w0_10");
  CHECK(start.candidates.back() == "w1_9");
  for (int t = 0; t < writers; ++t) {
    for (int i = 0; i < per_writer; ++i) {
      CHECK(registry.handler("w" + std::to_string(t) + "_" + std::to_string(i), "start"));
    }
  }
}
