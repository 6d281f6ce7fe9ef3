// Philox4x32-10 counter-based generator (Salmon et al., SC'11 "Parallel random numbers:
// as easy as 1, 2, 3"). Random bits are a pure function of (seed, stream, index), so a
// stochastic operation gives bit-identical results for any thread count or chunking.
#pragma once

#include <array>
#include <cstdint>

namespace lpsim::arith {

struct Philox4x32 {
  static constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  static constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

  // Ten rounds over the 128-bit counter with a 64-bit key.
  static inline std::array<uint32_t, 4> block(std::array<uint32_t, 4> ctr, uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = uint64_t{kMul0} * ctr[0];
      const uint64_t p1 = uint64_t{kMul1} * ctr[2];
      ctr = {uint32_t(p1 >> 32) ^ ctr[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ ctr[3] ^ k1, uint32_t(p0)};
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    return ctr;
  }
};

// The random stream of one stochastic operation: `seed` is the user's seed, `stream`
// separates independent uses under one seed (e.g. layer id, draw number). Element i
// takes word i%4 of block i/4, so 32 bits per element, independent of partitioning.
class RandomStream {
 public:
  RandomStream(uint64_t seed, uint32_t stream = 0) : m_k0(uint32_t(seed)), m_k1(uint32_t(seed >> 32)), m_stream(stream) {}

  // Four consecutive 32-bit words for elements 4*block_index .. 4*block_index+3.
  std::array<uint32_t, 4> block(uint64_t block_index) const { return Philox4x32::block(counter(block_index), m_k0, m_k1); }
  // The Philox counter and key behind block(); exposed for vectorised evaluation.
  std::array<uint32_t, 4> counter(uint64_t block_index) const {
    return {uint32_t(block_index), uint32_t(block_index >> 32), m_stream, 0x6C707369u /* "lpsi" */};
  }
  uint32_t key0() const { return m_k0; }
  uint32_t key1() const { return m_k1; }
  uint32_t bits(uint64_t index) const { return block(index >> 2)[index & 3]; }
  // Uniform in [0, 1) with 32-bit resolution.
  double uniform(uint64_t index) const { return bits(index) * 0x1p-32; }

 private:
  uint32_t m_k0, m_k1, m_stream;
};

}  // namespace lpsim::arith
