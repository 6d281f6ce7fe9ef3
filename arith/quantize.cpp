#include "arith/quantize.h"

#include <atomic>
#include <bit>
#include <cmath>
#include <thread>
#include <vector>

#include "arith/error.h"
#include "arith/philox.h"

namespace lpsim::arith {

namespace {

inline uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
inline float float_of(uint32_t u) { return std::bit_cast<float>(u); }

// float32 → ExMy on raw float bits. It computes exactly what round_pack computes for a
// float input (tests compare the two), without leaving integer registers, so a buffer
// streams at memory speed. Usable when the format's whole grid is float32-representable.
struct FloatKernel {
  FloatFormat fmt;
  int M = 0;
  int emin_f = 0;  // float32 biased exponent of the format's smallest normal
  int bias = 0;
  bool subnormals = true;
  uint32_t max_bits = 0;       // float32 bits of the largest finite magnitude
  uint32_t max_code = 0;       // its code
  uint32_t overflow_bits = 0;  // magnitude written on overflow for RNE/stochastic
  uint32_t overflow_code = 0;
  RoundMode mode = RoundMode::nearest_even;

  static bool usable(const FloatFormat& f) {
    const int emax = std::ilogb(f.max_value());
    return f.man_bits <= 23 && f.min_exponent() >= -126 && f.min_exponent() - f.man_bits >= -149 && emax <= 127;
  }

  FloatKernel(const FloatFormat& f, RoundMode m, Overflow o) : fmt(f), mode(m) {
    M = f.man_bits;
    emin_f = f.min_exponent() + 127;
    bias = f.bias;
    subnormals = f.subnormals;
    max_code = f.max_finite_magnitude();
    max_bits = bits_of(float(f.max_value()));
    overflow_bits = max_bits;
    overflow_code = max_code;
    if (o == Overflow::to_special && f.has_inf()) {
      overflow_bits = 0x7F800000u;
      overflow_code = f.inf_magnitude();
    } else if (o == Overflow::to_special && f.has_nan()) {
      overflow_bits = 0x7FC00000u;
      overflow_code = f.nan_magnitude();
    }
  }

  // Returns the rounded magnitude as float bits (kCodes = false) or as a code (true).
  template <bool kCodes>
  inline uint32_t magnitude(uint32_t a, uint32_t random_bits) const {
    const int ex = int(a >> 23);
    const int exn = ex ? ex : 1;  // float subnormals share the scale of exponent 1
    const uint32_t sig = (a & 0x7FFFFFu) | (ex ? 0x800000u : 0u);
    const bool below = exn < emin_f;
    // Low bits of the 24-bit significand that lie below the format's quantum.
    const int shift = (below ? emin_f - exn : 0) + 23 - ((below && !subnormals) ? 0 : M);
    const int sh = shift > 63 ? 63 : shift;
    const uint64_t wide = (uint64_t{sig} << 32) >> sh;
    const uint32_t kept = uint32_t(wide >> 32);
    const uint32_t frac = uint32_t(wide);  // dropped part, 0.32 fixed point; a tie is
                                           // exact here since shift > 32 gives frac < 2^24
    const uint32_t code_down = below ? (subnormals ? kept : 0u) : (uint32_t(exn - 127 + bias - 1) << M) + kept;
    bool up;
    if (mode == RoundMode::nearest_even)
      up = frac > 0x80000000u || (frac == 0x80000000u && (code_down & 1u));
    else if (mode == RoundMode::stochastic)
      up = random_bits < frac;
    else
      up = false;
    const uint32_t kn = kept + (up ? 1u : 0u);
    if constexpr (kCodes) {
      const uint32_t code = (below && !subnormals) ? (kn << M) : code_down + (up ? 1u : 0u);
      if (code > max_code) return mode == RoundMode::toward_zero ? max_code : overflow_code;
      return code;
    } else {
      const int qe = exn - 150 + shift;  // exponent of the quantum
      const uint32_t pow2 = qe >= -126 ? uint32_t(qe + 127) << 23 : 1u << (qe + 149);
      const uint32_t vb = bits_of(float(kn) * float_of(pow2));  // exact (2^128 → inf)
      if (vb > max_bits) return mode == RoundMode::toward_zero ? max_bits : overflow_bits;
      return vb;
    }
  }
};

template <bool kCodes, typename Out, typename Element>
void run_chunks(size_t n, const QuantizeOptions& opt, const Element& element) {
  const RandomStream rng(opt.seed, opt.stream);
  const bool stochastic = opt.rounding == RoundMode::stochastic;
  parallel_chunks(n, opt.chunk, opt.threads, [&](size_t begin, size_t end) {
    if (!stochastic) {
      for (size_t i = begin; i < end; ++i) element(i, 0u);
      return;
    }
    // Four elements share one Philox block: walk the global index in aligned groups.
    size_t i = begin;
    while (i < end) {
      const uint64_t g = opt.index_offset + i;
      const auto words = rng.block(g >> 2);
      for (uint64_t lane = g & 3; lane < 4 && i < end; ++lane, ++i) element(i, words[lane]);
    }
  });
}

void check_sizes(size_t in, size_t out, const QuantizeOptions& opt) {
  LPSIM_CHECK(in == out);
  if (!(opt.scale > 0.0f) || !std::isfinite(opt.scale))
    throw InputError("scale must be a positive finite number, got " + std::to_string(opt.scale), {}, "scale");
  if (opt.threads < 1) throw InputError("threads must be >= 1", {}, "threads");
}

}  // namespace

void parallel_chunks(size_t n, size_t chunk, int threads, const std::function<void(size_t, size_t)>& body) {
  if (chunk == 0) chunk = 1;
  const size_t n_chunks = (n + chunk - 1) / chunk;
  if (threads <= 1 || n_chunks <= 1) {
    for (size_t c = 0; c < n_chunks; ++c) body(c * chunk, std::min(n, (c + 1) * chunk));
    return;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t c; (c = next.fetch_add(1)) < n_chunks;) body(c * chunk, std::min(n, (c + 1) * chunk));
  };
  std::vector<std::jthread> pool;
  for (int t = 1; t < threads && size_t(t) < n_chunks; ++t) pool.emplace_back(worker);
  worker();
}

void quantize(const NumberFormat& fmt, std::span<const float> in, std::span<float> out, const QuantizeOptions& opt) {
  check_sizes(in.size(), out.size(), opt);
  const float scale = opt.scale;
  const bool scaled = scale != 1.0f;
  if (const auto* ifmt = std::get_if<IntFormat>(&fmt)) {
    run_chunks<false, float>(in.size(), opt, [&](size_t i, uint32_t r) {
      const float y = scaled ? in[i] / scale : in[i];
      const float q = float(int_encode(*ifmt, y, opt.rounding, opt.overflow, r).value);
      out[i] = scaled ? q * scale : q;
    });
    return;
  }
  const FloatFormat& ffmt = std::get<FloatFormat>(fmt);
  if (opt.overflow == Overflow::wrap) throw InputError("wrap overflow applies to integer formats only", {}, ffmt.name);
  if (!FloatKernel::usable(ffmt)) {
    run_chunks<false, float>(in.size(), opt, [&](size_t i, uint32_t r) {
      const float y = scaled ? in[i] / scale : in[i];
      const float q = float(ffmt.decode(encode(ffmt, y, opt.rounding, opt.overflow, r).code));
      out[i] = scaled ? q * scale : q;
    });
    return;
  }
  const FloatKernel k(ffmt, opt.rounding, opt.overflow);
  run_chunks<false, float>(in.size(), opt, [&](size_t i, uint32_t r) {
    const float y = scaled ? in[i] / scale : in[i];
    const uint32_t b = bits_of(y);
    const uint32_t a = b & 0x7FFFFFFFu;
    float q;
    if (a >= 0x7F800000u) [[unlikely]]
      q = float(ffmt.decode(encode(ffmt, y, opt.rounding, opt.overflow, r).code));
    else
      q = float_of((b & 0x80000000u) | k.magnitude<false>(a, r));
    out[i] = scaled ? q * scale : q;
  });
}

void quantize_codes(const NumberFormat& fmt, std::span<const float> in, std::span<uint32_t> codes,
                    const QuantizeOptions& opt) {
  check_sizes(in.size(), codes.size(), opt);
  const float scale = opt.scale;
  if (const auto* ifmt = std::get_if<IntFormat>(&fmt)) {
    run_chunks<true, uint32_t>(in.size(), opt, [&](size_t i, uint32_t r) {
      codes[i] = ifmt->to_code(int_encode(*ifmt, in[i] / scale, opt.rounding, opt.overflow, r).value);
    });
    return;
  }
  const FloatFormat& ffmt = std::get<FloatFormat>(fmt);
  if (opt.overflow == Overflow::wrap) throw InputError("wrap overflow applies to integer formats only", {}, ffmt.name);
  const bool fast = FloatKernel::usable(ffmt);
  const FloatKernel k(ffmt, opt.rounding, opt.overflow);
  run_chunks<true, uint32_t>(in.size(), opt, [&](size_t i, uint32_t r) {
    const float y = in[i] / scale;
    const uint32_t b = bits_of(y);
    const uint32_t a = b & 0x7FFFFFFFu;
    if (!fast || a >= 0x7F800000u)
      codes[i] = encode(ffmt, y, opt.rounding, opt.overflow, r).code;
    else
      codes[i] = ((b >> 31) ? ffmt.sign_bit() : 0u) | k.magnitude<true>(a, r);
  });
}

}  // namespace lpsim::arith
