// EnergyModel implementations: the OpKey → unit mapping rules, gate-level prices equal
// to the unit-energy driver they wrap (uniform and recorded streams), and the analytic
// PANN model against the gate-level figure of the same MAC.
#include <gtest/gtest.h>

#include "arith/error.h"
#include "power_models/energy_model.h"

using namespace lpsim;
using namespace lpsim::power;

namespace {

GateLevelEnergyModel make_gate(uint64_t vectors = 1 << 13) {
  return GateLevelEnergyModel(load_cell_library(default_cell_library_path()),
                              std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl",
                              std::filesystem::path(LPSIM_BINARY_DIR) / "netlists", vectors, 5);
}

}  // namespace

TEST(EnergyModel, KeyToUnitRequest) {
  UnitEnergyRequest r = request_for({"mac", "int8", "int4", 24, "booth"});
  EXPECT_EQ(r.a_bits, 8);
  EXPECT_EQ(r.b_bits, 4);
  EXPECT_TRUE(r.is_signed);
  EXPECT_EQ(r.acc_bits, 24);
  EXPECT_EQ(r.arch, "booth");
  r = request_for({"mac", "uint8", "int8"});  // zero-extended: a uint8 is an int9
  EXPECT_EQ(r.a_bits, 9);
  EXPECT_EQ(r.b_bits, 8);
  EXPECT_TRUE(r.is_signed);
  r = request_for({"mac", "uint4", "uint4"});
  EXPECT_EQ(r.a_bits, 4);
  EXPECT_FALSE(r.is_signed);
  r = request_for({"fp8_mac", "fp8_e4m3", "fp8_e4m3"});
  EXPECT_EQ(r.format, "fp8_e4m3");
  r = request_for({"mac_ws", "int8", "int8", 32, "booth"});  // the PEs map like their MACs
  EXPECT_EQ(r.unit, "mac_ws");
  EXPECT_EQ(r.a_bits, 8);
  EXPECT_TRUE(r.is_signed);
  EXPECT_EQ(r.arch, "booth");
  r = request_for({"fp_mac_ws", "fp32", "fp32"});
  EXPECT_EQ(r.format, "fp32");
  r = request_for({"fp8_mac", "fp16", "fp16"});
  EXPECT_EQ(r.format, "fp16");
  EXPECT_THROW(request_for({"mac", "int8", "fp8_e4m3"}), InputError);
  EXPECT_THROW(request_for({"mac", "int99", "int8"}), InputError);
}

TEST(EnergyModel, GateLevelWrapsTheUnitDriver) {
  GateLevelEnergyModel gate = make_gate();
  const OpKey key{"mac", "int4", "int4", 16, "array"};
  const OpPrice p = gate.price(key);
  UnitEnergyRequest r = request_for(key);
  r.rtl_dir = gate.rtl_dir(), r.cache_dir = gate.cache_dir(), r.vectors = 1 << 13, r.seed = 5;
  const UnitEnergyReport rep = measure_unit_energy(r, gate.library());
  EXPECT_EQ(p.energy_pj, rep.energy_pj);
  EXPECT_EQ(p.area_um2, rep.area.area_um2);
  EXPECT_EQ(gate.price(key).energy_pj, p.energy_pj);  // memoised
  // A recorded stream of all-zero operands switches nothing but the clock-free leakage.
  std::vector<std::pair<uint64_t, uint64_t>> zeros(4096, {0, 0});
  const OpPrice z = gate.price(key, zeros);
  EXPECT_NEAR(z.energy_pj, z.leakage_pj, 1e-12);
  EXPECT_LT(z.energy_pj, 0.1 * p.energy_pj);
}

// The fitted analytic model lands near the gate-level figure it was fitted to (R² of
// the fit ≈ 0.98–0.996, so within 15 %), with the netlist's area.
TEST(EnergyModel, AnalyticNearGateLevel) {
  auto gate = std::make_shared<GateLevelEnergyModel>(make_gate());
  AnalyticPannEnergyModel analytic(gate);
  for (int b : {4, 8}) {
    const OpKey key{"mac", "int" + std::to_string(b), "int" + std::to_string(b), 32, "array"};
    const OpPrice a = analytic.price(key), g = gate->price(key);
    EXPECT_NEAR(a.energy_pj, g.energy_pj, 0.15 * g.energy_pj) << b;
    EXPECT_EQ(a.area_um2, g.area_um2);
    EXPECT_EQ(a.energy_ci95_pj, 0.0);
  }
  EXPECT_THROW(analytic.price({"fp8_mac", "fp8_e4m3", "fp8_e4m3"}), InputError);
}
