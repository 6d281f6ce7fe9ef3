#include "arith/format.h"

#include <charconv>

#include "arith/error.h"

namespace lpsim::arith {

namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

const char* kKnown =
    "known: int<1..32>, uint<1..32>, fp8_e4m3, fp8_e5m2, fp4_e2m1, fp16, bf16, fp32, luq4, luq5, e<1..8>m<0..10>, lns<3..21>_b<b>";

}  // namespace

std::vector<FloatFormat> named_float_formats() {
  return {fp8_e4m3(), fp8_e5m2(), fp4_e2m1(), fp16(), bf16(), luq_fp4(), luq_fp5_8levels()};
}

NumberFormat parse_format(std::string_view name) {
  for (const FloatFormat& f : named_float_formats())
    if (name == f.name) return f;
  if (name == "fp32") return fp32();  // not in the named list: too wide for exhaustive tables
  if (name.substr(0, 3) == "lns") return parse_lns_format(name);
  int bits = 0;
  for (const auto& [prefix, is_signed] : {std::pair{std::string_view("uint"), false}, std::pair{std::string_view("int"), true}}) {
    if (name.substr(0, prefix.size()) == prefix && parse_int(name.substr(prefix.size()), bits)) {
      IntFormat f{bits, is_signed};
      if (bits < 1 || bits > 32)
        throw InputError("integer width must be in [1, 32], got " + std::to_string(bits), {}, std::string(name));
      return f;
    }
  }
  if (name.size() >= 4 && name[0] == 'e') {
    const size_t m = name.find('m');
    int e = 0, mm = 0;
    if (m != std::string_view::npos && parse_int(name.substr(1, m - 1), e) && parse_int(name.substr(m + 1), mm)) {
      if (e < 1 || e > 8)
        throw InputError("exponent bits must be in [1, 8], got " + std::to_string(e), {}, std::string(name));
      if (mm < 0 || mm > 10)
        throw InputError("mantissa bits must be in [0, 10], got " + std::to_string(mm), {}, std::string(name));
      return make_exmy(e, mm);
    }
  }
  throw InputError(std::string("unknown format '") + std::string(name) + "' (" + kKnown + ")");
}

std::string format_name(const NumberFormat& fmt) {
  if (const auto* i = std::get_if<IntFormat>(&fmt)) return i->name();
  if (const auto* l = std::get_if<LnsFormat>(&fmt)) return l->name();
  return std::get<FloatFormat>(fmt).name;
}

int format_bits(const NumberFormat& fmt) {
  if (const auto* i = std::get_if<IntFormat>(&fmt)) return i->bits;
  if (const auto* l = std::get_if<LnsFormat>(&fmt)) return l->total_bits();
  return std::get<FloatFormat>(fmt).total_bits();
}

double code_value(const NumberFormat& fmt, uint32_t code) {
  if (const auto* i = std::get_if<IntFormat>(&fmt)) return double(i->from_code(code));
  if (const auto* l = std::get_if<LnsFormat>(&fmt)) return lns_decode(*l, code);
  return std::get<FloatFormat>(fmt).decode(code);
}

}  // namespace lpsim::arith
