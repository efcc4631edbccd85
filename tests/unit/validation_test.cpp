#include "civicperf/validation.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using civicperf::step_definition;
using civicperf::validate_inputs;
using civicperf::validation_result;
using civicperf::validation_rule;
using civicperf::value;
using strings = std::vector<std::string>;

namespace {

// 2025-07-03T10:30:00Z (20272 days after the epoch, plus 37 800 s).
const civicperf::timestamp today{std::chrono::seconds(20272LL * 86400 + 37800)};

civicperf::timestamp utc_day(int days_since_epoch, int seconds = 0) {
  return civicperf::timestamp{std::chrono::seconds(days_since_epoch * 86400LL + seconds)};
}

validation_rule make_rule(std::string kind, strings fields, std::string message = {}) {
  validation_rule r;
  r.rule = std::move(kind);
  r.fields = std::move(fields);
  r.message = std::move(message);
  return r;
}

step_definition with_rules(std::vector<validation_rule> rules, strings required = {}) {
  step_definition s;
  s.id = "s";
  s.name = "S";
  s.required_inputs = std::move(required);
  s.validations = std::move(rules);
  return s;
}

strings errors(const step_definition& s, const value& inputs,
               civicperf::timestamp when = today) {
  return validate_inputs(s, inputs, when).errors;
}

const step_definition& example_step(std::string_view workflow, std::string_view step) {
  for (const auto& def : civicperf::example_workflows()) {
    if (def.id == workflow) return *def.find_step(step);
  }
  FAIL("no example workflow " << workflow);
  throw;
}

validation_rule birth_date_rule() {
  validation_rule r = make_rule("date", {"birth_date"});
  r.format = "YYYY-MM-DD";
  r.missing_message = "Birth date is required";
  r.format_message = "Invalid date format. Use YYYY-MM-DD";
  r.future_message = "Invalid birth date";
  r.derives = "calculated_age";
  return r;
}

}  // namespace

TEST_CASE("validation: built-in rule kinds", "[validation]") {
  for (const char* kind : {"email", "date", "non_empty", "digits_and_dashes", "contains_all",
                           "prefix_one_of", "min_length"}) {
    CHECK(civicperf::is_builtin_rule(kind));
  }
  CHECK_FALSE(civicperf::is_builtin_rule("Email"));
  CHECK_FALSE(civicperf::is_builtin_rule("postcode"));
  CHECK_FALSE(civicperf::is_builtin_rule(""));
}

TEST_CASE("validation: required inputs in listed order", "[validation]") {
  const auto s = with_rules({}, {"first_name", "last_name", "id_number", "id_document"});
  const auto all = validate_inputs(
      s, value::make_object({{"first_name", "John"}, {"last_name", "Doe"}, {"id_number", "123456789"},
                             {"id_document", "passport"}}),
      today);
  CHECK(all.is_valid);
  CHECK(all.errors.empty());
  CHECK(all.derived == value::make_object());

  const auto some = validate_inputs(
      s, value::make_object({{"last_name", "Doe"}, {"id_document", ""}}), today);
  CHECK_FALSE(some.is_valid);
  CHECK(some.errors == strings{"Missing required input: first_name",
                               "Missing required input: id_number",
                               "Missing required input: id_document"});

  // blank means absent, null, "" or an empty array/object; 0 and false are values
  const auto blanks = with_rules({}, {"a", "b", "c", "d", "e", "f"});
  CHECK(errors(blanks, value::make_object({{"a", nullptr},
                                           {"b", value::make_array({})},
                                           {"c", value::make_object()},
                                           {"d", 0},
                                           {"e", false},
                                           {"f", " "}})) ==
        strings{"Missing required input: a", "Missing required input: b",
                "Missing required input: c"});

  // inputs that are not an object count as empty
  CHECK(errors(with_rules({}, {"a"}), value("a")) == strings{"Missing required input: a"});
  CHECK(errors(with_rules({}, {"a"}), value{}) == strings{"Missing required input: a"});
}

TEST_CASE("validation: email", "[validation]") {
  const auto s = with_rules({make_rule("email", {"email"}, "Invalid email format")});
  for (const char* good : {"jane.doe@example.org", "a@b.c", "j+tag@mail.example.co.uk", "a@b.c."}) {
    INFO(good);
    CHECK(errors(s, value::make_object({{"email", good}})).empty());
  }
  for (const char* bad : {"jane", "@example.org", "jane@", "jane@example", "jane@@example.org",
                          "a@b@c.de", "ja ne@example.org", "jane@exa mple.org", "jane@example.org ",
                          "jane\t@example.org", "jane@.org", "jane@org.", "jane@."}) {
    INFO(bad);
    CHECK(errors(s, value::make_object({{"email", bad}})) == strings{"Invalid email format"});
  }
  CHECK(errors(s, value::make_object({{"email", 42}})) == strings{"Invalid email format"});
  // absent or blank: left to the required-input check
  CHECK(errors(s, value::make_object()).empty());
  CHECK(errors(s, value::make_object({{"email", ""}})).empty());

  // {field} and {value} in the message; the default message
  const auto placeholders = with_rules({make_rule("email", {"contact"}, "{field}: '{value}' is no email")});
  CHECK(errors(placeholders, value::make_object({{"contact", "jane"}})) ==
        strings{"contact: 'jane' is no email"});
  const auto fallback = with_rules({make_rule("email", {"contact"})});
  CHECK(errors(fallback, value::make_object({{"contact", "jane"}})) ==
        strings{"Invalid email format"});
}

TEST_CASE("validation: check_duplicates of the citizen registration", "[validation][examples]") {
  const auto& s = example_step("citizen_registration_v1", "check_duplicates");
  CHECK(errors(s, value::make_object()) ==
        strings{"Missing required input: email", "Missing required input: id_number"});
  CHECK(errors(s, value::make_object({{"email", "not-an-email"}, {"id_number", "1"}})) ==
        strings{"Invalid email format"});
  CHECK(errors(s, value::make_object({{"email", "john@example.com"}, {"id_number", "1"}})).empty());
}

TEST_CASE("validation: date with derived age", "[validation]") {
  const auto s = with_rules({birth_date_rule()});
  const auto age_on = [&](const char* birth, civicperf::timestamp when) -> value {
    const auto r = validate_inputs(s, value::make_object({{"birth_date", birth}}), when);
    INFO(birth);
    REQUIRE(r.errors.empty());
    REQUIRE(r.is_valid);
    const value* age = r.derived.find("calculated_age");
    REQUIRE(age != nullptr);
    return *age;
  };
  // today is 2025-07-03
  CHECK(age_on("1990-07-03", today) == value(35));   // birthday today
  CHECK(age_on("1990-07-04", today) == value(34));   // birthday tomorrow
  CHECK(age_on("1990-07-02", today) == value(35));
  CHECK(age_on("1990-12-31", today) == value(34));
  CHECK(age_on("1990-01-01", today) == value(35));
  CHECK(age_on("2007-07-04", today) == value(17));
  CHECK(age_on("2007-07-03", today) == value(18));
  CHECK(age_on("2025-07-03", today) == value(0));    // born today
  CHECK(age_on("1925-07-03", today) == value(100));
  // a leap-day birthday: 2025-02-28 is 20147 days after the epoch
  CHECK(age_on("2000-02-29", utc_day(20147)) == value(24));
  CHECK(age_on("2000-02-29", utc_day(20148)) == value(25));   // 2025-03-01
  // the UTC date of `today` counts, whatever its time of day
  CHECK(age_on("1990-07-03", utc_day(20272, 86399)) == value(35));
  CHECK(age_on("1990-07-04", utc_day(20272, 86399)) == value(34));

  const auto r = validate_inputs(s, value::make_object({{"birth_date", "1990-07-04"}}), today);
  CHECK(r.derived == value::make_object({{"calculated_age", 34}}));
}

TEST_CASE("validation: date messages", "[validation]") {
  const auto s = with_rules({birth_date_rule()});
  CHECK(errors(s, value::make_object()) == strings{"Birth date is required"});
  CHECK(errors(s, value::make_object({{"birth_date", ""}})) == strings{"Birth date is required"});
  CHECK(errors(s, value::make_object({{"birth_date", nullptr}})) ==
        strings{"Birth date is required"});
  for (const char* bad : {"1990-7-3", "03/07/1990", "1990/07/03", "19900703", "1990-07-03T00:00",
                          " 1990-07-03", "1990-02-30", "1990-13-01", "1990-00-10", "1990-01-00",
                          "1991-02-29", "abcd-ef-gh", "1990-0a-01"}) {
    INFO(bad);
    CHECK(errors(s, value::make_object({{"birth_date", bad}})) ==
          strings{"Invalid date format. Use YYYY-MM-DD"});
  }
  CHECK(errors(s, value::make_object({{"birth_date", 19900703}})) ==
        strings{"Invalid date format. Use YYYY-MM-DD"});
  CHECK(errors(s, value::make_object({{"birth_date", "2025-07-04"}})) ==
        strings{"Invalid birth date"});
  CHECK(errors(s, value::make_object({{"birth_date", "2999-01-01"}})) ==
        strings{"Invalid birth date"});
  // nothing is derived from a date that failed
  const auto r = validate_inputs(s, value::make_object({{"birth_date", "2025-07-04"}}), today);
  CHECK(r.derived == value::make_object());

  // without `derives` nothing is derived; default messages
  const auto plain = with_rules({make_rule("date", {"born"})});
  const auto ok = validate_inputs(plain, value::make_object({{"born", "1990-01-01"}}), today);
  CHECK(ok.is_valid);
  CHECK(ok.derived == value::make_object());
  CHECK(errors(plain, value::make_object()) == strings{"born is required"});
  CHECK(errors(plain, value::make_object({{"born", "01.01.1990"}})) ==
        strings{"Invalid date format for born. Use YYYY-MM-DD"});
  CHECK(errors(plain, value::make_object({{"born", "2030-01-01"}})) ==
        strings{"born must not be in the future"});
}

TEST_CASE("validation: age_verification of the citizen registration", "[validation][examples]") {
  const auto& s = example_step("citizen_registration_v1", "age_verification");
  // the required check and the date rule both report a missing date
  CHECK(errors(s, value::make_object()) ==
        strings{"Missing required input: birth_date", "Birth date is required"});
  const auto r = validate_inputs(s, value::make_object({{"birth_date", "1985-03-15"}}), today);
  CHECK(r.is_valid);
  CHECK(r.derived == value::make_object({{"calculated_age", 40}}));
}

TEST_CASE("validation: non_empty", "[validation]") {
  const auto s = with_rules({make_rule("non_empty", {"business_name", "tax_id", "address"},
                                       "{field} is required")});
  CHECK(errors(s, value::make_object({{"tax_id", ""}, {"address", value::make_array({})}})) ==
        strings{"business_name is required", "tax_id is required", "address is required"});
  CHECK(errors(s, value::make_object(
                      {{"business_name", "Acme"}, {"tax_id", "12-3"}, {"address", "Main St 1"}}))
            .empty());
  // absent fails as well as empty
  CHECK(errors(s, value::make_object({{"business_name", "Acme"}, {"address", "x"}})) ==
        strings{"tax_id is required"});
  const auto fallback = with_rules({make_rule("non_empty", {"name"})});
  CHECK(errors(fallback, value::make_object()) == strings{"name is required"});
  const auto fixed = with_rules({make_rule("non_empty", {"permit_number"}, "Permit number is required")});
  CHECK(errors(fixed, value::make_object({{"permit_number", nullptr}})) ==
        strings{"Permit number is required"});
}

TEST_CASE("validation: digits_and_dashes", "[validation]") {
  const auto s = with_rules({make_rule("digits_and_dashes", {"tax_id"}, "Invalid tax ID format")});
  for (const char* good : {"12-345-678", "123456789", "-1-", "7"}) {
    INFO(good);
    CHECK(errors(s, value::make_object({{"tax_id", good}})).empty());
  }
  for (const char* bad : {"12a45", "---", "-", "12 345", "12_345", "１２"}) {
    INFO(bad);
    CHECK(errors(s, value::make_object({{"tax_id", bad}})) == strings{"Invalid tax ID format"});
  }
  CHECK(errors(s, value::make_object({{"tax_id", 123456}})).empty());   // a whole number is digits
  CHECK(errors(s, value::make_object({{"tax_id", -5}})) == strings{"Invalid tax ID format"});
  CHECK(errors(s, value::make_object({{"tax_id", 1.5}})) == strings{"Invalid tax ID format"});
  CHECK(errors(s, value::make_object()).empty());
  const auto fallback = with_rules({make_rule("digits_and_dashes", {"tax_id"})});
  CHECK(errors(fallback, value::make_object({{"tax_id", "x"}})) ==
        strings{"tax_id must contain only digits and dashes"});
}

TEST_CASE("validation: contains_all", "[validation]") {
  validation_rule rule = make_rule("contains_all", {"documents"}, "Missing required document: {value}");
  rule.values = {"identity_document", "proof_of_address", "business_plan"};
  const auto s = with_rules({rule});
  CHECK(errors(s, value::make_object({{"documents", value::make_array({"business_plan", "identity_document",
                                                                       "proof_of_address", "extra"})}}))
            .empty());
  CHECK(errors(s, value::make_object({{"documents", value::make_array({"identity_document"})}})) ==
        strings{"Missing required document: proof_of_address",
                "Missing required document: business_plan"});
  // not an array: every value is missing; non-string items do not count
  CHECK(errors(s, value::make_object({{"documents", "identity_document"}})) ==
        strings{"Missing required document: identity_document",
                "Missing required document: proof_of_address",
                "Missing required document: business_plan"});
  CHECK(errors(s, value::make_object({{"documents", value::make_array({1, "business_plan",
                                                                       "proof_of_address"})}})) ==
        strings{"Missing required document: identity_document"});
  CHECK(errors(s, value::make_object()).empty());
  CHECK(errors(s, value::make_object({{"documents", value::make_array({})}})).empty());

  validation_rule plain = make_rule("contains_all", {"docs"});
  plain.values = {"passport"};
  CHECK(errors(with_rules({plain}), value::make_object({{"docs", value::make_array({"visa"})}})) ==
        strings{"docs must include passport"});
}

TEST_CASE("validation: submit_application of the business license", "[validation][examples]") {
  const auto& s = example_step("business_license_v1", "submit_application");
  CHECK(errors(s, value::make_object({{"business_name", "Acme Bakery"},
                                      {"business_type", "food"},
                                      {"address", "1 Main St"},
                                      {"owner_name", "Ann"},
                                      {"tax_id", "12-3456789"},
                                      {"documents", value::make_array({"identity_document",
                                                                       "proof_of_address",
                                                                       "business_plan"})}}))
            .empty());
  CHECK(errors(s, value::make_object({{"business_name", "Acme Bakery"},
                                      {"business_type", ""},
                                      {"address", "1 Main St"},
                                      {"owner_name", "Ann"},
                                      {"tax_id", "12/3456789"},
                                      {"documents", value::make_array({"business_plan"})}})) ==
        strings{"Missing required input: business_type", "business_type is required",
                "Invalid tax ID format", "Missing required document: identity_document",
                "Missing required document: proof_of_address"});
}

TEST_CASE("validation: prefix_one_of", "[validation]") {
  validation_rule rule = make_rule("prefix_one_of", {"permit_number"}, "Invalid permit number format");
  rule.prefixes = {"BL-", "BP-", "OP-"};
  const auto s = with_rules({rule});
  for (const char* good : {"BL-2024-001", "BP-1", "OP-"}) {
    INFO(good);
    CHECK(errors(s, value::make_object({{"permit_number", good}})).empty());
  }
  for (const char* bad : {"XX-1", "bl-2024-001", "BL2024", " BL-1", "B"}) {
    INFO(bad);
    CHECK(errors(s, value::make_object({{"permit_number", bad}})) ==
          strings{"Invalid permit number format"});
  }
  CHECK(errors(s, value::make_object({{"permit_number", 12}})) ==
        strings{"Invalid permit number format"});
  CHECK(errors(s, value::make_object()).empty());

  validation_rule plain = make_rule("prefix_one_of", {"permit"});
  plain.prefixes = {"BL-", "BP-"};
  CHECK(errors(with_rules({plain}), value::make_object({{"permit", "X"}})) ==
        strings{"permit must start with one of: BL-, BP-"});
}

TEST_CASE("validation: lookup_permit of the permit renewal", "[validation][examples]") {
  const auto& s = example_step("permit_renewal_v1", "lookup_permit");
  CHECK(errors(s, value::make_object()) ==
        strings{"Missing required input: permit_number", "Permit number is required"});
  CHECK(errors(s, value::make_object({{"permit_number", "ZZ-9"}})) ==
        strings{"Invalid permit number format"});
  CHECK(errors(s, value::make_object({{"permit_number", "OP-77"}})).empty());
}

TEST_CASE("validation: min_length counts UTF-8 code points", "[validation]") {
  validation_rule rule =
      make_rule("min_length", {"description"}, "Description must be at least 20 characters");
  rule.min = 20;
  const auto s = with_rules({rule});
  CHECK(errors(s, value::make_object({{"description", "Noise from the bar every night"}})).empty());
  CHECK(errors(s, value::make_object({{"description", "exactly twenty chars"}})).empty());   // 20
  CHECK(errors(s, value::make_object({{"description", "nineteen characters"}})) ==         // 19
        strings{"Description must be at least 20 characters"});
  std::string twenty_e;
  for (int i = 0; i < 20; ++i) twenty_e += "\xC3\xA9";   // é: 2 bytes, 1 code point
  CHECK(errors(s, value::make_object({{"description", twenty_e}})).empty());
  const std::string nineteen_e = twenty_e.substr(2);       // 38 bytes, 19 code points
  CHECK(errors(s, value::make_object({{"description", nineteen_e}})) ==
        strings{"Description must be at least 20 characters"});
  CHECK(errors(s, value::make_object({{"description", 123456789012345678LL}})) ==
        strings{"Description must be at least 20 characters"});
  CHECK(errors(s, value::make_object()).empty());

  validation_rule plain = make_rule("min_length", {"text"});
  plain.min = 5;
  CHECK(errors(with_rules({plain}), value::make_object({{"text", "abcd"}})) ==
        strings{"text must be at least 5 characters"});
}

TEST_CASE("validation: log_complaint of the complaint handling", "[validation][examples]") {
  const auto& s = example_step("complaint_handling_v1", "log_complaint");
  CHECK(errors(s, value::make_object()) ==
        strings{"Missing required input: complaint_type", "Missing required input: description",
                "Missing required input: complainant_contact", "complaint_type is required",
                "description is required", "complainant_contact is required"});
  CHECK(errors(s, value::make_object({{"complaint_type", "noise"},
                                      {"description", "Too loud"},
                                      {"complainant_contact", "a@b.c"}})) ==
        strings{"Description must be at least 20 characters"});
}

TEST_CASE("validation: rules run in order after the required inputs", "[validation]") {
  validation_rule digits = make_rule("digits_and_dashes", {"id"}, "bad id");
  validation_rule email = make_rule("email", {"mail"}, "bad mail");
  validation_rule present = make_rule("non_empty", {"name"}, "no {field}");
  const auto s = with_rules({digits, email, present}, {"z"});
  CHECK(errors(s, value::make_object({{"id", "x"}, {"mail", "y"}})) ==
        strings{"Missing required input: z", "bad id", "bad mail", "no name"});
  // one rule over several fields reports each field
  const auto many = with_rules({make_rule("email", {"a", "b"}, "{field} invalid")});
  CHECK(errors(many, value::make_object({{"a", "x"}, {"b", "y"}})) ==
        strings{"a invalid", "b invalid"});
}

TEST_CASE("validation: unknown rules, custom rules and step validators", "[validation]") {
  validation_rule postcode = make_rule("postcode", {"zip"}, "unknown postcode {field}");
  postcode.params = value::make_object({{"country", "FR"}});
  const auto s = with_rules({postcode, make_rule("non_empty", {"name"}, "no name")});

  CHECK(errors(s, value::make_object({{"name", "n"}})) ==
        strings{"Unknown validation rule: postcode"});

  civicperf::custom_rules custom;
  CHECK(validate_inputs(s, value::make_object({{"name", "n"}}), today, &custom).errors ==
        strings{"Unknown validation rule: postcode"});

  custom["postcode"] = [](const validation_rule& r, const value& inputs) -> strings {
    const value* zip = inputs.find(r.fields.at(0));
    const value* country = r.params.find("country");
    if (zip == nullptr || zip->if_string() == nullptr || *zip->if_string() != "75001" ||
        country == nullptr || *country != value("FR")) {
      return {"unknown postcode " + r.fields.at(0)};
    }
    return {};
  };
  CHECK(validate_inputs(s, value::make_object({{"zip", "75001"}, {"name", "n"}}), today, &custom)
            .is_valid);
  CHECK(validate_inputs(s, value::make_object({{"zip", "99999"}}), today, &custom).errors ==
        strings{"unknown postcode zip", "no name"});

  const std::vector<civicperf::step_validator> extra{
      [](const value& inputs) -> strings {
        return inputs.find("name") != nullptr ? strings{} : strings{"extra 1"};
      },
      {},   // an empty validator is skipped
      [](const value&) -> strings { return {"extra 2a", "extra 2b"}; }};
  const auto r = validate_inputs(s, value::make_object({{"zip", "99999"}}), today, &custom, &extra);
  CHECK_FALSE(r.is_valid);
  CHECK(r.errors == strings{"unknown postcode zip", "no name", "extra 1", "extra 2a", "extra 2b"});

  // built-in kinds are never looked up among the custom ones
  civicperf::custom_rules shadow;
  shadow["email"] = [](const validation_rule&, const value&) -> strings { return {"shadow"}; };
  const auto mail = with_rules({make_rule("email", {"m"}, "bad")});
  CHECK(validate_inputs(mail, value::make_object({{"m", "a@b.c"}}), today, &shadow).is_valid);
}
