// Every Verilated RTL instance against its arith golden model, bit for bit: exhaustive
// for operands of <= 8 bits, seeded random vectors plus corners for wider ones and for
// sequential units: 10^6 per unit (LPSIM_TEST_LEVEL=0 lowers it to 10^4 for quick runs).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "arith/atomic_file.h"
#include "arith/lns_rom.h"
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
  if (!r.notes.empty()) RecordProperty("reached", r.notes);
  if (u.top.rfind("lns_", 0) == 0 && u.exhaustive) {
    // Every pair of operand codes, besides the random cycles.
    int e = 0;
    std::sscanf(u.params.c_str(), "ExpBits=%d", &e);
    EXPECT_GE(r.vectors, (uint64_t{1} << (2 * (e + 1))) + opt.random_vectors);
  }
  if (u.top == "mul_array" || u.top == "mul_booth") {
    // Exhaustive means every (a, b) pair: 2^(WidthA+WidthB) vectors.
    int wa = 0, wb = 0;
    std::sscanf(u.params.c_str(), "WidthA=%d WidthB=%d", &wa, &wb);
    if (u.exhaustive) {
      EXPECT_EQ(r.vectors, uint64_t{1} << (wa + wb));
    }
  }
}

// The LNS units' ROMs in rtl/ are what arith's table routine writes today (the tables of
// the golden models): a change there must be written out with lpsim_lns_rom_writer.
TEST(LnsRoms, CheckedInRomsAreArithsTables) {
  const std::filesystem::path rtl = std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl";
  EXPECT_TRUE(lpsim::read_whole_file(rtl / "lns_pow2_rom.sv") == lpsim::arith::lns_pow2_rom_sv())
      << "rtl/lns_pow2_rom.sv is stale: run lpsim_lns_rom_writer " << rtl;
  EXPECT_TRUE(lpsim::read_whole_file(rtl / "lns_gauss_rom.sv") == lpsim::arith::lns_gauss_rom_sv())
      << "rtl/lns_gauss_rom.sv is stale: run lpsim_lns_rom_writer " << rtl;
}

INSTANTIATE_TEST_SUITE_P(Rtl, RtlUnitTest, ::testing::ValuesIn(rtl_units()),
                         [](const auto& info) { return info.param.name; });

}  // namespace

namespace lpsim::rtl {
void PrintTo(const RtlUnit& u, std::ostream* os) { *os << u.name; }
}  // namespace lpsim::rtl
