// Fuzz target: the scenario YAML loader (nn/scenario.h parse_scenarios: YAML, keys,
// values, sweeps). Every bad scenario must be InputError. Run it in an empty folder: a
// scenario may name output folders, which the parser checks by creating them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arith/error.h"
#include "nn/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)lpsim::nn::parse_scenarios(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
