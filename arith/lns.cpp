#include "arith/lns.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>

#include "arith/error.h"

namespace lpsim::arith {

namespace {

int64_t sign_extend(uint64_t v, int bits) {
  const uint64_t m = uint64_t{1} << (bits - 1);
  v &= (m << 1) - 1;
  return int64_t(v ^ m) - int64_t(m);
}

__int128 wrap128(__int128 v, int bits) {  // two's complement, sign-extended from `bits`
  const unsigned __int128 m = (unsigned __int128)1 << (bits - 1);
  const unsigned __int128 mask = (m << 1) - 1;
  const unsigned __int128 u = ((unsigned __int128)v & mask) ^ m;
  return (__int128)u - (__int128)m;
}

bool fits128(__int128 v, int bits) {
  const __int128 m = (__int128)1 << (bits - 1);
  return v >= -m && v < m;
}

int ceil_log2(uint64_t k) { return k <= 1 ? 0 : 64 - std::countl_zero(k - 1); }

// The one table generator: RNE(f(i / 2^in_frac) · 2^out_frac) for i = first, first + 1, ...,
// `count` entries, or (count < 0) until an entry rounds to zero (the essential zero, left
// out). Double precision with log1p/expm1; the tests check every entry against a
// long-double reference.
std::vector<int64_t> rne_table(double (*f)(double), int in_frac, int out_frac, int64_t first, int64_t count) {
  std::vector<int64_t> t;
  for (int64_t i = first; count < 0 || i < first + count; ++i) {
    const double v = std::nearbyint(std::ldexp(f(std::ldexp(double(i), -in_frac)), out_frac));  // RNE (default mode)
    if (count < 0 && v == 0) break;
    t.push_back(int64_t(v));
    if (t.size() > (size_t{1} << 26)) throw InputError("an LNS table of more than 2^26 entries");
  }
  return t;
}

double pow2(double x) { return std::exp2(x); }
double sb_fn(double z) { return std::log1p(std::exp2(-z)) / std::log(2.0); }      // log2(1 + 2^-z)
double db_fn(double z) { return std::log(-std::expm1(-z * std::log(2.0))) / std::log(2.0); }  // log2(1 - 2^-z)

}  // namespace

std::string LnsFormat::name() const { return "lns" + std::to_string(total_bits()) + "_b" + std::to_string(frac_bits); }

void LnsFormat::validate() const {
  if (exp_bits < 2 || exp_bits > 20)
    throw InputError("LNS log code of " + std::to_string(exp_bits) + " bits (2..20: formats of 3..21 bits)", {}, "format");
  if (frac_bits < 0 || frac_bits > exp_bits - 1)
    throw InputError("LNS with " + std::to_string(frac_bits) + " fraction bits in a " + std::to_string(exp_bits) +
                         "-bit log code (0.." + std::to_string(exp_bits - 1) + ")",
                     {}, "format");
}

LnsFormat parse_lns_format(std::string_view name) {
  // lns<N>_b<b> with one or two decimal digits each (no sign, no overflow to guard).
  const std::string s(name);
  auto bad = [&] { return InputError("not an LNS format name (lns<N>_b<b>, e.g. lns8_b3): '" + s + "'", {}, "format"); };
  const size_t us = name.find("_b");
  if (name.substr(0, 3) != "lns" || us == std::string_view::npos) throw bad();
  const std::string_view nd = name.substr(3, us - 3), bd = name.substr(us + 2);
  auto small = [](std::string_view d, int& v) {
    if (d.empty() || d.size() > 2) return false;
    v = 0;
    for (const char c : d) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    return true;
  };
  int n = 0, b = 0;
  if (!small(nd, n) || !small(bd, b) || n < 1) throw bad();
  LnsFormat f{n - 1, b};
  f.validate();
  if (f.name() != s) throw bad();  // no leading zeros: one spelling per format
  return f;
}

LnsValue lns_unpack(const LnsFormat& f, uint32_t code) {
  LnsValue v;
  v.e = int32_t(sign_extend(code, f.exp_bits));
  v.zero = v.e == f.zero_code();
  v.negative = !v.zero && ((code >> f.exp_bits) & 1u);
  return v;
}

uint32_t lns_pack(const LnsFormat& f, bool negative, int32_t e) {
  LPSIM_CHECK(e >= f.zero_code() && e <= f.e_max());
  const uint32_t mag = uint32_t(e) & ((uint32_t{1} << f.exp_bits) - 1);
  return e == f.zero_code() ? mag : (uint32_t(negative) << f.exp_bits) | mag;
}

double lns_decode(const LnsFormat& f, uint32_t code) {
  const LnsValue v = lns_unpack(f, code);
  if (v.zero) return 0.0;
  const double m = std::exp2(double(v.e) / f.gamma());
  return v.negative ? -m : m;
}

uint32_t lns_quantize_nearest(const LnsFormat& f, double x) {
  if (std::isnan(x)) throw InputError("NaN has no LNS code (the format has no NaN)", {}, "value");
  if (x == 0) return lns_zero(f);
  const double t = std::log2(std::fabs(x)) * f.gamma();
  if (t < f.e_min() - 0.5) return lns_zero(f);
  const double e = std::min(std::round(t), double(f.e_max()));
  return lns_pack(f, x < 0, int32_t(e));
}

uint32_t lns_quantize_stochastic(const LnsFormat& f, double x, double u) {
  if (std::isnan(x)) throw InputError("NaN has no LNS code (the format has no NaN)", {}, "value");
  if (x == 0) return lns_zero(f);
  const double a = std::fabs(x);
  auto mag = [&](int64_t e) { return std::exp2(double(e) / f.gamma()); };
  const double smallest = mag(f.e_min());
  if (a < smallest) return u < a / smallest ? lns_pack(f, x < 0, f.e_min()) : lns_zero(f);
  if (a >= mag(f.e_max())) return lns_pack(f, x < 0, f.e_max());
  int64_t lo = int64_t(std::floor(std::log2(a) * f.gamma()));
  while (mag(lo) > a) --lo;  // log2's last bit: the neighbours must bracket |x|
  while (mag(lo + 1) <= a) ++lo;
  const double l = mag(lo), h = mag(lo + 1);
  return lns_pack(f, x < 0, int32_t(u < (a - l) / (h - l) ? lo + 1 : lo));
}

std::vector<uint64_t> lns_pow2_table(int frac_bits, int alpha) {
  const std::vector<int64_t> t = rne_table(pow2, frac_bits, alpha, 0, int64_t{1} << frac_bits);
  return {t.begin(), t.end()};
}

LnsLinearAcc::LnsLinearAcc(const LnsFormat& f, int alpha_, int acc_bits_) : fmt(f), alpha(alpha_), acc_bits(acc_bits_) {
  fmt.validate();
  if (alpha < fmt.frac_bits + 1 || alpha > 40)
    throw InputError("conversion table of " + std::to_string(alpha) + " fraction bits: " + std::to_string(fmt.frac_bits + 1) +
                         "..40 (fewer than b + 1 makes neighbouring entries equal)",
                     {}, "alpha");
  q_min = (2 * fmt.e_min()) >> fmt.frac_bits;  // arithmetic shift: floor
  q_max = (2 * fmt.e_max()) >> fmt.frac_bits;
  if (alpha + 2 + (q_max - q_min) > 120)
    throw InputError(fmt.name() + " spans 2^" + std::to_string(q_max - q_min) +
                         ": a linear accumulator for it is wider than this model's 128 bits",
                     {}, "format");
  if (acc_bits < 2 || acc_bits > 126) throw InputError("accumulator of 2..126 bits", {}, "acc_bits");
  lut = lns_pow2_table(fmt.frac_bits, alpha);
}

int lns_log_acc_bits(const LnsFormat& f, int acc_frac, uint64_t K) {
  const int64_t need = (int64_t(2 * f.e_max()) << (acc_frac - f.frac_bits)) + (int64_t(ceil_log2(K)) << acc_frac);
  int w = 2;
  while ((int64_t{1} << (w - 1)) - 1 < need) ++w;
  return w;
}

int lns_linear_acc_bits(const LnsFormat& f, int alpha, uint64_t K) {
  const int32_t q_min = (2 * f.e_min()) >> f.frac_bits, q_max = (2 * f.e_max()) >> f.frac_bits;
  return alpha + 2 + (q_max - q_min) + ceil_log2(K);
}

namespace {

// The term of one product in units of 2^(q_min - alpha) (0 for a zero operand), and its
// bin (r) and one-hot increment (± 1 << (q - q_min)) for A'.
struct Term {
  bool zero = true;
  bool negative = false;
  int r = 0;
  int shift = 0;
};

Term product_term(const LnsLinearAcc& u, uint32_t a, uint32_t b) {
  const LnsValue x = lns_unpack(u.fmt, a), y = lns_unpack(u.fmt, b);
  Term t;
  if (x.zero || y.zero) return t;
  const int32_t p = x.e + y.e;
  t.zero = false;
  t.negative = x.negative != y.negative;
  t.r = p & (u.fmt.gamma() - 1);
  t.shift = (p >> u.fmt.frac_bits) - u.q_min;
  return t;
}

void check_sizes(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  if (a.size() != b.size()) throw InputError("operand vectors of different lengths");
}

}  // namespace

LnsAccResult lns_unit_a(const LnsLinearAcc& u, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  check_sizes(a, b);
  LnsAccResult res;
  for (size_t k = 0; k < a.size(); ++k) res = lns_unit_a_step(u, res, a[k], b[k]);
  return res;
}

LnsAccResult lns_unit_a_step(const LnsLinearAcc& u, LnsAccResult res, uint32_t a, uint32_t b) {
  const Term t = product_term(u, a, b);
  if (t.zero) return res;
  const __int128 term = (__int128)u.lut[size_t(t.r)] << t.shift;
  const __int128 exact = res.sum + (t.negative ? -term : term);  // |both| < 2^126: no overflow here
  res.overflow = res.overflow || !fits128(exact, u.acc_bits);
  res.sum = wrap128(exact, u.acc_bits);
  return res;
}

LnsAccResult lns_unit_a_bins(const LnsLinearAcc& u, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  check_sizes(a, b);
  std::vector<__int128> bins(size_t(u.fmt.gamma()), 0);
  LnsAccResult res;
  for (size_t k = 0; k < a.size(); ++k) {
    const Term t = product_term(u, a[k], b[k]);
    if (t.zero) continue;
    const __int128 one_hot = (__int128)1 << t.shift;
    bins[size_t(t.r)] += t.negative ? -one_hot : one_hot;
  }
  __int128 exact = 0;
  for (size_t r = 0; r < bins.size(); ++r) exact += (__int128)u.lut[r] * bins[r];
  // Modulo 2^acc_bits the bins give A's sum whatever happened on the way (a ring
  // homomorphism); the flag here says whether the final sum fits.
  res.overflow = !fits128(exact, u.acc_bits);
  res.sum = wrap128(exact, u.acc_bits);
  return res;
}

double lns_linear_value(const LnsLinearAcc& u, __int128 sum) { return std::ldexp(double(sum), u.q_min - u.alpha); }

LnsLogAcc::LnsLogAcc(const LnsFormat& f, int acc_frac_, int acc_exp_bits_, bool mitchell_)
    : fmt(f), acc_frac(acc_frac_), acc_exp_bits(acc_exp_bits_), mitchell(mitchell_) {
  fmt.validate();
  if (acc_frac < fmt.frac_bits || acc_frac > 20)
    throw InputError("log-domain sum with " + std::to_string(acc_frac) + " fraction bits: " +
                         std::to_string(fmt.frac_bits) + "..20 (at least the operands' b)",
                     {}, "acc_frac");
  // The products' logs (2·e_min .. 2·e_max in units of 2^-b) must fit, with room to grow.
  const int64_t p_max = int64_t(2 * fmt.e_max()) << (acc_frac - fmt.frac_bits);
  if (acc_exp_bits > 62 || p_max >= e_max())
    throw InputError("a log-domain sum of " + std::to_string(acc_exp_bits) + " bits cannot hold the products of " +
                         fmt.name() + " (they need more than " + std::to_string(64 - std::countl_zero(uint64_t(p_max)) + 1) +
                         ")",
                     {}, "acc_exp_bits");
  if (!mitchell) {
    const std::vector<int64_t> s = rne_table(sb_fn, acc_frac, acc_frac, 0, -1);
    const std::vector<int64_t> d = rne_table(db_fn, acc_frac, acc_frac, 1, -1);
    sb = s;
    db = {0};  // d = 0 with opposite signs is an exact cancellation, not a table entry
    db.insert(db.end(), d.begin(), d.end());
  }
}

namespace {

// Mitchell's antilog of -d / 2^F in F-bit fixed point (truncating): -d = k·2^F + f,
// 0 <= f < 2^F, 2^(k + f/2^F) ≈ (1 + f/2^F)·2^k.
int64_t mitchell_pow2_neg(int64_t d, int F) {
  const int64_t one = int64_t{1} << F;
  const int64_t k = -((d + one - 1) >> F);  // floor(-d / 2^F)
  const int64_t f = -d - k * one;
  const int64_t shift = -k;
  return shift >= 62 ? 0 : (one + f) >> shift;
}

// Mitchell's log2 of w / 2^F (w > 0, F-bit fixed point): w = (1 + m)·2^j in value,
// log2 ≈ j + m, in F-bit fixed point (truncating).
int64_t mitchell_log2(int64_t w, int F) {
  const int L = 63 - std::countl_zero(uint64_t(w));  // leading one
  const int64_t j = L - F;
  const int64_t m = ((w - (int64_t{1} << L)) << F) >> L;
  return j * (int64_t{1} << F) + m;
}

}  // namespace

LnsLogSum lns_log_add(const LnsLogAcc& u, LnsLogSum acc, bool negative, int64_t P) {
  auto bounded = [&](LnsLogSum s) {
    if (s.e > u.e_max()) {
      s.e = u.e_max();
      s.saturated = true;
    }
    if (s.e < u.e_min()) {  // flush to zero below the smallest magnitude
      const bool sat = s.saturated;
      s = {};
      s.saturated = sat;
    }
    return s;
  };
  if (acc.zero) return bounded({false, negative, P, acc.saturated});
  const int64_t d = acc.e >= P ? acc.e - P : P - acc.e;
  const int64_t top = std::max(acc.e, P);
  const bool sign = acc.e >= P ? acc.negative : negative;
  const int F = u.acc_frac;
  int64_t delta = 0;
  if (acc.negative == negative) {
    if (u.mitchell)
      delta = mitchell_pow2_neg(d, F);  // log2(1 + y) ≈ y
    else
      delta = size_t(d) < u.sb.size() ? u.sb[size_t(d)] : 0;
  } else {
    if (d == 0) {  // exact cancellation
      LnsLogSum z;
      z.saturated = acc.saturated;
      return z;
    }
    if (u.mitchell)
      delta = mitchell_log2((int64_t{1} << F) - mitchell_pow2_neg(d, F), F);
    else
      delta = size_t(d) < u.db.size() ? u.db[size_t(d)] : 0;
  }
  return bounded({false, sign, top + delta, acc.saturated});
}

LnsLogSum lns_unit_log(const LnsLogAcc& u, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  check_sizes(a, b);
  LnsLogSum s;
  for (size_t k = 0; k < a.size(); ++k) s = lns_log_step(u, s, a[k], b[k]);
  return s;
}

LnsLogSum lns_log_step(const LnsLogAcc& u, LnsLogSum s, uint32_t a, uint32_t b) {
  const LnsValue x = lns_unpack(u.fmt, a), y = lns_unpack(u.fmt, b);
  if (x.zero || y.zero) return s;
  const int64_t P = int64_t(x.e + y.e) << (u.acc_frac - u.fmt.frac_bits);
  return lns_log_add(u, s, x.negative != y.negative, P);
}

double lns_log_value(const LnsLogAcc& u, const LnsLogSum& s) {
  if (s.zero) return 0.0;
  const double m = std::exp2(std::ldexp(double(s.e), -u.acc_frac));
  return s.negative ? -m : m;
}

}  // namespace lpsim::arith
