// Energy and area of a netlist from its measured switching: every net transition costs
// ½·C·V² (C = input capacitance of the gates it drives, no wire load yet) plus the
// internal energy of the cell that drives it; leakage is power × cycle time. Area is the
// sum of cell areas, also in NAND2 equivalents.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "power_models/cell_library.h"
#include "power_models/netlist.h"

namespace lpsim::power {

struct UnitArea {
  double area_um2 = 0;
  double nand2_equivalents = 0;
  double leakage_nw = 0;
  std::map<std::string, size_t> cells;
};

UnitArea unit_area(const Netlist& n, const CellLibrary& lib);

// Energy (fJ) of one transition of each net.
std::vector<double> transition_energy_fj(const Netlist& n, const CellLibrary& lib);

}  // namespace lpsim::power
