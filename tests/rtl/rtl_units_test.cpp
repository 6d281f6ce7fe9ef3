// Every Verilated RTL instance against its arith golden model, bit for bit: exhaustive
// for operands of <= 8 bits, seeded random vectors plus corners for wider ones and for
// sequential units: 10^6 per unit (LPSIM_TEST_LEVEL=0 lowers it to 10^4 for quick runs).
#include <gtest/gtest.h>

#include <cstdlib>

#include "rtl/units.h"

using namespace lpsim::rtl;

namespace {

uint64_t random_vectors() {
  const char* level = std::getenv("LPSIM_TEST_LEVEL");
  return level && std::atoi(level) == 0 ? 10000 : 1000000;
}

class RtlUnitTest : public ::testing::TestWithParam<RtlUnit> {};

TEST_P(RtlUnitTest, MatchesGoldenModelBitForBit) {
  const RtlUnit& u = GetParam();
  CheckOptions opt;
  opt.random_vectors = random_vectors();
  opt.seed = 1;
  const CheckResult r = u.check(opt);
  EXPECT_EQ(r.mismatches, 0u) << u.name << " (" << u.params << ") seed " << opt.seed << ": " << r.first_failure;
  EXPECT_GT(r.vectors, 0u);
  if (u.top == "mul_array" || u.top == "mul_booth") {
    // Exhaustive means every (a, b) pair: 2^(WidthA+WidthB) vectors.
    int wa = 0, wb = 0;
    std::sscanf(u.params.c_str(), "WidthA=%d WidthB=%d", &wa, &wb);
    if (u.exhaustive) {
      EXPECT_EQ(r.vectors, uint64_t{1} << (wa + wb));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, RtlUnitTest, ::testing::ValuesIn(rtl_units()),
                         [](const auto& info) { return info.param.name; });

}  // namespace

namespace lpsim::rtl {
void PrintTo(const RtlUnit& u, std::ostream* os) { *os << u.name; }
}  // namespace lpsim::rtl
