#include "civicperf/executor.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "memory_sampler.hpp"

namespace civicperf {

struct step_executor::memory_sampler : detail::memory_sampler {};

namespace {

duration since(std::chrono::steady_clock::time_point from,
               std::chrono::steady_clock::time_point to) noexcept {
  return std::chrono::duration_cast<duration>(to - from);
}

value default_outputs(timestamp now) {
  return value::make_object({{"executed", true}, {"timestamp", format_iso8601(now)}});
}

duration backoff(const retry_policy& p, int failed_attempts) noexcept {
  double us = static_cast<double>(p.initial_backoff.count()) *
              std::pow(p.multiplier, static_cast<double>(failed_attempts - 1));
  us = std::min(us, static_cast<double>(p.max_backoff.count()));
  return duration(static_cast<duration::rep>(std::max(us, 0.0)));
}

// Inputs listed in depends_on that neither the inputs nor the case context hold.
std::vector<std::string> missing_dependencies(const step_definition& step, const value& inputs,
                                              const value& context) {
  std::vector<std::string> missing;
  for (const auto& dep : step.depends_on)
    if (is_blank(inputs.find(dep)) && is_blank(context.find(dep))) missing.push_back(dep);
  return missing;
}

}  // namespace

step_executor::step_executor(const step_registry& registry, performance_monitor* monitor,
                             clock_source& clock, executor_options options)
    : registry_(registry),
      monitor_(monitor),
      clock_(clock),
      options_(options),
      memory_(options.sample_memory ? std::make_unique<memory_sampler>() : nullptr) {}

step_executor::~step_executor() = default;

validation_result step_executor::validate(const workflow_definition& workflow,
                                          const step_definition& step, const value& inputs) const {
  return registry_.validate(workflow, step, inputs, clock_.wall_now());
}

execution_outcome step_executor::execute(const execution_request& request) {
  execution_outcome out;
  step_lookup lookup = registry_.find_step(request.workflow_id, request.step_id);
  out.lookup = lookup.result;
  step_result& r = out.result;
  r.workflow_id = request.workflow_id;
  r.step_id = request.step_id;
  if (!lookup.found()) {
    out.candidates = std::move(lookup.candidates);
    return out;
  }
  const workflow_definition& wf = *lookup.workflow;
  const step_definition& step = *lookup.step;
  r.workflow_id = wf.id;
  r.instance_id = request.instance_id;
  r.executed_by = request.executed_by;
  r.execution_environment = request.environment;
  r.step_version = request.step_version.empty() ? wf.version : request.step_version;

  // Each boundary is read once: start, end of validation, end of execution.
  const timestamp started = clock_.wall_now();
  const auto t_start = clock_.steady_now();
  const std::optional<double> rss_before = memory_ ? memory_->resident_mb() : std::nullopt;
  r.queued_at = request.queued_at.value_or(started);
  r.started_at = started;
  r.queue_time = std::max(duration::zero(), started - *r.queued_at);

  const value& inputs = request.inputs;
  step_status status = step_status::completed;
  if (auto missing = missing_dependencies(step, inputs, request.context); !missing.empty()) {
    status = step_status::failed;
    r.error = fmt::format("Blocked by dependencies: {}", fmt::join(missing, ", "));
    r.blocking_dependencies = std::move(missing);
  }
  if (status == step_status::completed) {
    validation_result v = registry_.validate(wf, step, inputs, started);
    r.validation_duration = since(t_start, clock_.steady_now());
    if (!v.is_valid) {
      status = step_status::failed;
      r.error = fmt::format("Validation failed: {}", fmt::join(v.errors, ", "));
    }
  }
  if (status == step_status::completed) {
    const step_handler handler = registry_.handler(wf.id, step.id);
    for (int attempt = 1;; ++attempt) {
      try {
        const step_context ctx{wf, step, inputs, request.context, request.instance_id,
                               attempt == 1 ? started : clock_.wall_now(), attempt};
        r.outputs = handler ? handler(ctx) : default_outputs(ctx.now);
        r.error.reset();
        status = step_status::completed;
        break;
      } catch (const non_retryable_error& e) {
        r.error = e.what();
        status = step_status::failed;
        break;
      } catch (const std::exception& e) {
        r.error = e.what();
        status = step_status::failed;
      } catch (...) {
        r.error = "unknown error";
        status = step_status::failed;
      }
      if (attempt >= options_.retry.max_attempts) break;
      ++r.retry_count;
      clock_.sleep_for(backoff(options_.retry, attempt));
    }
  }
  const auto t_end = clock_.steady_now();
  const duration elapsed = since(t_start, t_end);
  r.execution_duration = elapsed;
  if (rss_before) {
    if (const auto rss_after = memory_->resident_mb())
      r.memory_usage_mb = std::max(0.0, *rss_after - *rss_before);
  }
  if (step.type == step_type::integration) r.waiting_for_external_service = true;
  if (step.type == step_type::approval && status == step_status::completed) {
    // Handed to the approvers: the execution stays open until decided.
    r.status = step_status::pending;
    r.waiting_for_approval = true;
  } else {
    r.status = status;
    r.completed_at = started + elapsed;
    if (step.type == step_type::approval) r.waiting_for_approval = true;
  }
  if (options_.record && monitor_ != nullptr) monitor_->record(r);
  return out;
}

step_result step_executor::complete_pending(const step_result& pending, value outputs,
                                            step_status final_status,
                                            std::optional<std::string> error) {
  step_result r = pending;
  r.status = final_status;
  if (auto* merged = r.outputs.if_object(); merged && outputs.if_object()) {
    for (auto& [key, v] : *outputs.if_object()) r.outputs.set(key, std::move(v));
  } else if (!outputs.is_null()) {
    r.outputs = std::move(outputs);
  }
  r.error = std::move(error);
  const timestamp now = clock_.wall_now();
  r.completed_at = now;
  // The whole wait, from the start of the execution to the decision.
  r.execution_duration = r.started_at ? now - *r.started_at : duration::zero();
  if (options_.record && monitor_ != nullptr) monitor_->record(r);
  return r;
}

}  // namespace civicperf
