#include "nn/user_mac.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/process.h"

namespace lpsim::nn {

namespace fs = std::filesystem;

namespace {

// The spec as lpsim-verify-rtl --spec reads it (rtl/user_unit_spec.h), paths absolute.
std::string spec_yaml(const rtl::UserUnitSpec& u) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "rtl" << YAML::Value << YAML::BeginSeq;
  for (const fs::path& f : u.rtl) e << fs::absolute(f).string();
  e << YAML::EndSeq;
  e << YAML::Key << "top" << YAML::Value << u.top << YAML::Key << "kind" << YAML::Value << u.kind;
  e << YAML::Key << "a_bits" << YAML::Value << u.a_bits << YAML::Key << "b_bits" << YAML::Value << u.b_bits;
  e << YAML::Key << "acc_bits" << YAML::Value << u.acc_bits;
  e << YAML::Key << "signed" << YAML::Value << (u.is_signed ? "true" : "false");
  e << YAML::Key << "overflow" << YAML::Value << u.overflow << YAML::Key << "latency" << YAML::Value << u.latency;
  e << YAML::Key << "reset" << YAML::Value << u.reset;
  e << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : u.params) e << YAML::Key << k << YAML::Value << v;
  e << YAML::EndMap << YAML::Key << "ports" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : u.ports) e << YAML::Key << k << YAML::Value << v;
  e << YAML::EndMap << YAML::EndMap;
  return e.c_str();
}

struct TempDir {
  fs::path dir;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "lpsim-mac-XXXXXX").string();
    if (!::mkdtemp(t.data())) throw InputError("cannot create a temporary folder", t, "TMPDIR");
    dir = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

UserMacSetup prepare_user_mac(const Scenario& s, bool progress) {
  const std::string where = s.user_mac_where;
  rtl::UserUnitSpec spec;
  try {
    spec = rtl::resolved(*s.user_mac);
  } catch (const InputError& e) {
    throw InputError(e.message(), where, "hardware.mac");
  }
  // The verdict, from the program that holds the Verilated harness.
  const fs::path program = program_beside_self("lpsim-verify-rtl");
  if (!fs::exists(program))
    throw InputError("hardware.mac names your RTL, which lpsim-verify-rtl checks first: " + program.string() +
                         " is not built (cmake --build build --target lpsim-verify-rtl)",
                     where, "hardware.mac");
  TempDir tmp;
  std::ofstream(tmp.dir / "unit.yaml") << spec_yaml(spec);
  const fs::path rtl_cache = s.netlist_cache / "rtl";
  if (progress) std::cerr << "hardware.mac: checking " << spec.top << " against the golden mac (lpsim verify-rtl)\n";
  ProcessOptions po;
  po.stdout_to = tmp.dir / "out.json";
  po.stderr_to = tmp.dir / "err.txt";
  const ProcessResult run = run_process(
      {program.string(), "--json", "--spec", (tmp.dir / "unit.yaml").string(), "--cache", rtl_cache.string()}, po);
  const std::string out = read_whole_file(tmp.dir / "out.json");
  std::string err = read_whole_file(tmp.dir / "err.txt");
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (const size_t p = err.find("lpsim: error: "); p != std::string::npos) err = err.substr(p + 14);
  nlohmann::json verdict;
  try {
    verdict = nlohmann::json::parse(out);
  } catch (const nlohmann::json::exception&) {
  }
  if (!run.ok() || !verdict.is_object() || verdict.value("mismatches", uint64_t{1}) != 0) {
    if (run.status == ProcessResult::Status::exited && run.code == 1 && verdict.is_object())
      throw InputError("your MAC " + spec.top + " differs from the golden mac (" + std::to_string(verdict["vectors"].get<uint64_t>()) +
                           " cycles checked): " + verdict.value("first_failure", std::string()) +
                           " — nothing is priced on a unit that fails (lpsim verify-rtl --spec shows it)",
                       where, "hardware.mac");
    throw InputError("your MAC " + spec.top + " could not be checked (" + run.describe() + "): " + err, where,
                     "hardware.mac");
  }
  UserMacSetup u;
  u.mac.top = spec.top;
  u.mac.a_bits = spec.a_bits, u.mac.b_bits = spec.b_bits, u.mac.acc_bits = spec.acc_bits;
  u.mac.is_signed = spec.is_signed, u.mac.overflow = spec.overflow;
  rtl::UserUnitWrapper w;
  try {
    w = rtl::write_user_unit_wrapper(spec, s.netlist_cache);
  } catch (const InputError& e) {
    throw InputError(e.message(), where, "hardware.mac");
  }
  u.sources = w.sources;
  u.key = w.wrapper_file.filename().string();
  nlohmann::json files = nlohmann::json::array();
  for (const fs::path& f : spec.rtl) files.push_back(fs::absolute(f).string());
  nlohmann::json ports = nlohmann::json::object();
  for (const auto& [role, port] : w.mapping)
    if (role != "reset_active_high") ports[role] = port;
  u.report = {{"top", spec.top},
              {"rtl", files},
              {"kind", "mac"},
              {"operands", fmt::format("{}{}x{}", spec.is_signed ? "int" : "uint", spec.a_bits, spec.b_bits)},
              {"acc_bits", spec.acc_bits},
              {"overflow", spec.overflow},
              {"latency", spec.latency},
              {"ports", ports},
              {"verification", verdict},
              {"wrapper", w.wrapper_file.string()}};
  if (progress)
    std::cerr << fmt::format("hardware.mac: {} matches the golden mac ({} cycles); integer configurations of {}{}x{} "
                             "acc{} {} are priced on it\n",
                             spec.top, verdict["vectors"].get<uint64_t>(), spec.is_signed ? "int" : "uint", spec.a_bits,
                             spec.b_bits, spec.acc_bits, spec.overflow);
  return u;
}

}  // namespace lpsim::nn
