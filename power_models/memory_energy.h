// Energy per access of an on-chip SRAM buffer, from the 45 nm memory table shipped in
// power_models/data/memory_45nm.csv (CACTI 7 and Horowitz rows, with their sources):
// linear in log(size) between the two nearest sizes of one source, the end segment
// extrapolated outside the table (flagged), a port wider than 64 bits priced as that
// many 64-bit accesses (the table's rows are 64-bit ports).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lpsim::power {

struct MemoryRow {
  std::string kind;  // sram, dram_lpddr4, ...
  double size_bytes = 0, port_bits = 0;
  double read_pj = 0, write_pj = 0;  // per access of port_bits; NaN where the table has none
  double leakage_mw = 0;             // NaN where the table has none
  std::string source;                // e.g. cacti7-itrs-lstp
};

struct MemoryTable {
  std::filesystem::path file;
  std::vector<MemoryRow> rows;
};

// InputError naming file:line on a malformed row.
MemoryTable load_memory_table(const std::filesystem::path& csv);
std::filesystem::path default_memory_table_path();  // data_dir()/memory_45nm.csv
inline const char* kDefaultSramSource = "cacti7-itrs-lstp";

struct SramEnergy {
  double read_pj = 0, write_pj = 0;  // per access of the requested port width
  double leakage_mw = 0;             // NaN: the source gives none (CACTI lstp rows)
  bool extrapolated = false;         // the size is outside the source's rows
  std::string citation;              // which rows, e.g. "cacti7-itrs-lstp 8 KB–32 KB, log-size interpolation"
};

// InputError for a size or port of zero, or a source with fewer than two SRAM rows
// carrying a read energy (listing the sources that have them). A source without write
// energies prices a write as a read (and says so in the citation).
SramEnergy sram_energy(const MemoryTable& table, uint64_t size_bytes, int port_bits,
                       const std::string& source = kDefaultSramSource);

}  // namespace lpsim::power
