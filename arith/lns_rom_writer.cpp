// lpsim_lns_rom_writer <rtl dir>: writes the LNS units' ROMs (rtl/lns_pow2_rom.sv,
// rtl/lns_gauss_rom.sv) from arith's table routine (arith/lns_rom.h). --check compares
// instead and exits 1 naming the stale file.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "arith/atomic_file.h"
#include "arith/lns_rom.h"

int main(int argc, char** argv) {
  const bool check = argc == 3 && std::strcmp(argv[1], "--check") == 0;
  if (argc != 2 && !check) {
    std::fprintf(stderr, "usage: lpsim_lns_rom_writer [--check] <rtl dir>\n");
    return 2;
  }
  const std::filesystem::path dir = argv[argc - 1];
  int rc = 0;
  for (const auto& [name, text] : {std::pair{"lns_pow2_rom.sv", lpsim::arith::lns_pow2_rom_sv()},
                                   std::pair{"lns_gauss_rom.sv", lpsim::arith::lns_gauss_rom_sv()}}) {
    const std::filesystem::path p = dir / name;
    if (check) {
      if (lpsim::read_whole_file(p) != text) {
        std::fprintf(stderr, "%s is not what arith/lns_rom.h writes: run lpsim_lns_rom_writer %s\n", p.c_str(),
                     dir.c_str());
        rc = 1;
      }
    } else {
      lpsim::atomic_write_file(p, text);
      std::printf("wrote %s (%zu bytes)\n", p.c_str(), text.size());
    }
  }
  return rc;
}
