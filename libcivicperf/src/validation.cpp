#include "civicperf/validation.hpp"

#include <algorithm>
#include <array>
#include <tuple>

#include <fmt/format.h>

#include "civil_date.hpp"

namespace civicperf {

namespace {

constexpr std::array<std::string_view, 7> builtin_rules{
    "email", "date", "non_empty", "digits_and_dashes", "contains_all", "prefix_one_of",
    "min_length"};

// Replaces every `{field}` and `{value}` of `message`.
std::string render(std::string_view message, std::string_view field, std::string_view value) {
  std::string out;
  out.reserve(message.size() + field.size());
  std::size_t i = 0;
  while (i < message.size()) {
    if (message.compare(i, 7, "{field}") == 0) {
      out += field;
      i += 7;
    } else if (message.compare(i, 7, "{value}") == 0) {
      out += value;
      i += 7;
    } else {
      out += message[i++];
    }
  }
  return out;
}

std::string_view or_default(const std::string& given, std::string_view fallback) noexcept {
  return given.empty() ? fallback : std::string_view(given);
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// local@domain.tld: exactly one '@', something before it, no whitespace, and
// a dot in the domain with something on both sides.
bool valid_email(std::string_view s) noexcept {
  if (std::any_of(s.begin(), s.end(), is_space)) return false;
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto domain = s.substr(at + 1);
  if (domain.size() < 3) return false;
  return domain.substr(1, domain.size() - 2).find('.') != std::string_view::npos;
}

bool digits_and_dashes(std::string_view s) noexcept {
  bool digit = false;
  for (const char c : s) {
    if (is_digit(c)) {
      digit = true;
    } else if (c != '-') {
      return false;
    }
  }
  return digit;
}

// UTF-8 code points: every byte that is not a continuation byte starts one.
std::size_t code_points(std::string_view s) noexcept {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

struct ymd {
  int year;
  int month;
  int day;
};

std::optional<ymd> parse_date(std::string_view s) noexcept {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = 0; i < lengths[p]; ++i) {
      const char c = s[starts[p] + i];
      if (!is_digit(c)) return std::nullopt;
      parts[p] = parts[p] * 10 + (c - '0');
    }
  }
  if (!detail::valid_date(parts[0], parts[1], parts[2])) return std::nullopt;
  return ymd{parts[0], parts[1], parts[2]};
}

ymd utc_date(timestamp t) noexcept {
  const auto us = t.time_since_epoch().count();
  auto days = us / detail::us_per_day;
  if (us % detail::us_per_day < 0) --days;
  const auto d = detail::civil_from_days(days);
  return {static_cast<int>(d.year), static_cast<int>(d.month), static_cast<int>(d.day)};
}

bool before(const ymd& a, const ymd& b) noexcept {
  return std::tie(a.year, a.month, a.day) < std::tie(b.year, b.month, b.day);
}

// A scalar's text for `{value}`.
std::string text_of(const value* v) {
  if (v == nullptr) return {};
  if (const auto* s = v->if_string()) return *s;
  if (const auto* i = v->if_integer()) return std::to_string(*i);
  if (const auto* b = v->if_bool()) return *b ? "true" : "false";
  if (const auto d = v->as_number()) return fmt::format("{}", *d);
  return {};
}

class rule_checker {
 public:
  rule_checker(const value& inputs, timestamp today, validation_result& out)
      : inputs_(inputs), today_(today), out_(out) {}

  void check(const validation_rule& rule, const custom_rules* custom) {
    const auto& kind = rule.rule;
    if (kind == "email") {
      each_present(rule, [&](const std::string& f, const value& v) {
        const auto* s = v.if_string();
        if (s == nullptr || !valid_email(*s)) error(rule.message, "Invalid email format", f, v);
      });
    } else if (kind == "date") {
      for (const auto& f : rule.fields) date(rule, f);
    } else if (kind == "non_empty") {
      for (const auto& f : rule.fields) {
        const value* v = inputs_.find(f);
        if (is_blank(v)) out_.errors.push_back(render(or_default(rule.message, "{field} is required"), f, ""));
      }
    } else if (kind == "digits_and_dashes") {
      each_present(rule, [&](const std::string& f, const value& v) {
        const auto* i = v.if_integer();
        const auto* s = v.if_string();
        const bool ok = (i != nullptr && *i >= 0) || (s != nullptr && digits_and_dashes(*s));
        if (!ok) error(rule.message, "{field} must contain only digits and dashes", f, v);
      });
    } else if (kind == "contains_all") {
      each_present(rule, [&](const std::string& f, const value& v) {
        const auto* items = v.if_array();
        for (const auto& wanted : rule.values) {
          const bool has = items != nullptr &&
                           std::any_of(items->begin(), items->end(), [&](const value& item) {
                             const auto* s = item.if_string();
                             return s != nullptr && *s == wanted;
                           });
          if (!has) {
            out_.errors.push_back(
                render(or_default(rule.message, "{field} must include {value}"), f, wanted));
          }
        }
      });
    } else if (kind == "prefix_one_of") {
      each_present(rule, [&](const std::string& f, const value& v) {
        const auto* s = v.if_string();
        const bool ok = s != nullptr &&
                        std::any_of(rule.prefixes.begin(), rule.prefixes.end(),
                                    [&](const std::string& p) { return s->starts_with(p); });
        if (!ok) {
          const auto fallback =
              fmt::format("{{field}} must start with one of: {}", fmt::join(rule.prefixes, ", "));
          error(rule.message, fallback, f, v);
        }
      });
    } else if (kind == "min_length") {
      each_present(rule, [&](const std::string& f, const value& v) {
        const auto* s = v.if_string();
        if (s == nullptr || code_points(*s) < static_cast<std::uint64_t>(std::max<std::int64_t>(rule.min, 0))) {
          const auto fallback = fmt::format("{{field}} must be at least {} characters", rule.min);
          error(rule.message, fallback, f, v);
        }
      });
    } else if (custom != nullptr) {
      if (const auto it = custom->find(kind); it != custom->end()) {
        auto errors = it->second(rule, inputs_);
        out_.errors.insert(out_.errors.end(), std::make_move_iterator(errors.begin()),
                           std::make_move_iterator(errors.end()));
      } else {
        out_.errors.push_back("Unknown validation rule: " + kind);
      }
    } else {
      out_.errors.push_back("Unknown validation rule: " + kind);
    }
  }

 private:
  const value& inputs_;
  timestamp today_;
  validation_result& out_;

  // Blank fields are left to the required-input check.
  template <class Fn>
  void each_present(const validation_rule& rule, Fn&& fn) {
    for (const auto& f : rule.fields) {
      const value* v = inputs_.find(f);
      if (!is_blank(v)) fn(f, *v);
    }
  }

  void error(const std::string& given, std::string_view fallback, std::string_view field,
             const value& v) {
    out_.errors.push_back(render(or_default(given, fallback), field, text_of(&v)));
  }

  void date(const validation_rule& rule, const std::string& f) {
    const value* v = inputs_.find(f);
    if (is_blank(v)) {
      out_.errors.push_back(render(or_default(rule.missing_message, "{field} is required"), f, ""));
      return;
    }
    const auto* s = v->if_string();
    const auto d = s != nullptr ? parse_date(*s) : std::nullopt;
    if (!d) {
      error(rule.format_message, "Invalid date format for {field}. Use YYYY-MM-DD", f, *v);
      return;
    }
    const ymd today = utc_date(today_);
    if (before(today, *d)) {
      error(rule.future_message, "{field} must not be in the future", f, *v);
      return;
    }
    if (!rule.derives.empty()) {
      // Whole years: one less while this year's anniversary is still ahead.
      int years = today.year - d->year;
      if (std::tie(today.month, today.day) < std::tie(d->month, d->day)) --years;
      out_.derived.set(rule.derives, value(years));
    }
  }
};

}  // namespace

bool is_builtin_rule(std::string_view kind) noexcept {
  return std::find(builtin_rules.begin(), builtin_rules.end(), kind) != builtin_rules.end();
}

validation_result validate_inputs(const step_definition& step, const value& inputs,
                                  timestamp today, const custom_rules* custom,
                                  const std::vector<step_validator>* extra) {
  static const value no_inputs = value::make_object();
  const value& in = inputs.is_object() ? inputs : no_inputs;

  validation_result result;
  for (const auto& name : step.required_inputs) {
    if (is_blank(in.find(name))) result.errors.push_back("Missing required input: " + name);
  }
  rule_checker checker(in, today, result);
  for (const auto& rule : step.validations) checker.check(rule, custom);
  if (extra != nullptr) {
    for (const auto& fn : *extra) {
      if (!fn) continue;
      auto errors = fn(in);
      result.errors.insert(result.errors.end(), std::make_move_iterator(errors.begin()),
                           std::make_move_iterator(errors.end()));
    }
  }
  result.is_valid = result.errors.empty();
  return result;
}

}  // namespace civicperf
