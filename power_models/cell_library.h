// Cell library figures for pricing a generic-gate netlist: per Yosys cell type the
// area, input capacitance, leakage and internal energy per output transition of the
// matching NanGate 45 nm X1 cell (power_models/data/nangate45_typ_cells.csv).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lpsim::power {

struct CellFigures {
  std::string name;            // library cell, e.g. NAND2_X1
  double area_um2 = 0;
  double input_cap_ff = 0;     // mean over input pins
  double leakage_nw = 0;
  double internal_energy_fj = 0;  // per output transition
};

// A Liberty statistical wire-load model: a net driving f input pins has length(f) µm of
// wire, cap_ff_per_um each (linear between listed fanouts, `slope` µm per extra fanout
// beyond the last).
struct WireLoad {
  std::string name = "none";
  double cap_ff_per_um = 0, slope_um = 0;
  std::vector<std::pair<int, double>> fanout_length;  // ascending fanout
  double capacitance_ff(size_t fanout) const;
};

struct CellLibrary {
  double voltage_v = 1.10;  // typical corner supply
  std::map<std::string, CellFigures> by_yosys_cell;
  WireLoad wire_load;       // "none": pin capacitance only

  const CellFigures& at(const std::string& yosys_cell) const;  // InputError if missing
};

// Reads the CSV (columns cell,yosys_cell,area_um2,input_cap_ff,leakage_nw,
// internal_energy_fj,notes). InputError naming file:line on a malformed row.
CellLibrary load_cell_library(const std::filesystem::path& csv);

// The library shipped in the repository.
std::filesystem::path default_cell_library_path();

// Wire-load models of the library (a CSV next to the cell CSV); "none" gives no wire.
WireLoad load_wire_load(const std::filesystem::path& csv, const std::string& model);
std::filesystem::path default_wire_load_path();
inline const char* kDefaultWireLoad = "5K_hvratio_1_1";  // the library's default_wire_load

}  // namespace lpsim::power
