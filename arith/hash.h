// FNV-1a, 64 bit: a stable content hash for cache keys (netlists, trained models). Not
// cryptographic; the constants are the published FNV offset basis and prime.
#pragma once

#include <cstdint>
#include <string_view>

namespace lpsim {

inline uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace lpsim
