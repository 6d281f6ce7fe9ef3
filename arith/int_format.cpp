#include "arith/int_format.h"

#include "arith/error.h"

namespace lpsim::arith {

void IntFormat::validate() const {
  if (bits < 1 || bits > 32)
    throw InputError("integer width must be in [1, 32], got " + std::to_string(bits), {}, name());
}

}  // namespace lpsim::arith
