// One quantised configuration of a network, measured: top-1 accuracy on a labelled set,
// and the energy per inference priced layer by layer on the recorded operands of the
// energy images (nn/pricing.h). Used by `lpsim run` for every row, for power budgets
// "like" a uniform network, and for PANN's search under a budget.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "nn/data.h"
#include "nn/executor.h"
#include "nn/pricing.h"

namespace lpsim::nn {

struct PricingContext {
  HardwareConfig hw;
  power::GateLevelEnergyModel* gate = nullptr;
  power::AnalyticPannEnergyModel* analytic = nullptr;  // energy_model: analytic
  bool price = true;                                    // false: energy_model: none
  torch::Tensor energy_images;
};

// Top-1 accuracy (0..1) in batches of 500; seconds (if given) is the evaluation time.
double top1(QuantizedExecutor& ex, const TensorDataset& data, const std::string& label, bool progress,
            double* seconds = nullptr);

// Energy of one inference: energy_pj, energy_ci95_pj, energy_horowitz_pj, unit, unit_area_um2,
// unit_nand2, acc_overflow_fraction, acc_bits_needed, pann_additions, layers (one object per
// conv/linear layer, the layers.csv columns). energy_pj is NaN when a layer has no unit.
nlohmann::json price_inference(QuantizedExecutor& ex, const PricingContext& ctx, const std::string& label,
                               bool progress);

}  // namespace lpsim::nn
