// Dataflow-true pricing against the exhaustive reference: on a small real layer (LeNet-5
// conv1 of one Fashion-MNIST image, every one of its 117 600 MACs simulated at the gates)
// the sampled estimate lies within its interval, and over 20 independent seeds about 95 %
// of the intervals cover the exhaustive value. Chain structure and the weight-stationary
// partial sums are checked against the executor's accumulator.
#include <gtest/gtest.h>

#include <algorithm>

#include "arith/int_units.h"
#include "nn/pricing.h"
#include "tests/nn/gate_fixture.h"
#include "tests/nn/nn_fixtures.h"

using namespace lpsim;
using namespace lpsim::nn;
using namespace lpsim::nn::nntest;

namespace {

struct Recorded {
  GraphNet net;
  LayerQuant q;
  AccRange range;
  LayerOperands ops;
  int node = -1;
  torch::Tensor acc;  // the executor's accumulator values, (M × N)
};

// One LeNet layer's operands on `images` test images, as the executor records them.
Recorded record(const std::string& layer, LayerQuant q, int images) {
  Recorded r{trained("lenet5"), q, {}, {}, -1, {}};
  const Graph& g = r.net->graph();
  QuantizedExecutor ex(r.net, q.quantised ? all_layers(g, q) : std::vector<LayerQuant>(g.nodes.size()), 1);
  if (q.quantised) ex.calibrate(data().train.images.slice(0, 0, 128));
  r.node = node_index(g, layer);
  ex.record_next_forward();
  ex.forward(data().test.images.slice(0, 0, images));
  r.ops = ex.recorded()[r.node];
  if (q.quantised) {
    r.range = ex.acc_range(r.node);
    LayerOperands again;
    r.acc = as_rows(ex.accumulate(r.node, layer_inputs(r.net, data().test.images.slice(0, 0, images)).at(r.node), &again))
                .to(torch::kInt64)
                .contiguous();
  }
  return r;
}

LayerQuant int8() {
  LayerQuant q;
  q.quantised = true;
  return q;
}

power::OpPrice price(const Recorded& r, const HardwareConfig& hw, uint64_t chains, uint64_t seed) {
  const PeUnit pe = pe_unit(r.q, hw);
  EXPECT_TRUE(pe.ok) << pe.note;
  LayerChains ch = layer_chains(r.q, r.range, r.ops, pe, hw, chains, seed);
  return gate().price_chains(pe.key, std::move(ch.steps), ch.len, ch.ops);
}

void coverage(const Recorded& r, const HardwareConfig& hw) {
  const power::OpPrice all = price(r, hw, 0, 0);
  EXPECT_GT(all.operations, 100000u);
  int covered = 0;
  const int seeds = 20;
  for (int s = 1; s <= seeds; ++s) {
    const power::OpPrice p = price(r, hw, 64 * 20, uint64_t(s));
    EXPECT_EQ(p.batches, 20u);
    EXPECT_LT(p.energy_ci95_pj, 0.05 * p.energy_pj) << "an interval too wide to be useful";
    covered += std::fabs(p.energy_pj - all.energy_pj) <= p.energy_ci95_pj;
    if (s == 1) {
      EXPECT_NEAR(p.energy_pj, all.energy_pj, p.energy_ci95_pj) << "seed 1 against the exhaustive simulation";
    }
  }
  // Binomial(20, 0.95): 17 or more covered with probability 0.98; 16 or fewer flags intervals too narrow.
  EXPECT_GE(covered, 17) << dataflow_name(hw.dataflow) << ": " << covered << "/" << seeds
                         << " intervals cover the exhaustive " << all.energy_pj << " pJ/MAC";
  std::cout << dataflow_name(hw.dataflow) << ": exhaustive " << all.energy_pj << " pJ/MAC over " << all.operations
            << " MACs; " << covered << "/" << seeds << " sampled 95 % intervals cover it\n";
}

}  // namespace

TEST(Pricing, OutputStationarySampleMatchesExhaustiveLayer) {
  HardwareConfig hw;
  coverage(record("conv1", int8(), 1), hw);
}

TEST(Pricing, WeightStationarySampleMatchesExhaustiveLayer) {
  HardwareConfig hw;
  hw.dataflow = Dataflow::weight_stationary;
  coverage(record("conv1", int8(), 1), hw);
}

// Output-stationary chains are whole dot products in k-order after a clear; weight-
// stationary chains hold one weight and carry, at the last PE of a column, partial sums
// that complete to exactly the executor's accumulator (wrapping 16-bit register).
TEST(Pricing, ChainsFollowTheDataflow) {
  LayerQuant q = int8();
  q.acc_bits = 16;
  const Recorded r = record("conv1", q, 1);
  const int64_t M = r.ops.cols.size(0), K = r.ops.cols.size(1), N = r.ops.w.size(1);
  auto c = r.ops.cols.to(torch::kInt64), w = r.ops.w.to(torch::kInt64);
  HardwareConfig hw;
  LayerChains os = layer_chains(q, r.range, r.ops, pe_unit(q, hw), hw, 0, 0);
  ASSERT_EQ(os.count, uint64_t(M * N));
  ASSERT_EQ(os.len, uint32_t(K + 1));
  for (uint64_t i = 0; i < os.count; i += 97) {
    const int64_t m = int64_t(i) / N, n = int64_t(i) % N;
    const power::ChainStep* st = &os.steps[i * os.len];
    EXPECT_EQ(st[0].ctrl, power::kStepClear);
    for (int64_t k = 0; k < K; ++k) {
      EXPECT_EQ(st[k + 1].ctrl, power::kStepEnable);
      EXPECT_EQ(st[k + 1].a, uint64_t(c[m][k].item<int64_t>()) & 0xFF);
      EXPECT_EQ(st[k + 1].b, uint64_t(w[k][n].item<int64_t>()) & 0xFF);
    }
  }
  hw.dataflow = Dataflow::weight_stationary;
  LayerChains ws = layer_chains(q, r.range, r.ops, pe_unit(q, hw), hw, 0, 0);
  const int64_t R = ws.ops, runs = M / R;
  ASSERT_EQ(M % R, 0);
  int64_t wrapped = 0, checked = 0;
  for (uint64_t i = 0; i < ws.count; ++i) {
    const int64_t kn = int64_t(i) / runs, run = int64_t(i) % runs, k = kn % K, n = kn / K;
    const power::ChainStep* st = &ws.steps[i * ws.len];
    EXPECT_EQ(st[0].ctrl, power::kStepLoad);
    if (k != K - 1) continue;
    for (int64_t t = 1; t <= R; ++t) {
      const int64_t m = run * R + t - 1;
      EXPECT_EQ(st[t].b, uint64_t(w[k][n].item<int64_t>()) & 0xFF);
      // psum_i + a·w in 16 bits is the column's output: the executor's accumulator.
      const int64_t sum = int64_t(int16_t(uint16_t(st[t].c))) + int64_t(int8_t(uint8_t(st[t].a))) *
                                                                   int64_t(int8_t(uint8_t(st[t].b)));
      const int64_t reg = int64_t(int16_t(uint16_t(uint64_t(sum) & 0xFFFF)));
      ASSERT_EQ(reg, r.acc[m][n].item<int64_t>()) << "m=" << m << " n=" << n;
      wrapped += reg != sum;
      ++checked;
    }
  }
  EXPECT_EQ(checked, M * N);
  EXPECT_GT(wrapped, 0) << "the 16-bit register must wrap somewhere for the check to mean much";
}

// PANN chains (papers.md §1) on pann_mac's cycle model: every chain, run through
// arith::PannMacModel, gives the executor's accumulator (pos − neg − z_a·Σw̃), every
// start comes when done_o allows, every step between the first start and the end of the
// chain adds (each later start on the last addition of the job before), and the chain
// is 2 + Σ|w̃| steps before its idle padding. Then the layer is priced on the netlist.
TEST(Pricing, PannChainsOverlapStartsAndGiveTheExecutorSums) {
  LayerQuant q = int8();
  q.pann = true;
  q.pann_R = 2.0;
  q.weights = arith::IntFormat{16, true};
  q.activations = arith::IntFormat{4, false};
  const Recorded r = record("conv1", q, 1);
  const int64_t M = r.ops.cols.size(0), K = r.ops.cols.size(1), N = r.ops.w.size(1);
  const auto w = r.ops.w.to(torch::kInt64).contiguous();
  const int64_t za = int64_t(r.ops.act_zero);
  std::vector<int64_t> length(size_t(N), 1), wsum(size_t(N), 0);
  for (int64_t n = 0; n < N; ++n) {
    int64_t adds = 0;
    for (int64_t k = 0; k < K; ++k) {
      adds += std::abs(w[k][n].item<int64_t>());
      wsum[size_t(n)] += w[k][n].item<int64_t>();
    }
    length[size_t(n)] = adds ? 2 + adds : 1;
  }
  const LayerChains ch = pann_chains(q, r.ops, 0, 0);
  ASSERT_EQ(ch.count, uint64_t(M * N));
  ASSERT_EQ(ch.len, uint32_t(*std::max_element(length.begin(), length.end())));
  EXPECT_EQ(ch.ops, 1u);
  int64_t padded = 0;
  for (uint64_t i = 0; i < ch.count; ++i) {
    const int64_t m = int64_t(i) / N, n = int64_t(i) % N;
    const power::ChainStep* st = &ch.steps[i * ch.len];
    ASSERT_EQ(st[0].ctrl, power::kStepClear);
    arith::PannMacModel pe{32, false};
    for (uint32_t t = 0; t < ch.len; ++t) {
      const bool start = st[t].ctrl & power::kStepLoad;
      if (start) {
        ASSERT_TRUE(pe.done()) << "m=" << m << " n=" << n << " step " << t;
      }
      const bool added = pe.clock(st[t].ctrl & power::kStepClear, start, st[t].a, st[t].b, st[t].c & 1);
      ASSERT_EQ(added, t >= 2 && t < length[size_t(n)]) << "m=" << m << " n=" << n << " step " << t;
      if (t == 1 && length[size_t(n)] > 1) {
        ASSERT_TRUE(start) << "m=" << m << " n=" << n;
      }
    }
    ASSERT_EQ(pe.count, 0u);
    ASSERT_FALSE(pe.overflow);
    ASSERT_EQ(int64_t(pe.sum_pos) - int64_t(pe.sum_neg) - za * wsum[size_t(n)], r.acc[m][n].item<int64_t>())
        << "m=" << m << " n=" << n;
    padded += ch.len - length[size_t(n)];
  }
  EXPECT_GT(padded, 0) << "channels of different Σ|w̃|: some chains are padded";

  HardwareConfig hw;
  hw.energy_vectors = 4096;
  hw.min_slots = 4;
  const LayerPrice p = price_layer(q, r.range, r.ops, M, hw, gate(), nullptr);
  ASSERT_TRUE(p.priced) << p.note;
  EXPECT_EQ(p.unit.rfind("pann_mac x4 ", 0), 0u) << p.unit;
  EXPECT_GT(p.pj_per_mac, 0.0);
  EXPECT_EQ(p.batches, 4u);
}

// One cost basis: the FP32 reference is priced on the gate-level FP32 MAC (fp_mac), well
// above INT8 on the same flow; Horowitz appears only as its own labelled figure.
TEST(Pricing, Fp32ReferenceOnTheSameFlow) {
  LayerQuant fp;  // quantised = false
  const Recorded r32 = record("conv2", fp, 2);
  ASSERT_TRUE(r32.ops.fp32);
  HardwareConfig hw;
  hw.energy_vectors = 4096;
  hw.min_slots = 4;
  const LayerPrice p32 = price_layer(fp, r32.range, r32.ops, 100, hw, gate(), nullptr);
  ASSERT_TRUE(p32.priced) << p32.note;
  EXPECT_EQ(p32.unit, "fp_mac fp32");
  EXPECT_DOUBLE_EQ(p32.horowitz_pj_per_mac, 4.6);
  const Recorded r8 = record("conv2", int8(), 2);
  const LayerPrice p8 = price_layer(r8.q, r8.range, r8.ops, 100, hw, gate(), nullptr);
  ASSERT_TRUE(p8.priced) << p8.note;
  EXPECT_EQ(p8.unit, "mac int8x8 acc32 array");
  EXPECT_GT(p32.pj_per_mac, 5 * p8.pj_per_mac);
  EXPECT_GT(p32.area_um2, 5 * p8.area_um2);
}

// Zero points: weights with a zero point need the run-time correction z_w·Σ_k q_a per
// output, priced on the gate-level accumulator (row sums), multiplier and adder; with
// symmetric weights (z_w = 0) the activation zero point folds into the bias, free.
TEST(Pricing, ZeroPointCorrectionPricedOnlyWhereItRuns) {
  HardwareConfig hw;
  hw.energy_vectors = 2048;
  hw.min_slots = 4;
  LayerQuant q = int8();
  q.weights = q.activations = arith::IntFormat{8, false};
  const Recorded r = record("conv2", q, 2);
  ASSERT_GT(r.ops.weight_zero.max().item<double>(), 0);
  const LayerPrice p = price_layer(q, r.range, r.ops, 100, hw, gate(), nullptr);
  ASSERT_TRUE(p.priced) << p.note;
  EXPECT_EQ(p.unit, "mac uint8x8 acc32 array");
  EXPECT_NE(p.correction_unit.find("row sums"), std::string::npos) << p.correction_unit;
  // Per image: 100 rows × 150 additions, plus 100 × 16 multiply-adds; a small fraction of the
  // 240 000 MACs, but not nothing.
  EXPECT_GT(p.correction_pj_per_image, 100 * 150 * 0.01);
  EXPECT_LT(p.correction_pj_per_image, 0.2 * 240000 * p.pj_per_mac);
  LayerQuant qa = int8();
  qa.activations = arith::IntFormat{8, false};
  const Recorded ra = record("conv1", qa, 1);
  EXPECT_GT(ra.ops.act_zero, 0);  // the normalised input has negative values
  const LayerPrice pa = price_layer(qa, ra.range, ra.ops, 784, hw, gate(), nullptr);
  ASSERT_TRUE(pa.priced) << pa.note;
  EXPECT_EQ(pa.unit, "mac int9x8 acc32 array");  // the raw uint8 code zero-extended
  EXPECT_EQ(pa.correction_pj_per_image, 0);
}

// LNS layers (issue 17) are priced on the unit their accumulator names, output-stationary,
// with the executor's defaults (alpha / F_acc left to arith); the chains carry the recorded
// codes unchanged (masked to the format's width), and a weight-stationary dataflow says why
// it has no price.
TEST(Pricing, LnsLayersOnTheirUnits) {
  HardwareConfig hw;
  LayerQuant q;
  q.quantised = true;
  q.weights = q.activations = arith::parse_lns_format("lns6_b2");
  for (const auto& [acc, unit] : {std::pair{"linear", "lns_mac"}, std::pair{"log", "lns_log_acc"},
                                  std::pair{"mitchell", "lns_mitchell_acc"}}) {
    q.accumulator = acc;
    const PeUnit pe = pe_unit(q, hw);
    ASSERT_TRUE(pe.ok) << pe.note;
    EXPECT_EQ(pe.key.unit, unit);
    EXPECT_EQ(pe.key.fmt_a, "lns6_b2");
    EXPECT_EQ(pe.key.lns_alpha, -1);
    const power::UnitEnergyRequest r = power::request_for(pe.key);
    EXPECT_EQ(r.format, "lns6_b2");
    EXPECT_EQ(r.a_bits, 6);
    LayerOperands ops;
    ops.cols = torch::tensor({{33.0f, 16.0f}}), ops.w = torch::tensor({{5.0f}, {63.0f}});  // 1 × 2 and 2 × 1 codes
    const LayerChains ch = layer_chains(q, AccRange{}, ops, pe, hw, 0, 0);
    ASSERT_EQ(ch.steps.size(), 3u);  // a clear presenting the first operands, then K = 2 products
    EXPECT_EQ(ch.steps[1].a, 33u);
    EXPECT_EQ(ch.steps[1].b, 5u);
    EXPECT_EQ(ch.steps[2].a, 16u);
    EXPECT_EQ(ch.steps[2].b, 63u);
  }
  q.lns_alpha = 7;
  q.accumulator = "linear";
  EXPECT_EQ(pe_unit(q, hw).key.lns_alpha, 7);
  hw.dataflow = Dataflow::weight_stationary;
  const PeUnit ws = pe_unit(q, hw);
  EXPECT_FALSE(ws.ok);
  EXPECT_NE(ws.note.find("output-stationary"), std::string::npos);
}
