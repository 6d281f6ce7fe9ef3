// The scenario file as a YAML tree, for the parser (nn/scenario.cpp) and the sweep
// expander (nn/sweep.cpp): `extends:` chains merged, and every node's line mapped back to
// the file it came from, so errors name file:line:col in the right file. Internal (it
// includes yaml-cpp); the CLI sees nn/scenario.h and nn/sweep.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "nn/scenario.h"

namespace lpsim::nn {

// The files of one tree. Each is loaded with its first line shifted past the previous
// files' lines (leading blank lines), so a node's mark line says which file it is from.
class SourceMap {
 public:
  int add(const std::string& label, int lines);  // the file's first (global) line
  std::string where(int line, int column) const;  // "file:line:col", 0-based in
  const std::string& label() const { return files_.front().label; }  // the scenario itself

 private:
  struct File {
    int first_line;
    std::string label;
  };
  std::vector<File> files_;
  int next_line_ = 0;
};

struct ScenarioTree {
  YAML::Node root;
  SourceMap sources;
};

// A file (extends resolved: mappings merged key by key, the extending file's values
// winning; lists and scalars replaced) or a text (extends relative to the current dir).
ScenarioTree load_scenario_tree(const std::filesystem::path& file);
ScenarioTree scenario_tree_from_text(const std::string& text, const std::string& label);

// The scenarios of a tree with no top-level sweep/zip left in it.
std::vector<Scenario> parse_scenario_tree(const ScenarioTree& tree);

}  // namespace lpsim::nn
