// Fuzz target: the IDX reader (nn/idx.h) — images and labels, header and payload, plain
// and gzip. A truncated or corrupt file must be InputError, never a crash or a huge
// allocation.
#include "arith/error.h"
#include "nn/idx.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto gz = size > 1 && data[0] == 0x1f && data[1] == 0x8b;  // gzip magic: read as .gz
  const auto file = fuzz_input_file(data, size, gz ? ".gz" : ".idx");
  try {
    (void)lpsim::nn::read_idx_images(file);
  } catch (const lpsim::InputError&) {
  }
  try {
    (void)lpsim::nn::read_idx_labels(file, 10);
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
