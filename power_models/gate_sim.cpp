#include "power_models/gate_sim.h"

#include <bit>

#include "arith/error.h"

namespace lpsim::power {

GateSim::GateSim(const Netlist& netlist) : m_netlist(netlist) {
  m_value.assign(netlist.num_nets, 0);
  m_value[1] = ~uint64_t{0};  // constant-1 net in every lane
  m_prev = m_value;
  m_toggles.assign(netlist.num_nets, 0);
  m_comb_driven.assign(netlist.num_nets, 0);
  for (size_t i = 0; i < netlist.num_comb; ++i) m_comb_driven[netlist.gates[i].out] = 1;
  for (size_t i = 0; i < netlist.num_comb; ++i) {
    if (m_runs.empty() || m_runs.back().type != netlist.gates[i].type)
      m_runs.push_back({i, i + 1, netlist.gates[i].type});
    else
      m_runs.back().end = i + 1;
  }
}

namespace {

// One run of gates of the same type: a tight loop with the operation inlined.
template <typename Op>
inline void eval_run(const Gate* g, size_t n, uint64_t* v, Op op) {
  for (size_t i = 0; i < n; ++i) v[g[i].out] = op(v[g[i].in[0]], v[g[i].in[1]], v[g[i].in[2]]);
}

}  // namespace

void GateSim::reset_counters() {
  std::fill(m_toggles.begin(), m_toggles.end(), 0);
  m_step_costs.clear();
  m_steps = 0;
}

namespace {

// In-place transpose of a 64×64 bit matrix: bit l of a[b] becomes bit b of a[l]
// (recursive block swaps, 6 × 32 word operations instead of 64 × 64 bit moves).
void transpose64(uint64_t a[64]) {
  uint64_t m = 0x00000000FFFFFFFFull;
  for (int j = 32; j; j >>= 1, m ^= m << j)
    for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      const uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
      a[k | j] ^= t;
      a[k] ^= t << j;
    }
}

}  // namespace

void GateSim::set_input(const std::string& port, const LaneValues& values) {
  const auto it = m_netlist.inputs.find(port);
  if (it == m_netlist.inputs.end()) throw InputError("no input port '" + port + "'", m_netlist.top);
  // Transpose: bit b of every lane's value into one word.
  const size_t width = it->second.size();
  if (width == 1) {
    uint64_t w = 0;
    for (int l = 0; l < 64; ++l) w |= (values[l] & 1u) << l;
    m_value[it->second[0]] = w;
    return;
  }
  uint64_t a[64];
  std::copy(values.begin(), values.end(), a);
  transpose64(a);
  for (size_t b = 0; b < width; ++b) m_value[it->second[b]] = b < 64 ? a[b] : 0;  // a value has 64 bits
}

// The popcount of the toggle count needs POPCNT (x86-64-v2) to be one instruction;
// the baseline clone calls libgcc. Same results either way.
namespace {

uint64_t eval_gate(GateType t, uint64_t a, uint64_t b, uint64_t s) {
  switch (t) {
    case GateType::kBuf: return a;
    case GateType::kNot: return ~a;
    case GateType::kAnd: return a & b;
    case GateType::kNand: return ~(a & b);
    case GateType::kOr: return a | b;
    case GateType::kNor: return ~(a | b);
    case GateType::kXor: return a ^ b;
    case GateType::kXnor: return ~(a ^ b);
    case GateType::kAndNot: return a & ~b;
    case GateType::kOrNot: return a | ~b;
    case GateType::kMux: return (s & b) | (~s & a);
    case GateType::kDff: return 0;
  }
  return 0;
}

}  // namespace

void GateSim::step_unit_delay() {
  // Inputs and flip-flop outputs changed at time 0; the gates follow one unit later each
  // (Jacobi sweeps from the previous settled state), every intermediate change counted.
  std::vector<uint64_t>& cur = m_value;
  double cost = 0;
  auto count = [&](size_t n, uint64_t diff) {
    const uint64_t t = uint64_t(std::popcount(diff));
    m_toggles[n] += t;
    if (!m_cost.empty()) cost += double(t) * m_cost[n];
  };
  for (size_t n = 0; n < cur.size(); ++n)
    if (!m_comb_driven[n]) count(n, cur[n] ^ m_prev[n]);
  m_next = cur;
  for (size_t sweep = 0; sweep <= m_netlist.num_comb; ++sweep) {
    bool changed = false;
    for (size_t i = 0; i < m_netlist.num_comb; ++i) {
      const Gate& g = m_netlist.gates[i];
      m_next[g.out] = eval_gate(g.type, cur[g.in[0]], cur[g.in[1]], cur[g.in[2]]);
    }
    for (size_t i = 0; i < m_netlist.num_comb; ++i) {
      const uint32_t o = m_netlist.gates[i].out;
      if (const uint64_t d = m_next[o] ^ cur[o]) {
        count(o, d);
        changed = true;
      }
    }
    std::swap(cur, m_next);
    m_next = cur;
    if (!changed) break;
  }
  if (!m_cost.empty()) m_step_costs.push_back(cost);
  m_last_cost = cost;
}

__attribute__((target_clones("default", "arch=x86-64-v2"))) void GateSim::step() {
  uint64_t* v = m_value.data();
  if (m_unit_delay && m_steps > 0) {
    step_unit_delay();
    std::copy(m_value.begin(), m_value.end(), m_prev.begin());
    for (size_t i = m_netlist.num_comb; i < m_netlist.gates.size(); ++i)
      m_value[m_netlist.gates[i].out] = m_prev[m_netlist.gates[i].in[0]];
    ++m_steps;
    return;
  }
  for (const Run& r : m_runs) {
    const Gate* g = m_netlist.gates.data() + r.begin;
    const size_t n = r.end - r.begin;
    using U = uint64_t;
    switch (r.type) {
      case GateType::kBuf: eval_run(g, n, v, [](U a, U, U) { return a; }); break;
      case GateType::kNot: eval_run(g, n, v, [](U a, U, U) { return ~a; }); break;
      case GateType::kAnd: eval_run(g, n, v, [](U a, U b, U) { return a & b; }); break;
      case GateType::kNand: eval_run(g, n, v, [](U a, U b, U) { return ~(a & b); }); break;
      case GateType::kOr: eval_run(g, n, v, [](U a, U b, U) { return a | b; }); break;
      case GateType::kNor: eval_run(g, n, v, [](U a, U b, U) { return ~(a | b); }); break;
      case GateType::kXor: eval_run(g, n, v, [](U a, U b, U) { return a ^ b; }); break;
      case GateType::kXnor: eval_run(g, n, v, [](U a, U b, U) { return ~(a ^ b); }); break;
      case GateType::kAndNot: eval_run(g, n, v, [](U a, U b, U) { return a & ~b; }); break;
      case GateType::kOrNot: eval_run(g, n, v, [](U a, U b, U) { return a | ~b; }); break;
      case GateType::kMux: eval_run(g, n, v, [](U a, U b, U s) { return (s & b) | (~s & a); }); break;
      case GateType::kDff: break;
    }
  }
  if (m_steps > 0) {
    double cost = 0;
    for (size_t n = 0; n < m_value.size(); ++n) {
      const uint64_t t = uint64_t(std::popcount(m_value[n] ^ m_prev[n]));
      m_toggles[n] += t;
      if (!m_cost.empty()) cost += double(t) * m_cost[n];
    }
    if (!m_cost.empty()) m_step_costs.push_back(cost);
    m_last_cost = cost;
  }
  // m_prev keeps this step's settled values: the reference for the next step's
  // transitions and what output() reads.
  std::copy(m_value.begin(), m_value.end(), m_prev.begin());
  // Rising clock edge: every flip-flop takes its D (read from the settled copy, so the
  // order of the flip-flops does not matter).
  bool changed = false;
  for (size_t i = m_netlist.num_comb; i < m_netlist.gates.size(); ++i) {
    const Gate& g = m_netlist.gates[i];
    changed |= m_prev[g.in[0]] != m_prev[g.out];
    v[g.out] = m_prev[g.in[0]];
  }
  m_state_changed = changed;
  ++m_steps;
}

LaneValues GateSim::output(const std::string& port) const {
  const auto it = m_netlist.outputs.find(port);
  if (it == m_netlist.outputs.end()) throw InputError("no output port '" + port + "'", m_netlist.top);
  LaneValues out{};
  uint64_t a[64] = {};
  for (size_t b = 0; b < it->second.size() && b < 64; ++b) a[b] = m_steps == 0 ? 0 : m_prev[it->second[b]];
  transpose64(a);
  std::copy(a, a + 64, out.begin());
  return out;
}

}  // namespace lpsim::power
