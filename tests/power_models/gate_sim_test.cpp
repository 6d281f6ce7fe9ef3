// Gate-level pipeline: Yosys netlists of the rtl/ units, simulated bit-parallel, must
// compute what the golden models compute (catches a broken synthesis step), and the
// transition counts must equal those of a plain one-vector-at-a-time evaluation.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include "arith/error.h"
#include "arith/format.h"
#include "arith/fp_units.h"
#include "arith/int_units.h"
#include "arith/lns.h"
#include "arith/philox.h"
#include "power_models/cell_library.h"
#include "power_models/gate_sim.h"
#include "power_models/netlist.h"
#include "power_models/synth.h"
#include "power_models/unit_energy.h"

using namespace lpsim;
using namespace lpsim::power;

namespace {

Netlist netlist_of(const std::string& top, std::map<std::string, std::string> params) {
  const auto path = synthesize({top, params, std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl",
                                std::filesystem::path(LPSIM_BINARY_DIR) / "netlists"});
  return load_yosys_json(path);
}

// Evaluates the netlist for one vector with plain bools: the reference for the
// bit-parallel simulator.
std::vector<bool> eval_scalar(const Netlist& n, const std::map<std::string, uint64_t>& in) {
  std::vector<bool> v(n.num_nets, false);
  v[1] = true;
  for (const auto& [port, bits] : n.inputs) {
    const auto it = in.find(port);
    for (size_t b = 0; b < bits.size(); ++b) v[bits[b]] = it != in.end() && ((it->second >> b) & 1u);
  }
  for (size_t i = 0; i < n.num_comb; ++i) {
    const Gate& g = n.gates[i];
    const bool a = v[g.in[0]], b = v[g.in[1]], s = v[g.in[2]];
    bool y = false;
    switch (g.type) {
      case GateType::kBuf: y = a; break;
      case GateType::kNot: y = !a; break;
      case GateType::kAnd: y = a && b; break;
      case GateType::kNand: y = !(a && b); break;
      case GateType::kOr: y = a || b; break;
      case GateType::kNor: y = !(a || b); break;
      case GateType::kXor: y = a != b; break;
      case GateType::kXnor: y = a == b; break;
      case GateType::kAndNot: y = a && !b; break;
      case GateType::kOrNot: y = a || !b; break;
      case GateType::kMux: y = s ? b : a; break;
      default: break;
    }
    v[g.out] = y;
  }
  return v;
}

TEST(GateSim, MultiplierNetlistsComputeTheGoldenProductForAllPairs) {
  for (const char* top : {"mul_array", "mul_booth"}) {
    for (int is_signed : {0, 1}) {
      const Netlist n = netlist_of(top, {{"WidthA", "8"}, {"WidthB", "8"}, {"Signed", std::to_string(is_signed)}});
      GateSim sim(n);
      for (uint64_t base = 0; base < 65536; base += 64) {
        LaneValues a{}, b{};
        for (int l = 0; l < 64; ++l) {
          a[l] = (base + l) >> 8;
          b[l] = (base + l) & 255;
        }
        sim.set_input("a_i", a);
        sim.set_input("b_i", b);
        sim.step();
        const LaneValues p = sim.output("p_o");
        for (int l = 0; l < 64; ++l)
          ASSERT_EQ(p[l], arith::mul_golden(a[l], b[l], 8, 8, is_signed)) << top << " signed=" << is_signed;
      }
    }
  }
}

TEST(GateSim, TogglesEqualAOneVectorAtATimeCount) {
  const Netlist n = netlist_of("mul_booth", {{"WidthA", "6"}, {"WidthB", "5"}, {"Signed", "1"}});
  GateSim sim(n);
  const arith::RandomStream rng(4, 0);
  constexpr int kSteps = 50;
  std::vector<std::vector<bool>> prev(64);
  std::vector<uint64_t> expect(n.num_nets, 0);
  for (int t = 0; t < kSteps; ++t) {
    LaneValues a{}, b{};
    for (int l = 0; l < 64; ++l) {
      a[l] = rng.bits(uint64_t(t) * 128 + l) & 63;
      b[l] = rng.bits(uint64_t(t) * 128 + 64 + l) & 31;
      const auto v = eval_scalar(n, {{"a_i", a[l]}, {"b_i", b[l]}});
      if (t > 0)
        for (size_t k = 0; k < v.size(); ++k) expect[k] += v[k] != prev[l][k];
      prev[l] = v;
    }
    sim.set_input("a_i", a);
    sim.set_input("b_i", b);
    sim.step();
  }
  EXPECT_EQ(sim.toggles(), expect);
  uint64_t total = 0;
  for (uint64_t t : expect) total += t;
  EXPECT_GT(total, 0u);
}

TEST(GateSim, SequentialAccumulatorMatchesTheGoldenModelInEveryLane) {
  const Netlist n = netlist_of("accumulator", {{"Width", "12"}, {"InWidth", "8"}, {"Signed", "1"}, {"Saturate", "1"}});
  EXPECT_GT(n.gates.size(), n.num_comb);  // it has flip-flops
  GateSim sim(n);
  std::vector<arith::AccumulatorModel> gold(64, arith::AccumulatorModel{12, true, true});
  const arith::RandomStream rng(5, 0);
  LaneValues ones{};
  ones.fill(1);
  sim.set_input("rst_ni", ones);
  for (int t = 0; t < 300; ++t) {
    LaneValues clear{}, en{}, in{};
    for (int l = 0; l < 64; ++l) {
      const uint32_t r = rng.bits(uint64_t(t) * 64 + l);
      clear[l] = (r & 31) == 0;
      en[l] = (r >> 5 & 3) != 0;
      in[l] = (r >> 8) & 255;
    }
    sim.set_input("clear_i", clear);
    sim.set_input("en_i", en);
    sim.set_input("in_i", in);
    sim.step();  // outputs show the state before this edge
    const LaneValues acc = sim.output("acc_o");
    for (int l = 0; l < 64; ++l) ASSERT_EQ(acc[l], uint64_t(gold[l].value) & 0xFFF) << "step " << t << " lane " << l;
    for (int l = 0; l < 64; ++l) gold[l].clock(clear[l], en[l], arith::operand_value(in[l], 8, true));
  }
}

// The weight-stationary PE after synthesis: the weight register (load enable), the
// registered psum and forwarded activation, in every lane against mac_ws_golden.
TEST(GateSim, WeightStationaryPeMatchesTheGoldenModelInEveryLane) {
  const Netlist n = netlist_of("mac_ws", {{"WidthA", "4"}, {"WidthB", "4"}, {"AccWidth", "10"}, {"Signed", "1"},
                                          {"Saturate", "1"}, {"Booth", "0"}});
  GateSim sim(n);
  LaneValues ones{}, w{}, psum{}, a_o{};
  ones.fill(1);
  sim.set_input("rst_ni", ones);
  const arith::RandomStream rng(6, 0);
  for (int t = 0; t < 300; ++t) {
    LaneValues load{}, en{}, a{}, b{}, p{};
    for (int l = 0; l < 64; ++l) {
      const auto r = rng.block(uint64_t(t) * 64 + l);
      load[l] = (r[0] & 7) == 0;
      en[l] = (r[0] >> 3 & 7) != 0;
      a[l] = r[1] & 15;
      b[l] = r[2] & 15;
      p[l] = r[3] & 1023;
    }
    sim.set_input("w_load_i", load);
    sim.set_input("en_i", en);
    sim.set_input("a_i", a);
    sim.set_input("b_i", b);
    sim.set_input("psum_i", p);
    sim.step();  // outputs show the state before this edge
    const LaneValues got = sim.output("psum_o"), got_a = sim.output("a_o");
    for (int l = 0; l < 64; ++l) {
      ASSERT_EQ(got[l], psum[l]) << "step " << t << " lane " << l;
      ASSERT_EQ(got_a[l], a_o[l]) << "step " << t << " lane " << l;
      if (en[l]) {
        psum[l] = arith::mac_ws_golden(a[l], w[l], p[l], 4, 4, 10, true, true).psum;
        a_o[l] = a[l];
      }
      if (load[l]) w[l] = b[l];
    }
  }
}

// The LNS units after synthesis (issue 17) compute arith's golden sums: lns_mac (A),
// lns_mac_bins (A', read out on random cycles) and lns_log_acc as B and C, each lane a
// random sequence of lns8_b3 products (clear 1/32, enable 3/4; a quarter of the operands
// zero or at the ends of the range, so the narrow sums overflow, saturate and flush),
// every step against the golden state before its edge. The netlists are the ones
// `lpsim energy --unit lns_*` prices (the request's own module and parameters).
TEST(GateSim, LnsNetlistsComputeTheGoldenSumsInEveryLane) {
  const arith::LnsFormat f{7, 3};
  auto netlist_for = [&](const std::string& unit, int alpha, int acc_bits, int acc_frac) {
    UnitEnergyRequest req;
    req.unit = unit, req.format = "lns8_b3", req.lns_alpha = alpha, req.acc_bits = acc_bits, req.lns_acc_frac = acc_frac;
    const UnitEnergyReport m = unit_module(req);
    return netlist_of(m.module, m.params);
  };
  struct Step {
    LaneValues clear{}, en{}, a{}, b{}, read{};
  };
  auto draw = [&](const arith::RandomStream& rng, int t) {
    Step s;
    for (int l = 0; l < 64; ++l) {
      const auto r = rng.block(uint64_t(t) * 64 + l);
      s.clear[l] = (r[0] & 31) == 0;
      s.en[l] = (r[0] >> 5 & 3) != 0;
      s.read[l] = (r[0] >> 7 & 1) != 0;
      auto code = [&](uint32_t x, uint32_t pick) -> uint64_t {
        switch (pick & 7) {
          case 0: return arith::lns_zero(f) | (x & 0x80);
          case 1: return arith::lns_pack(f, x & 1, f.e_max());
          case 2: return arith::lns_pack(f, x & 1, f.e_min());
          default: return x & 0xFF;
        }
      };
      s.a[l] = code(r[1], r[0] >> 8);
      s.b[l] = code(r[2], r[0] >> 11);
    }
    return s;
  };
  LaneValues ones{};
  ones.fill(1);
  const int steps = 400;
  {  // A: the wrapping sum and the sticky flag
    const Netlist n = netlist_for("lns_mac", 5, 24, -1);
    const arith::LnsLinearAcc u(f, 5, 24);
    GateSim sim(n);
    sim.set_input("rst_ni", ones);
    std::vector<arith::LnsAccResult> gold(64);
    const arith::RandomStream rng(11, 0);
    int overflows = 0;
    for (int t = 0; t < steps; ++t) {
      const Step s = draw(rng, t);
      sim.set_input("clear_i", s.clear), sim.set_input("en_i", s.en), sim.set_input("a_i", s.a), sim.set_input("b_i", s.b);
      sim.step();  // outputs show the state before this edge
      const LaneValues acc = sim.output("acc_o"), ovf = sim.output("overflow_o");
      for (int l = 0; l < 64; ++l) {
        ASSERT_EQ(acc[l], uint64_t(gold[l].sum) & 0xFFFFFF) << "lns_mac step " << t << " lane " << l;
        ASSERT_EQ(ovf[l], uint64_t(gold[l].overflow)) << "lns_mac step " << t << " lane " << l;
        overflows += gold[l].overflow;
        if (s.clear[l])
          gold[l] = {};
        else if (s.en[l])
          gold[l] = arith::lns_unit_a_step(u, gold[l], uint32_t(s.a[l]), uint32_t(s.b[l]));
      }
    }
    EXPECT_GT(overflows, 0);
  }
  {  // A': the read-out of the bins, 0 while read_i is low
    const Netlist n = netlist_for("lns_mac_bins", 5, 24, -1);
    const arith::LnsLinearAcc u(f, 5, 24);
    GateSim sim(n);
    sim.set_input("rst_ni", ones);
    std::vector<std::vector<uint32_t>> ra(64), rb(64);
    const arith::RandomStream rng(12, 0);
    int overflows = 0;
    for (int t = 0; t < steps; ++t) {
      const Step s = draw(rng, t);
      sim.set_input("clear_i", s.clear), sim.set_input("en_i", s.en), sim.set_input("a_i", s.a), sim.set_input("b_i", s.b);
      sim.set_input("read_i", s.read);
      sim.step();
      const LaneValues acc = sim.output("acc_o"), ovf = sim.output("overflow_o");
      for (int l = 0; l < 64; ++l) {
        const arith::LnsAccResult g = s.read[l] ? arith::lns_unit_a_bins(u, ra[l], rb[l]) : arith::LnsAccResult{};
        ASSERT_EQ(acc[l], uint64_t(g.sum) & 0xFFFFFF) << "lns_mac_bins step " << t << " lane " << l;
        ASSERT_EQ(ovf[l], uint64_t(g.overflow)) << "lns_mac_bins step " << t << " lane " << l;
        overflows += g.overflow;
        if (s.clear[l]) {
          ra[l].clear(), rb[l].clear();
        } else if (s.en[l]) {
          ra[l].push_back(uint32_t(s.a[l]));
          rb[l].push_back(uint32_t(s.b[l]));
        }
      }
    }
    EXPECT_GT(overflows, 0);
  }
  for (const char* unit : {"lns_log_acc", "lns_mitchell_acc"}) {  // B and C at F = 3 in 8 bits: saturation, flush
    const Netlist n = netlist_for(unit, -1, 8, 3);
    const arith::LnsLogAcc u(f, 3, 8, std::string(unit) == "lns_mitchell_acc");
    GateSim sim(n);
    // A reset step first: the empty sum's code is not all zeros (the flip-flops' start).
    sim.set_input("rst_ni", LaneValues{});
    sim.step();
    sim.set_input("rst_ni", ones);
    std::vector<arith::LnsLogSum> gold(64);
    const arith::RandomStream rng(13, 0);
    int saturated = 0;
    for (int t = 0; t < steps; ++t) {
      const Step s = draw(rng, t);
      sim.set_input("clear_i", s.clear), sim.set_input("en_i", s.en), sim.set_input("a_i", s.a), sim.set_input("b_i", s.b);
      sim.step();
      const LaneValues sum = sim.output("sum_o"), sat = sim.output("saturated_o");
      for (int l = 0; l < 64; ++l) {
        const arith::LnsLogSum& g = gold[l];
        const uint64_t expect = g.zero ? 0x80 : (uint64_t(g.negative) << 8) | (uint64_t(g.e) & 0xFF);
        ASSERT_EQ(sum[l], expect) << unit << " step " << t << " lane " << l;
        ASSERT_EQ(sat[l], uint64_t(g.saturated)) << unit << " step " << t << " lane " << l;
        saturated += g.saturated;
        if (s.clear[l])
          gold[l] = {};
        else if (s.en[l])
          gold[l] = arith::lns_log_step(u, gold[l], uint32_t(s.a[l]), uint32_t(s.b[l]));
      }
    }
    EXPECT_GT(saturated, 0) << unit;
  }
}

// The FP units (and the LUQ shift unit) after synthesis compute what their golden models
// compute (the Verilator check covers the RTL, not what Yosys makes of it): fp_add in
// FP16, BF16 and FP32, fp_mul_rne in FP16 and BF16, fp8_mac through its registers, and
// luq_mul on every pair — on random codes, a quarter of the addends near the other
// operand (cancellation, rounding), specials included. Yosys 0.23 once read fp_add's `ExpMax = '1` as 1: every FP figure
// was priced on an adder that computed nothing, and only a test like this one sees it.
// Out of line: GCC 12 reports a false -Wrestrict in the golden model's string code when it
// is inlined into the test body at -O3.
[[gnu::noinline]] uint32_t fp8_mac_step(const arith::FloatFormat& f, uint32_t acc, uint32_t a, uint32_t b) {
  return arith::fp8_mac_golden(f, acc, a, b);
}

TEST(GateSim, FloatingPointNetlistsComputeTheGoldenValues) {
  const arith::RandomStream rng(9, 1);
  uint64_t draw = 0;
  auto operand = [&](const arith::FloatFormat& f, uint64_t near) {
    const auto r = rng.block(draw++);
    const uint64_t mask = (uint64_t{1} << f.total_bits()) - 1;
    if ((r[0] & 3) == 0) return near ^ (r[1] & ((uint64_t{1} << f.man_bits) - 1)) ^ (uint64_t(r[2] & 1) << (f.total_bits() - 1));
    return uint64_t(r[1]) & mask;
  };
  for (const char* name : {"fp16", "bf16", "fp32"}) {
    const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(name));
    const Netlist n = netlist_of("fp_add", {{"ExpBits", std::to_string(f.exp_bits)}, {"ManBits", std::to_string(f.man_bits)}});
    GateSim sim(n);
    int wrong = 0;
    for (int t = 0; t < 64; ++t) {
      LaneValues a{}, b{};
      for (int l = 0; l < 64; ++l) a[l] = operand(f, 0), b[l] = operand(f, a[l]);
      sim.set_input("a_i", a);
      sim.set_input("b_i", b);
      sim.step();
      const LaneValues s = sim.output("s_o");
      for (int l = 0; l < 64; ++l)
        if (s[l] != arith::fp_add_golden(f, uint32_t(a[l]), uint32_t(b[l])) && wrong++ < 3)
          ADD_FAILURE() << name << " " << std::hex << a[l] << " + " << b[l] << " = " << s[l] << ", golden "
                        << arith::fp_add_golden(f, uint32_t(a[l]), uint32_t(b[l]));
    }
    EXPECT_EQ(wrong, 0) << name;
  }
  for (const char* name : {"fp16", "bf16"}) {  // fp_mul_rne (FP32 too in fp_mac, checked via its RTL only)
    const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(name));
    const Netlist n =
        netlist_of("fp_mul_rne", {{"ExpBits", std::to_string(f.exp_bits)}, {"ManBits", std::to_string(f.man_bits)}});
    GateSim sim(n);
    int wrong = 0;
    for (int t = 0; t < 32; ++t) {
      LaneValues a{}, b{};
      for (int l = 0; l < 64; ++l) a[l] = operand(f, 0), b[l] = operand(f, 0);
      sim.set_input("a_i", a);
      sim.set_input("b_i", b);
      sim.step();
      const LaneValues p = sim.output("p_o");
      for (int l = 0; l < 64; ++l)
        if (p[l] != arith::fp_mul_rne_golden(f, uint32_t(a[l]), uint32_t(b[l])) && wrong++ < 3)
          ADD_FAILURE() << name << " " << std::hex << a[l] << " * " << b[l] << " = " << p[l];
    }
    EXPECT_EQ(wrong, 0) << name;
  }
  {  // luq_mul, every INT4 × LUQ FP4 pair (the multiplier-free shift unit)
    const Netlist n = netlist_of("luq_mul", {});
    GateSim sim(n);
    const int out_bits = int(n.outputs.at("p_o").size());
    for (uint64_t a = 0; a < 16; ++a) {
      LaneValues av{}, wv{};
      for (int l = 0; l < 16; ++l) av[l] = a, wv[l] = uint64_t(l);
      sim.set_input("a_i", av);
      sim.set_input("w_i", wv);
      sim.step();
      const LaneValues p = sim.output("p_o");
      for (int l = 0; l < 16; ++l)
        EXPECT_EQ(arith::operand_value(p[l], out_bits, true), arith::luq_mul_golden(uint32_t(a), uint32_t(l))) << a << " " << l;
    }
  }
  for (const char* name : {"fp8_e4m3", "fp8_e5m2"}) {
    const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(name));
    const bool e4 = f.exp_bits == 4;
    const std::map<std::string, std::string> params = {
        {"ExpBits", e4 ? "4" : "5"}, {"ManBits", e4 ? "3" : "2"}, {"Bias", e4 ? "7" : "15"}, {"FnSpecials", e4 ? "1" : "0"}};
    // fp8_mac: acc <= acc + a·b every enabled cycle (clear to +0).
    const Netlist n = netlist_of("fp8_mac", params);
    GateSim sim(n);
    LaneValues ones{}, acc{};
    ones.fill(1);
    sim.set_input("rst_ni", ones);
    int wrong = 0;
    for (int t = 0; t < 200; ++t) {
      LaneValues a{}, b{}, en{}, clear{};
      for (int l = 0; l < 64; ++l) {
        const auto r = rng.block(draw++);
        a[l] = r[0] & 0xff, b[l] = r[1] & 0xff, en[l] = (r[2] & 3) != 0, clear[l] = (r[2] & 31) == 0;
      }
      sim.set_input("a_i", a);
      sim.set_input("b_i", b);
      sim.set_input("en_i", en);
      sim.set_input("clear_i", clear);
      sim.step();
      const LaneValues got = sim.output("acc_o");  // the register before this edge
      for (int l = 0; l < 64; ++l) {
        if (got[l] != acc[l] && wrong++ < 3)
          ADD_FAILURE() << name << " step " << t << " lane " << l << std::hex << ": " << got[l] << " vs " << acc[l];
        if (clear[l])
          acc[l] = 0;
        else if (en[l])
          acc[l] = fp8_mac_step(f, uint32_t(acc[l]), uint32_t(a[l]), uint32_t(b[l]));
      }
    }
    EXPECT_EQ(wrong, 0) << name;
  }
}

// The PANN PE after synthesis (wrap and saturate): each lane runs runs of 1..40 random
// jobs (x, w̃) after a clear, each start at the first edge done_o allows (overlapping the
// last addition of the job before), then one edge without a start (the last addition).
// Every step's sums, done_o and overflow_o equal PannMacModel's, and at the end of every
// run the sums, the flag and the number of cycles equal the closed form (Σ x·w̃ per
// sign, 1 + Σ max(|w̃|, 1) cycles from the first start through the last addition).
TEST(GateSim, PannMacNetlistComputesTheGoldenSumsInEveryLane) {
  for (int sat : {0, 1}) {
    const Netlist n = netlist_of("pann_mac", {{"WidthX", "4"}, {"RWidth", "3"}, {"AccWidth", "8"},
                                              {"Saturate", std::to_string(sat)}});
    GateSim sim(n);
    LaneValues ones{};
    ones.fill(1);
    sim.set_input("rst_ni", ones);
    const arith::RandomStream rng(7, uint32_t(sat));
    std::vector<arith::PannMacModel> gold(64, arith::PannMacModel{8, sat != 0});
    std::vector<std::vector<arith::PannJob>> jobs(64);
    std::array<uint64_t, 64> target{}, cycles{};  // jobs in the lane's current run, its cycles since the clear
    std::array<bool, 64> last_added{};            // the run's last addition is done
    uint64_t runs = 0, overflowed = 0;
    LaneValues clear{}, start{}, x{}, r{}, neg{};
    for (uint64_t t = 0; t < 1500; ++t) {
      for (int l = 0; l < 64; ++l) {
        const auto w = rng.block(t * 64 + uint64_t(l));
        clear[l] = start[l] = 0;
        x[l] = w[1] & 15;  // while counting and at the last addition the inputs are ignored
        r[l] = w[2] & 7;
        neg[l] = w[3] & 1;
        if (jobs[l].size() == target[l] && (last_added[l] || target[l] == 0)) {  // run complete (t = 0: empty)
          clear[l] = 1;
          target[l] = 1 + w[0] % 40;
          last_added[l] = false;
        } else if (gold[l].done() && jobs[l].size() == target[l]) {
          last_added[l] = true;  // no start: the last job's last addition
        } else if (gold[l].done()) {
          start[l] = 1;
          jobs[l].push_back({x[l], neg[l] ? -int64_t(r[l]) : int64_t(r[l])});
        }
      }
      sim.set_input("clear_i", clear);
      sim.set_input("start_i", start);
      sim.set_input("x_i", x);
      sim.set_input("r_i", r);
      sim.set_input("neg_i", neg);
      sim.step();  // outputs show the state before this edge
      const LaneValues pos = sim.output("sum_pos_o"), ng = sim.output("sum_neg_o"), done = sim.output("done_o"),
                       ovf = sim.output("overflow_o");
      for (int l = 0; l < 64; ++l) {
        ASSERT_EQ(pos[l], gold[l].sum_pos) << "sat " << sat << " step " << t << " lane " << l;
        ASSERT_EQ(ng[l], gold[l].sum_neg) << "sat " << sat << " step " << t << " lane " << l;
        ASSERT_EQ(done[l], uint64_t(gold[l].done())) << "sat " << sat << " step " << t << " lane " << l;
        ASSERT_EQ(ovf[l], uint64_t(gold[l].overflow)) << "sat " << sat << " step " << t << " lane " << l;
        if (clear[l] && t > 0) {
          const arith::PannMacSums e = arith::pann_mac_golden(jobs[l], 8, sat != 0);
          ASSERT_EQ(pos[l], e.sum_pos) << "sat " << sat << " step " << t << " lane " << l;
          ASSERT_EQ(ng[l], e.sum_neg) << "sat " << sat << " step " << t << " lane " << l;
          ASSERT_EQ(ovf[l], uint64_t(e.overflow)) << "sat " << sat << " step " << t << " lane " << l;
          ASSERT_EQ(cycles[l], e.cycles) << "sat " << sat << " step " << t << " lane " << l;
          ++runs;
          overflowed += e.overflow;
        }
        if (clear[l]) {
          jobs[l].clear();
          cycles[l] = 0;
        } else {
          ++cycles[l];  // every edge after the clear is the run's: starts, additions, the last one
        }
        gold[l].clock(clear[l], start[l], x[l], r[l], neg[l]);
      }
    }
    EXPECT_GT(runs, 500u);
    EXPECT_GT(overflowed, runs / 8);  // the 8-bit sums wrap or saturate in some runs, not in others
    EXPECT_LT(overflowed, runs - runs / 8);
  }
}

TEST(CellLibrary, EveryGateOfTheNetlistsIsPriced) {
  const CellLibrary lib = load_cell_library(default_cell_library_path());
  EXPECT_NEAR(lib.at("$_NAND_").area_um2, 0.798, 1e-9);
  EXPECT_NEAR(lib.at("$_XOR_").internal_energy_fj, 3.038, 1e-9);
  for (const char* top : {"mul_array", "mul_booth", "mac"}) {
    const Netlist n = netlist_of(top, {});
    for (const auto& [cell, count] : n.cell_counts()) EXPECT_NO_THROW(lib.at(cell)) << top << " " << cell;
  }
  EXPECT_THROW(lib.at("$_AOI3_X_"), InputError);
  EXPECT_THROW(load_cell_library("/nonexistent.csv"), InputError);
}

}  // namespace

#include "power_models/gate_energy.h"
#include "power_models/unit_energy.h"

namespace {

TEST(UnitEnergy, PricesTheMeasuredSwitching) {
  const CellLibrary lib = load_cell_library(default_cell_library_path());
  UnitEnergyRequest req;
  req.rtl_dir = std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl";
  req.cache_dir = std::filesystem::path(LPSIM_BINARY_DIR) / "netlists";
  req.vectors = 1 << 14;
  const UnitEnergyReport r = measure_unit_energy(req, lib);
  // Recompute the dynamic energy from the toggle counts and per-net costs by hand.
  const Netlist n = load_yosys_json(synthesize({r.module, r.params, req.rtl_dir, req.cache_dir}));
  const std::vector<double> e = transition_energy_fj(n, lib);
  EXPECT_GT(r.energy_pj, 0.05);
  EXPECT_LT(r.energy_ci95_pj, 0.05 * r.energy_pj);
  EXPECT_GT(r.toggles_per_op, 10);
  EXPECT_NEAR(r.area.nand2_equivalents * lib.at("$_NAND_").area_um2, r.area.area_um2, 1e-9);
  // Same seed, same figure; another seed, within the interval of both.
  const UnitEnergyReport again = measure_unit_energy(req, lib);
  EXPECT_EQ(again.energy_pj, r.energy_pj);
  req.seed = 2;
  const UnitEnergyReport other = measure_unit_energy(req, lib);
  EXPECT_NEAR(other.energy_pj, r.energy_pj, 3 * (r.energy_ci95_pj + other.energy_ci95_pj));
  // A transition of a net costs at least the internal energy of its driver.
  for (const Gate& g : n.gates) EXPECT_GE(e[g.out], lib.at(g.cell).internal_energy_fj);
  req.unit = "div";
  EXPECT_THROW(measure_unit_energy(req, lib), InputError);
}

// pann_mac prices additions: on its uniform job stream (the operations are the additions
// done, start and clear cycles priced in) and on chains (clear, four jobs of |w̃| = 5,
// each start after the first on the last addition of the job before, then the last
// addition: 22 steps, 20 additions per chain; 200 chains leave 56 lanes idle in the
// last slot).
TEST(UnitEnergy, PannMacPricesAdditions) {
  const CellLibrary lib = load_cell_library(default_cell_library_path());
  UnitEnergyRequest req;
  req.rtl_dir = std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl";
  req.cache_dir = std::filesystem::path(LPSIM_BINARY_DIR) / "netlists";
  req.unit = "pann_mac";
  req.a_bits = 8;
  req.b_bits = 4;
  req.acc_bits = 32;
  req.vectors = 1 << 13;
  const UnitEnergyReport u = measure_unit_energy(req, lib);
  EXPECT_EQ(u.module, "pann_mac");
  EXPECT_EQ(u.params.at("AccWidth"), "32");
  EXPECT_EQ(u.params.at("Saturate"), "0");
  EXPECT_GE(u.operations, req.vectors);
  EXPECT_LT(u.operations, req.vectors + 64);  // the steps stop once enough additions are done
  EXPECT_GT(u.energy_pj, 0.05);
  EXPECT_LT(u.energy_ci95_pj, 0.05 * u.energy_pj);
  req.stream = "chains";
  const arith::RandomStream rng(8, 0);
  for (uint32_t ch = 0; ch < 200; ++ch) {
    req.chains.push_back({0, 0, 0, kStepClear});
    for (uint32_t j = 0; j < 4; ++j) {
      const auto w = rng.block(ch * 4 + j);
      req.chains.push_back({w[0] & 255u, 5, w[1] & 1u, kStepLoad});
      for (int k = 0; k < 4; ++k) req.chains.push_back({w[2] & 255u, w[3] & 15u, w[3] >> 4 & 1u, 0});  // ignored
    }
    req.chains.push_back({0, 0, 0, 0});  // the last job's last addition
  }
  req.chain_len = 22;
  req.chain_ops = 20;
  const UnitEnergyReport c = measure_unit_energy(req, lib);
  EXPECT_EQ(c.operations, 200u * 20u);
  EXPECT_EQ(c.batches, 3u);
  EXPECT_GT(c.energy_pj, 0.5 * u.energy_pj);
  EXPECT_LT(c.energy_pj, 2.0 * u.energy_pj);
  req.stream = "gauss";
  EXPECT_THROW(measure_unit_energy(req, lib), InputError);
}

}  // namespace

namespace {

// Unit delay only adds transitions (glitches) to the settled zero-delay ones: per net,
// zero-delay count <= unit-delay count, and the settled outputs are the same.
TEST(GateSim, UnitDelayCountsAtLeastTheZeroDelayTransitions) {
  const Netlist n = netlist_of("mul_array", {{"WidthA", "6"}, {"WidthB", "6"}, {"Signed", "1"}});
  GateSim zero(n), unit(n);
  unit.set_unit_delay(true);
  const arith::RandomStream rng(8, 0);
  for (int t = 0; t < 40; ++t) {
    LaneValues a{}, b{};
    for (int l = 0; l < 64; ++l) {
      a[l] = rng.bits(uint64_t(t) * 128 + l) & 63;
      b[l] = rng.bits(uint64_t(t) * 128 + 64 + l) & 63;
    }
    for (GateSim* s : {&zero, &unit}) {
      s->set_input("a_i", a);
      s->set_input("b_i", b);
      s->step();
    }
    ASSERT_EQ(zero.output("p_o"), unit.output("p_o"));
  }
  uint64_t z = 0, u = 0;
  for (size_t k = 0; k < n.num_nets; ++k) {
    ASSERT_LE(zero.toggles()[k], unit.toggles()[k]) << "net " << k;
    z += zero.toggles()[k];
    u += unit.toggles()[k];
  }
  EXPECT_GT(u, z);  // an array multiplier glitches
}

}  // namespace

namespace {

// Wire load from fan-out (NanGate 5K_hvratio_1_1, the library default): the table's own
// points, Liberty's interpolation and slope extrapolation, and each net's ½CV² with
// C = pin caps + wire.
TEST(CellLibrary, WireLoadFromFanout) {
  const CellLibrary lib = load_cell_library(default_cell_library_path());
  const WireLoad& w = lib.wire_load;
  EXPECT_EQ(w.name, "5K_hvratio_1_1");
  EXPECT_NEAR(w.capacitance_ff(1), 0.1774 * 1.7460, 1e-12);
  EXPECT_NEAR(w.capacitance_ff(4), 0.1774 * 9.2201, 1e-12);
  EXPECT_NEAR(w.capacitance_ff(10), 0.1774 * (25.4842 + 27.0320) / 2, 1e-12);  // between 9 and 11
  EXPECT_NEAR(w.capacitance_ff(13), 0.1774 * (27.0320 + 2 * 5.0), 1e-12);     // slope beyond 11
  EXPECT_EQ(w.capacitance_ff(0), 0.0);
  for (size_t f = 1; f < 20; ++f) EXPECT_GT(w.capacitance_ff(f + 1), w.capacitance_ff(f)) << f;
  EXPECT_EQ(load_wire_load(default_wire_load_path(), "none").capacitance_ff(3), 0.0);
  EXPECT_THROW(load_wire_load(default_wire_load_path(), "9K_bogus"), InputError);
  // Per-net energy with and without wires differs by exactly ½·C_wire(fanout)·V².
  const Netlist n = netlist_of("mul_array", {});
  CellLibrary bare = lib;
  bare.wire_load = load_wire_load(default_wire_load_path(), "none");
  const auto with = transition_energy_fj(n, lib), without = transition_energy_fj(n, bare);
  const double v2 = lib.voltage_v * lib.voltage_v;
  for (uint32_t net = 2; net < n.num_nets; ++net)
    EXPECT_NEAR(with[net] - without[net], 0.5 * w.capacitance_ff(n.fanout[net].size()) * v2, 1e-12) << net;
}

}  // namespace

// Synthesis reads only the unit's own hierarchy: what Yosys reads changes ABC's result, so
// an unrelated module added to rtl/ must not change any unit's netlist (nor its cache key).
TEST(Synthesis, ReadsOnlyTheUnitsHierarchy) {
  namespace fs = std::filesystem;
  const fs::path rtl = fs::path(LPSIM_SOURCE_DIR) / "rtl";
  std::vector<std::string> names;
  for (const auto& p : unit_sources(rtl, "mac")) names.push_back(p.stem().string());
  for (const char* m : {"mac", "mul_array", "mul_booth", "accumulator", "add_ripple"})
    EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << m;
  for (const char* m : {"fp_add", "fp8_mac", "mac_ws", "pann_add"})
    EXPECT_EQ(std::find(names.begin(), names.end(), m), names.end()) << m << " is not in mac's hierarchy";
  // A copy of rtl/ with one unrelated module (named in a comment of nothing): same netlist file.
  const fs::path copy = fs::temp_directory_path() / ("lpsim_synth_" + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::create_directories(copy);
  for (const auto& e : fs::directory_iterator(rtl))
    if (e.path().extension() == ".sv") fs::copy_file(e.path(), copy / e.path().filename());
  std::ofstream(copy / "zz_unrelated.sv") << "module zz_unrelated(input logic a_i, output logic y_o);\n"
                                             "  assign y_o = ~a_i;\nendmodule\n";
  const fs::path cache = fs::path(LPSIM_BINARY_DIR) / "netlists";
  const std::map<std::string, std::string> params = {{"WidthA", "4"}, {"WidthB", "4"}, {"Signed", "1"}};
  EXPECT_EQ(synthesize({"mul_array", params, rtl, cache}), synthesize({"mul_array", params, copy, cache}));
  EXPECT_THROW(unit_sources(copy, "no_such_unit"), InputError);
  fs::remove_all(copy);
}
