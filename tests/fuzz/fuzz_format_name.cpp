// Fuzz target: the number-format name parser (arith/format.h parse_format), which every
// --format flag and scenario format key goes through. Bad names must be InputError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "arith/error.h"
#include "arith/format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)lpsim::arith::parse_format(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
