// Fuzz target: the TorchScript layer walker (nn/torchscript.h import_torchscript): a file
// that is not a loadable module, or a module lpsim cannot walk, must be InputError.
#include "arith/error.h"
#include "nn/torchscript.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)lpsim::nn::import_torchscript(fuzz_input_file(data, size, ".pt"));
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
