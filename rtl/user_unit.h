// Verilating and checking a user's unit at run time (`lpsim verify-rtl --rtl ...`): the
// wrapper of rtl/user_unit_spec.h and the user's files are built by `verilator --build`
// into a shared object, kept in a cache keyed by their contents, loaded with dlopen, and
// driven by the very checks of rtl/harness.h that the built-in units pass.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "rtl/harness.h"
#include "rtl/user_unit_spec.h"

namespace lpsim::rtl {

struct BuiltUserUnit {
  UserUnitSpec spec;                           // resolved
  std::map<std::string, std::string> mapping;  // role -> the user's port
  std::string wrapper;                         // the generated Verilog
  std::filesystem::path dir;                   // cache entry: unit.so, wrapper.sv, shim.cpp, build.log
  std::filesystem::path library;               // the loadable model
  bool cached = false;                         // found in the cache (nothing built)
  double build_seconds = 0;
};

// Reads the ports, maps them, writes the wrapper and builds it (or finds it in
// cache_dir). InputError with Verilator's messages (file:line) on a design that does not
// build; a failed build leaves nothing in the cache.
BuiltUserUnit build_user_unit(const UserUnitSpec& spec, const std::filesystem::path& cache_dir);

// The kind's check on the built unit (exhaustive for operands of <= 8 bits, corners and
// opt.random_vectors random vectors or cycles otherwise). opt's latency and has_* fields
// are taken from the unit.
CheckResult check_user_unit(const BuiltUserUnit& unit, CheckOptions opt);

// Whether the kind's check runs every operand pair.
bool user_unit_exhaustive(const UserUnitSpec& spec);

}  // namespace lpsim::rtl
