// Run-time data of lpsim: the RTL sources (rtl/*.sv, synthesised by Yosys on demand) and
// the cell-library / wire-load tables (power_models/data/*.csv). Found, in order, under
//   $LPSIM_DATA_DIR                    (override; must hold rtl/ and data/)
//   <dir of the executable>/../share/lpsim   (an installed lpsim: cmake --install)
//   the source tree the binary was built from (build-tree use)
// A missing resource directory is an InputError naming every path tried.
#pragma once

#include <filesystem>
#include <string>

namespace lpsim::power {

struct ResourceDirs {
  std::filesystem::path rtl;   // *.sv
  std::filesystem::path data;  // nangate45_typ_cells.csv, nangate45_wire_load.csv
  std::string found_by;        // "LPSIM_DATA_DIR", "installed" or "source tree"
};

// Resolved once per process (the environment is read on the first call).
const ResourceDirs& resource_dirs();
inline std::filesystem::path rtl_dir() { return resource_dirs().rtl; }
inline std::filesystem::path data_dir() { return resource_dirs().data; }

// The search itself, for tests: env is $LPSIM_DATA_DIR (nullptr: unset), exe the running
// binary, source_dir the baked-in source tree (empty: none).
ResourceDirs find_resource_dirs(const char* env, const std::filesystem::path& exe,
                                const std::filesystem::path& source_dir);

}  // namespace lpsim::power
