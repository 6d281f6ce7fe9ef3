// The Verilated RTL instances built into lpsim_rtl (rtl/CMakeLists.txt, one line per
// unit and parameter set) with their bit-for-bit check against the golden models.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "rtl/harness.h"

namespace lpsim::rtl {

struct RtlUnit {
  std::string name;    // instance name, e.g. mul_booth_s8x8
  std::string top;     // Verilog module, e.g. mul_booth
  std::string params;  // parameters as given to Verilator, e.g. "WidthA=8 WidthB=8 Signed=1"
  bool exhaustive;     // every operand pair is checked
  std::function<CheckResult(const CheckOptions&)> check;
};

const std::vector<RtlUnit>& rtl_units();

}  // namespace lpsim::rtl
