#include "civicperf/workflow.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "civicperf/json.hpp"

using civicperf::definition_error;
using civicperf::edge_definition;
using civicperf::step_type;
using civicperf::workflow_definition;

namespace fs = std::filesystem;

namespace {

const std::string examples_dir = std::string(CIVICPERF_SOURCE_DIR) + "/examples/workflows";

struct step_row {
  std::string id;
  std::string name;
  step_type type;
  std::string description;
  std::string terminal_status;
  std::string required_inputs;   // joined by ", "
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Transcribed from the facts file (reference/example-workflows.json).
// citizen_registration_v1: 17 steps, 16 edges
const std::vector<step_row> citizen_steps = {
    {"validate_identity", "Validate Identity", step_type::action, "Verify citizen identity documents", "", "first_name, last_name, id_number, id_document"},
    {"identity_check", "Identity Verification Check", step_type::conditional, "Check if identity was verified", "", ""},
    {"check_duplicates", "Check Duplicates", step_type::action, "Check if citizen already exists", "", "email, id_number"},
    {"identity_failed", "Identity Verification Failed", step_type::terminal, "Could not verify citizen identity", "FAILURE", ""},
    {"duplicate_check", "Duplicate Check", step_type::conditional, "Check if duplicates were found", "", ""},
    {"age_verification", "Age Verification", step_type::conditional, "Route based on citizen age", "", "birth_date"},
    {"duplicate_found", "Duplicate Registration", step_type::terminal, "Citizen already exists in the system", "REJECTED", ""},
    {"adult_approval", "Adult Registration Approval", step_type::approval, "Approve adult citizen registration", "", ""},
    {"guardian_notification", "Notify Guardian", step_type::action, "Send notification to guardian for minor registration", "", "guardian_email, guardian_name"},
    {"process_approval", "Process Approval", step_type::action, "Process the approval decision", "", ""},
    {"minor_pending", "Minor Registration Pending", step_type::terminal, "Minor registration requires guardian approval", "PENDING", ""},
    {"approval_check", "Approval Decision", step_type::conditional, "Check approval status", "", ""},
    {"create_account", "Create Account", step_type::action, "Create citizen account in the system", "", ""},
    {"approval_rejected", "Registration Rejected", step_type::terminal, "Registration was rejected by approver", "REJECTED", ""},
    {"send_welcome", "Send Welcome Email", step_type::action, "Send welcome email to new citizen", "", ""},
    {"blockchain_record", "Record on Blockchain", step_type::integration, "Immortalize registration on blockchain", "", ""},
    {"registration_success", "Registration Successful", step_type::terminal, "Citizen registration completed successfully", "SUCCESS", ""},
};
const std::vector<edge_definition> citizen_edges = {
    {"validate_identity", "identity_check", ""},
    {"identity_check", "check_duplicates", "identity_verified"},
    {"identity_check", "identity_failed", "identity_not_verified"},
    {"check_duplicates", "duplicate_check", ""},
    {"duplicate_check", "age_verification", "no_duplicates"},
    {"duplicate_check", "duplicate_found", "has_duplicates"},
    {"age_verification", "adult_approval", "is_adult"},
    {"adult_approval", "process_approval", ""},
    {"process_approval", "approval_check", ""},
    {"approval_check", "create_account", "is_approved"},
    {"approval_check", "approval_rejected", "is_rejected"},
    {"age_verification", "guardian_notification", "is_minor"},
    {"guardian_notification", "minor_pending", ""},
    {"create_account", "send_welcome", ""},
    {"send_welcome", "blockchain_record", ""},
    {"blockchain_record", "registration_success", ""},
};

// business_license_v1: 25 steps, 26 edges
const std::vector<step_row> business_steps = {
    {"submit_application", "Submit Application", step_type::action, "Submit initial business license application", "", "business_name, business_type, address, owner_name, tax_id, documents"},
    {"initial_review", "Initial Review", step_type::action, "Conduct initial application review", "", ""},
    {"verify_documents", "Verify Documents", step_type::action, "Verify submitted documents", "", ""},
    {"document_verification_check", "Document Verification Check", step_type::conditional, "Check if documents are verified", "", ""},
    {"initial_approval", "Initial Application Approval", step_type::approval, "Initial approval by licensing officer", "", ""},
    {"document_verification_failed", "Document Verification Failed", step_type::terminal, "Required documents could not be verified", "FAILURE", ""},
    {"process_initial_approval", "Process Initial Approval", step_type::action, "Process initial approval decision", "", ""},
    {"initial_approval_check", "Initial Approval Decision", step_type::conditional, "Check initial approval decision", "", ""},
    {"inspection_requirement_check", "Inspection Requirement Check", step_type::conditional, "Check if inspection is required", "", ""},
    {"send_rejection_notice", "Send Rejection Notice", step_type::action, "Send rejection notice to applicant", "", ""},
    {"schedule_inspection", "Schedule Inspection", step_type::action, "Schedule on-site inspection", "", ""},
    {"calculate_fees", "Calculate Fees", step_type::action, "Calculate licensing fees", "", ""},
    {"initial_application_rejected", "Initial Application Rejected", step_type::terminal, "Application rejected at initial review", "REJECTED", ""},
    {"final_approval_rejected", "Final Approval Rejected", step_type::terminal, "Application rejected at final approval", "REJECTED", ""},
    {"conduct_inspection", "Conduct Inspection", step_type::action, "Perform on-site inspection", "", ""},
    {"final_approval", "Final License Approval", step_type::approval, "Final approval by department head", "", ""},
    {"inspection_result_check", "Inspection Result Check", step_type::conditional, "Check inspection results", "", ""},
    {"process_final_approval", "Process Final Approval", step_type::action, "Process final approval decision", "", ""},
    {"inspection_failed", "Inspection Failed", step_type::terminal, "Business premises failed inspection", "FAILURE", ""},
    {"final_approval_check", "Final Approval Decision", step_type::conditional, "Check final approval decision", "", ""},
    {"process_payment", "Process Payment", step_type::action, "Process license fee payment", "", ""},
    {"payment_verification", "Payment Verification", step_type::conditional, "Verify payment completion", "", ""},
    {"issue_license", "Issue License", step_type::action, "Issue the business license", "", ""},
    {"payment_failed", "Payment Processing Failed", step_type::terminal, "Could not process license fee payment", "FAILURE", ""},
    {"license_issued", "License Issued Successfully", step_type::terminal, "Business license issued successfully", "SUCCESS", ""},
};
const std::vector<edge_definition> business_edges = {
    {"submit_application", "initial_review", ""},
    {"initial_review", "verify_documents", ""},
    {"verify_documents", "document_verification_check", ""},
    {"document_verification_check", "initial_approval", "documents_verified"},
    {"document_verification_check", "document_verification_failed", "not documents_verified"},
    {"initial_approval", "process_initial_approval", ""},
    {"process_initial_approval", "initial_approval_check", ""},
    {"initial_approval_check", "inspection_requirement_check", "initial_review_approved"},
    {"initial_approval_check", "send_rejection_notice", "initial_review_rejected"},
    {"send_rejection_notice", "initial_application_rejected", ""},
    {"inspection_requirement_check", "schedule_inspection", "requires_inspection"},
    {"schedule_inspection", "conduct_inspection", ""},
    {"conduct_inspection", "inspection_result_check", ""},
    {"inspection_requirement_check", "calculate_fees", "not requires_inspection"},
    {"inspection_result_check", "calculate_fees", "inspection_passed"},
    {"inspection_result_check", "inspection_failed", "not inspection_passed"},
    {"calculate_fees", "final_approval", ""},
    {"final_approval", "process_final_approval", ""},
    {"process_final_approval", "final_approval_check", ""},
    {"final_approval_check", "process_payment", "final_approval_granted"},
    {"process_payment", "payment_verification", ""},
    {"final_approval_check", "send_rejection_notice", "final_approval_denied"},
    {"send_rejection_notice", "final_approval_rejected", ""},
    {"payment_verification", "issue_license", "payment_completed"},
    {"issue_license", "license_issued", ""},
    {"payment_verification", "payment_failed", "not payment_completed"},
};

// permit_renewal_v1: 23 steps, 23 edges
const std::vector<step_row> permit_steps = {
    {"lookup_permit", "Lookup Permit", step_type::action, "Look up existing permit information", "", "permit_number"},
    {"permit_existence_check", "Permit Existence Check", step_type::conditional, "Check if permit exists in system", "", ""},
    {"check_permit_status", "Check Permit Status", step_type::action, "Check current permit status and renewal eligibility", "", ""},
    {"permit_not_found", "Permit Not Found", step_type::terminal, "Permit not found in system", "FAILURE", ""},
    {"renewal_eligibility_check", "Renewal Eligibility Check", step_type::conditional, "Check if permit is eligible for renewal", "", ""},
    {"check_compliance", "Check Compliance History", step_type::action, "Review compliance history and outstanding issues", "", ""},
    {"not_eligible_for_renewal", "Not Eligible for Renewal", step_type::terminal, "Permit not eligible for renewal at this time", "REJECTED", ""},
    {"compliance_review", "Compliance Review", step_type::conditional, "Review compliance status", "", ""},
    {"manual_review_check", "Manual Review Requirement", step_type::conditional, "Determine if manual review is needed", "", ""},
    {"compliance_issues", "Compliance Issues", step_type::terminal, "Outstanding compliance issues prevent renewal", "FAILURE", ""},
    {"manual_renewal_review", "Manual Renewal Review", step_type::approval, "Manual review for complex renewals", "", ""},
    {"update_permit_info", "Update Permit Information", step_type::action, "Update permit information if needed", "", ""},
    {"process_manual_decision", "Process Manual Decision", step_type::action, "Process manual review decision", "", ""},
    {"calculate_renewal_fee", "Calculate Renewal Fee", step_type::action, "Calculate total renewal fees", "", ""},
    {"manual_decision_check", "Manual Decision Check", step_type::conditional, "Check manual review decision", "", ""},
    {"process_payment", "Process Payment", step_type::action, "Process renewal fee payment", "", ""},
    {"send_denial_notice", "Send Denial Notice", step_type::action, "Send renewal denial notice", "", ""},
    {"payment_verification", "Payment Verification", step_type::conditional, "Verify payment completion", "", ""},
    {"renewal_denied", "Renewal Denied", step_type::terminal, "Permit renewal application denied", "REJECTED", ""},
    {"issue_renewed_permit", "Issue Renewed Permit", step_type::action, "Issue the renewed permit", "", ""},
    {"payment_failed", "Payment Failed", step_type::terminal, "Payment processing failed", "FAILURE", ""},
    {"schedule_inspection", "Schedule Inspection", step_type::action, "Schedule post-renewal inspection if required", "", ""},
    {"renewal_completed", "Permit Renewed Successfully", step_type::terminal, "Permit renewal completed successfully", "SUCCESS", ""},
};
const std::vector<edge_definition> permit_edges = {
    {"lookup_permit", "permit_existence_check", ""},
    {"permit_existence_check", "check_permit_status", "permit_found"},
    {"permit_existence_check", "permit_not_found", "not permit_found"},
    {"check_permit_status", "renewal_eligibility_check", ""},
    {"renewal_eligibility_check", "check_compliance", "eligible_for_renewal"},
    {"renewal_eligibility_check", "not_eligible_for_renewal", "not eligible_for_renewal"},
    {"check_compliance", "compliance_review", ""},
    {"compliance_review", "manual_review_check", "has_good_compliance"},
    {"compliance_review", "compliance_issues", "not has_good_compliance"},
    {"manual_review_check", "manual_renewal_review", "requires_manual_review"},
    {"manual_renewal_review", "process_manual_decision", ""},
    {"process_manual_decision", "manual_decision_check", ""},
    {"manual_review_check", "update_permit_info", "not requires_manual_review"},
    {"manual_decision_check", "update_permit_info", "renewal_approved"},
    {"manual_decision_check", "send_denial_notice", "renewal_denied"},
    {"send_denial_notice", "renewal_denied", ""},
    {"update_permit_info", "calculate_renewal_fee", ""},
    {"calculate_renewal_fee", "process_payment", ""},
    {"process_payment", "payment_verification", ""},
    {"payment_verification", "issue_renewed_permit", "payment_successful"},
    {"issue_renewed_permit", "schedule_inspection", ""},
    {"schedule_inspection", "renewal_completed", ""},
    {"payment_verification", "payment_failed", "not payment_successful"},
};

// complaint_handling_v1: 21 steps, 24 edges
const std::vector<step_row> complaint_steps = {
    {"log_complaint", "Log Complaint", step_type::action, "Log the initial complaint submission", "", "complaint_type, description, complainant_contact"},
    {"categorize_complaint", "Categorize Complaint", step_type::action, "Automatically categorize and prioritize the complaint", "", ""},
    {"priority_check", "Priority Assessment", step_type::conditional, "Check complaint priority level", "", ""},
    {"assign_case_officer", "Assign Case Officer", step_type::action, "Assign appropriate case officer", "", ""},
    {"initial_assessment", "Initial Assessment", step_type::action, "Conduct initial assessment of the complaint", "", ""},
    {"site_visit_check", "Site Visit Requirement", step_type::conditional, "Check if site visit is required", "", ""},
    {"schedule_site_visit", "Schedule Site Visit", step_type::action, "Schedule site visit for investigation", "", ""},
    {"conduct_investigation", "Conduct Investigation", step_type::action, "Conduct detailed investigation", "", ""},
    {"substantiation_check", "Complaint Substantiation", step_type::conditional, "Check if complaint was substantiated", "", ""},
    {"escalation_check", "Escalation Assessment", step_type::conditional, "Check if escalation is required", "", ""},
    {"notify_complainant", "Notify Complainant", step_type::action, "Notify complainant of resolution", "", ""},
    {"supervisor_review", "Supervisor Review", step_type::approval, "Supervisor review for complex cases", "", ""},
    {"develop_resolution_plan", "Develop Resolution Plan", step_type::action, "Develop plan to resolve the complaint", "", ""},
    {"complaint_unsubstantiated", "Complaint Unsubstantiated", step_type::terminal, "Complaint investigation found no merit", "CLOSED", ""},
    {"close_complaint", "Close Case", step_type::action, "Close the complaint case", "", ""},
    {"process_supervisor_decision", "Process Supervisor Decision", step_type::action, "Process supervisor review decision", "", ""},
    {"implement_resolution", "Implement Resolution", step_type::action, "Implement the resolution plan", "", ""},
    {"complaint_resolved", "Complaint Resolved", step_type::terminal, "Complaint successfully resolved", "SUCCESS", ""},
    {"supervisor_decision_check", "Supervisor Decision", step_type::conditional, "Check supervisor decision", "", ""},
    {"escalate_complaint", "Escalate Complaint", step_type::action, "Escalate complaint to higher authority", "", ""},
    {"complaint_escalated", "Complaint Escalated", step_type::terminal, "Complaint escalated to higher authority", "ESCALATED", ""},
};
const std::vector<edge_definition> complaint_edges = {
    {"log_complaint", "categorize_complaint", ""},
    {"categorize_complaint", "priority_check", ""},
    {"priority_check", "assign_case_officer", "is_high_priority"},
    {"priority_check", "assign_case_officer", "not is_high_priority"},
    {"assign_case_officer", "initial_assessment", ""},
    {"initial_assessment", "site_visit_check", ""},
    {"site_visit_check", "schedule_site_visit", "requires_site_visit"},
    {"schedule_site_visit", "conduct_investigation", ""},
    {"site_visit_check", "conduct_investigation", "not requires_site_visit"},
    {"conduct_investigation", "substantiation_check", ""},
    {"substantiation_check", "escalation_check", "complaint_substantiated"},
    {"substantiation_check", "notify_complainant", "not complaint_substantiated"},
    {"notify_complainant", "complaint_unsubstantiated", ""},
    {"escalation_check", "supervisor_review", "requires_escalation"},
    {"supervisor_review", "process_supervisor_decision", ""},
    {"process_supervisor_decision", "supervisor_decision_check", ""},
    {"escalation_check", "develop_resolution_plan", "not requires_escalation"},
    {"supervisor_decision_check", "develop_resolution_plan", "supervisor_approved"},
    {"supervisor_decision_check", "escalate_complaint", "supervisor_rejected"},
    {"escalate_complaint", "complaint_escalated", ""},
    {"develop_resolution_plan", "implement_resolution", ""},
    {"implement_resolution", "notify_complainant", ""},
    {"notify_complainant", "close_complaint", ""},
    {"close_complaint", "complaint_resolved", ""},
};

void check_steps(const workflow_definition& def, const std::vector<step_row>& rows) {
  REQUIRE(def.steps.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO(def.id << " step " << rows[i].id);
    const auto& s = def.steps[i];
    CHECK(s.id == rows[i].id);
    CHECK(s.name == rows[i].name);
    CHECK(s.type == rows[i].type);
    CHECK(s.description == rows[i].description);
    CHECK(s.terminal_status == rows[i].terminal_status);
    CHECK(joined(s.required_inputs) == rows[i].required_inputs);
  }
}

void check_edges(const workflow_definition& def, const std::vector<edge_definition>& edges) {
  REQUIRE(def.edges.size() == edges.size());
  for (std::size_t i = 0; i < edges.size(); ++i) {
    INFO(def.id << " edge " << edges[i].from << " -> " << edges[i].to);
    CHECK(def.edges[i] == edges[i]);
  }
}

const civicperf::step_definition& step(const workflow_definition& def, std::string_view id) {
  const auto* s = def.find_step(id);
  REQUIRE(s != nullptr);
  return *s;
}

// A fresh directory under the system's temporary directory, removed afterwards.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("civicperf-loader-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  fs::path path_;
};

std::string minimal(const std::string& id) {
  return R"({"workflow_id": ")" + id + R"(", "name": "N", "steps": [
            {"id": "a", "name": "A", "type": "terminal", "terminal_status": "DONE"}]})";
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const definition_error& e) {
    return e.what();
  }
  return "(no error)";
}

workflow_definition round_trip(const workflow_definition& def) {
  return civicperf::parse_workflow_json(boost::json::serialize(boost::json::value_from(def)),
                                        "round-trip");
}

}  // namespace

TEST_CASE("examples: citizen registration", "[workflow][loader][examples]") {
  const auto def = civicperf::load_workflow_file(examples_dir + "/citizen_registration_v1.json");
  CHECK(def.id == "citizen_registration_v1");
  CHECK(def.name == "Citizen Registration");
  CHECK(def.description == "Complete workflow for registering new citizens with age-based routing");
  CHECK(def.version == "1.0");
  CHECK(def.start_steps == std::vector<std::string>{"validate_identity"});
  CHECK(def.steps.size() == 17);
  check_steps(def, citizen_steps);
  check_edges(def, citizen_edges);

  const auto& email = step(def, "check_duplicates").validations;
  REQUIRE(email.size() == 1);
  CHECK(email[0].rule == "email");
  CHECK(email[0].fields == std::vector<std::string>{"email"});
  CHECK(email[0].message == "Invalid email format");

  const auto& date = step(def, "age_verification").validations;
  REQUIRE(date.size() == 1);
  CHECK(date[0].rule == "date");
  CHECK(date[0].fields == std::vector<std::string>{"birth_date"});
  CHECK(date[0].format == "YYYY-MM-DD");
  CHECK(date[0].missing_message == "Birth date is required");
  CHECK(date[0].format_message == "Invalid date format. Use YYYY-MM-DD");
  CHECK(date[0].future_message == "Invalid birth date");
  CHECK(date[0].derives == "calculated_age");

  const auto& approval = step(def, "adult_approval");
  CHECK(approval.approvers == std::vector<std::string>{"registration_officer", "supervisor"});
  CHECK(approval.approval_type == civicperf::approval_mode::any);
  const auto& chain = step(def, "blockchain_record");
  CHECK(chain.service_name == "blockchain_service");
  CHECK(chain.endpoint == "https://api.blockchain.example/record");
}

TEST_CASE("examples: business license", "[workflow][loader][examples]") {
  const auto def = civicperf::load_workflow_file(examples_dir + "/business_license_v1.json");
  CHECK(def.id == "business_license_v1");
  CHECK(def.name == "Business License Application");
  CHECK(def.description ==
        "Complete workflow for business license applications with inspections and approvals");
  CHECK(def.start_steps == std::vector<std::string>{"submit_application"});
  CHECK(def.steps.size() == 25);
  check_steps(def, business_steps);
  check_edges(def, business_edges);

  const auto& rules = step(def, "submit_application").validations;
  REQUIRE(rules.size() == 3);
  CHECK(rules[0].rule == "non_empty");
  CHECK(rules[0].fields ==
        std::vector<std::string>{"business_name", "business_type", "address", "owner_name", "tax_id"});
  CHECK(rules[0].message == "{field} is required");
  CHECK(rules[1].rule == "digits_and_dashes");
  CHECK(rules[1].fields == std::vector<std::string>{"tax_id"});
  CHECK(rules[1].message == "Invalid tax ID format");
  CHECK(rules[2].rule == "contains_all");
  CHECK(rules[2].fields == std::vector<std::string>{"documents"});
  CHECK(rules[2].values ==
        std::vector<std::string>{"identity_document", "proof_of_address", "business_plan"});
  CHECK(rules[2].message == "Missing required document: {value}");

  CHECK(step(def, "initial_approval").approvers ==
        std::vector<std::string>{"licensing_officer", "supervisor"});
  CHECK(step(def, "initial_approval").approval_type == civicperf::approval_mode::any);
  CHECK(step(def, "final_approval").approvers == std::vector<std::string>{"department_head"});
  CHECK(step(def, "final_approval").approval_type == civicperf::approval_mode::all);
}

TEST_CASE("examples: permit renewal", "[workflow][loader][examples]") {
  const auto def = civicperf::load_workflow_file(examples_dir + "/permit_renewal_v1.json");
  CHECK(def.id == "permit_renewal_v1");
  CHECK(def.name == "Permit Renewal");
  CHECK(def.description == "Automated workflow for permit renewals with compliance checking");
  CHECK(def.start_steps == std::vector<std::string>{"lookup_permit"});
  CHECK(def.steps.size() == 23);
  check_steps(def, permit_steps);
  check_edges(def, permit_edges);

  const auto& rules = step(def, "lookup_permit").validations;
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].rule == "non_empty");
  CHECK(rules[0].fields == std::vector<std::string>{"permit_number"});
  CHECK(rules[0].message == "Permit number is required");
  CHECK(rules[1].rule == "prefix_one_of");
  CHECK(rules[1].fields == std::vector<std::string>{"permit_number"});
  CHECK(rules[1].prefixes == std::vector<std::string>{"BL-", "BP-", "OP-"});
  CHECK(rules[1].message == "Invalid permit number format");

  CHECK(step(def, "manual_renewal_review").approvers ==
        std::vector<std::string>{"renewal_officer", "supervisor"});
  CHECK(step(def, "manual_renewal_review").approval_type == civicperf::approval_mode::any);
}

TEST_CASE("examples: complaint handling", "[workflow][loader][examples]") {
  const auto def = civicperf::load_workflow_file(examples_dir + "/complaint_handling_v1.json");
  CHECK(def.id == "complaint_handling_v1");
  CHECK(def.name == "Complaint Handling");
  CHECK(def.description ==
        "Workflow for handling citizen complaints with investigation and resolution");
  CHECK(def.start_steps == std::vector<std::string>{"log_complaint"});
  CHECK(def.steps.size() == 21);
  check_steps(def, complaint_steps);
  check_edges(def, complaint_edges);

  const auto& rules = step(def, "log_complaint").validations;
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].rule == "non_empty");
  CHECK(rules[0].fields ==
        std::vector<std::string>{"complaint_type", "description", "complainant_contact"});
  CHECK(rules[0].message == "{field} is required");
  CHECK(rules[1].rule == "min_length");
  CHECK(rules[1].fields == std::vector<std::string>{"description"});
  CHECK(rules[1].min == 20);
  CHECK(rules[1].message == "Description must be at least 20 characters");

  CHECK(step(def, "supervisor_review").approvers ==
        std::vector<std::string>{"supervisor_001", "manager_001"});
  // both labelled edges priority_check -> assign_case_officer are kept
  int priority_edges = 0;
  for (const auto& e : def.edges) {
    priority_edges += e.from == "priority_check" && e.to == "assign_case_officer" ? 1 : 0;
  }
  CHECK(priority_edges == 2);
}

TEST_CASE("examples: load_workflow_dir and example_workflows agree", "[workflow][loader][examples]") {
  const auto from_dir = civicperf::load_workflow_dir(examples_dir);
  REQUIRE(from_dir.size() == 4);
  CHECK(from_dir[0].id == "business_license_v1");   // sorted by file name
  CHECK(from_dir[1].id == "citizen_registration_v1");
  CHECK(from_dir[2].id == "complaint_handling_v1");
  CHECK(from_dir[3].id == "permit_renewal_v1");

  const auto& embedded = civicperf::example_workflows();
  // the embedded copy is the directory's content, file for file
  CHECK(embedded == from_dir);
  CHECK(&civicperf::example_workflows() == &embedded);
}

TEST_CASE("examples: example_workflows is safe to call from several threads",
          "[workflow][loader][concurrency]") {
  std::vector<const std::vector<workflow_definition>*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &civicperf::example_workflows(); });
  }
  for (auto& t : threads) t.join();
  for (const auto* p : seen) CHECK(p == seen[0]);
  CHECK(seen[0]->size() == 4);
}

TEST_CASE("loader: files and directories", "[workflow][loader]") {
  temp_dir dir;
  const auto root = dir.path().string();

  SECTION("a missing file") {
    CHECK(error_of([&] { (void)civicperf::load_workflow_file(root + "/none.json"); }) ==
          root + "/none.json: cannot open file");
  }
  SECTION("not a directory") {
    CHECK(error_of([&] { (void)civicperf::load_workflow_dir(root + "/none"); }) ==
          root + "/none: not a directory");
  }
  SECTION("only *.json files, sorted by name") {
    dir.write("b.json", minimal("wb"));
    dir.write("a.json", minimal("wa"));
    dir.write("README.md", "not json");
    dir.write("c.json.bak", "{");
    fs::create_directories(dir.path() / "sub.json");   // a directory, skipped
    const auto defs = civicperf::load_workflow_dir(root);
    REQUIRE(defs.size() == 2);
    CHECK(defs[0].id == "wa");
    CHECK(defs[1].id == "wb");
  }
  SECTION("an empty directory") {
    CHECK(civicperf::load_workflow_dir(root).empty());
  }
  SECTION("a bad file is named") {
    dir.write("a.json", minimal("wa"));
    dir.write("b.json", R"({"workflow_id": "wb"})");
    CHECK(error_of([&] { (void)civicperf::load_workflow_dir(root); }) ==
          root + "/b.json: missing field 'name'");
  }
  SECTION("the same workflow id in two files") {
    dir.write("one.json", minimal("same"));
    dir.write("two.json", minimal("same"));
    CHECK(error_of([&] { (void)civicperf::load_workflow_dir(root); }) ==
          root + "/two.json: workflow 'same' is already defined in " + root + "/one.json");
  }
}

TEST_CASE("json: definitions serialize to the file format", "[workflow][loader][json]") {
  workflow_definition def;
  def.id = "w";
  def.name = "W";
  def.start_steps = {"a"};
  civicperf::step_definition a;
  a.id = "a";
  a.name = "A";
  a.required_inputs = {"x"};
  civicperf::validation_rule r;
  r.rule = "min_length";
  r.fields = {"x"};
  r.min = 3;
  r.message = "short";
  a.validations = {r};
  civicperf::step_definition z;
  z.id = "z";
  z.name = "Z";
  z.type = step_type::terminal;
  z.terminal_status = "DONE";
  def.steps = {a, z};
  def.edges = {{"a", "z", "ok"}};
  CHECK(boost::json::serialize(boost::json::value_from(def)) ==
        R"({"workflow_id":"w","name":"W","description":"","version":"1.0","start_step":"a",)"
        R"("steps":[{"id":"a","name":"A","type":"action","description":"","required_inputs":["x"],)"
        R"("validations":[{"rule":"min_length","field":"x","message":"short","min":3}]},)"
        R"({"id":"z","name":"Z","type":"terminal","description":"","terminal_status":"DONE"}],)"
        R"("edges":[{"from":"a","to":"z","when":"ok"}]})");

  civicperf::validation_rule custom;
  custom.rule = "postcode";
  custom.fields = {"p", "q"};
  custom.params = civicperf::value::make_object({{"country", "FR"}, {"rule", "shadowed"}});
  CHECK(boost::json::serialize(boost::json::value_from(custom)) ==
        R"({"rule":"postcode","fields":["p","q"],"country":"FR"})");
}

TEST_CASE("json: parse_workflow_json(serialize(def)) == def", "[workflow][loader][json]") {
  for (const auto& def : civicperf::example_workflows()) {
    INFO(def.id);
    CHECK(round_trip(def) == def);
  }

  // every field with a non-default value
  workflow_definition def;
  def.id = "everything";
  def.name = "Everything";
  def.description = "All the fields";
  def.version = "3.2";
  def.discovered = true;
  def.start_steps = {"ask", "walk_in"};
  civicperf::step_definition ask;
  ask.id = "ask";
  ask.name = "Ask";
  ask.description = "Asks";
  ask.required_inputs = {"a"};
  ask.optional_inputs = {"b", "c"};
  ask.actor = civicperf::step_actor::citizen;
  ask.depends_on = {"token"};
  civicperf::validation_rule date;
  date.rule = "date";
  date.fields = {"born"};
  date.format = "YYYY-MM-DD";
  date.missing_message = "m";
  date.format_message = "f";
  date.future_message = "u";
  date.derives = "calculated_age";
  civicperf::validation_rule docs;
  docs.rule = "contains_all";
  docs.fields = {"docs", "more_docs"};
  docs.values = {"x"};
  docs.message = "missing {value}";
  civicperf::validation_rule prefix;
  prefix.rule = "prefix_one_of";
  prefix.fields = {"p"};
  prefix.prefixes = {"A-", "B-"};
  civicperf::validation_rule custom;
  custom.rule = "postcode";
  custom.params = civicperf::value::make_object(
      {{"country", "FR"}, {"levels", civicperf::value::make_array({1, 2.5, nullptr, false})}});
  ask.validations = {date, docs, prefix, custom};
  civicperf::step_definition walk_in;
  walk_in.id = "walk_in";
  walk_in.name = "Walk in";
  walk_in.type = step_type::conditional;
  civicperf::step_definition approve;
  approve.id = "approve";
  approve.name = "Approve";
  approve.type = step_type::approval;
  approve.approvers = {"boss", "deputy"};
  approve.approval_type = civicperf::approval_mode::all;
  civicperf::step_definition call;
  call.id = "call";
  call.name = "Call";
  call.type = step_type::integration;
  call.service_name = "svc";
  call.endpoint = "https://svc.example";
  civicperf::step_definition end;
  end.id = "end";
  end.name = "End";
  end.type = step_type::terminal;
  end.terminal_status = "SUCCESS";
  def.steps = {ask, walk_in, approve, call, end};
  def.edges = {{"ask", "approve", ""},        {"walk_in", "approve", "in_person"},
               {"approve", "ask", "rework"},  {"approve", "call", "approved"},
               {"approve", "call", "forced"}, {"call", "end", ""}};
  REQUIRE_NOTHROW(civicperf::validate_definition(def, "test"));
  CHECK(round_trip(def) == def);

  // and a change in any member is noticed by the comparison the test relies on
  auto changed = def;
  changed.steps[0].validations[3].params.set("country", "DE");
  CHECK_FALSE(round_trip(changed) == def);
}
