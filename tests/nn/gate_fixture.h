// The gate-level energy model of the nn tests: the source tree's RTL, netlists cached in
// the build tree (shared by every test binary), 2^12 uniform vectors, seed 1. The test
// target defines LPSIM_SOURCE_DIR and LPSIM_BINARY_DIR.
#pragma once

#include <filesystem>

#include "power_models/cell_library.h"
#include "power_models/energy_model.h"

namespace lpsim::nn::nntest {

inline power::GateLevelEnergyModel& gate() {
  static power::GateLevelEnergyModel g(power::load_cell_library(power::default_cell_library_path()),
                                       std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl",
                                       std::filesystem::path(LPSIM_BINARY_DIR) / "netlists", 1 << 12, 1);
  return g;
}

}  // namespace lpsim::nn::nntest
