#include "arith/rounding.h"

#include "arith/error.h"

namespace lpsim::arith {

RoundMode parse_round_mode(std::string_view name) {
  if (name == "rne" || name == "nearest_even") return RoundMode::nearest_even;
  if (name == "rtz" || name == "toward_zero") return RoundMode::toward_zero;
  if (name == "stochastic" || name == "sr") return RoundMode::stochastic;
  throw InputError("unknown rounding mode '" + std::string(name) + "' (known: rne, rtz, stochastic)");
}

Overflow parse_overflow(std::string_view name) {
  if (name == "saturate" || name == "sat") return Overflow::saturate;
  if (name == "inf" || name == "to_special" || name == "nan") return Overflow::to_special;
  if (name == "wrap") return Overflow::wrap;
  throw InputError("unknown overflow policy '" + std::string(name) + "' (known: saturate, inf, wrap)");
}

std::string to_string(RoundMode mode) {
  switch (mode) {
    case RoundMode::nearest_even: return "rne";
    case RoundMode::toward_zero: return "rtz";
    case RoundMode::stochastic: return "stochastic";
  }
  return "?";
}

std::string to_string(Overflow overflow) {
  switch (overflow) {
    case Overflow::saturate: return "saturate";
    case Overflow::to_special: return "inf";
    case Overflow::wrap: return "wrap";
  }
  return "?";
}

}  // namespace lpsim::arith
