// The example handlers (register_example_handlers, declared in executor.hpp).
#include "civicperf/executor.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace civicperf;

namespace {

// 2026-03-15T12:00:00Z
const timestamp fixed_now{std::chrono::seconds(1'773'576'000)};

struct handlers {
  handlers() {
    registry.add_workflows(example_workflows());
    register_example_handlers(registry);
  }

  // Runs one handler directly, as the executor would.
  value run(std::string_view workflow_id, std::string_view step_id, const value& inputs,
            const value& context = value::make_object(), timestamp now = fixed_now) const {
    const auto wf = registry.find_workflow(workflow_id);
    REQUIRE(wf != nullptr);
    const step_definition* step = wf->find_step(step_id);
    REQUIRE(step != nullptr);
    const step_handler h = registry.handler(workflow_id, step_id);
    REQUIRE(h);
    return h(step_context{*wf, *step, inputs, context, "case-1", now, 1});
  }

  step_registry registry;
};

constexpr std::string_view citizen = "citizen_registration_v1";
constexpr std::string_view business = "business_license_v1";
constexpr std::string_view permit = "permit_renewal_v1";
constexpr std::string_view complaint = "complaint_handling_v1";

value john_doe(std::string id_number = "123456789", std::string document = "passport") {
  return value::make_object({{"first_name", "John"},
                             {"last_name", "Doe"},
                             {"id_number", std::move(id_number)},
                             {"id_document", std::move(document)}});
}

value strings(std::initializer_list<const char*> items) {
  value::array a;
  for (const char* s : items) a.emplace_back(s);
  return value(std::move(a));
}

bool get_bool(const value& v, std::string_view key) {
  const value* m = v.find(key);
  REQUIRE(m != nullptr);
  REQUIRE(m->is_bool());
  return *m->if_bool();
}

}  // namespace

TEST_CASE("every non-terminal example step gets a handler", "[example_handlers]") {
  handlers h;
  for (const auto& wf : example_workflows()) {
    for (const auto& step : wf.steps) {
      INFO(wf.id << " / " << step.id);
      CHECK(static_cast<bool>(h.registry.handler(wf.id, step.id)) ==
            (step.type != step_type::terminal));
    }
  }
}

TEST_CASE("example handlers skip workflows the registry does not hold", "[example_handlers]") {
  step_registry registry;
  for (const auto& wf : example_workflows())
    if (wf.id == citizen) registry.add_workflow(wf);
  register_example_handlers(registry);
  CHECK(registry.handler(citizen, "validate_identity"));
  CHECK_FALSE(registry.handler(business, "submit_application"));
}

TEST_CASE("example handlers keep handlers already set", "[example_handlers]") {
  step_registry registry;
  registry.add_workflows(example_workflows());
  registry.set_handler(citizen, "create_account", [](const step_context&) {
    return value::make_object({{"citizen_id", "CIT-1"}});
  });
  register_example_handlers(registry);
  const auto wf = registry.find_workflow(citizen);
  const value none = value::make_object();
  const step_context ctx{*wf, *wf->find_step("create_account"), none, none, "", fixed_now, 1};
  CHECK(registry.handler(citizen, "create_account")(ctx) ==
        value::make_object({{"citizen_id", "CIT-1"}}));
  CHECK(registry.handler(citizen, "send_welcome"));
}

TEST_CASE("identity verification: valid and invalid documents", "[example_handlers]") {
  handlers h;
  CHECK(h.run(citizen, "validate_identity", john_doe()) ==
        value::make_object({{"identity_verified", true},
                            {"verification_method", "document_scan"},
                            {"confidence_score", 0.95}}));
  const value not_verified = value::make_object({{"identity_verified", false},
                                                 {"verification_method", "document_scan"},
                                                 {"confidence_score", 0.2}});
  CHECK(h.run(citizen, "validate_identity", john_doe("12345678")) == not_verified);
  CHECK(h.run(citizen, "validate_identity", john_doe("12345678X")) == not_verified);
  CHECK(h.run(citizen, "validate_identity", john_doe("123456789", "library_card")) ==
        not_verified);
  CHECK(get_bool(h.run(citizen, "validate_identity", john_doe("1234567890", "national_id")),
                 "identity_verified"));
  CHECK(get_bool(h.run(citizen, "validate_identity", john_doe("123456789", "drivers_license")),
                 "identity_verified"));
}

TEST_CASE("the spec's validate_identity example through the executor", "[example_handlers]") {
  handlers h;
  manual_clock clock(fixed_now);
  step_executor executor(h.registry, nullptr, clock);
  execution_request req;
  req.step_id = "validate_identity";   // unambiguous without a workflow id
  req.inputs = john_doe();
  req.environment = "manual";
  const auto out = executor.execute(req);
  REQUIRE(out.lookup == step_lookup::outcome::found);
  CHECK(out.result.status == step_status::completed);
  CHECK(out.result.workflow_id == citizen);
  CHECK(get_bool(out.result.outputs, "identity_verified"));
}

TEST_CASE("conditional steps output the flags their edges test", "[example_handlers]") {
  handlers h;
  const value t = value::make_object({{"v", true}});
  SECTION("identity_check") {
    CHECK(h.run(citizen, "identity_check", value::make_object(),
                value::make_object({{"identity_verified", true}})) ==
          value::make_object({{"identity_verified", true}, {"identity_not_verified", false}}));
    CHECK(h.run(citizen, "identity_check", value::make_object(), value::make_object()) ==
          value::make_object({{"identity_verified", false}, {"identity_not_verified", true}}));
  }
  SECTION("duplicate_check") {
    CHECK(h.run(citizen, "duplicate_check", value::make_object(),
                value::make_object({{"duplicates_found", true}})) ==
          value::make_object({{"has_duplicates", true}, {"no_duplicates", false}}));
    CHECK(h.run(citizen, "duplicate_check", value::make_object(),
                value::make_object({{"duplicates_found", false}})) ==
          value::make_object({{"has_duplicates", false}, {"no_duplicates", true}}));
  }
  SECTION("approval_check reads the decision from the inputs or the context") {
    const value approved = value::make_object({{"is_approved", true}, {"is_rejected", false}});
    const value rejected = value::make_object({{"is_approved", false}, {"is_rejected", true}});
    CHECK(h.run(citizen, "approval_check", value::make_object({{"approved", true}})) == approved);
    CHECK(h.run(citizen, "approval_check", value::make_object(),
                value::make_object({{"decision", "approved"}})) == approved);
    CHECK(h.run(citizen, "approval_check", value::make_object(),
                value::make_object({{"decision", "rejected"}})) == rejected);
    CHECK(h.run(citizen, "approval_check", value::make_object()) == rejected);
    // The inputs win over the context.
    CHECK(h.run(citizen, "approval_check", value::make_object({{"approved", false}}),
                value::make_object({{"approved", true}})) == rejected);
  }
}

TEST_CASE("every example conditional step takes exactly one of its edges",
          "[example_handlers]") {
  handlers h;
  // Inputs that let every conditional handler run; each context sets one of
  // the flags the earlier steps produce, both ways.
  const value inputs = value::make_object({{"birth_date", "1990-06-01"},
                                           {"permit_number", "BL-2023-001"},
                                           {"business_type", "retail"}});
  for (const auto& wf : example_workflows()) {
    for (const auto& step : wf.steps) {
      if (step.type != step_type::conditional) continue;
      for (const bool setting : {true, false}) {
        value context = value::make_object();
        for (const auto& e : wf.edges) {
          if (e.from != step.id) continue;
          const std::string_view label = e.when;
          context.set(label.starts_with("not ") ? label.substr(4) : label, setting);
        }
        const value out = h.run(wf.id, step.id, inputs, context);
        int holding = 0;
        for (const auto& e : wf.edges) {
          if (e.from != step.id) continue;
          INFO(wf.id << " / " << step.id << " / " << e.when);
          const std::string_view label = e.when;
          const bool negated = label.starts_with("not ");
          const bool v = get_bool(out, negated ? label.substr(4) : label);
          if (v != negated) ++holding;
        }
        INFO(wf.id << " / " << step.id);
        // priority_check: both edges go to assign_case_officer, one holds.
        CHECK(holding == 1);
      }
    }
  }
}

TEST_CASE("duplicate check against the existing citizens", "[example_handlers]") {
  handlers h;
  const auto check = [&](const char* id, const char* email) {
    return h.run(citizen, "check_duplicates",
                 value::make_object({{"id_number", id}, {"email", email}}));
  };
  CHECK(check("123456789", "john.doe@example.org") ==
        value::make_object({{"duplicates_found", false},
                            {"duplicate_count", 0},
                            {"matched_fields", strings({})}}));
  CHECK(check("100000001", "john.doe@example.org") ==
        value::make_object({{"duplicates_found", true},
                            {"duplicate_count", 1},
                            {"matched_fields", strings({"id_number"})}}));
  CHECK(check("123456789", "Test@Example.com") ==
        value::make_object({{"duplicates_found", true},
                            {"duplicate_count", 1},
                            {"matched_fields", strings({"email"})}}));
  CHECK(check("100000002", "li.wei@example.org") ==
        value::make_object({{"duplicates_found", true},
                            {"duplicate_count", 2},
                            {"matched_fields", strings({"id_number", "email"})}}));
}

TEST_CASE("age verification counts whole years up to ctx.now", "[example_handlers]") {
  handlers h;
  const auto age = [&](const char* birth) {
    return h.run(citizen, "age_verification", value::make_object({{"birth_date", birth}}));
  };
  // ctx.now is 2026-03-15.
  CHECK(age("2008-03-15") ==
        value::make_object({{"calculated_age", 18}, {"is_adult", true}, {"is_minor", false}}));
  CHECK(age("2008-03-16") ==
        value::make_object({{"calculated_age", 17}, {"is_adult", false}, {"is_minor", true}}));
  CHECK(age("1990-01-01") ==
        value::make_object({{"calculated_age", 36}, {"is_adult", true}, {"is_minor", false}}));
  CHECK(age("2026-03-15") ==
        value::make_object({{"calculated_age", 0}, {"is_adult", false}, {"is_minor", true}}));
  CHECK_THROWS_AS(age("15/03/1990"), non_retryable_error);
  CHECK_THROWS_AS(age("2026-03-16"), non_retryable_error);
}

TEST_CASE("account, welcome email, guardian and approval processing", "[example_handlers]") {
  handlers h;
  const value account =
      h.run(citizen, "create_account", value::make_object({{"id_number", "123456789"}}));
  CHECK(account == value::make_object({{"citizen_id", "CIT-91921148"},
                                       {"account_status", "active"},
                                       {"created_at", "2026-03-15T12:00:00.000Z"}}));
  CHECK(*h.run(citizen, "create_account", value::make_object({{"id_number", "987654321"}}))
             .find("citizen_id") == value("CIT-35178412"));

  CHECK(h.run(citizen, "send_welcome", value::make_object({{"email", "john@example.org"}})) ==
        value::make_object({{"email_sent", true},
                            {"recipient", "john@example.org"},
                            {"template", "welcome_new_citizen"}}));
  CHECK(h.run(citizen, "guardian_notification",
              value::make_object(
                  {{"guardian_email", "jane@example.org"}, {"guardian_name", "Jane Doe"}})) ==
        value::make_object({{"notification_sent", true},
                            {"guardian_email", "jane@example.org"},
                            {"guardian_name", "Jane Doe"},
                            {"notification_method", "email"}}));
  CHECK(h.run(citizen, "process_approval", value::make_object(),
              value::make_object({{"approved", true}, {"approver", "supervisor"}})) ==
        value::make_object({{"approval_status", "approved"},
                            {"approved", true},
                            {"approved_by", "supervisor"},
                            {"processed_at", "2026-03-15T12:00:00.000Z"}}));
  CHECK(h.run(citizen, "adult_approval", value::make_object()) ==
        value::make_object({{"approval_requested", true},
                            {"approvers", strings({"registration_officer", "supervisor"})},
                            {"approval_type", "any"},
                            {"requested_at", "2026-03-15T12:00:00.000Z"}}));
}

TEST_CASE("blockchain record: transaction id derived from the inputs", "[example_handlers]") {
  handlers h;
  const value inputs = value::make_object({{"id_number", "123456789"}, {"email", "a@b.org"}});
  const value reordered = value::make_object({{"email", "a@b.org"}, {"id_number", "123456789"}});
  const value context = value::make_object({{"citizen_id", "CIT-91921148"}});
  const value a = h.run(citizen, "blockchain_record", inputs, context);
  CHECK(a == h.run(citizen, "blockchain_record", inputs, context));
  CHECK(a == h.run(citizen, "blockchain_record", reordered, context));
  const std::string tx = *a.find("transaction_id")->if_string();
  CHECK(tx.size() == 18);
  CHECK(tx.starts_with("0x"));
  // One block per 12 s since 2020-01-01: (1773576000 - 1577836800) / 12.
  CHECK(*a.find("block_number") == value(16'311'600));
  CHECK(*a.find("recorded_at") == value("2026-03-15T12:00:00.000Z"));
  const value other = h.run(citizen, "blockchain_record",
                            value::make_object({{"id_number", "123456780"}, {"email", "a@b.org"}}),
                            context);
  CHECK(*other.find("transaction_id") != *a.find("transaction_id"));
}

TEST_CASE("next_step names the edge to take where two unconditional edges leave a step",
          "[example_handlers]") {
  handlers h;
  SECTION("business license rejection notice") {
    const value inputs = value::make_object({{"owner_name", "Ana Silva"}});
    CHECK(h.run(business, "send_rejection_notice", inputs,
                value::make_object({{"initial_review_rejected", true}})) ==
          value::make_object({{"notice_sent", true},
                              {"recipient", "Ana Silva"},
                              {"rejection_stage", "initial"},
                              {"next_step", "initial_application_rejected"}}));
    CHECK(*h.run(business, "send_rejection_notice", inputs,
                 value::make_object({{"initial_review_approved", true},
                                     {"final_approval_denied", true}}))
               .find("next_step") == value("final_approval_rejected"));
  }
  SECTION("complaint notification") {
    const value inputs = value::make_object({{"complainant_contact", "ana@example.org"}});
    CHECK(h.run(complaint, "notify_complainant", inputs,
                value::make_object({{"complaint_substantiated", true}})) ==
          value::make_object({{"notification_sent", true},
                              {"recipient", "ana@example.org"},
                              {"outcome", "resolved"},
                              {"next_step", "close_complaint"}}));
    CHECK(*h.run(complaint, "notify_complainant", inputs,
                 value::make_object({{"complaint_substantiated", false}}))
               .find("next_step") == value("complaint_unsubstantiated"));
  }
}

TEST_CASE("business license: documents, fees, inspection, license", "[example_handlers]") {
  handlers h;
  value app = value::make_object(
      {{"business_name", "Sunrise Bakery"},
       {"business_type", "restaurant"},
       {"tax_id", "12-3456789"},
       {"owner_name", "Ana Silva"},
       {"documents", strings({"identity_document", "proof_of_address", "business_plan"})}});
  CHECK(*h.run(business, "submit_application", app).find("application_id") ==
        value("APP-39153794"));
  CHECK(h.run(business, "verify_documents", app) ==
        value::make_object(
            {{"documents_verified", true},
             {"verified_documents",
              strings({"identity_document", "proof_of_address", "business_plan"})},
             {"missing_documents", strings({})},
             {"rejected_documents", strings({})}}));
  value incomplete = app;
  incomplete.set("documents", strings({"proof_of_address", "identity_document"}));
  incomplete.set("unverifiable_documents", strings({"proof_of_address"}));
  CHECK(h.run(business, "verify_documents", incomplete) ==
        value::make_object({{"documents_verified", false},
                            {"verified_documents", strings({"identity_document"})},
                            {"missing_documents", strings({"business_plan"})},
                            {"rejected_documents", strings({"proof_of_address"})}}));

  CHECK(h.run(business, "inspection_requirement_check", app) ==
        value::make_object({{"requires_inspection", true}}));
  CHECK(h.run(business, "schedule_inspection", app) ==
        value::make_object({{"inspection_scheduled", true},
                            {"inspection_date", "2026-03-20"},
                            {"inspector_id", "INSP-794"}}));
  CHECK(h.run(business, "calculate_fees", app,
              value::make_object({{"requires_inspection", true}})) ==
        value::make_object({{"base_fee", 450},
                            {"inspection_fee", 125},
                            {"total_fee", 575},
                            {"currency", "USD"}}));
  value office = app;
  office.set("business_type", "office");
  CHECK(*h.run(business, "calculate_fees", office).find("total_fee") == value(150));

  value poor = app;
  poor.set("premises_condition", "poor");
  CHECK(h.run(business, "conduct_inspection", poor) ==
        value::make_object({{"inspection_passed", false},
                            {"inspection_score", 42},
                            {"violations", strings({"premises_condition"})}}));
  CHECK(get_bool(h.run(business, "conduct_inspection", app), "inspection_passed"));

  app.set("payment_method", "credit_card");
  const value paid = h.run(business, "process_payment", app,
                           value::make_object({{"total_fee", 575}}));
  CHECK(get_bool(paid, "payment_completed"));
  CHECK(*paid.find("amount_paid") == value(575));
  app.set("payment_method", "expired_card");
  const value declined = h.run(business, "process_payment", app,
                               value::make_object({{"total_fee", 575}}));
  CHECK_FALSE(get_bool(declined, "payment_completed"));
  CHECK(*declined.find("amount_paid") == value(0));
  CHECK(declined.find("transaction_id")->is_null());

  CHECK(h.run(business, "issue_license", app) ==
        value::make_object({{"license_number", "BL-2026-153794"},
                            {"license_status", "active"},
                            {"issued_at", "2026-03-15T12:00:00.000Z"},
                            {"valid_until", "2027-03-15"}}));
}

TEST_CASE("permit renewal: lookup, eligibility, compliance, fee, renewal", "[example_handlers]") {
  handlers h;
  const auto with = [](const char* number) {
    return value::make_object({{"permit_number", number}});
  };
  CHECK(h.run(permit, "lookup_permit", with("BL-2023-001")) ==
        value::make_object({{"permit_found", true},
                            {"permit_type", "business_license"},
                            {"holder_name", "Sunrise Bakery"},
                            {"permit_status", "active"},
                            {"expiry_date", "2026-03-31"}}));
  CHECK(h.run(permit, "lookup_permit", with("BL-2019-123")) ==
        value::make_object({{"permit_found", false}}));
  CHECK_THROWS_AS(h.run(permit, "check_permit_status", with("BL-2019-123")),
                  non_retryable_error);

  // Expired on 2025-11-30: 105 days before 2026-03-15, still renewable.
  CHECK(h.run(permit, "check_permit_status", with("BL-2022-017")) ==
        value::make_object({{"permit_status", "expired"},
                            {"days_until_expiry", -105},
                            {"eligible_for_renewal", true},
                            {"eligibility_reason", "Permit expired less than a year ago"}}));
  CHECK_FALSE(get_bool(h.run(permit, "check_permit_status", with("BP-2023-044")),
                       "eligible_for_renewal"));
  CHECK(h.run(permit, "check_compliance", with("BP-2024-031")) ==
        value::make_object({{"outstanding_violations", 1},
                            {"past_violations", 0},
                            {"compliance_score", 70},
                            {"has_good_compliance", false}}));
  CHECK(get_bool(h.run(permit, "manual_review_check", with("OP-2024-005")),
                 "requires_manual_review"));
  CHECK_FALSE(get_bool(h.run(permit, "manual_review_check", with("BL-2023-001")),
                       "requires_manual_review"));
  CHECK(h.run(permit, "calculate_renewal_fee", with("BL-2022-017")) ==
        value::make_object({{"renewal_fee", 150}, {"late_fee", 75}, {"total_fee", 225}}));
  CHECK(h.run(permit, "issue_renewed_permit", with("BL-2023-001")) ==
        value::make_object({{"renewed_permit_number", "BL-2026-001"},
                            {"new_expiry_date", "2027-03-31"},
                            {"issued_at", "2026-03-15T12:00:00.000Z"}}));
  // Expired: the new year starts today.
  CHECK(*h.run(permit, "issue_renewed_permit", with("BL-2022-017")).find("new_expiry_date") ==
        value("2027-03-15"));
  CHECK(h.run(permit, "schedule_inspection", with("BP-2024-010")) ==
        value::make_object({{"inspection_required", true}, {"inspection_date", "2026-03-29"}}));
  CHECK(h.run(permit, "schedule_inspection", with("BL-2023-001")) ==
        value::make_object({{"inspection_required", false}, {"inspection_date", value()}}));
}

TEST_CASE("complaints: categorised by keywords, assigned and escalated", "[example_handlers]") {
  handlers h;
  const auto complaint_of = [](const char* type, const char* description) {
    return value::make_object({{"complaint_type", type},
                               {"description", description},
                               {"complainant_contact", "ana@example.org"}});
  };
  const value noise = complaint_of("noise", "Loud music from the bar next door every night");
  CHECK(h.run(complaint, "categorize_complaint", noise) ==
        value::make_object(
            {{"category", "noise"}, {"priority", "normal"}, {"is_high_priority", false}}));
  CHECK(h.run(complaint, "categorize_complaint",
              complaint_of("other", "Strong gas leak smell near the bus stop")) ==
        value::make_object(
            {{"category", "safety"}, {"priority", "high"}, {"is_high_priority", true}}));
  CHECK(h.run(complaint, "categorize_complaint",
              complaint_of("water", "Urgent: water leak flooding the street")) ==
        value::make_object(
            {{"category", "utilities"}, {"priority", "high"}, {"is_high_priority", true}}));
  CHECK(*h.run(complaint, "categorize_complaint",
               complaint_of("other", "The opening hours on the website are wrong"))
             .find("category") == value("general"));

  CHECK(*h.run(complaint, "log_complaint", noise).find("complaint_id") == value("CMP-73935072"));
  CHECK(h.run(complaint, "assign_case_officer", noise) ==
        value::make_object({{"case_officer", "environmental_health_officer_03"},
                            {"department", "environmental_health"},
                            {"assigned_at", "2026-03-15T12:00:00.000Z"}}));
  CHECK(h.run(complaint, "initial_assessment", noise) ==
        value::make_object({{"severity", "low"},
                            {"requires_site_visit", false},
                            {"assessment_complete", true}}));

  value evidence = noise;
  evidence.set("evidence_provided", false);
  CHECK_FALSE(get_bool(h.run(complaint, "conduct_investigation", evidence),
                       "complaint_substantiated"));
  evidence.set("evidence_provided", true);
  CHECK(get_bool(h.run(complaint, "conduct_investigation", evidence), "complaint_substantiated"));

  CHECK_FALSE(get_bool(h.run(complaint, "escalation_check", noise), "requires_escalation"));
  value repeat = noise;
  repeat.set("previous_complaints", 3);
  CHECK(get_bool(h.run(complaint, "escalation_check", repeat), "requires_escalation"));
  CHECK(get_bool(h.run(complaint, "escalation_check", noise,
                       value::make_object({{"is_high_priority", true}})),
                 "requires_escalation"));
}

TEST_CASE("handlers are deterministic", "[example_handlers]") {
  handlers h;
  const value inputs = john_doe();
  for (const char* step : {"validate_identity", "create_account", "blockchain_record"}) {
    INFO(step);
    CHECK(h.run(citizen, step, inputs) == h.run(citizen, step, inputs));
  }
}
