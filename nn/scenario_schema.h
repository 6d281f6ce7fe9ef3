// The scenario schema as data: every key of a scenario file, its type, default, allowed
// values and meaning. The parser (nn/scenario.cpp) checks each mapping's keys against
// this table, the sweep expander (nn/sweep.h) checks dotted paths against it, and
// docs/scenario-schema.md is generated from it (`lpsim schema`), so the three cannot
// drift apart. Torch-free.
#pragma once

#include <string>
#include <vector>

namespace lpsim::nn {

struct SchemaKey {
  std::string section;  // "" (top level), "hardware", "quantization.configs[]", "…layers.*"
  std::string key;
  std::string type;     // string | integer | number | bool | path | format | mapping | list | …
  std::string def;      // default ("" none/required, as the doc says)
  std::string allowed;  // allowed values or range, free text
  std::string doc;
  std::string example;  // a valid value (YAML flow), used by the schema tests
};

const std::vector<SchemaKey>& scenario_schema();

// The keys allowed in a section (exactly the table's).
std::vector<std::string> schema_keys(const std::string& section);

// The schema section a dotted key path's parent maps to ("quantization.configs[3]" →
// "quantization.configs[]", "quantization.configs[0].layers.conv1" → "…layers.*",
// "models[1]" → "model"); the entry of a full path, or nullptr.
std::string schema_section_of(const std::vector<std::string>& segments);
const SchemaKey* schema_entry(const std::string& dotted_path);

// "did you mean 'x'?" for the allowed key nearest to `got` (edit distance ≤ 2, or a
// prefix), else "".
std::string did_you_mean(const std::string& got, const std::vector<std::string>& allowed);

// The reference page (Markdown), docs/scenario-schema.md.
std::string schema_markdown();

}  // namespace lpsim::nn
