#pragma once
/// \file
/// The API service: routes a request to its handler and applies the error
/// model. Pure request → response; no sockets, no Beast.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/analyzer.hpp"
#include "civicperf/event_store.hpp"
#include "civicperf/executor.hpp"
#include "civicperf/monitor.hpp"
#include "civicperf/registry.hpp"
#include "civicperf/time.hpp"
#include "http_types.hpp"
#include "json_response.hpp"
#include "report_cache.hpp"
#include "router.hpp"

namespace civicperf::server {

/// Every route lives under this prefix.
inline constexpr std::string_view api_prefix = "/api/v1/performance";

struct service_config {
  /// Events accepted in one POST /events; more → 413.
  std::size_t max_batch_events = 10'000;
  /// When not empty, every POST needs `Authorization: Bearer <token>`.
  std::string token;
  json_limits json;
  /// Thresholds and defaults of the reports (the spec's defaults).
  analysis_options analysis;
  /// Where unexpected internal errors and store failures are reported
  /// (default: stderr).
  std::function<void(std::string_view)> log_error;
  /// Workflows that accept no new results (POST /events and /steps/execute
  /// answer 422): those imported from an event log, whose history is the log
  /// and which the event store does not keep.
  std::vector<std::string> read_only_workflows;
};

/// Everything a handler may use. Handlers live in handlers_*.cpp.
struct handler_context {
  step_registry& registry;
  performance_monitor& monitor;   ///< read it; record only through `recorder`
  durable_recorder& recorder;
  step_executor& executor;        ///< records nothing itself
  clock_source& clock;
  const service_config& config;
  report_cache& cache;   ///< rendered reports, keyed by request, valid while the data is unchanged
};

/// Routes requests to the handlers of the API and turns every failure into a
/// JSON `{"detail": ...}` answer: api_error keeps its status, anything else is
/// a logged 500 with a generic detail.
///
/// Every result the API accepts (POST /events batches, manual executions) is
/// recorded through `recorder`, synchronously: the answer is sent after the
/// result is committed to the event store and folded into `monitor` (which
/// must be the recorder's monitor). A store failure answers 503 and keeps
/// nothing. Nothing else records into the monitor while the service runs.
/// Thread safety: handle() may be called from many threads at once (the
/// registry, monitor, recorder and executor are thread-safe; the router is
/// immutable).
class service {
 public:
  /// Registers every workflow of `registry` with `monitor` (so both agree).
  /// `registry`, `monitor`, `recorder` and `clock` must outlive the service.
  service(step_registry& registry, performance_monitor& monitor, durable_recorder& recorder,
          clock_source& clock = system_clock_source::instance(), service_config config = {});
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Answers one request; never throws.
  [[nodiscard]] http_response handle(const http_request& request) noexcept;

  /// A request_handler calling handle() on this service.
  [[nodiscard]] request_handler handler() {
    return [this](const http_request& r) { return handle(r); };
  }

  [[nodiscard]] const service_config& config() const noexcept { return config_; }
  [[nodiscard]] const report_cache& cache() const noexcept { return cache_; }

 private:
  [[nodiscard]] http_response dispatch(const http_request& request);
  [[nodiscard]] bool authorized(const http_request& request) const noexcept;

  step_registry& registry_;
  performance_monitor& monitor_;
  durable_recorder& recorder_;
  clock_source& clock_;
  service_config config_;
  step_executor executor_;
  report_cache cache_;
  handler_context context_;
  router router_;
};

/// Constant-time comparison (no early exit on the first difference), for
/// secrets.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace civicperf::server
