// Synthesis of an rtl/ unit to generic gates with Yosys, cached. The netlist of
// (module, parameters, content of the unit's own source files) is synthesised once:
//   synth -flatten; abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; dfflegalize to
//   $_DFF_P_ (async resets become synchronous logic); write_json.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lpsim::power {

struct SynthRequest {
  std::string top;                            // module name in rtl/
  std::map<std::string, std::string> params;  // Verilog parameters
  std::filesystem::path rtl_dir;              // folder holding the *.sv sources
  std::filesystem::path cache_dir;            // where netlists are kept
  // Non-empty: exactly these files (a user's unit and its generated wrapper,
  // rtl/user_unit_spec.h) instead of top's hierarchy under rtl_dir.
  std::vector<std::filesystem::path> sources = {};
};

// Path of the JSON netlist, synthesising it if the cache has none. InputError if
// yosys is not installed or synthesis fails (with the tail of its log).
std::filesystem::path synthesize(const SynthRequest& request);

// The unit's source files: top.sv and, transitively, the file of every module whose name
// appears as an identifier outside comments (one module per file, named as the file),
// sorted. InputError if top.sv is missing.
std::vector<std::filesystem::path> unit_sources(const std::filesystem::path& rtl_dir, const std::string& top);

// The files of the modules the roots instantiate, transitively: a module M is the file
// M.sv or M.v in one of `dirs` (one module per file, named as it), found as an identifier
// outside comments (so also in generate branches a parameter leaves out, which Yosys still
// reads). The roots themselves are not in the result; sorted.
std::vector<std::filesystem::path> referenced_module_files(const std::vector<std::filesystem::path>& roots,
                                                          const std::vector<std::filesystem::path>& dirs);

}  // namespace lpsim::power
