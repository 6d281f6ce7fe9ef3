#include "power_models/cell_library.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "arith/error.h"

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
  return lib;
}

std::filesystem::path default_cell_library_path() {
  return std::filesystem::path(LPSIM_SOURCE_DIR) / "power_models" / "data" / "nangate45_typ_cells.csv";
}

}  // namespace lpsim::power
