#pragma once
/// \file
/// The opt-in JSON adapter: Boost.JSON conversions (value_from / value_to via
/// tag_invoke) of every model and report type, and a serializer that writes
/// numbers the way people read them (`150.5`, `2000`, not `1.505E2`).
/// The only civicperf header that shows Boost types.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "civicperf/reports.hpp"
#include "civicperf/snapshot.hpp"
#include "civicperf/step_result.hpp"
#include "civicperf/validation.hpp"
#include "civicperf/value.hpp"
#include "civicperf/workflow.hpp"

namespace civicperf {

// civicperf::value <-> boost::json::value (lossless both ways).
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const value& v);
value tag_invoke(const boost::json::value_to_tag<value>&, const boost::json::value& jv);

// Definitions: the file format of examples/workflows (README there).
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const workflow_definition& d);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const step_definition& d);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const validation_rule& r);

// A step result as the spec's StepResult (times ISO-8601, durations in ms).
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const step_result& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const validation_result& r);

// Reports, with the spec's field names.
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const step_metrics_report& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const workflow_performance_report& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const bottleneck_report& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const timing_report& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv,
                const health_report& r);

/// Serializes compactly; doubles are written in the shortest form that reads
/// back exactly, without an exponent for ordinary magnitudes, integral
/// doubles without a fraction.
[[nodiscard]] std::string to_json_text(const boost::json::value& jv);
/// Same, indented by two spaces per level.
[[nodiscard]] std::string to_json_pretty(const boost::json::value& jv);

/// Parses an ISO-8601 string member, for readers of step results.
[[nodiscard]] std::optional<timestamp> parse_json_timestamp(const boost::json::value& jv) noexcept;

}  // namespace civicperf
