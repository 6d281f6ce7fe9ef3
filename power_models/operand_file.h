// Recorded operand streams for measure_unit_energy(): the operand widths a unit takes,
// and a file of operand pairs read and checked against them (nothing is masked silently).
#pragma once

#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "power_models/unit_energy.h"

namespace lpsim::power {

// The operands a unit's stream drives: their widths in bits and how a value in a file is
// read. `a_signed`: a decimal operand is a two's complement value (negative allowed,
// [-2^(w-1), 2^(w-1)-1]); otherwise a code or unsigned value in [0, 2^w - 1]. A hex
// operand (0x…) is always a code in [0, 2^w - 1]. `b_used` is false where the unit has
// no second operand (acc: in_i is operand a). add: both addends have the adder's width
// and either reading (an adder is sign-agnostic). FP units and luq_mul's weight: codes.
struct OperandWidths {
  int a_bits = 8, b_bits = 8;
  bool a_signed = true, b_signed = true;
  bool b_used = true;
  bool either = false;  // add: a decimal in [-2^(w-1), 2^w - 1]
};
// InputError if the request names no unit measure_unit_energy() can take.
OperandWidths operand_widths(const UnitEnergyRequest& req);

// Operand pairs from a text file (format as read_operand_file in unit_energy.h: two
// integers per line, decimal or 0x hex, '#' comments, blank lines skipped), each checked
// against operand_widths(req): InputError naming file:line on an operand that does not
// fit, as on anything that is not an integer. Decimal is base 10 (a leading 0 is not octal).
std::vector<std::pair<uint64_t, uint64_t>> read_operand_file(const std::filesystem::path& path,
                                                             const UnitEnergyRequest& req);

}  // namespace lpsim::power
