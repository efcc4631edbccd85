// The example workflows compiled into the library by
// cmake/CivicperfEmbedWorkflows.cmake (one entry per examples/workflows/*.json).

#include <algorithm>
#include <map>
#include <span>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "civicperf/workflow.hpp"

namespace civicperf::detail {
// Defined in the generated embedded_workflows.cpp, one entry per file.
extern const std::span<const std::pair<std::string_view, std::string_view>> embedded_workflows;
}  // namespace civicperf::detail

namespace civicperf {

const std::vector<workflow_definition>& example_workflows() {
  // Parsed once, on first use; C++ guarantees thread-safe initialisation.
  static const std::vector<workflow_definition> workflows = [] {
    std::vector<std::pair<std::string_view, std::string_view>> files(
        detail::embedded_workflows.begin(), detail::embedded_workflows.end());
    std::sort(files.begin(), files.end());
    std::vector<workflow_definition> defs;
    std::map<std::string, std::string_view, std::less<>> defined_in;
    defs.reserve(files.size());
    for (const auto& [name, text] : files) {
      const auto source = fmt::format("examples/workflows/{}", name);
      auto def = parse_workflow_json(text, source);
      if (const auto [it, inserted] = defined_in.emplace(def.id, name); !inserted) {
        throw definition_error(fmt::format("{}: workflow '{}' is already defined in {}", source,
                                           def.id, it->second));
      }
      defs.push_back(std::move(def));
    }
    return defs;
  }();
  return workflows;
}

}  // namespace civicperf
