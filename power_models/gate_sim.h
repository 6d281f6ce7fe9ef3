// Bit-parallel gate-level simulator with transition counting (zero-delay: glitches are
// not counted). Each of the 64 bit lanes of a machine word is an independent copy of
// the circuit; one step() evaluates all gates for 64 input vectors at once, counts the
// nets that changed since the previous step per lane (popcount), then clocks the
// flip-flops. A stream is split into 64 contiguous pieces, one per lane, so that each
// lane sees consecutive operands of the stream.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "power_models/netlist.h"

namespace lpsim::power {

using LaneValues = std::array<uint64_t, 64>;  // one operand value per lane

class GateSim {
 public:
  explicit GateSim(const Netlist& netlist);

  // Drives an input port: lane l gets values[l] (LSB = port bit 0).
  void set_input(const std::string& port, const LaneValues& values);
  // Evaluates the combinational logic, adds this step's transitions to the counters
  // (unless it is the first step), then clocks the flip-flops.
  void step();
  // Value of an output port per lane, after the last step's evaluation (before clocking).
  LaneValues output(const std::string& port) const;

  const std::vector<uint64_t>& toggles() const { return m_toggles; }  // per net, summed over lanes
  // Optional cost of one transition per net: each step() then also records the step's
  // total cost (all 64 lanes) in step_costs(), for batch-means confidence intervals.
  void set_transition_costs(std::vector<double> cost) { m_cost = std::move(cost); }
  const std::vector<double>& step_costs() const { return m_step_costs; }
  // Cost of the last step alone (0 before costs are set or on the first step).
  double last_step_cost() const { return m_last_cost; }
  // Whether the last step's clock edge changed any flip-flop. If it did not and the next
  // step's inputs equal the last step's, that step would count no transition and change
  // nothing: a caller may skip it (an idle, clock-gated part of an array).
  bool state_changed() const { return m_state_changed; }
  uint64_t steps() const { return m_steps; }
  uint64_t gate_evaluations() const { return m_steps * m_netlist.num_comb * 64; }
  void reset_counters();
  // Unit-delay mode: every gate switches one time unit after its inputs, so transient
  // transitions (glitches) on unbalanced paths are counted too. Slower (one pass over
  // all gates per time unit until the circuit settles); the default is zero-delay.
  void set_unit_delay(bool on) { m_unit_delay = on; }

 private:
  const Netlist& m_netlist;
  std::vector<uint64_t> m_value, m_prev, m_toggles;
  std::vector<double> m_cost, m_step_costs;
  struct Run {
    size_t begin, end;
    GateType type;
  };
  std::vector<Run> m_runs;  // maximal runs of one gate type in evaluation order
  bool m_unit_delay = false;
  std::vector<uint64_t> m_next;
  std::vector<char> m_comb_driven;
  void step_unit_delay();
  uint64_t m_steps = 0;
  double m_last_cost = 0;
  bool m_state_changed = true;
};

}  // namespace lpsim::power
