// Handlers for the four example workflows (examples/workflows/*.json) that
// behave like the original CivicStream steps. They are pure functions of the
// step's inputs, the case context and ctx.now: no randomness, no system clock,
// no I/O, so a simulation or a test replays them exactly.
//
// Conventions shared by every handler:
// - a value is looked up in the inputs first, then in the case context (the
//   engine merges earlier steps' outputs into the context);
// - a conditional step outputs the boolean flags its outgoing edges test,
//   both the label and its opposite (`identity_verified` and
//   `identity_not_verified`); a label `not X` is X false;
// - where two unconditional edges leave one step, the handler names the one
//   to take in `next_step`.

#include "civicperf/executor.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "civil_date.hpp"

namespace civicperf {

namespace {

// ---------------------------------------------------------------------------
// Reading inputs and context

const value* field(const step_context& ctx, std::string_view key) noexcept {
  if (const value* v = ctx.inputs.find(key); v != nullptr && !v->is_null()) return v;
  if (const value* v = ctx.context.find(key); v != nullptr && !v->is_null()) return v;
  return nullptr;
}

// A scalar as text (integers are written in decimal); "" when absent.
std::string text(const step_context& ctx, std::string_view key) {
  const value* v = field(ctx, key);
  if (v == nullptr) return {};
  if (const auto* s = v->if_string()) return *s;
  if (const auto* i = v->if_integer()) return std::to_string(*i);
  return {};
}

bool flag(const step_context& ctx, std::string_view key) noexcept {
  const value* v = field(ctx, key);
  const bool* b = v != nullptr ? v->if_bool() : nullptr;
  return b != nullptr && *b;
}

// A bool that is really present (as opposed to absent meaning false).
std::optional<bool> given_flag(const step_context& ctx, std::string_view key) noexcept {
  const value* v = field(ctx, key);
  const bool* b = v != nullptr ? v->if_bool() : nullptr;
  return b != nullptr ? std::optional<bool>(*b) : std::nullopt;
}

std::int64_t integer(const step_context& ctx, std::string_view key, std::int64_t fallback = 0) {
  const value* v = field(ctx, key);
  if (v == nullptr) return fallback;
  if (const auto* i = v->if_integer()) return *i;
  // Only doubles an int64 can hold convert (anything else is undefined behaviour).
  if (const auto d = v->as_number(); d && *d >= -9.2e18 && *d <= 9.2e18)
    return static_cast<std::int64_t>(*d);
  return fallback;
}

std::vector<std::string> strings(const step_context& ctx, std::string_view key) {
  std::vector<std::string> out;
  const value* v = field(ctx, key);
  if (v == nullptr) return out;
  if (const auto* a = v->if_array()) {
    for (const auto& item : *a)
      if (const auto* s = item.if_string()) out.push_back(*s);
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

value string_array(const std::vector<std::string>& items) {
  value::array a;
  a.reserve(items.size());
  for (const auto& s : items) a.emplace_back(s);
  return value(std::move(a));
}

// The decision of an approver: `approved` (bool) wins, else `decision`
// ("approved", "approve", "accepted", "granted" are yes). No decision is a no.
bool approved(const step_context& ctx) {
  if (const auto b = given_flag(ctx, "approved")) return *b;
  const std::string d = lower(text(ctx, "decision"));
  return d == "approved" || d == "approve" || d == "accepted" || d == "accept" ||
         d == "granted" || d == "grant";
}

// ---------------------------------------------------------------------------
// Deterministic identifiers and dates

// FNV-1a: stable across platforms and runs, unlike std::hash.
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037ULL) noexcept {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// The last `n` decimal digits of a hash, zero-padded.
std::string digits(std::uint64_t h, int n) {
  std::uint64_t mod = 1;
  for (int i = 0; i < n; ++i) mod *= 10;
  return fmt::format("{:0{}}", h % mod, n);
}

// Hashes a value's content; object members in key order, so a reordered
// object hashes the same.
std::uint64_t hash_value(const value& v, std::uint64_t h) {
  h = (h ^ (static_cast<std::uint64_t>(v.type()) + 1)) * 1099511628211ULL;
  switch (v.type()) {
    case value::kind::null:
      return h;
    case value::kind::boolean:
      return fnv1a(*v.if_bool() ? "t" : "f", h);
    case value::kind::integer:
      return fnv1a(std::to_string(*v.if_integer()), h);
    case value::kind::number:
      return fnv1a(fmt::format("{}", *v.as_number()), h);
    case value::kind::string:
      return fnv1a(*v.if_string(), h);
    case value::kind::array:
      for (const auto& item : *v.if_array()) h = hash_value(item, h);
      return h;
    case value::kind::object: {
      std::vector<const value::member*> members;
      for (const auto& m : *v.if_object()) members.push_back(&m);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      for (const auto* m : members) h = hash_value(m->second, fnv1a(m->first, h));
      return h;
    }
  }
  return h;
}

std::int64_t day_number(timestamp t) noexcept {
  const auto us = t.time_since_epoch().count();
  return us / detail::us_per_day - (us % detail::us_per_day < 0 ? 1 : 0);
}

std::string date_text(std::int64_t day) {
  const auto d = detail::civil_from_days(day);
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

// Days since 1970-01-01 of a `YYYY-MM-DD` date; nullopt when malformed.
std::optional<std::int64_t> parse_day(std::string_view s) noexcept {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  constexpr std::size_t starts[3] = {0, 5, 8};
  constexpr std::size_t lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = 0; i < lengths[p]; ++i) {
      const char c = s[starts[p] + i];
      if (c < '0' || c > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (c - '0');
    }
  }
  if (!detail::valid_date(parts[0], parts[1], parts[2])) return std::nullopt;
  return detail::days_from_civil(parts[0], parts[1], parts[2]);
}

// The same date one year later (29 February becomes 28 February).
std::int64_t plus_one_year(std::int64_t day) noexcept {
  const auto d = detail::civil_from_days(day);
  const int month = static_cast<int>(d.month);
  const int dom = std::min(static_cast<int>(d.day), detail::days_in_month(d.year + 1, month));
  return detail::days_from_civil(d.year + 1, month, dom);
}

value approval_request(const step_context& ctx) {
  return value::make_object({{"approval_requested", true},
                             {"approvers", string_array(ctx.step.approvers)},
                             {"approval_type", ctx.step.approval_type == approval_mode::all
                                                   ? "all"
                                                   : "any"},
                             {"requested_at", format_iso8601(ctx.now)}});
}

// Accepted payment methods; anything else (e.g. "expired_card") is declined.
bool payment_method_accepted(std::string_view method) noexcept {
  return method == "credit_card" || method == "debit_card" || method == "bank_transfer";
}

// ---------------------------------------------------------------------------
// citizen_registration_v1

// Citizens already registered: a case with one of these id numbers or emails
// is a duplicate.
struct existing_citizen {
  std::string_view id_number;
  std::string_view email;
};
constexpr std::array<existing_citizen, 5> existing_citizens{{
    {"100000001", "maria.garcia@example.org"},
    {"100000002", "li.wei@example.org"},
    {"100000003", "amina.okafor@example.org"},
    {"100000004", "jan.kowalski@example.org"},
    {"100000005", "sofia.rossi@example.org"},
}};
// Addresses known to belong to existing accounts (shared or test mailboxes).
constexpr std::array<std::string_view, 3> known_emails{
    "registered@example.com", "test@example.com", "info@civicstream.gov"};

value validate_identity(const step_context& ctx) {
  const std::string id = text(ctx, "id_number");
  const std::string doc = text(ctx, "id_document");
  const bool id_ok = id.size() >= 9 && std::all_of(id.begin(), id.end(), [](char c) {
                       return c >= '0' && c <= '9';
                     });
  const bool doc_ok = doc == "passport" || doc == "national_id" || doc == "drivers_license";
  const bool verified = id_ok && doc_ok;
  return value::make_object({{"identity_verified", verified},
                             {"verification_method", "document_scan"},
                             {"confidence_score", verified ? 0.95 : 0.2}});
}

value identity_check(const step_context& ctx) {
  const bool ok = flag(ctx, "identity_verified");
  return value::make_object({{"identity_verified", ok}, {"identity_not_verified", !ok}});
}

value check_duplicates(const step_context& ctx) {
  const std::string id = text(ctx, "id_number");
  const std::string email = lower(text(ctx, "email"));
  std::vector<std::string> matched;
  const bool id_match =
      !id.empty() && std::any_of(existing_citizens.begin(), existing_citizens.end(),
                                 [&](const auto& c) { return c.id_number == id; });
  const bool email_match =
      !email.empty() &&
      (std::any_of(existing_citizens.begin(), existing_citizens.end(),
                   [&](const auto& c) { return c.email == email; }) ||
       std::find(known_emails.begin(), known_emails.end(), email) != known_emails.end());
  if (id_match) matched.emplace_back("id_number");
  if (email_match) matched.emplace_back("email");
  return value::make_object({{"duplicates_found", !matched.empty()},
                             {"duplicate_count", static_cast<int>(matched.size())},
                             {"matched_fields", string_array(matched)}});
}

value duplicate_check(const step_context& ctx) {
  const bool dup = flag(ctx, "duplicates_found");
  return value::make_object({{"has_duplicates", dup}, {"no_duplicates", !dup}});
}

value age_verification(const step_context& ctx) {
  const std::string birth = text(ctx, "birth_date");
  const auto born = parse_day(birth);
  if (!born) throw non_retryable_error("Invalid date format. Use YYYY-MM-DD");
  const auto b = detail::civil_from_days(*born);
  const auto t = detail::civil_from_days(day_number(ctx.now));
  // Whole years: one less while this year's birthday is still ahead.
  std::int64_t age = t.year - b.year;
  if (t.month < b.month || (t.month == b.month && t.day < b.day)) --age;
  if (age < 0) throw non_retryable_error("Invalid birth date");
  return value::make_object(
      {{"calculated_age", age}, {"is_adult", age >= 18}, {"is_minor", age < 18}});
}

value guardian_notification(const step_context& ctx) {
  return value::make_object({{"notification_sent", true},
                             {"guardian_email", text(ctx, "guardian_email")},
                             {"guardian_name", text(ctx, "guardian_name")},
                             {"notification_method", "email"}});
}

value process_approval(const step_context& ctx) {
  const bool ok = approved(ctx);
  value out = value::make_object(
      {{"approval_status", ok ? "approved" : "rejected"}, {"approved", ok}});
  if (const std::string by = text(ctx, "approver"); !by.empty()) out.set("approved_by", by);
  out.set("processed_at", format_iso8601(ctx.now));
  return out;
}

value approval_check(const step_context& ctx) {
  const bool ok = approved(ctx);
  return value::make_object({{"is_approved", ok}, {"is_rejected", !ok}});
}

value create_account(const step_context& ctx) {
  const std::string id = text(ctx, "id_number");
  return value::make_object({{"citizen_id", "CIT-" + digits(fnv1a(id), 8)},
                             {"account_status", "active"},
                             {"created_at", format_iso8601(ctx.now)}});
}

value send_welcome(const step_context& ctx) {
  const std::string email = text(ctx, "email");
  return value::make_object({{"email_sent", !email.empty()},
                             {"recipient", email},
                             {"template", "welcome_new_citizen"}});
}

value blockchain_record(const step_context& ctx) {
  // The record covers the application and the account it created.
  std::uint64_t h = hash_value(ctx.inputs, 14695981039346656037ULL);
  h = fnv1a(text(ctx, "citizen_id"), h);
  // One block every 12 seconds since 2020-01-01.
  const auto since_2020 = ctx.now.time_since_epoch().count() / 1'000'000 - 1'577'836'800;
  return value::make_object({{"transaction_id", fmt::format("0x{:016x}", h)},
                             {"block_number", std::max<std::int64_t>(0, since_2020 / 12)},
                             {"recorded_at", format_iso8601(ctx.now)}});
}

// ---------------------------------------------------------------------------
// business_license_v1

constexpr std::array<std::string_view, 3> required_documents{
    "identity_document", "proof_of_address", "business_plan"};

bool inspection_required_for(std::string_view business_type) noexcept {
  return business_type == "restaurant" || business_type == "food_service" ||
         business_type == "bar" || business_type == "manufacturing" ||
         business_type == "childcare";
}

std::string application_key(const step_context& ctx) {
  return text(ctx, "tax_id") + "|" + text(ctx, "business_name");
}

value submit_application(const step_context& ctx) {
  return value::make_object(
      {{"application_id", "APP-" + digits(fnv1a(application_key(ctx)), 8)},
       {"application_status", "submitted"},
       {"submitted_at", format_iso8601(ctx.now)}});
}

value initial_review(const step_context& ctx) {
  const std::string type = text(ctx, "business_type");
  const char* risk = inspection_required_for(type) ? "high" : type == "retail" ? "medium" : "low";
  return value::make_object({{"review_complete", true},
                             {"risk_level", risk},
                             {"reviewed_at", format_iso8601(ctx.now)}});
}

value verify_documents(const step_context& ctx) {
  const auto given = strings(ctx, "documents");
  const auto unverifiable = strings(ctx, "unverifiable_documents");
  std::vector<std::string> verified;
  std::vector<std::string> missing;
  std::vector<std::string> rejected;
  for (const auto doc : required_documents) {
    if (!contains(given, doc)) {
      missing.emplace_back(doc);
    } else if (contains(unverifiable, doc)) {
      rejected.emplace_back(doc);
    } else {
      verified.emplace_back(doc);
    }
  }
  return value::make_object({{"documents_verified", missing.empty() && rejected.empty()},
                             {"verified_documents", string_array(verified)},
                             {"missing_documents", string_array(missing)},
                             {"rejected_documents", string_array(rejected)}});
}

value document_verification_check(const step_context& ctx) {
  return value::make_object({{"documents_verified", flag(ctx, "documents_verified")}});
}

value process_initial_approval(const step_context& ctx) {
  const bool ok = approved(ctx);
  return value::make_object(
      {{"initial_decision", ok ? "approved" : "rejected"}, {"initial_approved", ok}});
}

value initial_approval_check(const step_context& ctx) {
  const bool ok = given_flag(ctx, "initial_approved").value_or(approved(ctx));
  return value::make_object({{"initial_review_approved", ok}, {"initial_review_rejected", !ok}});
}

value inspection_requirement_check(const step_context& ctx) {
  return value::make_object(
      {{"requires_inspection", inspection_required_for(text(ctx, "business_type"))}});
}

value schedule_business_inspection(const step_context& ctx) {
  return value::make_object(
      {{"inspection_scheduled", true},
       {"inspection_date", date_text(day_number(ctx.now) + 5)},
       {"inspector_id", "INSP-" + digits(fnv1a(application_key(ctx)), 3)}});
}

value conduct_inspection(const step_context& ctx) {
  const std::string condition = lower(text(ctx, "premises_condition"));
  const bool passed = condition != "poor" && condition != "unsafe";
  value::array violations;
  if (!passed) violations.emplace_back("premises_condition");
  return value::make_object({{"inspection_passed", passed},
                             {"inspection_score", passed ? 88 : 42},
                             {"violations", value(std::move(violations))}});
}

value inspection_result_check(const step_context& ctx) {
  return value::make_object({{"inspection_passed", flag(ctx, "inspection_passed")}});
}

value calculate_fees(const step_context& ctx) {
  const std::string type = text(ctx, "business_type");
  const std::int64_t base = type == "restaurant"      ? 450
                            : type == "retail"        ? 250
                            : type == "office"        ? 150
                            : type == "manufacturing" ? 750
                            : type == "home_based"    ? 75
                                                      : 200;
  const std::int64_t inspection = flag(ctx, "requires_inspection") ? 125 : 0;
  return value::make_object({{"base_fee", base},
                             {"inspection_fee", inspection},
                             {"total_fee", base + inspection},
                             {"currency", "USD"}});
}

value process_final_approval(const step_context& ctx) {
  const bool ok = approved(ctx);
  return value::make_object(
      {{"final_decision", ok ? "approved" : "rejected"}, {"final_approved", ok}});
}

value final_approval_check(const step_context& ctx) {
  const bool ok = given_flag(ctx, "final_approved").value_or(approved(ctx));
  return value::make_object({{"final_approval_granted", ok}, {"final_approval_denied", !ok}});
}

value send_rejection_notice(const step_context& ctx) {
  // Reached from the initial and from the final approval; the context says which.
  const bool final_stage = flag(ctx, "final_approval_denied");
  return value::make_object(
      {{"notice_sent", true},
       {"recipient", text(ctx, "owner_name")},
       {"rejection_stage", final_stage ? "final" : "initial"},
       {"next_step", final_stage ? "final_approval_rejected" : "initial_application_rejected"}});
}

// Payment of `amount` with the case's payment method; `ok_flag` is the flag
// the workflow's payment verification tests.
value payment(const step_context& ctx, std::string_view ok_flag, std::int64_t amount) {
  const std::string method = text(ctx, "payment_method");
  const bool ok = payment_method_accepted(method);
  value out = value::make_object();
  out.set(ok_flag, ok);
  out.set("payment_method", method);
  out.set("amount_paid", ok ? amount : 0);
  out.set("transaction_id",
          ok ? value("PAY-" + digits(fnv1a(method + "|" + std::to_string(amount),
                                           hash_value(ctx.inputs, 14695981039346656037ULL)),
                                     10))
             : value());
  return out;
}

value business_payment(const step_context& ctx) {
  return payment(ctx, "payment_completed", integer(ctx, "total_fee"));
}

value business_payment_verification(const step_context& ctx) {
  return value::make_object({{"payment_completed", flag(ctx, "payment_completed")}});
}

value issue_license(const step_context& ctx) {
  const auto today = day_number(ctx.now);
  const auto year = detail::civil_from_days(today).year;
  return value::make_object(
      {{"license_number",
        fmt::format("BL-{}-{}", year, digits(fnv1a(application_key(ctx)), 6))},
       {"license_status", "active"},
       {"issued_at", format_iso8601(ctx.now)},
       {"valid_until", date_text(plus_one_year(today))}});
}

// ---------------------------------------------------------------------------
// permit_renewal_v1

struct permit_record {
  std::string_view number;
  std::string_view type;
  std::string_view holder;
  std::string_view status;   // active | expired | suspended | revoked
  std::string_view expiry;   // YYYY-MM-DD
  int outstanding_violations;
  int past_violations;
};

// The permits on file. BL- business licenses, BP- building permits, OP-
// operating permits.
constexpr std::array<permit_record, 10> permits{{
    {"BL-2023-001", "business_license", "Sunrise Bakery", "active", "2026-03-31", 0, 0},
    {"BL-2023-002", "business_license", "Corner Market", "active", "2026-02-15", 0, 2},
    {"BL-2022-017", "business_license", "Harbor Books", "expired", "2025-11-30", 0, 0},
    {"BL-2024-008", "business_license", "Green Leaf Cafe", "active", "2026-05-31", 0, 0},
    {"BP-2024-010", "building_permit", "Oak Street Renovation", "active", "2026-06-30", 0, 0},
    {"BP-2023-044", "building_permit", "Riverside Lofts", "suspended", "2026-01-31", 2, 1},
    {"BP-2024-031", "building_permit", "Maple Avenue Garage", "active", "2026-04-30", 1, 0},
    {"OP-2024-005", "operating_permit", "City Night Market", "active", "2026-03-15", 0, 0},
    {"OP-2021-002", "operating_permit", "Eastside Scrap Yard", "revoked", "2024-12-31", 3, 4},
    {"OP-2024-012", "operating_permit", "Lakeside Food Trucks", "active", "2026-08-31", 0, 1},
}};

const permit_record* find_permit(std::string_view number) noexcept {
  for (const auto& p : permits)
    if (p.number == number) return &p;
  return nullptr;
}

const permit_record& require_permit(const step_context& ctx) {
  const std::string number = text(ctx, "permit_number");
  const permit_record* p = find_permit(number);
  if (p == nullptr) throw non_retryable_error(fmt::format("Permit not found: {}", number));
  return *p;
}

std::int64_t days_until_expiry(const permit_record& p, timestamp now) noexcept {
  return *parse_day(p.expiry) - day_number(now);
}

value lookup_permit(const step_context& ctx) {
  const permit_record* p = find_permit(text(ctx, "permit_number"));
  if (p == nullptr) return value::make_object({{"permit_found", false}});
  return value::make_object({{"permit_found", true},
                             {"permit_type", p->type},
                             {"holder_name", p->holder},
                             {"permit_status", p->status},
                             {"expiry_date", p->expiry}});
}

value permit_existence_check(const step_context& ctx) {
  return value::make_object({{"permit_found", flag(ctx, "permit_found")}});
}

value check_permit_status(const step_context& ctx) {
  const permit_record& p = require_permit(ctx);
  const auto days = days_until_expiry(p, ctx.now);
  // Active permits renew any time; expired ones within a year of expiry.
  bool eligible = false;
  std::string reason;
  if (p.status == "active") {
    eligible = true;
    reason = "Permit is active";
  } else if (p.status == "expired" && days >= -365) {
    eligible = true;
    reason = "Permit expired less than a year ago";
  } else if (p.status == "expired") {
    reason = "Permit expired more than a year ago";
  } else {
    reason = fmt::format("Permit is {}", p.status);
  }
  return value::make_object({{"permit_status", p.status},
                             {"days_until_expiry", days},
                             {"eligible_for_renewal", eligible},
                             {"eligibility_reason", reason}});
}

value renewal_eligibility_check(const step_context& ctx) {
  return value::make_object({{"eligible_for_renewal", flag(ctx, "eligible_for_renewal")}});
}

value check_compliance(const step_context& ctx) {
  const permit_record& p = require_permit(ctx);
  const int score = std::max(0, 100 - 10 * p.past_violations - 30 * p.outstanding_violations);
  return value::make_object({{"outstanding_violations", p.outstanding_violations},
                             {"past_violations", p.past_violations},
                             {"compliance_score", score},
                             {"has_good_compliance", p.outstanding_violations == 0}});
}

value compliance_review(const step_context& ctx) {
  return value::make_object({{"has_good_compliance", flag(ctx, "has_good_compliance")}});
}

value manual_review_check(const step_context& ctx) {
  const permit_record& p = require_permit(ctx);
  // Operating permits, a history of violations and requested changes get a person.
  const bool manual = p.type == "operating_permit" || p.past_violations > 0 ||
                      !is_blank(field(ctx, "requested_changes"));
  return value::make_object({{"requires_manual_review", manual}});
}

value process_manual_decision(const step_context& ctx) {
  const bool ok = approved(ctx);
  return value::make_object(
      {{"manual_decision", ok ? "approved" : "rejected"}, {"renewal_approved", ok}});
}

value manual_decision_check(const step_context& ctx) {
  const bool ok = given_flag(ctx, "renewal_approved").value_or(approved(ctx));
  return value::make_object({{"renewal_approved", ok}, {"renewal_denied", !ok}});
}

value update_permit_info(const step_context& ctx) {
  std::vector<std::string> updated;
  for (const char* f : {"new_address", "new_holder_name", "new_contact"})
    if (!is_blank(ctx.inputs.find(f))) updated.emplace_back(f);
  return value::make_object(
      {{"permit_info_updated", !updated.empty()}, {"updated_fields", string_array(updated)}});
}

value calculate_renewal_fee(const step_context& ctx) {
  const permit_record& p = require_permit(ctx);
  const std::int64_t fee = p.type == "building_permit"    ? 250
                           : p.type == "operating_permit" ? 400
                                                          : 150;
  const std::int64_t late = days_until_expiry(p, ctx.now) < 0 ? 75 : 0;
  return value::make_object({{"renewal_fee", fee}, {"late_fee", late}, {"total_fee", fee + late}});
}

value permit_payment(const step_context& ctx) {
  return payment(ctx, "payment_successful", integer(ctx, "total_fee"));
}

value permit_payment_verification(const step_context& ctx) {
  return value::make_object({{"payment_successful", flag(ctx, "payment_successful")}});
}

value send_denial_notice(const step_context& ctx) {
  const permit_record* p = find_permit(text(ctx, "permit_number"));
  return value::make_object(
      {{"notice_sent", true},
       {"recipient", p != nullptr ? std::string(p->holder) : text(ctx, "holder_name")},
       {"denial_reason", "Renewal denied at manual review"}});
}

value issue_renewed_permit(const step_context& ctx) {
  const permit_record& p = require_permit(ctx);
  const auto today = day_number(ctx.now);
  const auto new_expiry = plus_one_year(std::max(*parse_day(p.expiry), today));
  // Same prefix and serial, the year of renewal: BL-2023-001 -> BL-2026-001.
  const auto year = detail::civil_from_days(today).year;
  return value::make_object(
      {{"renewed_permit_number",
        fmt::format("{}{}{}", p.number.substr(0, 3), year, p.number.substr(7))},
       {"new_expiry_date", date_text(new_expiry)},
       {"issued_at", format_iso8601(ctx.now)}});
}

value schedule_permit_inspection(const step_context& ctx) {
  const permit_record& p = require_permit(ctx);
  const bool required = p.type == "building_permit";
  return value::make_object(
      {{"inspection_required", required},
       {"inspection_date", required ? value(date_text(day_number(ctx.now) + 14)) : value()}});
}

// ---------------------------------------------------------------------------
// complaint_handling_v1

struct complaint_category {
  std::string_view name;
  std::string_view department;
  std::array<std::string_view, 7> keywords;   // empty entries are unused
  bool high_priority;
  bool site_visit;
};

// First match wins, so safety hazards ("gas leak") beat utilities ("leak").
constexpr std::array<complaint_category, 5> categories{{
    {"safety", "public_safety",
     {"unsafe", "danger", "fire", "gas", "collapse", "hazard", "injur"}, true, true},
    {"utilities", "water_services", {"water", "sewage", "pipe", "leak", "flood", "", ""}, false,
     true},
    {"infrastructure", "public_works",
     {"pothole", "road", "street", "sidewalk", "traffic", "bridge", ""}, false, true},
    {"sanitation", "sanitation", {"garbage", "trash", "waste", "rats", "litter", "dump", ""},
     false, true},
    {"noise", "environmental_health", {"noise", "loud", "music", "barking", "", "", ""}, false,
     false},
}};

const complaint_category* categorize(const step_context& ctx) {
  const std::string haystack =
      lower(text(ctx, "complaint_type")) + " " + lower(text(ctx, "description"));
  for (const auto& c : categories) {
    for (const auto k : c.keywords)
      if (!k.empty() && haystack.find(k) != std::string::npos) return &c;
  }
  return nullptr;
}

std::string complaint_key(const step_context& ctx) {
  return text(ctx, "complaint_type") + "|" + text(ctx, "description") + "|" +
         text(ctx, "complainant_contact");
}

bool urgent(const step_context& ctx) {
  const std::string d = lower(text(ctx, "description"));
  return d.find("urgent") != std::string::npos || d.find("emergency") != std::string::npos;
}

value log_complaint(const step_context& ctx) {
  return value::make_object({{"complaint_id", "CMP-" + digits(fnv1a(complaint_key(ctx)), 8)},
                             {"complaint_status", "logged"},
                             {"logged_at", format_iso8601(ctx.now)}});
}

value categorize_complaint(const step_context& ctx) {
  const complaint_category* c = categorize(ctx);
  const bool high = (c != nullptr && c->high_priority) || urgent(ctx);
  return value::make_object({{"category", c != nullptr ? c->name : "general"},
                             {"priority", high ? "high" : "normal"},
                             {"is_high_priority", high}});
}

value priority_check(const step_context& ctx) {
  return value::make_object({{"is_high_priority", flag(ctx, "is_high_priority")}});
}

value assign_case_officer(const step_context& ctx) {
  const complaint_category* c = categorize(ctx);
  const std::string_view department = c != nullptr ? c->department : "citizen_services";
  // Three officers per department; the complaint decides which, stably.
  const auto n = fnv1a(complaint_key(ctx)) % 3 + 1;
  return value::make_object({{"case_officer", fmt::format("{}_officer_{:02}", department, n)},
                             {"department", department},
                             {"assigned_at", format_iso8601(ctx.now)}});
}

value initial_assessment(const step_context& ctx) {
  const complaint_category* c = categorize(ctx);
  const bool high = flag(ctx, "is_high_priority") || (c != nullptr && c->high_priority);
  const char* severity = high ? "high" : (c != nullptr && c->site_visit) ? "medium" : "low";
  return value::make_object({{"severity", severity},
                             {"requires_site_visit", c != nullptr && c->site_visit},
                             {"assessment_complete", true}});
}

value site_visit_check(const step_context& ctx) {
  return value::make_object({{"requires_site_visit", flag(ctx, "requires_site_visit")}});
}

value schedule_site_visit(const step_context& ctx) {
  const int days = flag(ctx, "is_high_priority") ? 1 : 3;
  return value::make_object({{"site_visit_scheduled", true},
                             {"site_visit_date", date_text(day_number(ctx.now) + days)}});
}

value conduct_investigation(const step_context& ctx) {
  // Evidence decides; without a statement about it, a site visit or a
  // detailed description (40+ characters) substantiates the complaint.
  bool substantiated = false;
  if (const auto evidence = given_flag(ctx, "evidence_provided")) {
    substantiated = *evidence;
  } else {
    substantiated = flag(ctx, "site_visit_scheduled") || text(ctx, "description").size() >= 40;
  }
  return value::make_object(
      {{"complaint_substantiated", substantiated},
       {"findings", substantiated ? "Complaint confirmed by investigation"
                                  : "No evidence supporting the complaint"},
       {"investigation_complete", true}});
}

value substantiation_check(const step_context& ctx) {
  return value::make_object({{"complaint_substantiated", flag(ctx, "complaint_substantiated")}});
}

value escalation_check(const step_context& ctx) {
  const bool escalate = flag(ctx, "is_high_priority") || integer(ctx, "previous_complaints") >= 3;
  return value::make_object({{"requires_escalation", escalate}});
}

value process_supervisor_decision(const step_context& ctx) {
  const bool ok = approved(ctx);
  return value::make_object(
      {{"supervisor_decision", ok ? "approved" : "rejected"}, {"supervisor_approved", ok}});
}

value supervisor_decision_check(const step_context& ctx) {
  const bool ok = given_flag(ctx, "supervisor_approved").value_or(approved(ctx));
  return value::make_object({{"supervisor_approved", ok}, {"supervisor_rejected", !ok}});
}

value escalate_complaint(const step_context& ctx) {
  const complaint_category* c = categorize(ctx);
  const bool safety = c != nullptr && c->name == "safety";
  return value::make_object(
      {{"escalated", true},
       {"escalated_to", safety ? "emergency_services" : "department_director"},
       {"escalation_reference", "ESC-" + digits(fnv1a(complaint_key(ctx)), 6)}});
}

value develop_resolution_plan(const step_context& ctx) {
  const complaint_category* c = categorize(ctx);
  const std::string_view category = c != nullptr ? c->name : "general";
  const bool high = flag(ctx, "is_high_priority");
  return value::make_object(
      {{"resolution_plan", fmt::format("Resolve {} complaint via {}", category,
                                       c != nullptr ? c->department : "citizen_services")},
       {"target_resolution_days", high ? 3 : 14},
       {"plan_ready", true}});
}

value implement_resolution(const step_context& ctx) {
  return value::make_object(
      {{"resolution_implemented", true}, {"implemented_at", format_iso8601(ctx.now)}});
}

value notify_complainant(const step_context& ctx) {
  // Reached after a resolution (substantiated) or after an investigation that
  // found nothing; the two continue differently.
  const bool substantiated = flag(ctx, "complaint_substantiated");
  return value::make_object(
      {{"notification_sent", true},
       {"recipient", text(ctx, "complainant_contact")},
       {"outcome", substantiated ? "resolved" : "unsubstantiated"},
       {"next_step", substantiated ? "close_complaint" : "complaint_unsubstantiated"}});
}

value close_complaint(const step_context& ctx) {
  return value::make_object({{"case_closed", true},
                             {"resolution_status", "resolved"},
                             {"closed_at", format_iso8601(ctx.now)}});
}

// ---------------------------------------------------------------------------

struct handler_entry {
  std::string_view workflow_id;
  std::string_view step_id;
  value (*fn)(const step_context&);
};

constexpr std::string_view citizen = "citizen_registration_v1";
constexpr std::string_view business = "business_license_v1";
constexpr std::string_view permit = "permit_renewal_v1";
constexpr std::string_view complaint = "complaint_handling_v1";

constexpr handler_entry example_handlers[] = {
    {citizen, "validate_identity", validate_identity},
    {citizen, "identity_check", identity_check},
    {citizen, "check_duplicates", check_duplicates},
    {citizen, "duplicate_check", duplicate_check},
    {citizen, "age_verification", age_verification},
    {citizen, "adult_approval", approval_request},
    {citizen, "guardian_notification", guardian_notification},
    {citizen, "process_approval", process_approval},
    {citizen, "approval_check", approval_check},
    {citizen, "create_account", create_account},
    {citizen, "send_welcome", send_welcome},
    {citizen, "blockchain_record", blockchain_record},

    {business, "submit_application", submit_application},
    {business, "initial_review", initial_review},
    {business, "verify_documents", verify_documents},
    {business, "document_verification_check", document_verification_check},
    {business, "initial_approval", approval_request},
    {business, "process_initial_approval", process_initial_approval},
    {business, "initial_approval_check", initial_approval_check},
    {business, "inspection_requirement_check", inspection_requirement_check},
    {business, "send_rejection_notice", send_rejection_notice},
    {business, "schedule_inspection", schedule_business_inspection},
    {business, "calculate_fees", calculate_fees},
    {business, "conduct_inspection", conduct_inspection},
    {business, "final_approval", approval_request},
    {business, "inspection_result_check", inspection_result_check},
    {business, "process_final_approval", process_final_approval},
    {business, "final_approval_check", final_approval_check},
    {business, "process_payment", business_payment},
    {business, "payment_verification", business_payment_verification},
    {business, "issue_license", issue_license},

    {permit, "lookup_permit", lookup_permit},
    {permit, "permit_existence_check", permit_existence_check},
    {permit, "check_permit_status", check_permit_status},
    {permit, "renewal_eligibility_check", renewal_eligibility_check},
    {permit, "check_compliance", check_compliance},
    {permit, "compliance_review", compliance_review},
    {permit, "manual_review_check", manual_review_check},
    {permit, "manual_renewal_review", approval_request},
    {permit, "update_permit_info", update_permit_info},
    {permit, "process_manual_decision", process_manual_decision},
    {permit, "calculate_renewal_fee", calculate_renewal_fee},
    {permit, "manual_decision_check", manual_decision_check},
    {permit, "process_payment", permit_payment},
    {permit, "send_denial_notice", send_denial_notice},
    {permit, "payment_verification", permit_payment_verification},
    {permit, "issue_renewed_permit", issue_renewed_permit},
    {permit, "schedule_inspection", schedule_permit_inspection},

    {complaint, "log_complaint", log_complaint},
    {complaint, "categorize_complaint", categorize_complaint},
    {complaint, "priority_check", priority_check},
    {complaint, "assign_case_officer", assign_case_officer},
    {complaint, "initial_assessment", initial_assessment},
    {complaint, "site_visit_check", site_visit_check},
    {complaint, "schedule_site_visit", schedule_site_visit},
    {complaint, "conduct_investigation", conduct_investigation},
    {complaint, "substantiation_check", substantiation_check},
    {complaint, "escalation_check", escalation_check},
    {complaint, "notify_complainant", notify_complainant},
    {complaint, "supervisor_review", approval_request},
    {complaint, "develop_resolution_plan", develop_resolution_plan},
    {complaint, "close_complaint", close_complaint},
    {complaint, "process_supervisor_decision", process_supervisor_decision},
    {complaint, "implement_resolution", implement_resolution},
    {complaint, "supervisor_decision_check", supervisor_decision_check},
    {complaint, "escalate_complaint", escalate_complaint},
};

}  // namespace

void register_example_handlers(step_registry& registry) {
  // Only workflows (and steps) the registry knows: an engine may register a
  // subset of the examples, or its own variant of one. Handlers already set
  // are kept, so an engine can install its own first and fill in the rest.
  for (const auto& e : example_handlers) {
    const auto wf = registry.find_workflow(e.workflow_id);
    if (wf == nullptr || wf->find_step(e.step_id) == nullptr) continue;
    if (registry.handler(e.workflow_id, e.step_id)) continue;
    registry.set_handler(e.workflow_id, e.step_id, e.fn);
  }
}

}  // namespace civicperf
