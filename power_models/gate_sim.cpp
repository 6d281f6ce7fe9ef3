#include "power_models/gate_sim.h"

#include <bit>

#include "arith/error.h"

namespace lpsim::power {

GateSim::GateSim(const Netlist& netlist) : m_netlist(netlist) {
  m_value.assign(netlist.num_nets, 0);
  m_value[1] = ~uint64_t{0};  // constant-1 net in every lane
  m_prev = m_value;
  m_toggles.assign(netlist.num_nets, 0);
}

void GateSim::reset_counters() {
  std::fill(m_toggles.begin(), m_toggles.end(), 0);
  m_step_costs.clear();
  m_steps = 0;
}

void GateSim::set_input(const std::string& port, const LaneValues& values) {
  const auto it = m_netlist.inputs.find(port);
  if (it == m_netlist.inputs.end()) throw InputError("no input port '" + port + "'", m_netlist.top);
  // Transpose: bit b of every lane's value into one word.
  for (size_t b = 0; b < it->second.size(); ++b) {
    uint64_t w = 0;
    for (int l = 0; l < 64; ++l) w |= ((values[l] >> b) & 1u) << l;
    m_value[it->second[b]] = w;
  }
}

void GateSim::step() {
  uint64_t* v = m_value.data();
  for (size_t i = 0; i < m_netlist.num_comb; ++i) {
    const Gate& g = m_netlist.gates[i];
    const uint64_t a = v[g.in[0]], b = v[g.in[1]];
    uint64_t y;
    switch (g.type) {
      case GateType::kBuf: y = a; break;
      case GateType::kNot: y = ~a; break;
      case GateType::kAnd: y = a & b; break;
      case GateType::kNand: y = ~(a & b); break;
      case GateType::kOr: y = a | b; break;
      case GateType::kNor: y = ~(a | b); break;
      case GateType::kXor: y = a ^ b; break;
      case GateType::kXnor: y = ~(a ^ b); break;
      case GateType::kAndNot: y = a & ~b; break;
      case GateType::kOrNot: y = a | ~b; break;
      case GateType::kMux: y = (v[g.in[2]] & b) | (~v[g.in[2]] & a); break;
      default: y = 0;
    }
    v[g.out] = y;
  }
  if (m_steps > 0) {
    double cost = 0;
    for (size_t n = 0; n < m_value.size(); ++n) {
      const uint64_t t = uint64_t(std::popcount(m_value[n] ^ m_prev[n]));
      m_toggles[n] += t;
      if (!m_cost.empty()) cost += double(t) * m_cost[n];
    }
    if (!m_cost.empty()) m_step_costs.push_back(cost);
  }
  m_out_snapshot = m_value;
  // Rising clock edge: every flip-flop takes its D (all read before any is written).
  std::vector<uint64_t> d;
  for (size_t i = m_netlist.num_comb; i < m_netlist.gates.size(); ++i) d.push_back(v[m_netlist.gates[i].in[0]]);
  for (size_t i = m_netlist.num_comb, k = 0; i < m_netlist.gates.size(); ++i, ++k) v[m_netlist.gates[i].out] = d[k];
  m_prev = m_out_snapshot;
  ++m_steps;
}

LaneValues GateSim::output(const std::string& port) const {
  const auto it = m_netlist.outputs.find(port);
  if (it == m_netlist.outputs.end()) throw InputError("no output port '" + port + "'", m_netlist.top);
  LaneValues out{};
  for (size_t b = 0; b < it->second.size(); ++b) {
    const uint64_t w = m_out_snapshot.empty() ? 0 : m_out_snapshot[it->second[b]];
    for (int l = 0; l < 64; ++l) out[l] |= ((w >> l) & 1u) << b;
  }
  return out;
}

}  // namespace lpsim::power
