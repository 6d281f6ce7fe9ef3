// Fuzz target: the Yosys JSON netlist reader (power_models/netlist.h), which reads the
// netlist cache. A corrupt entry must be InputError (the caller then resynthesises).
#include "arith/error.h"
#include "power_models/netlist.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)lpsim::power::load_yosys_json(fuzz_input_file(data, size, ".json"));
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
