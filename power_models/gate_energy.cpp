#include "power_models/gate_energy.h"

namespace lpsim::power {

UnitArea unit_area(const Netlist& n, const CellLibrary& lib) {
  UnitArea a;
  a.cells = n.cell_counts();
  for (const auto& [cell, count] : a.cells) {
    const CellFigures& f = lib.at(cell);
    a.area_um2 += f.area_um2 * double(count);
    a.leakage_nw += f.leakage_nw * double(count);
  }
  a.nand2_equivalents = a.area_um2 / lib.at("$_NAND_").area_um2;
  return a;
}

std::vector<double> transition_energy_fj(const Netlist& n, const CellLibrary& lib) {
  std::vector<double> e(n.num_nets, 0.0);
  const double v2 = lib.voltage_v * lib.voltage_v;
  for (uint32_t net = 2; net < n.num_nets; ++net) {
    double cap_ff = 0;
    for (uint32_t g : n.fanout[net]) cap_ff += lib.at(n.gates[g].cell).input_cap_ff;
    cap_ff += lib.wire_load.capacitance_ff(n.fanout[net].size());  // wire from fan-out
    e[net] = 0.5 * cap_ff * v2;  // fF·V² = fJ
  }
  for (const Gate& g : n.gates) e[g.out] += lib.at(g.cell).internal_energy_fj;
  return e;
}

}  // namespace lpsim::power
