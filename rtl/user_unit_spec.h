// A hardware designer's own unit (`lpsim verify-rtl --rtl FILE.sv --top M --kind K`,
// `lpsim energy --rtl ...`): which of lpsim's kinds it claims to be, at which widths or
// format, and which of its ports plays which role. lpsim wraps it in a generated module
// with the port names of its own units (wrapper_verilog), so that the same checks
// (rtl/harness.h) and the same Yosys flow and gate-level pricing (power_models/) serve it
// as they serve rtl/. Light: no Verilator runtime, no Yosys, only the `verilator` program
// for reading the ports.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "arith/float_format.h"

namespace lpsim::rtl {

struct UserUnitSpec {
  std::vector<std::filesystem::path> rtl;  // the user's Verilog/SystemVerilog files
  std::string top;                         // the module to check
  std::string kind;                        // user_unit_kinds()
  int a_bits = -1, b_bits = -1, acc_bits = 32;  // -1: the kind's default (user_unit_kind())
  bool is_signed = true;
  std::string format = "fp16";      // fp_add, fp_mul_rne: fp16 | bf16 | fp32 | eXmY; fp8_mac: fp8_e4m3 | fp8_e5m2 | fp16 ...
  std::string overflow = "wrap";    // acc, mac: wrap | saturate
  std::map<std::string, std::string> params;               // Verilog parameters of top
  std::vector<std::pair<std::string, std::string>> ports;  // role -> the user's port ("unused" -> an output left open)
  int latency = -1;                 // -1: the kind's own (0 combinational, 1 accumulating)
  std::string reset = "async";      // async | sync: how the reset port (if any) acts
  std::string where;                // the spec file (--spec), for errors; "" = command line
};

// The kinds a user unit may claim, each with one line of help.
const std::vector<std::pair<std::string, std::string>>& user_unit_kinds();

// One port of the wrapper: a role of the kind, lpsim's port name for it, its direction
// and width, and whether the user's unit must have it.
struct KindPort {
  std::string role;      // a, b, y, clk, rst_n, rst, en, clear, cin, cout, overflow, start, done
  std::string port;      // lpsim's name: a_i, b_i, p_o, ...
  bool input = true;
  int width = 1;
  bool required = true;  // false: optional (cin, cout, overflow, en, clear, resets)
};

// The spec with the kind's defaults filled in (widths, latency), checked: InputError
// naming the option at fault (unknown kind, widths out of range, a format the kind does
// not take).
UserUnitSpec resolved(UserUnitSpec spec);

// The floating format of an FP kind (--format; fp8_mac also takes e4m3/e5m2 for fp8_*).
arith::FloatFormat user_unit_float_format(const UserUnitSpec& spec);

// The kind's ports for a resolved spec (the wrapper's ports, in order).
std::vector<KindPort> kind_ports(const UserUnitSpec& spec);

// A port of the user's top module as Verilator elaborates it (parameters applied).
struct UserPort {
  std::string name;
  bool input = true;
  int width = 1;
};

// Verilator 5.006 cuts a source path at a space (and its makefile refuses one): the
// user's files as Verilator, run in `dir`, is to be given them — a path holding a space
// copied into dir/src/ — and its messages with the files named back as the user named them.
struct VerilatorSources {
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> copies;  // path given to Verilator -> the user's spelling
  std::string named_back(std::string messages) const;
};
VerilatorSources verilator_sources(const std::vector<std::filesystem::path>& rtl, const std::filesystem::path& dir);

// Verilator's (or the C++ compiler's) error messages in a log, on one line: the first
// max_errors, each with its file:line, the rest counted.
std::string verilator_errors(const std::string& log, size_t max_errors = 3);

// The ports of spec.top, read with `verilator --xml-only` (parameters applied), and the
// files of its hierarchy: the given ones, and those Verilator found beside them for the
// modules they instantiate (`-y` each given file's folder: a module M in M.sv or M.v),
// so that a multi-file design needs only its top file. Syntax and elaboration errors:
// InputError quoting Verilator's messages with the user's file:line. `scratch` is a
// folder for Verilator's output.
struct UserDesign {
  std::vector<UserPort> ports;
  std::vector<std::filesystem::path> files;  // the given files first, then the ones found
};
UserDesign read_user_design(const UserUnitSpec& spec, const std::filesystem::path& scratch);

// role -> user port for every role the unit has, from spec.ports and, for the roles it
// leaves out, the usual names (a, a_i, in_a, ...). InputError naming the port on a
// required role with no port, a port given twice, an input the kind has no role for,
// an output left unmapped (map it to `unused`), a width or direction that does not
// match the kind, a clock on a combinational kind without --latency.
std::map<std::string, std::string> map_ports(const UserUnitSpec& spec, const std::vector<UserPort>& ports);

// The generated wrapper: module lpsim_user_unit with kind_ports() as its ports,
// instantiating spec.top with spec.params and the mapping (an active-high reset driven
// by ~rst_ni; an optional input the unit lacks is left unused, an optional output tied
// to 0).
std::string wrapper_verilog(const UserUnitSpec& spec, const std::map<std::string, std::string>& mapping);
inline constexpr const char* kWrapperModule = "lpsim_user_unit";

// Whether the mapped unit has the role (optional ports).
inline bool has_role(const std::map<std::string, std::string>& mapping, const std::string& role) {
  return mapping.count(role) != 0;
}

// The user's files' text and names, the wrapper and the Verilator version hashed: the
// cache key of a built or synthesised unit (16 hex digits).
std::string user_unit_key(const UserUnitSpec& spec, const std::string& wrapper, const std::string& salt);

// A resolved spec made ready for Yosys: the ports read and mapped, the wrapper written
// (atomically) under cache_dir/user/ with its key in the name; sources = the wrapper and
// the unit's files, top = kWrapperModule. InputError as read_user_design / map_ports.
struct UserUnitWrapper {
  std::map<std::string, std::string> mapping;
  std::vector<std::filesystem::path> files;  // the unit's files (UserDesign::files)
  std::filesystem::path wrapper_file;
  std::vector<std::filesystem::path> sources;
};
UserUnitWrapper write_user_unit_wrapper(const UserUnitSpec& resolved_spec, const std::filesystem::path& cache_dir);

// Loads a spec file (YAML: rtl, top, kind, a_bits, b_bits, acc_bits, signed, format,
// overflow, params, ports, latency, reset); rtl paths are relative to the file.
// InputError with file:line:col and the key on anything else.
UserUnitSpec load_user_unit_spec(const std::filesystem::path& file);

// "--ports a=IN_A,b=IN_B,y=OUT" -> pairs; InputError naming the flag on a malformed item.
std::vector<std::pair<std::string, std::string>> parse_port_list(const std::string& text);

}  // namespace lpsim::rtl
