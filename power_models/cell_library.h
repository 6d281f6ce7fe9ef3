// Cell library figures for pricing a generic-gate netlist: per Yosys cell type the
// area, input capacitance, leakage and internal energy per output transition of the
// matching NanGate 45 nm X1 cell (power_models/data/nangate45_typ_cells.csv).
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace lpsim::power {

struct CellFigures {
  std::string name;            // library cell, e.g. NAND2_X1
  double area_um2 = 0;
  double input_cap_ff = 0;     // mean over input pins
  double leakage_nw = 0;
  double internal_energy_fj = 0;  // per output transition
};

struct CellLibrary {
  double voltage_v = 1.10;  // typical corner supply
  std::map<std::string, CellFigures> by_yosys_cell;

  const CellFigures& at(const std::string& yosys_cell) const;  // InputError if missing
};

// Reads the CSV (columns cell,yosys_cell,area_um2,input_cap_ff,leakage_nw,
// internal_energy_fj,notes). InputError naming file:line on a malformed row.
CellLibrary load_cell_library(const std::filesystem::path& csv);

// The library shipped in the repository.
std::filesystem::path default_cell_library_path();

}  // namespace lpsim::power
