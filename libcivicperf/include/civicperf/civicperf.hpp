#pragma once
/// \file
/// Umbrella header: the whole embeddable core (no Boost types). Include
/// <civicperf/json.hpp> as well for the Boost.JSON conversions.

#include "civicperf/analyzer.hpp"
#include "civicperf/event_store.hpp"
#include "civicperf/eventlog.hpp"
#include "civicperf/executor.hpp"
#include "civicperf/histogram.hpp"
#include "civicperf/monitor.hpp"
#include "civicperf/registry.hpp"
#include "civicperf/reports.hpp"
#include "civicperf/simulation.hpp"
#include "civicperf/snapshot.hpp"
#include "civicperf/sqlite_store.hpp"
#include "civicperf/step_result.hpp"
#include "civicperf/time.hpp"
#include "civicperf/validation.hpp"
#include "civicperf/value.hpp"
#include "civicperf/workflow.hpp"
