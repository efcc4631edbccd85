// A discrete-event simulation of citizens' cases (simulation.hpp).
//
// Model, per case: it arrives (exponential inter-arrival times), gets generated
// application data (a few percent of it invalid), and walks its workflow
// definition. Each step is run by the real step_executor on one shared
// manual_clock, so every number left in the monitor is measured:
// - a step with a worker pool starts when a worker is free (FIFO over the
//   case's arrival at the step): queues build up at busy steps;
// - handlers are wrapped so that they advance the clock by a log-normal
//   service time; integration steps fail transiently and are retried by the
//   executor with back-off;
// - approvals end `pending` and are decided hours later (complete_pending);
// - a validation failure is fixed by the citizen hours later and the step is
//   executed again (rework); other failures are retried later, twice, then
//   the case is abandoned;
// - between two steps there is a hand-off delay (longer before the steps the
//   citizen performs).
// Events are processed in simulated-time order from a priority queue. A step
// is executed as soon as its start time is known (arrival at the step plus the
// wait for a worker): per case, results reach the monitor in time order,
// which is all the monitor needs. Finished cases are dropped, so memory is
// bounded by the cases in flight.

#include "civicperf/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "civicperf/executor.hpp"
#include "civil_date.hpp"
#include "simulation_random.hpp"

namespace civicperf {

namespace {

using detail::sim_random;
using std::chrono::duration_cast;

duration seconds_f(double s) {
  return duration(std::max<std::int64_t>(1, std::llround(s * 1e6)));
}

// ---------------------------------------------------------------------------
// Step timing profiles

struct step_profile {
  double mean_s = 45;        // service time: the handler's work, or the hand-over to approvers
  double sigma = 0.6;        // log-normal shape of the service time
  double staffing = 0;       // target utilisation of the step's workers; 0: unlimited capacity
  double reach = 1;          // expected share of the workflow's cases that get here
  bool citizen = false;      // performed by the citizen: the hand-off into it takes hours
  double decision_h = 0;     // approvals: mean hours to a decision
  double approve = 0.9;      // approvals: share approved
  double failure = 0;        // integrations: transient failure per attempt
  double timeout_s = 0;      // integrations: time lost by a failed attempt
};

step_profile default_profile(step_type t) {
  step_profile p;
  switch (t) {
    case step_type::action:
      p.staffing = 0.3;
      break;
    case step_type::conditional:
      p.mean_s = 0.04;
      p.sigma = 0.3;
      break;
    case step_type::approval:
      p.mean_s = 1.5;
      p.sigma = 0.4;
      p.decision_h = 6;
      break;
    case step_type::integration:
      p.mean_s = 3;
      p.sigma = 0.5;
      p.failure = 0.15;
      p.timeout_s = 10;
      break;
    case step_type::terminal:
      p.mean_s = 0.01;
      p.sigma = 0.3;
      break;
  }
  return p;
}

// Service times of the example steps (seconds) and how their workers are
// staffed: `staffing` is the utilisation the pool is sized for, given the
// share of cases expected to reach the step. Busy steps (0.8) get queues.
struct work_tuning {
  std::string_view step_id;
  double mean_s;
  double staffing;
  double reach;
};
constexpr work_tuning work_tunings[] = {
    {"validate_identity", 120, 0.5, 1},
    {"check_duplicates", 4, 0.3, 1},
    {"guardian_notification", 8, 0.3, 0.2},
    {"process_approval", 6, 0.3, 1},
    {"create_account", 1200, 0.8, 0.75},
    {"send_welcome", 3, 0.3, 1},
    {"blockchain_record", 4, 0, 1},
    {"submit_application", 180, 0.5, 1},
    {"initial_review", 1500, 0.6, 1},
    {"verify_documents", 1200, 0.6, 1},
    {"process_initial_approval", 6, 0.3, 1},
    {"schedule_inspection", 600, 0.5, 1},
    {"conduct_inspection", 10800, 0.8, 0.32},
    {"calculate_fees", 8, 0.3, 1},
    {"process_final_approval", 6, 0.3, 1},
    {"process_payment", 40, 0.3, 1},
    {"send_rejection_notice", 3, 0.3, 1},
    {"issue_license", 300, 0.5, 1},
    {"lookup_permit", 5, 0.3, 1},
    {"check_permit_status", 4, 0.3, 1},
    {"check_compliance", 180, 0.5, 1},
    {"update_permit_info", 240, 0.5, 1},
    {"process_manual_decision", 6, 0.3, 1},
    {"calculate_renewal_fee", 3, 0.3, 1},
    {"send_denial_notice", 3, 0.3, 1},
    {"issue_renewed_permit", 120, 0.3, 1},
    {"log_complaint", 60, 0.3, 1},
    {"categorize_complaint", 0.3, 0.3, 1},
    {"assign_case_officer", 1080, 0.8, 1},
    {"initial_assessment", 1800, 0.6, 1},
    {"schedule_site_visit", 600, 0.5, 1},
    {"conduct_investigation", 9000, 0.6, 1},
    {"develop_resolution_plan", 2700, 0.6, 1},
    {"implement_resolution", 18000, 0.5, 1},
    {"notify_complainant", 3, 0.3, 1},
    {"close_complaint", 60, 0.3, 1},
    {"escalate_complaint", 600, 0.3, 1},
    {"process_supervisor_decision", 6, 0.3, 1},
};

// How long the example approvals take to be decided, and how often they say yes.
struct approval_tuning {
  std::string_view step_id;
  double decision_h;
  double approve;
};
constexpr approval_tuning approval_tunings[] = {
    {"adult_approval", 8, 0.9},      {"initial_approval", 10, 0.88},
    {"final_approval", 20, 0.93},    {"manual_renewal_review", 12, 0.85},
    {"supervisor_review", 6, 0.8},
};

step_profile profile_for(const step_definition& s) {
  step_profile p = default_profile(s.type);
  for (const auto& t : work_tunings) {
    if (t.step_id != s.id) continue;
    p.mean_s = t.mean_s;
    if (s.type == step_type::action) {
      p.staffing = t.staffing;
      p.reach = t.reach;
    }
  }
  for (const auto& t : approval_tunings) {
    if (t.step_id == s.id && s.type == step_type::approval) {
      p.decision_h = t.decision_h;
      p.approve = t.approve;
    }
  }
  // Paying a fee is up to the citizen.
  p.citizen = s.actor == step_actor::citizen || s.id == "process_payment";
  return p;
}

// Hand-off delays into a step and the citizen's reaction times (seconds).
constexpr double handoff_automatic_s = 1;            // into conditional / terminal steps
constexpr double handoff_staff_s = 180;              // into other administration steps
constexpr double handoff_citizen_s = 8 * 3600.0;     // into steps the citizen performs
constexpr double rework_s = 20 * 3600.0;             // the citizen corrects rejected data
constexpr double retry_later_s = 30 * 60.0;          // an operator re-runs a failed step
constexpr double citizen_gives_up = 0.08;            // share who never correct their data
constexpr int later_retries = 2;                     // re-runs of a failed step before abandoning
constexpr int max_executions_per_case = 1000;        // guard against endless loops

const retry_policy integration_retry{3, std::chrono::seconds(2), 2.0, std::chrono::seconds(30)};

// ---------------------------------------------------------------------------
// Generated application data

// A case's inputs, and the corrections the citizen makes when a step rejects
// a field (the field's valid value).
struct case_data {
  value inputs = value::make_object();
  std::vector<value::member> fixes;
};

constexpr std::array<std::string_view, 12> first_names{
    "John", "Maria", "Wei", "Amina", "Lars", "Priya", "Carlos", "Fatima", "Kenji", "Olga",
    "Samuel", "Chloe"};
constexpr std::array<std::string_view, 12> last_names{
    "Doe", "Garcia", "Chen", "Okafor", "Jensen", "Patel", "Silva", "Haddad", "Sato", "Ivanova",
    "Mensah", "Martin"};
constexpr std::array<std::string_view, 8> streets{
    "Main Street", "Oak Avenue", "Pine Road", "Elm Street", "Harbor Way", "Market Square",
    "Station Road", "Maple Avenue"};
constexpr std::array<std::string_view, 3> id_documents{"passport", "national_id",
                                                       "drivers_license"};
constexpr std::array<std::string_view, 3> payment_methods{"credit_card", "debit_card",
                                                          "bank_transfer"};
constexpr std::array<std::string_view, 3> duplicate_ids{"100000001", "100000003", "100000005"};
constexpr std::array<std::string_view, 3> duplicate_emails{
    "li.wei@example.org", "registered@example.com", "test@example.com"};

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string person_email(std::string_view first, std::string_view last, sim_random& rng) {
  return fmt::format("{}.{}{}@example.org", lower_ascii(std::string(first)),
                     lower_ascii(std::string(last)), rng.between(1, 999));
}

std::string date_text(std::int64_t day) {
  const auto d = detail::civil_from_days(day);
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

std::int64_t day_of(timestamp t) {
  return duration_cast<std::chrono::days>(t.time_since_epoch()).count();
}

// Sets `key` to `bad` now, and records `good` as the citizen's correction.
void defect(case_data& c, std::string_view key, value bad, value good) {
  c.inputs.set(key, std::move(bad));
  c.fixes.emplace_back(std::string(key), std::move(good));
}

case_data citizen_case(sim_random& rng, timestamp arrival) {
  case_data c;
  const auto& first = rng.pick(first_names);
  const auto& last = rng.pick(last_names);
  std::string id = std::to_string(rng.between(200'000'000, 999'999'999));
  if (rng.chance(0.03)) id = id.substr(0, 7);   // too short: identity not verified
  std::string email = person_email(first, last, rng);
  std::string document(rng.chance(0.02) ? "library_card" : rng.pick(id_documents));
  if (rng.chance(0.04)) {   // already registered
    if (rng.chance(0.5)) {
      id = std::string(rng.pick(duplicate_ids));
    } else {
      email = std::string(rng.pick(duplicate_emails));
    }
  }
  const bool minor = rng.chance(0.12);
  const std::int64_t age = minor ? rng.between(1, 17) : rng.between(18, 85);
  const std::int64_t born = day_of(arrival) - age * 365 - age / 4 - rng.between(1, 360);
  const std::string birth = date_text(born);

  c.inputs.set("first_name", std::string(first));
  c.inputs.set("last_name", std::string(last));
  c.inputs.set("id_number", id);
  c.inputs.set("id_document", document);
  c.inputs.set("email", email);
  c.inputs.set("birth_date", birth);
  if (minor) {
    c.inputs.set("guardian_name", fmt::format("{} {}", rng.pick(first_names), last));
    c.inputs.set("guardian_email", person_email(rng.pick(first_names), last, rng));
  }
  // Mistakes in the form, caught by validation and corrected later.
  if (rng.chance(0.01)) defect(c, "id_document", "", document);
  if (rng.chance(0.03)) {
    std::string bad = email;
    std::replace(bad.begin(), bad.end(), '@', '.');
    defect(c, "email", bad, email);
  }
  if (rng.chance(0.02)) {
    const auto d = detail::civil_from_days(born);
    defect(c, "birth_date", fmt::format("{:02}/{:02}/{:04}", d.day, d.month, d.year), birth);
  }
  if (minor && rng.chance(0.1)) {
    defect(c, "guardian_email", value(), *c.inputs.find("guardian_email"));
  }
  return c;
}

case_data business_case(sim_random& rng) {
  case_data c;
  constexpr std::array<std::string_view, 5> types{"restaurant", "retail", "office",
                                                  "manufacturing", "home_based"};
  constexpr std::array<double, 5> weights{0.25, 0.30, 0.20, 0.10, 0.15};
  double u = rng.uniform();
  std::size_t t = 0;
  while (t + 1 < types.size() && u >= weights[t]) u -= weights[t++];
  constexpr std::array<std::string_view, 8> names{"Sunrise", "Harbor", "Golden", "Blue Door",
                                                  "Corner", "Riverside", "Northwind", "Maple"};
  const std::string owner = fmt::format("{} {}", rng.pick(first_names), rng.pick(last_names));
  const std::string business_name = fmt::format("{} {}", rng.pick(names), types[t]);
  const std::string tax_id =
      fmt::format("{:02}-{:07}", rng.between(10, 99), rng.between(0, 9'999'999));
  value::array documents{value("identity_document"), value("proof_of_address"),
                         value("business_plan")};

  c.inputs.set("business_name", business_name);
  c.inputs.set("business_type", std::string(types[t]));
  c.inputs.set("address", fmt::format("{} {}", rng.between(1, 999), rng.pick(streets)));
  c.inputs.set("owner_name", owner);
  c.inputs.set("tax_id", tax_id);
  c.inputs.set("documents", value(documents));
  if (rng.chance(0.03)) {   // a blurred scan: the document cannot be verified
    c.inputs.set("unverifiable_documents", value::make_array({"proof_of_address"}));
  }
  c.inputs.set("premises_condition", rng.chance(0.1) ? "poor" : "good");
  c.inputs.set("payment_method",
               rng.chance(0.04) ? std::string("expired_card")
                                : std::string(rng.pick(payment_methods)));
  if (rng.chance(0.02)) defect(c, "business_name", "", business_name);
  if (rng.chance(0.03)) {
    std::string bad = tax_id;
    bad[4] = 'X';
    defect(c, "tax_id", bad, tax_id);
  }
  if (rng.chance(0.04)) {
    documents.pop_back();   // forgot the business plan
    defect(c, "documents", value(documents), *c.inputs.find("documents"));
  }
  return c;
}

case_data permit_case(sim_random& rng) {
  case_data c;
  constexpr std::array<std::string_view, 10> on_file{
      "BL-2023-001", "BL-2023-002", "BL-2022-017", "BL-2024-008", "BP-2024-010",
      "BP-2023-044", "BP-2024-031", "OP-2024-005", "OP-2021-002", "OP-2024-012"};
  std::string number = rng.chance(0.06) ? fmt::format("BL-2019-{:03}", rng.between(100, 999))
                                        : std::string(rng.pick(on_file));
  c.inputs.set("permit_number", number);
  c.inputs.set("contact_email", person_email(rng.pick(first_names), rng.pick(last_names), rng));
  c.inputs.set("payment_method",
               rng.chance(0.04) ? std::string("expired_card")
                                : std::string(rng.pick(payment_methods)));
  if (rng.chance(0.2)) {
    c.inputs.set("new_address", fmt::format("{} {}", rng.between(1, 999), rng.pick(streets)));
  }
  if (rng.chance(0.1)) c.inputs.set("requested_changes", "Extend the permitted opening hours");
  if (rng.chance(0.03)) defect(c, "permit_number", number.substr(3), number);
  return c;
}

case_data complaint_case(sim_random& rng) {
  case_data c;
  struct kind {
    std::string_view type;
    std::array<std::string_view, 3> descriptions;
  };
  constexpr std::array<kind, 6> kinds{{
      {"noise",
       {"Loud music from the bar next door every night until 3am",
        "Dog barking all night in the apartment upstairs",
        "Construction noise starting at 5am on weekdays"}},
      {"roads",
       {"Large pothole on Main Street damaging car tyres",
        "Broken traffic light at the corner of 5th and Pine",
        "Sidewalk cracked and uneven outside the library"}},
      {"water",
       {"Water leak in the street flooding the basement entrances",
        "Sewage smell coming from the drain on Oak Avenue",
        "Low water pressure in the whole building for a week"}},
      {"sanitation",
       {"Garbage has not been collected for two weeks",
        "Illegal dumping of construction waste in the park",
        "Rats seen around the overflowing trash bins"}},
      {"safety",
       {"Exposed electrical wires near the playground are a danger to children",
        "Strong gas smell near the bus stop on Elm Street",
        "Loose scaffolding about to collapse over the entrance"}},
      {"other",
       {"The office opening hours on the website are wrong",
        "Long waiting time at the permit office counter",
        "Benches in the central park need repainting"}},
  }};
  const kind& k = rng.pick(kinds);
  const std::string description(rng.pick(k.descriptions));
  const std::string contact = person_email(rng.pick(first_names), rng.pick(last_names), rng);
  c.inputs.set("complaint_type", std::string(k.type));
  c.inputs.set("description", description);
  c.inputs.set("complainant_contact", contact);
  c.inputs.set("evidence_provided", rng.chance(0.7));
  c.inputs.set("previous_complaints", rng.chance(0.85) ? 0 : static_cast<int>(rng.between(1, 4)));
  if (rng.chance(0.04)) defect(c, "description", description.substr(0, 12), description);
  if (rng.chance(0.02)) defect(c, "complainant_contact", "", contact);
  return c;
}

// For workflows the simulation has no generator for: every required input
// gets a placeholder (rules may still reject it; such cases are abandoned).
case_data generic_case(const workflow_definition& def, std::size_t number) {
  case_data c;
  for (const auto& s : def.steps)
    for (const auto& in : s.required_inputs)
      if (c.inputs.find(in) == nullptr) c.inputs.set(in, fmt::format("{}-{}", in, number));
  return c;
}

case_data generate_case(const workflow_definition& def, std::size_t number, sim_random& rng,
                        timestamp arrival) {
  if (def.id == "citizen_registration_v1") return citizen_case(rng, arrival);
  if (def.id == "business_license_v1") return business_case(rng);
  if (def.id == "permit_renewal_v1") return permit_case(rng);
  if (def.id == "complaint_handling_v1") return complaint_case(rng);
  return generic_case(def, number);
}

// ---------------------------------------------------------------------------
// Routing

// `X` holds when the context's X is true, `not X` when it is false. An absent
// X decides nothing: a step without a handler leaves the choice open.
bool label_holds(std::string_view label, const value& context) {
  constexpr std::string_view negation = "not ";
  const bool negated = label.starts_with(negation);
  const value* v = context.find(negated ? label.substr(negation.size()) : label);
  const bool* b = v != nullptr ? v->if_bool() : nullptr;
  return b != nullptr && *b != negated;
}

// ---------------------------------------------------------------------------
// The engine

// One run: the private registry with wrapped handlers, the clock, the event
// queue and the cases in flight. Thread safety: none; used by one thread.
class simulation {
 public:
  simulation(const step_registry& registry, performance_monitor& monitor,
             const simulation_options& options)
      : registry_(registry),
        options_(options),
        clock_(options.start),
        rng_(detail::splitmix64(options.seed)),
        executor_(private_registry_, &monitor, clock_, executor_options{integration_retry}) {
    std::vector<std::string> ids = options.workflows;
    if (ids.empty()) {
      for (const auto& def : example_workflows()) ids.push_back(def.id);
    }
    for (const auto& id : ids) {
      const auto def = registry.find_workflow(id);
      if (def == nullptr) {
        throw std::invalid_argument(fmt::format("run_simulation: unknown workflow '{}'", id));
      }
      if (!monitor.has_workflow(id)) {
        throw std::invalid_argument(
            fmt::format("run_simulation: workflow '{}' is not known to the monitor", id));
      }
      const auto known = std::find_if(workflows_.begin(), workflows_.end(),
                                       [&](const sim_workflow& w) { return w.def->id == id; });
      if (known == workflows_.end()) {
        add_workflow(def);
        round_robin_.push_back(workflows_.size() - 1);
      } else {
        round_robin_.push_back(static_cast<std::size_t>(known - workflows_.begin()));
      }
    }
    register_example_handlers(private_registry_);
    for (std::size_t w = 0; w < workflows_.size(); ++w) wrap_handlers(w);
    size_worker_pools();
  }

  simulation_summary run() {
    summary_.first_arrival = options_.start;
    summary_.last_event = options_.start;
    if (options_.cases == 0) return summary_;
    schedule(options_.start, event_kind::arrival, 0, 0);
    while (!events_.empty()) {
      const event e = events_.top();
      events_.pop();
      switch (e.kind) {
        case event_kind::arrival:
          arrive(e.at);
          break;
        case event_kind::step_ready:
          run_step(e.slot, e.step, e.at);
          break;
        case event_kind::decision:
          decide(e.slot, e.at);
          break;
      }
    }
    return summary_;
  }

 private:
  struct sim_step {
    step_profile profile;
    std::vector<timestamp> workers;          // when each worker is free; empty: unlimited
    std::vector<std::size_t> successors;     // edge indices, definition order
    std::vector<std::string> checked_fields; // fields its validation looks at
  };
  struct sim_workflow {
    std::shared_ptr<const workflow_definition> def;   // the caller's definition
    std::vector<sim_step> steps;                      // by step index
    std::size_t start = 0;
  };
  struct sim_case {
    std::size_t number = 0;
    std::size_t workflow = 0;
    std::string instance_id;
    value inputs;
    value context;
    std::vector<value::member> fixes;
    int failures = 0;     // failed executions of the current step
    int executions = 0;
    std::optional<step_result> pending;   // an approval waiting for its decision
  };
  enum class event_kind : std::uint8_t { arrival, step_ready, decision };
  struct event {
    timestamp at;
    std::uint64_t seq;   // ties: first scheduled, first processed
    event_kind kind;
    std::uint32_t slot;
    std::uint32_t step;
    bool operator>(const event& o) const noexcept {
      return at != o.at ? at > o.at : seq > o.seq;
    }
  };

  void add_workflow(const std::shared_ptr<const workflow_definition>& def) {
    sim_workflow w;
    w.def = def;
    w.steps.resize(def->steps.size());
    for (std::size_t i = 0; i < def->steps.size(); ++i) {
      const step_definition& s = def->steps[i];
      w.steps[i].profile = profile_for(s);
      w.steps[i].checked_fields = s.required_inputs;
      for (const auto& rule : s.validations)
        w.steps[i].checked_fields.insert(w.steps[i].checked_fields.end(), rule.fields.begin(),
                                         rule.fields.end());
    }
    for (std::size_t e = 0; e < def->edges.size(); ++e)
      w.steps[*def->step_index(def->edges[e].from)].successors.push_back(e);
    w.start = def->start_steps.empty() ? 0 : def->step_index(def->start_steps.front()).value_or(0);

    // The private registry runs the caller's validation (including custom
    // rules and step validators it cannot copy) through one step validator,
    // so its copy of the definition carries no declarative rules.
    workflow_definition copy = *def;
    for (auto& s : copy.steps) {
      s.required_inputs.clear();
      s.validations.clear();
    }
    private_registry_.add_workflow(std::move(copy));
    for (const auto& s : def->steps) {
      private_registry_.add_step_validator(
          def->id, s.id, [this, def, step = &s](const value& inputs) {
            return registry_.validate(*def, *step, inputs, clock_.wall_now()).errors;
          });
    }
    workflows_.push_back(std::move(w));
  }

  // Every handler (the caller's, else the example one, else the default)
  // takes its service time on the clock; integrations fail transiently.
  void wrap_handlers(std::size_t w) {
    const auto& def = workflows_[w].def;
    for (std::size_t i = 0; i < def->steps.size(); ++i) {
      const step_definition& s = def->steps[i];
      step_handler base = registry_.handler(def->id, s.id);
      if (!base) base = private_registry_.handler(def->id, s.id);
      const step_profile* profile = &workflows_[w].steps[i].profile;
      const std::string timeout_error =
          fmt::format("{} timeout", s.service_name.empty() ? s.id : s.service_name);
      private_registry_.set_handler(
          def->id, s.id,
          [this, base = std::move(base), profile, def, step = &s,
           timeout_error](const step_context& ctx) -> value {
            if (profile->failure > 0 && rng_.chance(profile->failure)) {
              clock_.advance(seconds_f(profile->timeout_s));
              throw std::runtime_error(timeout_error);
            }
            clock_.advance(seconds_f(rng_.lognormal(profile->mean_s, profile->sigma)));
            // The handler sees the caller's definition, rules included.
            const step_context original{*def,        *step,       ctx.inputs, ctx.context,
                                        ctx.instance_id, ctx.now, ctx.attempt};
            if (base) return base(original);
            return value::make_object(
                {{"executed", true}, {"timestamp", format_iso8601(ctx.now)}});
          });
    }
  }

  // k workers per staffed step, enough for its target utilisation at the
  // configured arrival rate.
  void size_worker_pools() {
    const double interval_s =
        std::max(1e-3, static_cast<double>(options_.mean_arrival_interval.count()) / 1e6);
    for (std::size_t w = 0; w < workflows_.size(); ++w) {
      const auto share = static_cast<double>(std::count(round_robin_.begin(),
                                                        round_robin_.end(), w)) /
                         static_cast<double>(round_robin_.size());
      const double cases_per_s = share / interval_s;
      for (auto& s : workflows_[w].steps) {
        if (s.profile.staffing <= 0) continue;
        const double load = cases_per_s * s.profile.reach * s.profile.mean_s;
        const auto k = static_cast<std::size_t>(
            std::clamp(std::ceil(load / s.profile.staffing), 1.0, 10'000.0));
        s.workers.assign(k, options_.start);
      }
    }
  }

  void schedule(timestamp at, event_kind kind, std::size_t slot, std::size_t step) {
    events_.push(event{at, next_seq_++, kind, static_cast<std::uint32_t>(slot),
                       static_cast<std::uint32_t>(step)});
  }

  duration draw(double mean_s, double sigma) { return seconds_f(rng_.lognormal(mean_s, sigma)); }

  void arrive(timestamp at) {
    const std::size_t number = arrived_++;
    if (arrived_ < options_.cases) {
      const double mean_us = static_cast<double>(options_.mean_arrival_interval.count());
      schedule(at + duration(std::llround(rng_.exponential(mean_us))), event_kind::arrival, 0, 0);
    }
    std::size_t slot = 0;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = cases_.size();
      cases_.emplace_back();
    }
    sim_case& c = cases_[slot];
    c = sim_case{};
    c.number = number;
    c.workflow = round_robin_[number % round_robin_.size()];
    c.instance_id = fmt::format("sim-{:06}", number + 1);
    // Each case's data has its own stream: it does not depend on timing draws.
    sim_random data_rng(detail::splitmix64(options_.seed ^ detail::splitmix64(number + 1)));
    case_data data = generate_case(*workflows_[c.workflow].def, number, data_rng, at);
    c.inputs = std::move(data.inputs);
    c.context = value::make_object();
    c.fixes = std::move(data.fixes);
    ++summary_.cases;
    schedule(at, event_kind::step_ready, slot, workflows_[c.workflow].start);
  }

  void run_step(std::size_t slot, std::size_t step_index, timestamp ready) {
    sim_case& c = cases_[slot];
    sim_workflow& w = workflows_[c.workflow];
    sim_step& s = w.steps[step_index];
    const step_definition& def = w.def->steps[step_index];

    timestamp start = ready;
    auto worker = s.workers.end();
    if (!s.workers.empty()) {
      worker = std::min_element(s.workers.begin(), s.workers.end());
      start = std::max(ready, *worker);
    }
    clock_.set(start);
    execution_request request;
    request.workflow_id = w.def->id;
    request.step_id = def.id;
    request.instance_id = c.instance_id;
    request.inputs = std::move(c.inputs);     // moved in and back: no copies per step
    request.context = std::move(c.context);
    request.queued_at = ready;
    request.executed_by = "simulation";
    execution_outcome out = executor_.execute(request);
    c.inputs = std::move(request.inputs);
    c.context = std::move(request.context);
    step_result& r = out.result;

    const timestamp end = clock_.wall_now();
    if (worker != s.workers.end()) *worker = end;
    ++summary_.executions;
    ++c.executions;
    note_time(end);

    switch (r.status) {
      case step_status::pending: {
        const double decision_s = s.profile.decision_h * 3600.0;
        c.pending = std::move(r);
        schedule(end + draw(std::max(decision_s, 1.0), 0.8), event_kind::decision, slot,
                 step_index);
        break;
      }
      case step_status::completed:
        advance(slot, step_index, r.outputs, end);
        break;
      default:
        fail(slot, step_index, r, end);
        break;
    }
  }

  void decide(std::size_t slot, timestamp at) {
    sim_case& c = cases_[slot];
    const sim_workflow& w = workflows_[c.workflow];
    const std::size_t step_index = *w.def->step_index(c.pending->step_id);
    const step_definition& def = w.def->steps[step_index];
    const step_profile& profile = w.steps[step_index].profile;
    clock_.set(at);
    const bool yes = rng_.chance(profile.approve);
    const std::string approver = def.approvers.empty()
                                     ? std::string("approver")
                                     : def.approvers[rng_.below(def.approvers.size())];
    value decision = value::make_object({{"approved", yes},
                                         {"decision", yes ? "approved" : "rejected"},
                                         {"approver", approver}});
    const step_result r = executor_.complete_pending(*c.pending, std::move(decision));
    c.pending.reset();
    note_time(at);
    advance(slot, step_index, r.outputs, at);
  }

  // A step completed: its outputs join the case context and the case moves on.
  void advance(std::size_t slot, std::size_t step_index, const value& outputs, timestamp at) {
    sim_case& c = cases_[slot];
    const sim_workflow& w = workflows_[c.workflow];
    c.failures = 0;
    if (const auto* members = outputs.if_object()) {
      for (const auto& [key, v] : *members)
        if (key != "next_step") c.context.set(key, v);
    }
    if (w.def->steps[step_index].type == step_type::terminal) {
      finish(slot, true);
      return;
    }
    const auto next = choose_next(w, step_index, outputs, c.context);
    if (!next || c.executions >= max_executions_per_case) {
      finish(slot, false);   // a dead end: the case cannot go on
      return;
    }
    const step_definition& to = w.def->steps[*next];
    const step_profile& p = w.steps[*next].profile;
    const double handoff_s = p.citizen ? handoff_citizen_s
                             : (to.type == step_type::conditional || to.type == step_type::terminal)
                                 ? handoff_automatic_s
                                 : handoff_staff_s;
    schedule(at + draw(handoff_s, 0.8), event_kind::step_ready, slot, *next);
  }

  std::optional<std::size_t> choose_next(const sim_workflow& w, std::size_t step_index,
                                         const value& outputs, const value& context) {
    const auto& edges = w.def->edges;
    const auto& out = w.steps[step_index].successors;
    if (out.empty()) return std::nullopt;
    const auto to = [&](std::size_t e) { return w.def->step_index(edges[e].to); };
    if (const value* n = outputs.find("next_step"); n != nullptr && n->if_string()) {
      for (const auto e : out)
        if (edges[e].to == *n->if_string()) return to(e);
    }
    for (const auto e : out)
      if (!edges[e].when.empty() && label_holds(edges[e].when, context)) return to(e);
    for (const auto e : out)
      if (edges[e].when.empty()) return to(e);
    // No handler decided (a workflow without example handlers): any branch.
    return to(out[rng_.below(out.size())]);
  }

  void fail(std::size_t slot, std::size_t step_index, const step_result& r, timestamp at) {
    sim_case& c = cases_[slot];
    const sim_step& s = workflows_[c.workflow].steps[step_index];
    if (++c.failures > later_retries || c.executions >= max_executions_per_case) {
      finish(slot, false);
      return;
    }
    const bool rejected_input = r.error && r.error->starts_with("Validation failed");
    if (rejected_input) {
      // The citizen corrects the fields this step checks, hours later.
      const auto relevant = [&](const value::member& fix) {
        return std::find(s.checked_fields.begin(), s.checked_fields.end(), fix.first) !=
               s.checked_fields.end();
      };
      bool corrected = false;
      for (auto& fix : c.fixes) {
        if (relevant(fix)) {
          c.inputs.set(fix.first, std::move(fix.second));
          corrected = true;
        }
      }
      std::erase_if(c.fixes, relevant);
      if (corrected && rng_.chance(citizen_gives_up)) {
        finish(slot, false);
        return;
      }
      schedule(at + draw(rework_s, 0.8), event_kind::step_ready, slot, step_index);
      return;
    }
    schedule(at + draw(retry_later_s, 0.5), event_kind::step_ready, slot, step_index);
  }

  void finish(std::size_t slot, bool completed) {
    if (completed) {
      ++summary_.completed_cases;
    } else {
      ++summary_.abandoned_cases;
    }
    cases_[slot] = sim_case{};   // release its data now
    free_slots_.push_back(slot);
    const std::size_t done = summary_.completed_cases + summary_.abandoned_cases;
    // Every progress_every cases, and once at the end.
    if (options_.progress && options_.progress_every > 0 &&
        (done % options_.progress_every == 0 || done == options_.cases)) {
      options_.progress(done, options_.cases);
    }
  }

  void note_time(timestamp t) noexcept { summary_.last_event = std::max(summary_.last_event, t); }

  const step_registry& registry_;
  const simulation_options& options_;
  manual_clock clock_;
  sim_random rng_;
  step_registry private_registry_;
  step_executor executor_;
  std::vector<sim_workflow> workflows_;
  std::vector<std::size_t> round_robin_;   // workflow index per arrival, cycled
  std::vector<sim_case> cases_;            // slots; finished ones are reused
  std::vector<std::size_t> free_slots_;
  std::priority_queue<event, std::vector<event>, std::greater<>> events_;
  std::uint64_t next_seq_ = 0;
  std::size_t arrived_ = 0;
  simulation_summary summary_;
};

}  // namespace

simulation_summary run_simulation(const step_registry& registry, performance_monitor& monitor,
                                  const simulation_options& options) {
  simulation sim(registry, monitor, options);
  return sim.run();
}

}  // namespace civicperf
