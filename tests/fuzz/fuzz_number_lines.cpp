// Fuzz target: the line parser of `lpsim quantize` (arith/number_lines.h). Bad lines must
// be InputError, and the echoed line must stay short (at most 80 bytes of the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "arith/error.h"
#include "arith/number_lines.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    (void)lpsim::arith::read_number_lines(in);
  } catch (const lpsim::InputError& e) {
    if (std::string(e.what()).size() > 200) std::abort();  // a long line is echoed truncated
  }
  return 0;
}
