// `lpsim schema`: the scenario reference (docs/scenario-schema.md), generated from the table
// the parser checks every key against (nn/scenario_schema.h).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "nn/scenario_schema.h"

namespace lpsim::cli {

Command add_schema(CLI::App& app, const bool& json) {
  CLI::App* sub = app.add_subcommand("schema", "Print the scenario schema: every key, type, default, allowed values (Markdown)");
  return {sub, [&json] {
            if (json) {
              nlohmann::json rows = nlohmann::json::array();
              for (const auto& k : nn::scenario_schema())
                rows.push_back({{"section", k.section}, {"key", k.key}, {"type", k.type}, {"default", k.def},
                                {"allowed", k.allowed}, {"doc", k.doc}});
              std::cout << rows.dump(2) << "\n";
            } else {
              std::cout << nn::schema_markdown();
            }
            return 0;
          }};
}

}  // namespace lpsim::cli
