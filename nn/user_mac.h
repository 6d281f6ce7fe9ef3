// A scenario's own MAC (hardware.mac: {rtl: [...], top: ..., ...}): checked against the
// golden mac by lpsim-verify-rtl (the checks every built-in unit passes) before anything is
// priced on it, then handed to the gate-level model as the integer configurations' PE.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/pricing.h"
#include "nn/scenario.h"

namespace lpsim::nn {

struct UserMacSetup {
  HardwareConfig::UserMac mac;
  std::vector<std::filesystem::path> sources;  // the generated wrapper and the user's files
  std::string key;                             // changes when the files or their options change
  nlohmann::json report;                       // report.json: hardware.user_mac
};

// Verifies and prepares s.user_mac. InputError at hardware.mac's file:line when the unit
// does not build, its ports do not fit, or it differs from the golden mac (the first
// failing vector quoted).
UserMacSetup prepare_user_mac(const Scenario& s, bool progress);

}  // namespace lpsim::nn
