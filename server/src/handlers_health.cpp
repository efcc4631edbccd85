// GET /health.

#include "civicperf/analyzer.hpp"
#include "civicperf/json.hpp"
#include "handlers.hpp"

namespace civicperf::server::handlers {

http_response health(handler_context& ctx, const route_request& rr) {
  rr.query.allow_only({});
  return report_response(analyze_health(ctx.monitor.totals()));
}

}  // namespace civicperf::server::handlers
