#include "power_models/resources.h"

#include <cstdlib>
#include <system_error>

#include "arith/error.h"

namespace lpsim::power {
namespace {

namespace fs = std::filesystem;

// A usable pair: one RTL source and the cell table present.
bool usable(const fs::path& rtl, const fs::path& data) {
  std::error_code ec;
  return fs::is_regular_file(rtl / "mac.sv", ec) && fs::is_regular_file(data / "nangate45_typ_cells.csv", ec);
}

}  // namespace

ResourceDirs find_resource_dirs(const char* env, const fs::path& exe, const fs::path& source_dir) {
  if (env && *env) {
    const fs::path root(env);
    if (usable(root / "rtl", root / "data")) return {root / "rtl", root / "data", "LPSIM_DATA_DIR"};
    // An explicit override that does not work is an error, not a silent fallback.
    throw InputError("LPSIM_DATA_DIR does not hold lpsim's run-time data (expected " + (root / "rtl").string() +
                         "/*.sv and " + (root / "data").string() + "/nangate45_typ_cells.csv)",
                     root.string());
  }
  std::string tried;
  if (!exe.empty()) {
    const fs::path share = exe.parent_path().parent_path() / "share" / "lpsim";
    if (usable(share / "rtl", share / "data")) return {share / "rtl", share / "data", "installed"};
    tried += share.string();
  }
  if (!source_dir.empty()) {
    if (usable(source_dir / "rtl", source_dir / "power_models" / "data"))
      return {source_dir / "rtl", source_dir / "power_models" / "data", "source tree"};
    tried += (tried.empty() ? "" : ", ") + source_dir.string();
  }
  throw InputError("lpsim's run-time data (rtl/*.sv, cell-library CSVs) not found; tried " +
                   (tried.empty() ? std::string("nothing") : tried) +
                   " (install with cmake --install, or set LPSIM_DATA_DIR to a folder holding rtl/ and data/)");
}

const ResourceDirs& resource_dirs() {
  static const ResourceDirs dirs = [] {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) exe.clear();
    return find_resource_dirs(std::getenv("LPSIM_DATA_DIR"), exe, LPSIM_SOURCE_DIR);
  }();
  return dirs;
}

}  // namespace lpsim::power
