// SRAM energy per access from the 45 nm memory table (power_models/memory_energy.h):
// the table's own rows returned exactly, log-size interpolation checked against the
// closed form on the shipped CACTI rows, port scaling, and errors naming file:line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "arith/error.h"
#include "power_models/memory_energy.h"

using namespace lpsim::power;

namespace {

std::filesystem::path shipped() { return std::filesystem::path(LPSIM_SOURCE_DIR) / "power_models/data/memory_45nm.csv"; }

std::filesystem::path write_tmp(const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("lpsim_mem_" + std::to_string(getpid()) + ".csv");
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST(MemoryEnergy, TableRowsAreReturnedExactly) {
  const MemoryTable t = load_memory_table(shipped());
  // CACTI 7, itrs-lstp, 45 nm, 64-bit port: 8 KB 6.1/7.9 pJ, 64 KB 25.9/19.6 pJ (data README).
  const SramEnergy a = sram_energy(t, 8192, 64);
  EXPECT_DOUBLE_EQ(a.read_pj, 6.1);
  EXPECT_DOUBLE_EQ(a.write_pj, 7.9);
  EXPECT_FALSE(a.extrapolated);
  EXPECT_TRUE(std::isnan(a.leakage_mw));  // lstp rows carry no leakage
  const SramEnergy b = sram_energy(t, 65536, 64);
  EXPECT_DOUBLE_EQ(b.read_pj, 25.9);
  EXPECT_DOUBLE_EQ(b.write_pj, 19.6);
  EXPECT_NE(b.citation.find("cacti7-itrs-lstp 64 KB"), std::string::npos) << b.citation;
}

TEST(MemoryEnergy, InterpolatesLinearlyInLogSize) {
  const MemoryTable t = load_memory_table(shipped());
  // 16 KB lies halfway between 8 KB and 32 KB in log(size).
  const SramEnergy e = sram_energy(t, 16384, 64);
  EXPECT_NEAR(e.read_pj, (6.1 + 17.0) / 2, 1e-12);
  EXPECT_NEAR(e.write_pj, (7.9 + 15.4) / 2, 1e-12);
  // 128 KB: halfway from 64 KB to 256 KB in log(size).
  const SramEnergy f = sram_energy(t, 131072, 64);
  EXPECT_NEAR(f.read_pj, (25.9 + 44.7) / 2, 1e-12);
  EXPECT_NE(f.citation.find("interpolated"), std::string::npos) << f.citation;
  // Monotone in size over the whole table range.
  double last = 0;
  for (uint64_t s = 8192; s <= (1u << 20); s += 4096) {
    const double r = sram_energy(t, s, 64).read_pj;
    EXPECT_GE(r, last) << s;
    last = r;
  }
}

TEST(MemoryEnergy, WidePortsCostMoreWordsAndOutsideTheTableIsFlagged) {
  const MemoryTable t = load_memory_table(shipped());
  EXPECT_NEAR(sram_energy(t, 32768, 128).read_pj, 2 * 17.0, 1e-12);
  EXPECT_NEAR(sram_energy(t, 32768, 65).write_pj, 2 * 15.4, 1e-12);
  EXPECT_NEAR(sram_energy(t, 32768, 8).read_pj, 17.0, 1e-12);  // one 64-bit access
  const SramEnergy big = sram_energy(t, 4u << 20, 64);
  EXPECT_TRUE(big.extrapolated);
  EXPECT_GT(big.read_pj, 93.5);
  EXPECT_NE(big.citation.find("extrapolated"), std::string::npos);
  // The hp rows carry leakage: interpolated too.
  const SramEnergy hp = sram_energy(t, 8192, 64, "cacti7-itrs-hp");
  EXPECT_DOUBLE_EQ(hp.leakage_mw, 4.6);
  EXPECT_DOUBLE_EQ(hp.write_pj, hp.read_pj);  // the hp rows give one energy per access
  EXPECT_NE(hp.citation.find("writes priced as reads"), std::string::npos) << hp.citation;
}

TEST(MemoryEnergy, BadInputIsNamed) {
  const MemoryTable t = load_memory_table(shipped());
  EXPECT_THROW(sram_energy(t, 0, 64), lpsim::InputError);
  EXPECT_THROW(sram_energy(t, 8192, 0), lpsim::InputError);
  try {
    sram_energy(t, 8192, 64, "nosuch");
    FAIL();
  } catch (const lpsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cacti7-itrs-lstp"), std::string::npos) << e.what();
  }
  const auto p = write_tmp("kind,size_bytes,port_bits,read_pj,write_pj,access_ns,area_mm2,leakage_mw,source\n"
                           "sram,8192,64,6.1,7.9,1.06,0.026,,x\nsram,abc,64,1,1,,,,x\n");
  try {
    load_memory_table(p);
    FAIL();
  } catch (const lpsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("size_bytes"), std::string::npos) << e.what();
  }
  std::filesystem::remove(p);
}
