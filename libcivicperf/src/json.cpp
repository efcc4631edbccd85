// Boost.JSON conversions of step results, validation results and reports,
// with the spec's field names and field order.

#include "civicperf/json.hpp"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace civicperf {
namespace {

namespace bj = boost::json;

/// Three decimals (microseconds when the unit is ms), so the text of a report
/// does not depend on floating-point noise in the last digits. Zero loses its
/// sign: "-0" is not a duration anyone wants to read.
double round3(double x) noexcept {
  // Beyond 1e15 a double has no third decimal to round (and x * 1000 could
  // overflow to infinity).
  if (!(std::abs(x) < 1e15)) return x;
  const double r = std::round(x * 1000.0) / 1000.0;
  return r == 0.0 ? 0.0 : r;
}

bj::value ms_or_null(const std::optional<duration>& d, const bj::storage_ptr& sp) {
  if (!d) return bj::value(nullptr, sp);
  return bj::value(round3(to_ms(*d)), sp);
}

bj::value time_or_null(const std::optional<timestamp>& t, const bj::storage_ptr& sp) {
  if (!t) return bj::value(nullptr, sp);
  return bj::value(format_iso8601(*t), sp);
}

bj::value string_or_null(const std::string& s, const bj::storage_ptr& sp) {
  if (s.empty()) return bj::value(nullptr, sp);
  return bj::value(bj::string_view(s), sp);
}

bj::array string_array(const std::vector<std::string>& items, const bj::storage_ptr& sp) {
  bj::array a(sp);
  a.reserve(items.size());
  for (const auto& s : items) a.emplace_back(bj::string_view(s));
  return a;
}

std::int64_t as_int(std::size_t n) noexcept { return static_cast<std::int64_t>(n); }

}  // namespace

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const step_result& r) {
  bj::object& o = jv.emplace_object();
  const bj::storage_ptr& sp = o.storage();
  o.reserve(20);
  o.emplace("step_id", r.step_id);
  o.emplace("workflow_id", r.workflow_id);
  o.emplace("instance_id", string_or_null(r.instance_id, sp));
  o.emplace("status", to_string(r.status));
  if (r.outputs.is_null()) {
    o.emplace("outputs", bj::object(sp));
  } else {
    o.emplace("outputs", bj::value_from(r.outputs, sp));
  }
  if (r.error) {
    o.emplace("error", *r.error);
  } else {
    o.emplace("error", nullptr);
  }
  o.emplace("started_at", time_or_null(r.started_at, sp));
  o.emplace("completed_at", time_or_null(r.completed_at, sp));
  o.emplace("queued_at", time_or_null(r.queued_at, sp));
  o.emplace("execution_duration_ms", ms_or_null(r.effective_execution_duration(), sp));
  o.emplace("queue_time_ms", ms_or_null(r.effective_queue_time(), sp));
  o.emplace("validation_duration_ms", ms_or_null(r.validation_duration, sp));
  o.emplace("retry_count", static_cast<std::int64_t>(r.retry_count));
  if (r.memory_usage_mb) {
    o.emplace("memory_usage_mb", *r.memory_usage_mb);
  } else {
    o.emplace("memory_usage_mb", nullptr);
  }
  o.emplace("executed_by", r.executed_by);
  o.emplace("execution_environment", r.execution_environment);
  o.emplace("step_version", string_or_null(r.step_version, sp));
  o.emplace("waiting_for_approval", r.waiting_for_approval.value_or(false));
  o.emplace("waiting_for_external_service", r.waiting_for_external_service.value_or(false));
  o.emplace("blocking_dependencies", string_array(r.blocking_dependencies, sp));
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const validation_result& r) {
  bj::object& o = jv.emplace_object();
  o.reserve(3);
  o.emplace("is_valid", r.is_valid);
  o.emplace("errors", string_array(r.errors, o.storage()));
  if (r.derived.size() > 0) o.emplace("derived", bj::value_from(r.derived, o.storage()));
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const step_metrics_report& r) {
  bj::object& o = jv.emplace_object();
  const bj::storage_ptr& sp = o.storage();
  o.reserve(23);
  o.emplace("step_id", r.step_id);
  o.emplace("workflow_id", r.workflow_id);
  o.emplace("step_name", r.step_name);
  o.emplace("total_executions", r.total_executions);
  o.emplace("successful_executions", r.successful_executions);
  o.emplace("failed_executions", r.failed_executions);
  o.emplace("pending_executions", r.pending_executions);
  o.emplace("success_rate", round3(r.success_rate));
  o.emplace("average_duration_ms", round3(r.average_duration_ms));
  o.emplace("min_duration_ms", round3(r.min_duration_ms));
  o.emplace("max_duration_ms", round3(r.max_duration_ms));
  o.emplace("p50_duration_ms", round3(r.p50_duration_ms));
  o.emplace("p90_duration_ms", round3(r.p90_duration_ms));
  o.emplace("p95_duration_ms", round3(r.p95_duration_ms));
  o.emplace("p99_duration_ms", round3(r.p99_duration_ms));
  o.emplace("average_queue_time_ms", round3(r.average_queue_time_ms));
  o.emplace("average_validation_time_ms", round3(r.average_validation_time_ms));
  o.emplace("average_memory_usage_mb", round3(r.average_memory_usage_mb));
  o.emplace("max_memory_usage_mb", round3(r.max_memory_usage_mb));
  o.emplace("total_retries", r.total_retries);

  bj::array errors(sp);
  errors.reserve(r.common_errors.size());
  for (const auto& e : r.common_errors) {
    bj::object entry(sp);
    entry.reserve(2);
    entry.emplace("error", e.message);
    entry.emplace("count", e.count);
    errors.emplace_back(std::move(entry));
  }
  o.emplace("common_errors", std::move(errors));

  bj::object indicators(sp);
  indicators.reserve(4);
  indicators.emplace("approval_bottleneck_percentage",
                     round3(r.indicators.approval_bottleneck_percentage));
  indicators.emplace("external_service_bottleneck_percentage",
                     round3(r.indicators.external_service_bottleneck_percentage));
  indicators.emplace("long_queue_time_percentage",
                     round3(r.indicators.long_queue_time_percentage));
  indicators.emplace("suggested_optimizations",
                     string_array(r.indicators.suggested_optimizations, sp));
  o.emplace("bottleneck_indicators", std::move(indicators));
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const workflow_performance_report& r) {
  bj::object& o = jv.emplace_object();
  const bj::storage_ptr& sp = o.storage();
  o.reserve(9);
  o.emplace("workflow_id", r.workflow_id);
  o.emplace("total_instances", r.total_instances);
  o.emplace("completed_instances", r.completed_instances);
  o.emplace("completion_rate", round3(r.completion_rate));
  o.emplace("average_completion_time_ms", round3(r.average_completion_time_ms));

  bj::object terminal(sp);
  terminal.reserve(r.terminal_status_counts.size());
  for (const auto& t : r.terminal_status_counts) terminal.emplace(t.terminal_status, t.count);
  o.emplace("terminal_status_counts", std::move(terminal));

  bj::array steps(sp);
  steps.reserve(r.step_metrics.size());
  for (const auto& m : r.step_metrics) steps.emplace_back(bj::value_from(m, sp));
  o.emplace("step_metrics", std::move(steps));

  const auto& b = r.bottleneck_analysis;
  bj::object analysis(sp);
  analysis.reserve(5);
  analysis.emplace("total_steps", as_int(b.total_steps));
  analysis.emplace("steps_with_data", as_int(b.steps_with_data));
  analysis.emplace("average_step_success_rate", round3(b.average_step_success_rate));
  if (b.slowest_step) {
    analysis.emplace("slowest_step", *b.slowest_step);
  } else {
    analysis.emplace("slowest_step", nullptr);
  }
  if (b.most_error_prone_step) {
    analysis.emplace("most_error_prone_step", *b.most_error_prone_step);
  } else {
    analysis.emplace("most_error_prone_step", nullptr);
  }
  o.emplace("bottleneck_analysis", std::move(analysis));

  o.emplace("optimization_suggestions", string_array(r.optimization_suggestions, sp));
}

namespace {

bj::array share_entries(const std::vector<share_bottleneck_entry>& entries,
                        std::string_view percentage_key, const bj::storage_ptr& sp) {
  bj::array a(sp);
  a.reserve(entries.size());
  for (const auto& e : entries) {
    bj::object entry(sp);
    entry.reserve(4);
    entry.emplace("step_id", e.step_id);
    entry.emplace("step_name", e.step_name);
    entry.emplace(percentage_key, round3(e.percentage));
    entry.emplace("executions", e.executions);
    a.emplace_back(std::move(entry));
  }
  return a;
}

}  // namespace

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const bottleneck_report& r) {
  bj::object& o = jv.emplace_object();
  const bj::storage_ptr& sp = o.storage();
  o.reserve(10);
  o.emplace("workflow_id", r.workflow_id);
  o.emplace("threshold_ms", round3(r.threshold_ms));
  o.emplace("min_executions", r.min_executions);
  o.emplace("critical_path_steps", string_array(r.critical_path_steps, sp));
  o.emplace("critical_path_time_ms", round3(r.critical_path_time_ms));

  bj::array slowest(sp);
  slowest.reserve(r.slowest_steps.size());
  for (const auto& e : r.slowest_steps) {
    bj::object entry(sp);
    entry.reserve(4);
    entry.emplace("step_id", e.step_id);
    entry.emplace("step_name", e.step_name);
    entry.emplace("average_duration_ms", round3(e.average_duration_ms));
    entry.emplace("executions", e.executions);
    slowest.emplace_back(std::move(entry));
  }
  o.emplace("slowest_steps", std::move(slowest));

  o.emplace("approval_bottlenecks",
            share_entries(r.approval_bottlenecks, "approval_bottleneck_percentage", sp));
  o.emplace("external_service_bottlenecks",
            share_entries(r.external_service_bottlenecks,
                          "external_service_bottleneck_percentage", sp));

  bj::array queues(sp);
  queues.reserve(r.queue_bottlenecks.size());
  for (const auto& e : r.queue_bottlenecks) {
    bj::object entry(sp);
    entry.reserve(4);
    entry.emplace("step_id", e.step_id);
    entry.emplace("step_name", e.step_name);
    entry.emplace("average_queue_time_ms", round3(e.average_queue_time_ms));
    entry.emplace("executions", e.executions);
    queues.emplace_back(std::move(entry));
  }
  o.emplace("queue_bottlenecks", std::move(queues));

  o.emplace("recommendations", string_array(r.recommendations, sp));
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const timing_report& r) {
  bj::object& o = jv.emplace_object();
  const bj::storage_ptr& sp = o.storage();
  o.reserve(10);
  o.emplace("workflow_id", r.workflow_id);
  if (r.instance_id) {
    o.emplace("instance_id", *r.instance_id);
  } else {
    o.emplace("instance_id", nullptr);
  }
  o.emplace("threshold_ms", round3(r.threshold_ms));

  bj::array transitions(sp);
  transitions.reserve(r.step_transitions.size());
  for (const auto& t : r.step_transitions) {
    bj::object entry(sp);
    entry.reserve(9);
    entry.emplace("from_step", t.from_step);
    entry.emplace("to_step", t.to_step);
    entry.emplace("count", t.count);
    entry.emplace("average_transition_time_ms", round3(t.average_transition_time_ms));
    entry.emplace("min_transition_time_ms", round3(t.min_transition_time_ms));
    entry.emplace("max_transition_time_ms", round3(t.max_transition_time_ms));
    entry.emplace("p90_transition_time_ms", round3(t.p90_transition_time_ms));
    entry.emplace("citizen_wait_time_ms", round3(t.citizen_wait_time_ms));
    entry.emplace("rework", t.rework);
    transitions.emplace_back(std::move(entry));
  }
  o.emplace("step_transitions", std::move(transitions));

  bj::array bottlenecks(sp);
  bottlenecks.reserve(r.bottleneck_transitions.size());
  for (const auto& t : r.bottleneck_transitions) {
    bj::object entry(sp);
    entry.reserve(8);
    entry.emplace("transition", t.transition);
    entry.emplace("from_step", t.from_step);
    entry.emplace("to_step", t.to_step);
    entry.emplace("average_wait_time_ms", round3(t.average_wait_time_ms));
    entry.emplace("count", t.count);
    entry.emplace("total_wait_time_ms", round3(t.total_wait_time_ms));
    entry.emplace("reason", t.reason);
    entry.emplace("suggestion", t.suggestion);
    bottlenecks.emplace_back(std::move(entry));
  }
  o.emplace("bottleneck_transitions", std::move(bottlenecks));

  o.emplace("completed_instances", r.completed_instances);
  o.emplace("total_average_completion_time_ms", round3(r.total_average_completion_time_ms));
  o.emplace("citizen_active_time_ms", round3(r.citizen_active_time_ms));
  o.emplace("citizen_waiting_time_ms", round3(r.citizen_waiting_time_ms));
  o.emplace("rework_transitions", r.rework_transitions);
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const health_report& r) {
  bj::object& o = jv.emplace_object();
  o.reserve(5);
  o.emplace("status", r.status);
  o.emplace("service", r.service);
  o.emplace("executor_metrics_count", r.executor_metrics_count);
  o.emplace("total_tracked_executions", r.total_tracked_executions);
  o.emplace("open_instances", r.open_instances);
}

std::optional<timestamp> parse_json_timestamp(const bj::value& jv) noexcept {
  const bj::string* s = jv.if_string();
  if (s == nullptr) return std::nullopt;
  return parse_iso8601(std::string_view(s->data(), s->size()));
}

}  // namespace civicperf
