#include "power_models/cell_library.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "arith/error.h"
#include "power_models/resources.h"

namespace lpsim::power {

const CellFigures& CellLibrary::at(const std::string& cell) const {
  const auto it = by_yosys_cell.find(cell);
  if (it == by_yosys_cell.end()) throw InputError("no cell-library entry for " + cell);
  return it->second;
}

CellLibrary load_cell_library(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw InputError("cannot open cell library", csv.string());
  CellLibrary lib;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (n == 1) continue;  // header
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; f.size() < 6 && std::getline(ss, cell, ',');) f.push_back(cell);
    const std::string where = csv.string() + ":" + std::to_string(n);
    if (f.size() < 6) throw InputError("expected at least 6 comma-separated fields", where);
    if (f[1].empty()) continue;  // reference-only rows (FA_X1, HA_X1)
    try {
      lib.by_yosys_cell[f[1]] = {f[0], std::stod(f[2]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])};
    } catch (const std::exception&) {
      throw InputError("non-numeric field in '" + line + "'", where);
    }
  }
  lib.wire_load = load_wire_load(default_wire_load_path(), kDefaultWireLoad);
  return lib;
}

double WireLoad::capacitance_ff(size_t fanout) const {
  if (fanout == 0 || fanout_length.empty()) return 0;
  const double f = double(fanout);
  double len;
  if (f <= fanout_length.front().first) {
    len = fanout_length.front().second * f / fanout_length.front().first;
  } else if (f >= fanout_length.back().first) {
    len = fanout_length.back().second + slope_um * (f - fanout_length.back().first);
  } else {
    size_t i = 1;
    while (fanout_length[i].first < f) ++i;
    const auto [f0, l0] = fanout_length[i - 1];
    const auto [f1, l1] = fanout_length[i];
    len = l0 + (l1 - l0) * (f - f0) / double(f1 - f0);
  }
  return cap_ff_per_um * len;
}

WireLoad load_wire_load(const std::filesystem::path& csv, const std::string& model) {
  WireLoad w;
  if (model == "none") return w;
  std::ifstream in(csv);
  if (!in) throw InputError("cannot open wire-load table", csv.string());
  std::string line;
  std::vector<std::string> names;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (n == 1 || line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    const std::string where = csv.string() + ":" + std::to_string(n);
    if (f.size() != 5) throw InputError("expected 5 comma-separated fields", where);
    if (names.empty() || names.back() != f[0]) names.push_back(f[0]);
    if (f[0] != model) continue;
    try {
      w.name = model;
      w.cap_ff_per_um = std::stod(f[1]);
      w.slope_um = std::stod(f[2]);
      w.fanout_length.emplace_back(std::stoi(f[3]), std::stod(f[4]));
    } catch (const std::exception&) {
      throw InputError("non-numeric field in '" + line + "'", where);
    }
  }
  if (w.fanout_length.empty()) {
    std::string list = "none";
    for (const auto& m : names) list += ", " + m;
    throw InputError("unknown wire-load model '" + model + "' (known: " + list + ")", csv.string(), "--wire-load");
  }
  for (size_t i = 1; i < w.fanout_length.size(); ++i)
    if (w.fanout_length[i].first <= w.fanout_length[i - 1].first)
      throw InputError("fanouts of " + model + " must ascend", csv.string());
  return w;
}

std::filesystem::path default_wire_load_path() {
  return data_dir() / "nangate45_wire_load.csv";
}

std::filesystem::path default_cell_library_path() {
  return data_dir() / "nangate45_typ_cells.csv";
}

}  // namespace lpsim::power
