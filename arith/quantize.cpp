#include "arith/quantize.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <immintrin.h>
#include <optional>
#include <bit>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "arith/error.h"
#include "arith/philox.h"

namespace lpsim::arith {

namespace {

inline uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
inline float float_of(uint32_t u) { return std::bit_cast<float>(u); }

// Parameters of the float32 → ExMy kernel (float_block below). It computes exactly what
// round_pack computes for a float input (tests compare the two) on raw float bits, so a
// buffer streams at memory speed. Usable when the whole grid is float32-representable.
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
  uint32_t nan_bits = 0;      // result of a NaN input: NaN, or +0 where the format has none
  uint32_t nan_sign = 0;      // NaN keeps its sign; the +0 of a NaN-less format does not
  uint32_t inf_rtz_bits = 0;  // magnitude for an infinite input under toward-zero rounding
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
    // An infinite input is exact, not a rounding overflow (encode()): under toward-zero
    // it still becomes inf/NaN when the policy asks for specials.
    inf_rtz_bits = o == Overflow::to_special ? overflow_bits : max_bits;
    nan_bits = f.has_nan() ? 0x7FC00000u : 0u;
    nan_sign = f.has_nan() ? 0x80000000u : 0u;
  }
};

template <typename Element>
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

// ---- Vectorised float32 → float32 path -------------------------------------------------
// The hot loops below are written branch-free over fixed-size blocks so that GCC can
// vectorise them; target_clones builds an AVX2 version (variable per-lane shifts) next to
// the baseline one and picks at load time. Both are bit-identical: integer operations
// and IEEE float multiply/divide only (no contraction: -std=c++20 implies
// -ffp-contract=off).
constexpr size_t kBlock = kRandomBlock;
constexpr size_t kRandomWords = kBlock + 128;  // whole AVX-512 vectors of blocks, plus alignment
#if defined(__clang__)
#define LPSIM_CLONES  // clang (the fuzz build) does not clone templates; one baseline version
#else
#define LPSIM_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#endif

// Philox rounds on 8 counters at once with AVX2: the 32x32→64 products come from
// _mm256_mul_epu32 on even and odd lanes (GCC's auto-vectoriser picks the slow 64-bit
// vpmullq here). Same words as Philox4x32::block, checked by the quantizer tests.
// Writes words x0[k], x1[k], x2[k], x3[k] for k = 0..7 consecutively (a 4x8 transpose):
// element 4j+lane takes word `lane` of block j.
__attribute__((target("avx2"))) inline void store_interleaved(uint32_t* out, __m256i x0, __m256i x1, __m256i x2,
                                                              __m256i x3) {
  const __m256i t0 = _mm256_unpacklo_epi32(x0, x1), t1 = _mm256_unpackhi_epi32(x0, x1);
  const __m256i t2 = _mm256_unpacklo_epi32(x2, x3), t3 = _mm256_unpackhi_epi32(x2, x3);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(u0, u1, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_permute2x128_si256(u2, u3, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_permute2x128_si256(u0, u1, 0x31));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 24), _mm256_permute2x128_si256(u2, u3, 0x31));
}

__attribute__((target("avx2"))) void philox_rounds_avx2(uint32_t* c0, uint32_t* c1, uint32_t* c2, uint32_t* c3,
                                                        size_t nb, uint32_t key0, uint32_t key1, uint32_t* out) {
  const __m256i m0 = _mm256_set1_epi32(int(Philox4x32::kMul0)), m1 = _mm256_set1_epi32(int(Philox4x32::kMul1));
  for (size_t j = 0; j < nb; j += 8) {
    __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c0 + j));
    __m256i x1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c1 + j));
    __m256i x2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c2 + j));
    __m256i x3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c3 + j));
    uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      // 64-bit products of lanes 0,2,4,6 and of lanes 1,3,5,7, recombined into hi/lo words.
      const __m256i e0 = _mm256_mul_epu32(x0, m0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
      const __m256i e1 = _mm256_mul_epu32(x2, m1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
      const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
      const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
      const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(int(k0)));
      const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(int(k1)));
      x0 = n0;
      x1 = lo1;
      x2 = n2;
      x3 = lo0;
      k0 += Philox4x32::kWeyl0;
      k1 += Philox4x32::kWeyl1;
    }
    store_interleaved(out + 4 * j, x0, x1, x2, x3);
  }
}

// The same with AVX-512: 16 counters per vector. (GCC 12's avx512fintrin.h trips
// -Wmaybe-uninitialized on its own undefined-vector idiom.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Each 64-bit lane holds one Philox word in its low half, so _mm512_mul_epu32 yields the
// whole 32x32→64 product of 8 counters at once: hi = product >> 32, lo = its low half.
// Upper halves of the word lanes carry garbage that no operation reads back into a low
// half. Counters are built in registers (block b0 + j + lane as a 64-bit sum).
__attribute__((target("avx512f,avx2"))) void philox_fill_avx512(uint64_t b0, size_t nb, uint32_t stream,
                                                                uint32_t tag, uint32_t key0, uint32_t key1,
                                                                uint32_t* out) {
  const __m512i m0 = _mm512_set1_epi64(Philox4x32::kMul0), m1 = _mm512_set1_epi64(Philox4x32::kMul1);
  const __m512i iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t j = 0; j < nb; j += 8) {
    const __m512i block = _mm512_add_epi64(_mm512_set1_epi64(int64_t(b0 + j)), iota);
    __m512i x0 = block, x1 = _mm512_srli_epi64(block, 32);
    __m512i x2 = _mm512_set1_epi64(stream), x3 = _mm512_set1_epi64(tag);
    uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const __m512i p0 = _mm512_mul_epu32(x0, m0), p1 = _mm512_mul_epu32(x2, m1);
      x0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), x1, _mm512_set1_epi64(k0), 0x96);  // 3-way xor
      x2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), x3, _mm512_set1_epi64(k1), 0x96);
      x1 = p1;
      x3 = p0;
      k0 += Philox4x32::kWeyl0;
      k1 += Philox4x32::kWeyl1;
    }
    store_interleaved(out + 4 * j, _mm512_cvtepi64_epi32(x0), _mm512_cvtepi64_epi32(x1), _mm512_cvtepi64_epi32(x2),
                      _mm512_cvtepi64_epi32(x3));
  }
}
#pragma GCC diagnostic pop

LPSIM_CLONES void philox_rounds_portable(uint32_t* c0, uint32_t* c1, uint32_t* c2, uint32_t* c3, size_t nb,
                                         uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    for (size_t j = 0; j < nb; ++j) {
      const uint64_t p0 = uint64_t{Philox4x32::kMul0} * c0[j];
      const uint64_t p1 = uint64_t{Philox4x32::kMul1} * c2[j];
      const uint32_t n0 = uint32_t(p1 >> 32) ^ c1[j] ^ k0, n2 = uint32_t(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = uint32_t(p1);
      c3[j] = uint32_t(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += Philox4x32::kWeyl0;
    k1 += Philox4x32::kWeyl1;
  }
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
const bool kHaveAvx512 = __builtin_cpu_supports("avx512f");

// Random words for global indices [first, first + n), n <= kBlock, written to `out`
// (room for kRandomWords words); returns the word of index `first`. Philox is evaluated
// for all blocks at once in structure-of-arrays form so each round vectorises (the
// 32x32→64 products map to vpmuludq); the words are those of RandomStream::block.
uint32_t* fill_random(const RandomStream& rng, uint64_t first, size_t n, uint32_t* out, int isa = 2) {
  constexpr size_t kMaxBlocks = kBlock / 4 + 16;  // rounded up to whole AVX-512 vectors
  const uint64_t b0 = first >> 2;
  const size_t nb = size_t(((first + n + 3) >> 2) - b0);
  const auto init = rng.counter(b0);
  if (kHaveAvx512 && isa >= 2) {
    philox_fill_avx512(b0, nb, init[2], init[3], rng.key0(), rng.key1(), out);
    return out + (first & 3);
  }
  alignas(64) uint32_t c0[kMaxBlocks], c1[kMaxBlocks], c2[kMaxBlocks], c3[kMaxBlocks];
  for (size_t j = 0; j < (nb + 15) / 16 * 16; ++j) {  // whole vectors: no uninitialised lanes
    const uint64_t bi = b0 + j;
    c0[j] = uint32_t(bi);
    c1[j] = uint32_t(bi >> 32);
    c2[j] = init[2];
    c3[j] = init[3];
  }
  uint32_t k0 = rng.key0(), k1 = rng.key1();
  // The vector versions also run the (unused) counters up to the next whole vector.
  if (kHaveAvx2 && isa >= 1) {
    philox_rounds_avx2(c0, c1, c2, c3, nb, k0, k1, out);
  } else {
    philox_rounds_portable(c0, c1, c2, c3, nb, k0, k1);
    for (size_t j = 0; j < nb; ++j) {
      out[4 * j] = c0[j];
      out[4 * j + 1] = c1[j];
      out[4 * j + 2] = c2[j];
      out[4 * j + 3] = c3[j];
    }
  }
  return out + (first & 3);
}

template <RoundMode kMode, bool kScaled>
LPSIM_CLONES void float_block(const FloatKernel& k, const float* in, float* out, const uint32_t* rnd, size_t n,
                              float scale) {
  const int32_t M = k.M, emin_f = k.emin_f, bias = k.bias;
  // Below the smallest normal the quantum is 2^(emin-M) with subnormals, 2^emin without.
  const int32_t m_below = k.subnormals ? M : 0;
  const uint32_t max_bits = k.max_bits, overflow_bits = k.overflow_bits;
  const uint32_t nan_bits = k.nan_bits, nan_sign = k.nan_sign, inf_ov = kMode == RoundMode::toward_zero ? k.inf_rtz_bits : overflow_bits;
  // Same computation as round_pack on the float's (sig, exponent), written with masks
  // instead of branches so the loop vectorises (x ? a : b on plain values only).
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = bits_of(in[i]);  // already divided by the scale
    const uint32_t a = b & 0x7FFFFFFFu;
    const int32_t ex = int32_t(a >> 23);
    const int32_t exn = ex | int32_t(ex == 0);  // float subnormals share exponent 1's scale
    const uint32_t sig = (a & 0x7FFFFFu) | (uint32_t(ex != 0) << 23);
    const bool below = exn < emin_f;
    const uint32_t below_mask = 0u - uint32_t(below);
    // s = number of significand bits below the format's quantum (>= 0).
    const int32_t s = (below ? emin_f - exn : 0) + 23 - (below ? m_below : M);
    const uint32_t kept = (sig >> (s & 31)) & (0u - uint32_t(s < 32));
    // Dropped bits as a 0.32 fraction: exact for s <= 32; for s > 32 the value is below
    // 2^-8 of a quantum and only its top 32 bits are kept (sub-2^-32 stochastic bias).
    const uint32_t frac = ((sig << ((32 - s) & 31)) & (0u - (uint32_t(s >= 1) & uint32_t(s <= 32)))) |
                          ((sig >> ((s - 32) & 31)) & (0u - (uint32_t(s > 32) & uint32_t(s < 64))));
    const uint32_t code_down = ((uint32_t(exn - 128 + bias) << M) & ~below_mask) + kept;
    uint32_t up;
    if constexpr (kMode == RoundMode::nearest_even)
      up = uint32_t(frac > 0x80000000u) | (uint32_t(frac == 0x80000000u) & code_down);
    else if constexpr (kMode == RoundMode::stochastic)
      up = uint32_t(rnd[i] < frac);
    else
      up = 0;
    const uint32_t kn = kept + (up & 1u);
    const int32_t qe = exn - 150 + s;  // exponent of the quantum
    const bool normal_q = qe >= -126;
    const uint32_t pow2 = normal_q ? uint32_t(qe + 127) << 23 : 1u << ((qe + 149) & 31);
    const uint32_t vb = bits_of(float(int32_t(kn)) * float_of(pow2));  // exact; 2^128 → inf
    const uint32_t ov = kMode == RoundMode::toward_zero ? max_bits : overflow_bits;
    uint32_t r = (b & 0x80000000u) | (vb > max_bits ? ov : vb);
    r = a == 0x7F800000u ? (b & 0x80000000u) | inf_ov : r;  // ±inf input
    r = a > 0x7F800000u ? (b & nan_sign) | nan_bits : r;    // NaN input
    out[i] = kScaled ? float_of(r) * scale : float_of(r);
  }
}

// RNE and RTZ for formats with subnormals and M >= 1, in a handful of operations.
// Normal range: the quantum sits at a fixed bit of the float, so rounding is one add and
// a mask on the raw bits (the carry walks into the exponent); RNE adds half-ulp-minus-one
// plus the kept LSB. Below the smallest normal the quantum q = 2^(emin-M) is fixed:
// RNE is the FPU's own (|x| + q·2^23) - q·2^23, RTZ truncates |x|/q (exact scaling).
template <RoundMode kMode, bool kScaled>
LPSIM_CLONES void float_block_fast(const FloatKernel& k, const float* in,
                                                                                float* out, size_t n, float scale) {
  static_assert(kMode != RoundMode::stochastic);
  const uint32_t s = uint32_t(23 - k.M);
  const uint32_t mask = (1u << s) - 1u;
  const uint32_t min_normal_bits = uint32_t(k.emin_f) << 23;
  const int qe = k.emin_f - 127 - k.M;  // >= -149
  const float q = std::ldexp(1.0f, qe), magic = std::ldexp(1.0f, qe + 23);
  // 1/q can exceed float's range (bf16: 2^133): scale by two exact halves instead.
  const float inv_q1 = std::ldexp(1.0f, -qe / 2), inv_q2 = std::ldexp(1.0f, -qe - (-qe / 2));
  const uint32_t max_bits = k.max_bits, overflow_bits = k.overflow_bits;
  const uint32_t nan_bits = k.nan_bits, nan_sign = k.nan_sign;
  const uint32_t inf_ov = kMode == RoundMode::toward_zero ? k.inf_rtz_bits : overflow_bits;
  const uint32_t ov = kMode == RoundMode::toward_zero ? max_bits : overflow_bits;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = bits_of(in[i]);
    const uint32_t a = b & 0x7FFFFFFFu;
    const float m = float_of(a);
    uint32_t v_normal, v_below;
    if constexpr (kMode == RoundMode::nearest_even) {
      v_normal = (a + (mask >> 1) + ((a >> s) & 1u)) & ~mask;
      v_below = bits_of((m + magic) - magic);
    } else {
      v_normal = a & ~mask;
      v_below = bits_of(float(int32_t(m * inv_q1 * inv_q2)) * q);
    }
    const uint32_t v = a < min_normal_bits ? v_below : v_normal;
    uint32_t r = (b & 0x80000000u) | (v > max_bits ? ov : v);
    r = a == 0x7F800000u ? (b & 0x80000000u) | inf_ov : r;
    r = a > 0x7F800000u ? (b & nan_sign) | nan_bits : r;
    out[i] = kScaled ? float_of(r) * scale : float_of(r);
  }
}

// Stochastic rounding in few operations. Normal range: adding ~r >> (32 - s) to the s
// dropped bits D carries iff (r >> (32 - s)) < D, i.e. iff r < D·2^(32-s) = frac·2^32:
// the rule of round_pack, as one add and a mask on the raw bits. Below the smallest
// normal the quantum q is fixed, so kept·q plus the same comparison on the variable
// number of dropped bits; a select picks the range.
template <bool kScaled, bool kBelow>
inline __attribute__((always_inline)) void stochastic_group(const FloatKernel& k, const float* in, float* out, const uint32_t* rnd,
                                         size_t n, float scale) {
  const uint32_t s = uint32_t(23 - k.M);
  const uint32_t mask = (1u << s) - 1u;
  const int32_t emin_f = k.emin_f;
  const uint32_t min_normal_bits = uint32_t(emin_f) << 23;
  const int32_t s_base = 23 - (k.subnormals ? k.M : 0);  // dropped bits at exponent emin_f
  const float q = std::ldexp(1.0f, emin_f - 150 + s_base);
  const uint32_t max_bits = k.max_bits, overflow_bits = k.overflow_bits;
  const uint32_t nan_bits = k.nan_bits, nan_sign = k.nan_sign;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = bits_of(in[i]);
    const uint32_t a = b & 0x7FFFFFFFu;
    const uint32_t v_normal = (a + (~rnd[i] >> (32 - s))) & ~mask;
    const int32_t ex = int32_t(a >> 23);
    const int32_t exn = ex | int32_t(ex == 0);
    const uint32_t sig = (a & 0x7FFFFFu) | (uint32_t(ex != 0) << 23);
    const int32_t sb = s_base + emin_f - exn;  // > 23 - M when below
    const uint32_t kept = (sig >> (sb & 31)) & (0u - uint32_t(sb < 32));
    const uint32_t frac = ((sig << ((32 - sb) & 31)) & (0u - (uint32_t(sb >= 1) & uint32_t(sb <= 32)))) |
                          ((sig >> ((sb - 32) & 31)) & (0u - (uint32_t(sb > 32) & uint32_t(sb < 64))));
    const uint32_t v_below = bits_of(float(int32_t(kept + uint32_t(rnd[i] < frac))) * q);
    const uint32_t v = kBelow && a < min_normal_bits ? v_below : v_normal;
    uint32_t r = (b & 0x80000000u) | (v > max_bits ? overflow_bits : v);
    r = a == 0x7F800000u ? (b & 0x80000000u) | overflow_bits : r;
    r = a > 0x7F800000u ? (b & nan_sign) | nan_bits : r;
    out[i] = kScaled ? float_of(r) * scale : float_of(r);
  }
}

// Most 64-element groups have nothing below the smallest normal: they skip that path.
template <bool kScaled>
LPSIM_CLONES void float_block_stochastic(const FloatKernel& k, const float* in, float* out, const uint32_t* rnd,
                                         size_t n, float scale) {
  const uint32_t min_normal_bits = uint32_t(k.emin_f) << 23;
  for (size_t o = 0; o < n; o += 64) {
    const size_t m = std::min<size_t>(64, n - o);
    uint32_t below = 0;
    for (size_t i = o; i < o + m; ++i) below |= uint32_t((bits_of(in[i]) & 0x7FFFFFFFu) < min_normal_bits);
    if (below)
      stochastic_group<kScaled, true>(k, in + o, out + o, rnd + o, m, scale);
    else
      stochastic_group<kScaled, false>(k, in + o, out + o, rnd + o, m, scale);
  }
}

template <RoundMode kMode, bool kScaled>
LPSIM_CLONES void int_block(double lo, double hi, const float* in, float* out, const uint32_t* rnd, size_t n,
                            float scale) {
  for (size_t i = 0; i < n; ++i) {
    const double y = kScaled ? in[i] / scale : in[i];  // float division, then exact widening
    double r;
    if constexpr (kMode == RoundMode::nearest_even) {
      r = std::nearbyint(y);
    } else if constexpr (kMode == RoundMode::toward_zero) {
      r = std::trunc(y);
    } else {
      const double fl = std::floor(y);
      r = fl + (double(rnd[i]) < (y - fl) * 0x1p32 ? 1.0 : 0.0);
    }
    r = r < lo ? lo : r;
    r = r > hi ? hi : r;
    r = y == y ? r + 0.0 : 0.0;  // NaN → 0 (int_encode flags it invalid); + 0.0: no -0
    out[i] = kScaled ? float(r) * scale : float(r);
  }
}

}  // namespace

namespace {

void check_sizes(size_t in, size_t out, const QuantizeOptions& opt) {
  LPSIM_CHECK(in == out);
  if (!(opt.scale > 0.0f) || !std::isfinite(opt.scale))
    throw InputError("scale must be a positive finite number, got " + std::to_string(opt.scale), {}, "scale");
  if (opt.threads < 1) throw InputError("threads must be >= 1", {}, "threads");
}


// Calls f.template operator()<mode, scaled>() with both as compile-time constants.
template <typename F>
void dispatch(RoundMode mode, bool scaled, F&& f) {
  auto with_mode = [&]<bool kScaled>() {
    switch (mode) {
      case RoundMode::nearest_even: f.template operator()<RoundMode::nearest_even, kScaled>(); break;
      case RoundMode::toward_zero: f.template operator()<RoundMode::toward_zero, kScaled>(); break;
      case RoundMode::stochastic: f.template operator()<RoundMode::stochastic, kScaled>(); break;
    }
  };
  scaled ? with_mode.template operator()<true>() : with_mode.template operator()<false>();
}

// Fast path for IntFormat (<= 24 bits, saturating) and float-representable ExMy formats:
// per block, random words first, then the branch-free kernel (which also maps NaN/inf
// inputs exactly as encode() does).
void blocked_quantize(const NumberFormat& fmt, std::span<const float> in, std::span<float> out,
                      const QuantizeOptions& opt) {
  const RandomStream rng(opt.seed, opt.stream);
  const auto* ifmt = std::get_if<IntFormat>(&fmt);
  const FloatFormat* ffmt = std::get_if<FloatFormat>(&fmt);
  std::optional<FloatKernel> k;
  if (ffmt) k.emplace(*ffmt, opt.rounding, opt.overflow);
  const double lo = ifmt ? double(ifmt->min_value()) : 0, hi = ifmt ? double(ifmt->max_value()) : 0;
  parallel_chunks(in.size(), opt.chunk, opt.threads, [&](size_t begin, size_t end) {
    alignas(64) uint32_t words[kRandomWords];
    const uint32_t* rnd = words;
    for (size_t b = begin; b < end; b += kBlock) {
      const size_t n = std::min(kBlock, end - b);
      const float* x = in.data() + b;
      float* y = out.data() + b;
      if (opt.rounding == RoundMode::stochastic) rnd = fill_random(rng, opt.index_offset + b, n, words);
      const bool scaled = opt.scale != 1.0f;
      if (ifmt) {
        dispatch(opt.rounding, scaled, [&]<RoundMode kMode, bool kScaled>() {
          int_block<kMode, kScaled>(lo, hi, x, y, rnd, n, opt.scale);
        });
        continue;
      }
      const float* src = x;
      if (scaled) {  // divide once into the output block, then round it in place
        // The scale in a local: a store to y could otherwise alias opt.scale (a float),
        // which kept the division from vectorising.
        const float scale = opt.scale;
        for (size_t i = 0; i < n; ++i) y[i] = x[i] / scale;
        src = y;
      }
      if (k->M == 0 && opt.rounding != RoundMode::stochastic) {
        // M = 0: ties go by exponent parity, which only float_block handles.
        dispatch(opt.rounding, scaled, [&]<RoundMode kMode, bool kScaled>() {
          float_block<kMode, kScaled>(*k, src, y, rnd, n, opt.scale);
        });
        continue;
      }
      dispatch(opt.rounding, scaled, [&]<RoundMode kMode, bool kScaled>() {
        if constexpr (kMode != RoundMode::stochastic) {
          if (k->subnormals) return float_block_fast<kMode, kScaled>(*k, src, y, n, opt.scale);
        } else {
          return float_block_stochastic<kScaled>(*k, src, y, rnd, n, opt.scale);
        }
          float_block<kMode, kScaled>(*k, src, y, rnd, n, opt.scale);
      });
    }
  });
}
}  // namespace

namespace detail {
void philox_words(const RandomStream& rng, uint64_t first, size_t n, uint32_t* out, int isa) {
  LPSIM_CHECK(n <= kBlock);
  alignas(64) uint32_t words[kRandomWords];
  const uint32_t* w = fill_random(rng, first, n, words, isa);
  std::copy(w, w + n, out);
}
}  // namespace detail

void parallel_chunks(size_t n, size_t chunk, int threads, const std::function<void(size_t, size_t)>& body) {
  if (chunk == 0) chunk = 1;
  const size_t n_chunks = (n + chunk - 1) / chunk;
  if (threads <= 1 || n_chunks <= 1) {
    for (size_t c = 0; c < n_chunks; ++c) body(c * chunk, std::min(n, (c + 1) * chunk));
    return;
  }
  // An exception may not leave an OpenMP region (or a thread): the first one thrown by
  // body is kept, the remaining chunks are skipped, and it is rethrown here.
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  const auto run = [&](size_t c) {
    if (failed.load(std::memory_order_relaxed)) return;
    try {
      body(c * chunk, std::min(n, (c + 1) * chunk));
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
#ifdef _OPENMP
  // OpenMP, not threads of our own: LibTorch runs its kernels on the same (GNU) OpenMP
  // pool, whose workers spin for a while after each parallel region; threads started here
  // would compete with them for the cores (measured: the LUQ quantiser's wall time was 9×
  // its work inside a training step).
  const int team = int(std::min<size_t>(size_t(threads), n_chunks));
  const int64_t count = int64_t(n_chunks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (int64_t c = 0; c < count; ++c) run(size_t(c));
#else
  // A compiler without OpenMP (arith needs none): threads of our own, the same chunks.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t c; (c = next.fetch_add(1)) < n_chunks;) run(c);
  };
  {
    std::vector<std::jthread> pool;
    for (int t = 1; t < threads && size_t(t) < n_chunks; ++t) pool.emplace_back(worker);
    worker();
  }
#endif
  if (error) std::rethrow_exception(error);
}

namespace {

void check_lns(const LnsFormat& f, const QuantizeOptions& opt) {
  if (opt.overflow == Overflow::wrap) throw InputError("wrap overflow applies to integer formats only", {}, f.name());
}

}  // namespace

void quantize(const NumberFormat& fmt, std::span<const float> in, std::span<float> out, const QuantizeOptions& opt) {
  check_sizes(in.size(), out.size(), opt);
  const float scale = opt.scale;
  const bool scaled = scale != 1.0f;
  if (const auto* lfmt = std::get_if<LnsFormat>(&fmt)) {
    // The value 2^(e/γ) rounded to float32 (not exact for b > 0; distinct codes stay distinct).
    check_lns(*lfmt, opt);
    run_chunks(in.size(), opt, [&](size_t i, uint32_t r) {
      const float y = scaled ? in[i] / scale : in[i];
      const float q = std::isnan(y) ? 0.0f : float(lns_decode(*lfmt, lns_encode(*lfmt, y, opt.rounding, r)));
      out[i] = scaled ? q * scale : q;
    });
    return;
  }
  const auto* ifmt = std::get_if<IntFormat>(&fmt);
  if (ifmt && (opt.overflow == Overflow::wrap || ifmt->bits > 24)) {
    // Wrap-around and > 24-bit integers take the reference conversion element by element.
    run_chunks(in.size(), opt, [&](size_t i, uint32_t r) {
      const float y = scaled ? in[i] / scale : in[i];
      const float q = float(int_encode(*ifmt, y, opt.rounding, opt.overflow, r).value);
      out[i] = scaled ? q * scale : q;
    });
    return;
  }
  if (ifmt) {
    blocked_quantize(fmt, in, out, opt);
    return;
  }
  const FloatFormat& ffmt = std::get<FloatFormat>(fmt);
  if (opt.overflow == Overflow::wrap) throw InputError("wrap overflow applies to integer formats only", {}, ffmt.name);
  if (!FloatKernel::usable(ffmt)) {
    run_chunks(in.size(), opt, [&](size_t i, uint32_t r) {
      const float y = scaled ? in[i] / scale : in[i];
      const float q = float(ffmt.decode(encode(ffmt, y, opt.rounding, opt.overflow, r).code));
      out[i] = scaled ? q * scale : q;
    });
    return;
  }
  blocked_quantize(fmt, in, out, opt);
}

void quantize_codes(const NumberFormat& fmt, std::span<const float> in, std::span<uint32_t> codes,
                    const QuantizeOptions& opt) {
  check_sizes(in.size(), codes.size(), opt);
  if (const auto* lfmt = std::get_if<LnsFormat>(&fmt)) {
    check_lns(*lfmt, opt);
    run_chunks(in.size(), opt, [&](size_t i, uint32_t r) {
      const float y = in[i] / opt.scale;
      codes[i] = std::isnan(y) ? lns_zero(*lfmt) : lns_encode(*lfmt, y, opt.rounding, r);  // NaN: zero, as integers
    });
    return;
  }
  if (const auto* ifmt = std::get_if<IntFormat>(&fmt)) {  // integers wider than float's 24 bits
    run_chunks(in.size(), opt, [&](size_t i, uint32_t r) {
      codes[i] = ifmt->to_code(int_encode(*ifmt, in[i] / opt.scale, opt.rounding, opt.overflow, r).value);
    });
    return;
  }
  // Round once on the unscaled grid, then read the code off the exact grid value.
  std::vector<float> y(in.size());
  for (size_t i = 0; i < in.size(); ++i) y[i] = in[i] / opt.scale;
  QuantizeOptions unit = opt;
  unit.scale = 1.0f;
  quantize(fmt, y, y, unit);
  const FloatFormat& ffmt = std::get<FloatFormat>(fmt);
  for (size_t i = 0; i < in.size(); ++i)
    codes[i] = encode(ffmt, y[i], RoundMode::nearest_even, Overflow::to_special).code;
}

uint32_t lns_encode(const LnsFormat& f, double y, RoundMode mode, uint32_t r) {
  switch (mode) {
    case RoundMode::nearest_even: return lns_quantize_nearest(f, y);
    case RoundMode::stochastic: return lns_quantize_stochastic(f, y, std::ldexp(double(r), -32));
    case RoundMode::toward_zero: break;
  }
  return lns_quantize_stochastic(f, y, 1.0);  // u = 1: never up
}

void random_words(const RandomStream& rng, uint64_t first, size_t n, uint32_t* out) {
  detail::philox_words(rng, first, n, out, 2);  // the best path the CPU has
}

}  // namespace lpsim::arith
