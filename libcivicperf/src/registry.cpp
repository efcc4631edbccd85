#include "civicperf/registry.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

namespace civicperf {

namespace {

template <class T>
using string_map = std::map<std::string, T, std::less<>>;

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// ASCII case-insensitive substring test; `needle` is already lower-case.
bool contains_lower(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && lower(haystack[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

step_summary summary_of(const workflow_definition& wf, const step_definition& s) {
  return {s.id, s.name, s.type, wf.id};
}

std::string source_of(const workflow_definition& def) {
  return fmt::format("workflow '{}'", def.id);
}

}  // namespace

struct step_registry::impl {
  mutable std::shared_mutex mutex;
  std::vector<std::shared_ptr<const workflow_definition>> workflows;   // registration order
  string_map<std::size_t> by_id;                                       // -> index in workflows
  string_map<std::vector<std::size_t>> by_step;                        // step id -> workflows
  string_map<string_map<step_handler>> handlers;
  // Copy-on-write, so validate() runs user code without holding the lock.
  std::shared_ptr<const custom_rules> rules = std::make_shared<const custom_rules>();
  string_map<string_map<std::shared_ptr<const std::vector<step_validator>>>> validators;

  // Caller holds the lock.
  const workflow_definition* find(std::string_view id) const {
    const auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : workflows[it->second].get();
  }

  void check_step(std::string_view what, std::string_view workflow_id,
                  std::string_view step_id) const {
    const auto* wf = find(workflow_id);
    if (wf == nullptr) {
      throw std::invalid_argument(fmt::format("{}: unknown workflow '{}'", what, workflow_id));
    }
    if (wf->find_step(step_id) == nullptr) {
      throw std::invalid_argument(
          fmt::format("{}: unknown step '{}' in workflow '{}'", what, step_id, workflow_id));
    }
  }

  void insert(workflow_definition def) {
    auto shared = std::make_shared<const workflow_definition>(std::move(def));
    const std::size_t index = workflows.size();
    by_id.emplace(shared->id, index);
    for (const auto& s : shared->steps) by_step[s.id].push_back(index);
    workflows.push_back(std::move(shared));
  }
};

step_registry::step_registry() : impl_(std::make_unique<impl>()) {}
step_registry::~step_registry() = default;

void step_registry::add_workflow(workflow_definition def) {
  validate_definition(def, source_of(def));
  const std::unique_lock lock(impl_->mutex);
  if (impl_->find(def.id) != nullptr) {
    throw definition_error(fmt::format("{}: already registered", source_of(def)));
  }
  impl_->insert(std::move(def));
}

void step_registry::add_workflows(const std::vector<workflow_definition>& defs) {
  // All or nothing: every definition is checked before any is added.
  std::set<std::string_view> ids;
  for (const auto& def : defs) {
    validate_definition(def, source_of(def));
    if (!ids.insert(def.id).second) {
      throw definition_error(fmt::format("{}: defined twice", source_of(def)));
    }
  }
  const std::unique_lock lock(impl_->mutex);
  for (const auto& def : defs) {
    if (impl_->find(def.id) != nullptr) {
      throw definition_error(fmt::format("{}: already registered", source_of(def)));
    }
  }
  for (const auto& def : defs) impl_->insert(def);
}

void step_registry::set_handler(std::string_view workflow_id, std::string_view step_id,
                                step_handler handler) {
  const std::unique_lock lock(impl_->mutex);
  impl_->check_step("set_handler", workflow_id, step_id);
  auto& steps = impl_->handlers[std::string(workflow_id)];
  if (auto it = steps.find(step_id); it != steps.end()) {
    it->second = std::move(handler);
  } else {
    steps.emplace(std::string(step_id), std::move(handler));
  }
}

step_handler step_registry::handler(std::string_view workflow_id,
                                    std::string_view step_id) const {
  const std::shared_lock lock(impl_->mutex);
  const auto wf = impl_->handlers.find(workflow_id);
  if (wf == impl_->handlers.end()) return {};
  const auto it = wf->second.find(step_id);
  return it == wf->second.end() ? step_handler{} : it->second;
}

void step_registry::add_rule(std::string name, rule_validator fn) {
  if (name.empty()) throw std::invalid_argument("add_rule: empty rule name");
  if (is_builtin_rule(name)) {
    throw std::invalid_argument(fmt::format("add_rule: '{}' is a built-in rule", name));
  }
  if (!fn) throw std::invalid_argument(fmt::format("add_rule: no validator for '{}'", name));
  const std::unique_lock lock(impl_->mutex);
  if (impl_->rules->contains(name)) {
    throw std::invalid_argument(fmt::format("add_rule: '{}' is already registered", name));
  }
  auto rules = std::make_shared<custom_rules>(*impl_->rules);
  rules->emplace(std::move(name), std::move(fn));
  impl_->rules = std::move(rules);
}

void step_registry::add_step_validator(std::string_view workflow_id, std::string_view step_id,
                                       step_validator fn) {
  if (!fn) throw std::invalid_argument("add_step_validator: empty validator");
  const std::unique_lock lock(impl_->mutex);
  impl_->check_step("add_step_validator", workflow_id, step_id);
  auto& slot = impl_->validators[std::string(workflow_id)][std::string(step_id)];
  auto list = slot ? std::make_shared<std::vector<step_validator>>(*slot)
                   : std::make_shared<std::vector<step_validator>>();
  list->push_back(std::move(fn));
  slot = std::move(list);
}

validation_result step_registry::validate(const workflow_definition& workflow,
                                          const step_definition& step, const value& inputs,
                                          timestamp today) const {
  std::shared_ptr<const custom_rules> rules;
  std::shared_ptr<const std::vector<step_validator>> extra;
  {
    const std::shared_lock lock(impl_->mutex);
    rules = impl_->rules;
    if (const auto wf = impl_->validators.find(workflow.id); wf != impl_->validators.end()) {
      if (const auto it = wf->second.find(step.id); it != wf->second.end()) extra = it->second;
    }
  }
  return validate_inputs(step, inputs, today, rules.get(), extra.get());
}

std::vector<workflow_summary> step_registry::list_workflows() const {
  const std::shared_lock lock(impl_->mutex);
  std::vector<workflow_summary> out;
  out.reserve(impl_->workflows.size());
  for (const auto& wf : impl_->workflows) {
    out.push_back({wf->id, wf->name, wf->description, wf->steps.size()});
  }
  return out;
}

std::vector<step_summary> step_registry::list_steps(std::string_view workflow_id) const {
  const std::shared_lock lock(impl_->mutex);
  std::vector<step_summary> out;
  if (!workflow_id.empty()) {
    if (const auto* wf = impl_->find(workflow_id)) {
      out.reserve(wf->steps.size());
      for (const auto& s : wf->steps) out.push_back(summary_of(*wf, s));
    }
    return out;
  }
  for (const auto& wf : impl_->workflows) {
    for (const auto& s : wf->steps) out.push_back(summary_of(*wf, s));
  }
  return out;
}

std::vector<step_summary> step_registry::search_steps(std::string_view text) const {
  std::string needle(text);
  std::transform(needle.begin(), needle.end(), needle.begin(), lower);
  const std::shared_lock lock(impl_->mutex);
  std::vector<step_summary> out;
  for (const auto& wf : impl_->workflows) {
    for (const auto& s : wf->steps) {
      if (contains_lower(s.id, needle) || contains_lower(s.name, needle)) {
        out.push_back(summary_of(*wf, s));
      }
    }
  }
  return out;
}

std::shared_ptr<const workflow_definition> step_registry::find_workflow(
    std::string_view workflow_id) const {
  const std::shared_lock lock(impl_->mutex);
  const auto it = impl_->by_id.find(workflow_id);
  return it == impl_->by_id.end() ? nullptr : impl_->workflows[it->second];
}

std::vector<std::shared_ptr<const workflow_definition>> step_registry::workflows() const {
  const std::shared_lock lock(impl_->mutex);
  return impl_->workflows;
}

step_lookup step_registry::find_step(std::string_view workflow_id,
                                     std::string_view step_id) const {
  step_lookup out;
  const std::shared_lock lock(impl_->mutex);
  if (!workflow_id.empty()) {
    const auto it = impl_->by_id.find(workflow_id);
    if (it == impl_->by_id.end()) {
      out.result = step_lookup::outcome::unknown_workflow;
      return out;
    }
    const auto& wf = impl_->workflows[it->second];
    if (const auto* step = wf->find_step(step_id)) {
      out.result = step_lookup::outcome::found;
      out.workflow = wf;
      out.step = step;
    } else {
      out.result = step_lookup::outcome::unknown_step;
    }
    return out;
  }

  const auto it = impl_->by_step.find(step_id);
  if (it == impl_->by_step.end()) {
    out.result = step_lookup::outcome::unknown_step;
    return out;
  }
  const auto& holders = it->second;
  if (holders.size() == 1) {
    const auto& wf = impl_->workflows[holders.front()];
    out.result = step_lookup::outcome::found;
    out.workflow = wf;
    out.step = wf->find_step(step_id);
    return out;
  }
  out.result = step_lookup::outcome::ambiguous;
  out.candidates.reserve(holders.size());
  for (const auto index : holders) out.candidates.push_back(impl_->workflows[index]->id);
  std::sort(out.candidates.begin(), out.candidates.end());
  return out;
}

}  // namespace civicperf
