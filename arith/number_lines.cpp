#include "arith/number_lines.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "arith/error.h"

namespace lpsim::arith {

std::string echo_line(std::string_view text) {
  constexpr size_t kMax = 80;
  size_t n = std::min(text.size(), kMax);
  if (n < text.size())
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // not inside a UTF-8 sequence
  std::string out(text.substr(0, n));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (n < text.size()) out += "…' (" + std::to_string(text.size()) + " bytes";
  return n < text.size() ? out + ")" : out + "'";
}

std::vector<double> read_number_lines(std::istream& in) {
  std::vector<double> xs;
  std::string line;
  size_t n = 1;
  for (; std::getline(in, line); ++n) {
    const std::string where = "stdin:" + std::to_string(n);
    const size_t b = line.find_first_not_of(" \t\r");
    const size_t e = line.find_last_not_of(" \t\r");
    const std::string_view text = b == std::string::npos ? std::string_view{} : std::string_view(line).substr(b, e - b + 1);
    if (text.empty()) throw InputError("blank line (every line must hold one decimal number)", where);
    double x = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (text[0] == '+' && text.size() > 1 && text[1] != '-' && text[1] != '+') ++first;  // from_chars rejects a leading '+'
    const auto [ptr, ec] = std::from_chars(first, last, x);
    if (ec == std::errc::result_out_of_range && ptr == last) {
      // Beyond double: a magnitude above 1.8e308 is an error (write inf for infinity); one
      // below the smallest subnormal (4.9e-324) reads as its nearest double, a signed zero.
      const std::string t(first, last);
      const double v = std::strtod(t.c_str(), nullptr);
      if (std::isinf(v))
        throw InputError("out of range: '" + echo_line(text) + " exceeds the largest double (1.8e308); write inf "
                         "for infinity", where);
      x = v;
    } else if (ec != std::errc() || ptr != last) {
      throw InputError("not a decimal number: '" + echo_line(text), where);
    }
    xs.push_back(x);
  }
  if (n == 1) throw InputError("no input: expected one decimal number per line on stdin", "stdin");
  return xs;
}

}  // namespace lpsim::arith
