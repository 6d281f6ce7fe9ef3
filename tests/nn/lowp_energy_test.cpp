// Energy of a training step (nn/lowp_energy.h): every MAC of the three GEMMs counted
// (against the layer shapes), the PE of each method, and the price reproducible for a
// seed. The numbers themselves are measured (README), not asserted; the one ordering
// asserted is FP32 above LUQ by far (an FP32 MAC against INT4 and shift-add units).
#include <gtest/gtest.h>

#include "nn/lowp_energy.h"
#include "tests/nn/gate_fixture.h"
#include "tests/nn/nn_fixtures.h"

using namespace lpsim;
using namespace lpsim::nn;
using namespace lpsim::nn::nntest;

namespace {

StepEnergy step(const GradientSpec& spec, uint64_t chain_seed = 1) {
  torch::manual_seed(3);
  GraphNet net(make_builtin_model("lenet5"));
  const auto& d = data().train;
  StepEnergyOptions o;
  o.chains = 64 * 4, o.max_chain = 32, o.images = 2, o.seed = chain_seed;
  return training_step_energy(net, spec, 5, d.images.slice(0, 0, 8), d.labels.slice(0, 0, 8), gate(), o);
}

}  // namespace

TEST(LowpEnergy, CountsEveryMacOfTheThreeGemmsOnTheMethodsUnits) {
  GradientSpec luq;
  luq.method = "luq", luq.smp = 2;
  const StepEnergy e = step(luq);
  GraphNet net(make_builtin_model("lenet5"));
  const Graph& g = net->graph();
  const auto shapes = infer_shapes(g);
  size_t li = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& nd = g.nodes[i];
    if (!Graph::is_gemm(nd.kind)) continue;
    ASSERT_LT(li, e.layers.size());
    const auto& l = e.layers[li++];
    EXPECT_EQ(l.layer, nd.name);
    const int64_t per_image = nd.kind == OpKind::conv
                                  ? int64_t(shapes[i].height) * shapes[i].width * nd.out_channels * nd.in_channels *
                                        nd.kernel * nd.kernel
                                  : int64_t(nd.in_channels) * nd.out_channels;
    ASSERT_EQ(l.gemms.size(), 3u);
    EXPECT_EQ(l.gemms[0].macs, 8 * per_image) << nd.name;       // forward, batch 8
    EXPECT_EQ(l.gemms[1].macs, 2 * 8 * per_image) << nd.name;   // SMP 2: each sample's backward GEMMs
    EXPECT_EQ(l.gemms[2].macs, 2 * 8 * per_image) << nd.name;
    EXPECT_NE(l.gemms[0].unit.find("mac "), std::string::npos) << l.gemms[0].unit;
    EXPECT_NE(l.gemms[0].unit.find("int4"), std::string::npos) << l.gemms[0].unit;
    EXPECT_EQ(l.gemms[1].unit.rfind("luq_mac int4xluq4", 0), 0u) << l.gemms[1].unit;  // weight × gradient
    for (const auto& ge : l.gemms) {
      EXPECT_TRUE(ge.priced) << ge.unit;
      EXPECT_GT(ge.pj_per_mac, 0);
      EXPECT_GT(ge.area_um2, 0);
    }
  }
  EXPECT_EQ(li, e.layers.size());
  EXPECT_TRUE(e.complete);
  EXPECT_NEAR(e.forward_pj + e.backward_pj, e.energy_pj, 1e-9 * e.energy_pj);
  // After the first ReLU every activation is an unsigned code: the weight gradient runs
  // on the 5-bit-input shift unit.
  EXPECT_EQ(e.layers.back().gemms[2].unit.rfind("luq_mac uint4xluq4", 0), 0u) << e.layers.back().gemms[2].unit;

  GradientSpec fp32;
  const StepEnergy f = step(fp32);
  EXPECT_EQ(f.layers.front().gemms[1].unit.rfind("fp_mac fp32", 0), 0u);
  // Per backward MAC (SMP 2 doubles LUQ's count): an FP32 MAC costs several times the shift unit.
  EXPECT_GT(f.backward_pj, 3 * e.backward_pj / 2);
  EXPECT_GT(f.forward_pj, 3 * e.forward_pj);
}

TEST(LowpEnergy, Fp8PricesOnItsFormatsUnitAndSaysWhenThereIsNone) {
  GradientSpec e5;
  e5.method = "fp8", e5.format = "fp8_e5m2";
  const StepEnergy a = step(e5);
  EXPECT_TRUE(a.complete);
  EXPECT_EQ(a.layers.front().gemms[2].unit.rfind("fp8_mac fp8_e5m2", 0), 0u) << a.layers.front().gemms[2].unit;
  EXPECT_EQ(a.layers.front().gemms[0].unit.rfind("fp_mac fp32", 0), 0u);
  GradientSpec e3;
  e3.method = "fp8", e3.format = "e3m2";  // 6 bits: no RTL instance
  const StepEnergy b = step(e3);
  EXPECT_FALSE(b.complete);
  EXPECT_FALSE(b.layers.front().gemms[1].priced);
  EXPECT_NE(b.layers.front().gemms[1].note.find("no RTL"), std::string::npos);
  EXPECT_TRUE(b.layers.front().gemms[0].priced);  // the FP32 forward still is
}

TEST(LowpEnergy, TheSameSeedGivesTheSamePrice) {
  GradientSpec prune;
  prune.method = "prune", prune.sparsity = 0.8;
  const StepEnergy a = step(prune), b = step(prune), c = step(prune, 2);
  EXPECT_EQ(a.energy_pj, b.energy_pj);
  EXPECT_NE(a.energy_pj, c.energy_pj);  // other chains drawn
}
