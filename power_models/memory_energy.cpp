#include "power_models/memory_energy.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "arith/error.h"
#include "power_models/resources.h"

namespace lpsim::power {

namespace {

double field(const std::string& s, const std::string& where, const char* column) {
  if (s.empty()) return NAN;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || !std::isfinite(v) || v < 0)
    throw InputError(std::string("column ") + column + ": '" + s + "' is not a non-negative number", where);
  return v;
}

std::string kib(double bytes) {
  std::ostringstream o;
  if (bytes >= 1 << 20 && std::fmod(bytes, 1 << 20) == 0)
    o << bytes / (1 << 20) << " MB";
  else
    o << bytes / 1024 << " KB";
  return o.str();
}

}  // namespace

MemoryTable load_memory_table(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw InputError("cannot open the memory-energy table", csv.string());
  MemoryTable t{csv, {}};
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (n == 1 || line.empty()) continue;  // header
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    if (!line.empty() && line.back() == ',') f.push_back("");
    const std::string where = csv.string() + ":" + std::to_string(n);
    if (f.size() != 9)
      throw InputError("expected 9 comma-separated fields (kind,size_bytes,port_bits,read_pj,write_pj,access_ns,"
                       "area_mm2,leakage_mw,source), got " + std::to_string(f.size()), where);
    MemoryRow r;
    r.kind = f[0];
    r.size_bytes = field(f[1], where, "size_bytes");
    r.port_bits = field(f[2], where, "port_bits");
    r.read_pj = field(f[3], where, "read_pj");
    r.write_pj = field(f[4], where, "write_pj");
    r.leakage_mw = field(f[7], where, "leakage_mw");
    r.source = f[8];
    if (r.kind.empty() || r.source.empty()) throw InputError("kind and source must not be empty", where);
    t.rows.push_back(r);
  }
  return t;
}

std::filesystem::path default_memory_table_path() { return data_dir() / "memory_45nm.csv"; }

SramEnergy sram_energy(const MemoryTable& table, uint64_t size_bytes, int port_bits, const std::string& source) {
  if (size_bytes == 0) throw InputError("an SRAM buffer needs a size above 0 bytes");
  if (port_bits <= 0) throw InputError("an SRAM port needs a width above 0 bits");
  std::vector<const MemoryRow*> rows;
  std::set<std::string> usable;
  std::map<std::string, int> count;
  for (const MemoryRow& r : table.rows)
    if (r.kind == "sram" && std::isfinite(r.size_bytes) && std::isfinite(r.read_pj) && r.port_bits == 64) {
      if (++count[r.source] >= 2) usable.insert(r.source);
      if (r.source == source) rows.push_back(&r);
    }
  if (rows.size() < 2) {
    std::string known;
    for (const std::string& s : usable) known += (known.empty() ? "" : ", ") + s;
    throw InputError("SRAM energy source '" + source + "' has fewer than two 64-bit SRAM sizes with a read energy in " +
                     table.file.string() + " (usable: " + known + ")");
  }
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->size_bytes < b->size_bytes; });
  const double x = std::log(double(size_bytes));
  size_t i = 1;  // segment [i-1, i]
  while (i + 1 < rows.size() && rows[i]->size_bytes < double(size_bytes)) ++i;
  const MemoryRow& lo = *rows[i - 1];
  const MemoryRow& hi = *rows[i];
  const double t = (x - std::log(lo.size_bytes)) / (std::log(hi.size_bytes) - std::log(lo.size_bytes));
  const double words = std::ceil(double(port_bits) / 64.0);
  SramEnergy e;
  e.read_pj = (lo.read_pj + t * (hi.read_pj - lo.read_pj)) * words;
  // A source that gives one energy per access (Horowitz, CACTI hp rows here) prices a
  // write as a read.
  const bool reads_only = !std::isfinite(lo.write_pj) || !std::isfinite(hi.write_pj);
  e.write_pj = reads_only ? e.read_pj : (lo.write_pj + t * (hi.write_pj - lo.write_pj)) * words;
  e.leakage_mw = std::isfinite(lo.leakage_mw) && std::isfinite(hi.leakage_mw)
                     ? lo.leakage_mw + t * (hi.leakage_mw - lo.leakage_mw)
                     : NAN;
  e.extrapolated = double(size_bytes) < rows.front()->size_bytes || double(size_bytes) > rows.back()->size_bytes;
  if (e.read_pj < 0 || e.write_pj < 0)
    throw InputError("SRAM of " + std::to_string(size_bytes) + " bytes is too far below the table's smallest size (" +
                     kib(rows.front()->size_bytes) + ") to extrapolate");
  if (lo.size_bytes == double(size_bytes) || hi.size_bytes == double(size_bytes))
    e.citation = source + " " + kib(double(size_bytes)) + " row";
  else
    e.citation = source + " " + kib(lo.size_bytes) + "–" + kib(hi.size_bytes) + " rows, " +
                 (e.extrapolated ? "extrapolated" : "interpolated") + " in log(size)";
  if (reads_only) e.citation += " (one energy per access: writes priced as reads)";
  if (words > 1) e.citation += ", ×" + std::to_string(int(words)) + " 64-bit words per access";
  return e;
}

}  // namespace lpsim::power
