// The SystemC array's PEs replayed on the Verilated RTL (cli/verify_array.cpp), for
// `lpsim verify-rtl --array RxC`.
#pragma once

#include <cstdint>
#include <string>

#include "sim/accelerator.h"

namespace lpsim::cli {

struct ArrayRtlCheck {
  uint64_t cycles = 0, pe_cycles = 0, mismatches = 0;
  uint64_t rtl_toggles = 0, sim_toggles = 0;  // bit toggles of every PE's output register
  bool outputs_exact = false;                 // the array's GEMM equals the k-order reference
  std::string first_failure;
  double seconds = 0;
};

// inject: PE-cycle N (counted over all PEs) is compared against a flipped bit (a self-test
// of the comparison); ~0: none.
ArrayRtlCheck check_array_on_rtl(sim::Dataflow dataflow, int rows, int cols, uint64_t seed, uint64_t inject = ~uint64_t{0});

}  // namespace lpsim::cli
