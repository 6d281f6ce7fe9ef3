// The numbers `lpsim quantize` reads: one decimal number per line. Here (not in the CLI)
// so that the fuzz target tests/fuzz/fuzz_number_lines.cpp drives the very parser.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace lpsim::arith {

// A line of input as it may be echoed in a one-line error: at most 80 bytes (cut at a
// UTF-8 character boundary, then "…" and the full length), control characters as '?'.
std::string echo_line(std::string_view text);

// One decimal number per line, every line (output line i answers input line i, so a
// blank line is an error, not skipped), at least one line. Anything else is an
// InputError naming the line (stdin:LINE) and its text; a magnitude beyond 1.8e308 is
// "out of range", one below the smallest subnormal reads as a signed zero.
std::vector<double> read_number_lines(std::istream& in);

}  // namespace lpsim::arith
