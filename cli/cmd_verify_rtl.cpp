// `lpsim verify-rtl`: runs the Verilated RTL units against the arith golden models and
// prints a table; exits 1 on any mismatch with the first failing vector.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "cli/commands.h"
#include "cli/verify_array.h"
#include "rtl/units.h"
#include "rtl/user_unit.h"

namespace lpsim::cli {

namespace {

struct Opts {
  std::vector<std::string> units;
  uint64_t vectors = 1000000;
  uint64_t seed = 1;
  std::string trace;
  uint64_t inject = ~uint64_t{0};
  std::string array;
  // A user's unit (--rtl / --spec).
  rtl::UserUnitSpec user;
  std::vector<std::string> rtl_files, params;
  std::string spec, ports, cache = "results/rtl-cache";
  std::map<std::string, CLI::Option*> given;  // the unit's options, to tell a given one from a default
};

// `verify-rtl --rtl FILE.sv --top M --kind K` (or --spec unit.yaml): build the user's unit
// (cached), check it against the kind's golden model, print the verdict.
int verify_user_unit(Opts& o, bool json) {
  rtl::UserUnitSpec s = o.spec.empty() ? rtl::UserUnitSpec{} : rtl::load_user_unit_spec(o.spec);
  auto given = [&](const char* name) { return o.given.at(name)->count() > 0; };
  // Options on the command line override the spec file's.
  if (!o.rtl_files.empty()) s.rtl.assign(o.rtl_files.begin(), o.rtl_files.end());
  if (given("--top")) s.top = o.user.top;
  if (given("--kind")) s.kind = o.user.kind;
  if (given("--a-bits")) s.a_bits = o.user.a_bits;
  if (given("--b-bits")) s.b_bits = o.user.b_bits;
  if (given("--acc-bits")) s.acc_bits = o.user.acc_bits;
  if (given("--signed")) s.is_signed = o.user.is_signed;
  if (given("--format")) s.format = o.user.format;
  if (given("--overflow")) s.overflow = o.user.overflow;
  if (given("--latency")) s.latency = o.user.latency;
  if (given("--reset")) s.reset = o.user.reset;
  for (const std::string& p : o.params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw InputError("expected NAME=VALUE, got '" + p + "'", {}, "--param");
    s.params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (!o.ports.empty())
    for (auto& pr : rtl::parse_port_list(o.ports)) s.ports.push_back(pr);
  const rtl::BuiltUserUnit unit = rtl::build_user_unit(s, o.cache);
  if (!json) {
    std::string map;
    for (const rtl::KindPort& k : rtl::kind_ports(unit.spec)) {
      const std::string key = k.role == "rst_n" ? "reset" : k.role;
      if (!unit.mapping.count(key)) continue;
      const bool high = key == "reset" && unit.mapping.at("reset_active_high") == "1";
      map += (map.empty() ? "" : ", ") + (key == "reset" ? std::string(high ? "rst" : "rst_n") : k.role) + "=" +
             unit.mapping.at(key);
    }
    std::cout << fmt::format("{} as {}: ports {}; latency {}; {}\n", unit.spec.top, unit.spec.kind, map,
                             unit.spec.latency,
                             unit.cached ? "built before (cache " + unit.dir.string() + ")"
                                         : fmt::format("built in {:.1f} s (cache {})", unit.build_seconds, unit.dir.string()));
  }
  rtl::CheckOptions opt;
  opt.random_vectors = o.vectors;
  opt.seed = o.seed;
  opt.trace_path = o.trace;
  opt.inject_mismatch_at = o.inject;
  const rtl::CheckResult r = rtl::check_user_unit(unit, opt);
  const bool exhaustive = rtl::user_unit_exhaustive(unit.spec);
  if (json) {
    nlohmann::json j = {{"module", unit.spec.top}, {"kind", unit.spec.kind}, {"latency", unit.spec.latency},
                        {"exhaustive", exhaustive}, {"vectors", r.vectors}, {"mismatches", r.mismatches},
                        {"seconds", r.seconds}, {"first_failure", r.first_failure}, {"cached", unit.cached},
                        {"build_seconds", unit.build_seconds}, {"cache_entry", unit.dir.string()}};
    nlohmann::json ports = nlohmann::json::object();
    for (const auto& [role, port] : unit.mapping)
      if (role != "reset_active_high") ports[role] = port;
    j["ports"] = ports;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} {} vectors{}, {} mismatches, {:.3f} s\n", unit.spec.top, r.vectors,
                             exhaustive ? " (every operand pair)" : "", r.mismatches, r.seconds);
  }
  if (r.mismatches) {
    std::cerr << "verify-rtl: " << unit.spec.top << " differs from the golden " << unit.spec.kind
              << "; first failing vector: " << r.first_failure << "\n";
    if (!o.trace.empty()) std::cerr << "verify-rtl: VCD of the failing vector written to " << o.trace << "\n";
    return 1;
  }
  if (!json) std::cout << fmt::format("verify-rtl: {} matches the golden {}\n", unit.spec.top, unit.spec.kind);
  return 0;
}

}  // namespace

Command add_verify_rtl(CLI::App& app, const bool& json) {
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("verify-rtl", "Check the RTL units bit-for-bit against the golden models (Verilator)");
  sub->add_option("--unit,-u", o->units, "instance name, or module name for all its instances (repeatable; default all)");
  sub->add_option("--vectors,-n", o->vectors, "random vectors (or cycles) for units wider than 8 bits")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of the random vectors")->capture_default_str();
  sub->add_option("--trace", o->trace, "write a VCD of the first failing vector to this file");
  sub->add_option("--inject-mismatch", o->inject,
                  "self-test of the checker: treat vector N of multipliers/accumulators as a mismatch");
  sub->add_option("--array", o->array,
                  "instead of the units: stream a random GEMM through an RxC SystemC array (e.g. 4x4), both dataflows, "
                  "and replay every PE on the Verilated PE RTL (identical outputs and register toggles)");
  CLI::Option_group* own = sub->add_option_group("your own unit", "check your RTL against the golden model of a kind");
  own->add_option("--rtl", o->rtl_files, "your Verilog/SystemVerilog file (repeatable)");
  own->add_option("--spec", o->spec, "a YAML file with the options below (rtl, top, kind, a_bits, ports, ...)");
  o->given["--top"] = own->add_option("--top", o->user.top, "the module to check");
  std::string kinds;
  for (const auto& [k, help] : rtl::user_unit_kinds()) kinds += (kinds.empty() ? "" : "|") + k;
  o->given["--kind"] = own->add_option("--kind", o->user.kind, "what it claims to be: " + kinds);
  o->given["--a-bits"] = own->add_option("--a-bits", o->user.a_bits, "width of operand a (default: 8; luq_mul 4)");
  o->given["--b-bits"] = own->add_option("--b-bits", o->user.b_bits, "width of operand b (default: as a; pann_add 4)");
  o->given["--acc-bits"] = own->add_option("--acc-bits", o->user.acc_bits, "accumulator width (acc, mac)")->capture_default_str();
  o->given["--signed"] = own->add_flag("--signed,!--unsigned", o->user.is_signed, "two's complement operands (mul, acc, mac; default signed)");
  o->given["--format"] = own->add_option("--format", o->user.format, "FP format (fp_add, fp_mul_rne: fp16|bf16|fp32|eXmY; fp8_mac: e4m3|e5m2|fp16)")
      ->capture_default_str();
  o->given["--overflow"] = own->add_option("--overflow", o->user.overflow, "wrap|saturate (acc, mac)")->capture_default_str();
  own->add_option("--param", o->params, "a Verilog parameter of the top module, NAME=VALUE (repeatable)");
  own->add_option("--ports", o->ports,
                  "ROLE=PORT,... where your port names differ from the usual ones (roles: a, b, y, clk, rst_n or rst, "
                  "en, clear, cin, cout, overflow, start, done; unused=OUT leaves an output open)");
  o->given["--latency"] = own->add_option("--latency", o->user.latency,
                  "clock cycles from inputs to result (default: 0 combinational, 1 for acc/mac/fp8_mac)");
  o->given["--reset"] = own->add_option("--reset", o->user.reset, "async|sync: how your reset port acts")->capture_default_str();
  own->add_option("--cache", o->cache, "folder of built units (keyed by file contents)")->capture_default_str();
  return {sub, [o, &json] {
            if (!o->rtl_files.empty() || !o->spec.empty()) return verify_user_unit(*o, json);
            if (!o->array.empty()) {
              int rows = 0, cols = 0;
              char x = 0, extra = 0;
              if (std::sscanf(o->array.c_str(), "%d%c%d%c", &rows, &x, &cols, &extra) != 3 || (x != 'x' && x != 'X') ||
                  rows < 1 || cols < 1 || rows > 64 || cols > 64)
                throw InputError("expected RxC with R and C in 1..64 (e.g. 4x4), got '" + o->array + "'", {}, "--array");
              nlohmann::json out = nlohmann::json::array();
              bool ok = true;
              for (const sim::Dataflow d : {sim::Dataflow::weight_stationary, sim::Dataflow::output_stationary}) {
                const ArrayRtlCheck r = check_array_on_rtl(d, rows, cols, o->seed, o->inject);
                const bool good = r.mismatches == 0 && r.outputs_exact && r.rtl_toggles == r.sim_toggles;
                ok &= good;
                if (json) {
                  out.push_back({{"array", o->array}, {"dataflow", sim::dataflow_name(d)}, {"cycles", r.cycles},
                                 {"pe_cycles", r.pe_cycles}, {"mismatches", r.mismatches}, {"outputs_exact", r.outputs_exact},
                                 {"rtl_toggles", r.rtl_toggles}, {"array_toggles", r.sim_toggles},
                                 {"first_failure", r.first_failure}, {"seconds", r.seconds}});
                } else {
                  std::cout << fmt::format("array {} {:<18} {:>7} cycles {:>9} PE-cycles on the Verilated {:<6} "
                                           "mismatches {}  register toggles RTL {} array {}  GEMM {}  {:.2f} s\n",
                                           o->array, sim::dataflow_name(d), r.cycles, r.pe_cycles,
                                           d == sim::Dataflow::weight_stationary ? "mac_ws" : "mac", r.mismatches,
                                           r.rtl_toggles, r.sim_toggles, r.outputs_exact ? "exact" : "WRONG", r.seconds);
                }
                if (!good)
                  std::cerr << "verify-rtl: array " << sim::dataflow_name(d) << ": "
                            << (r.first_failure.empty() ? "toggles or GEMM differ" : r.first_failure) << "\n";
              }
              if (json) std::cout << out.dump(2) << "\n";
              return ok ? 0 : 1;
            }
            std::vector<const rtl::RtlUnit*> selected;
            for (const rtl::RtlUnit& u : rtl::rtl_units()) {
              bool take = o->units.empty();
              for (const std::string& want : o->units) take = take || want == u.name || want == u.top;
              if (take) selected.push_back(&u);
            }
            for (const std::string& want : o->units) {
              bool known = false;
              for (const rtl::RtlUnit& u : rtl::rtl_units()) known = known || want == u.name || want == u.top;
              if (!known) {
                std::string names;
                for (const rtl::RtlUnit& u : rtl::rtl_units()) names += (names.empty() ? "" : ", ") + u.name;
                throw InputError("unknown unit '" + want + "' (known: " + names + ")", {}, "--unit");
              }
            }
            rtl::CheckOptions opt;
            opt.random_vectors = o->vectors;
            opt.seed = o->seed;
            opt.trace_path = o->trace;
            opt.inject_mismatch_at = o->inject;
            nlohmann::json out = nlohmann::json::array();
            uint64_t failed_units = 0;
            std::string first_failure;
            if (!json)
              std::cout << fmt::format("{:<28} {:<64} {:>10} {:>10} {:>8}\n", "unit", "parameters", "vectors",
                                       "mismatches", "seconds");
            for (const rtl::RtlUnit* u : selected) {
              const rtl::CheckResult r = u->check(opt);
              if (r.mismatches && first_failure.empty()) {
                first_failure = u->name + ": " + r.first_failure;
                opt.trace_path.clear();  // the VCD holds the first failing unit only
              }
              failed_units += r.mismatches != 0;
              if (json) {
                out.push_back({{"unit", u->name}, {"module", u->top}, {"parameters", u->params},
                               {"exhaustive", u->exhaustive}, {"vectors", r.vectors}, {"mismatches", r.mismatches},
                               {"seconds", r.seconds}, {"first_failure", r.first_failure}});
              } else {
                std::cout << fmt::format("{:<28} {:<64} {:>10} {:>10} {:>8.3f}\n", u->name,
                                         u->params + (u->exhaustive ? " (all)" : ""), r.vectors, r.mismatches,
                                         r.seconds)
                          << std::flush;
              }
            }
            if (json) std::cout << out.dump(2) << "\n";
            if (failed_units) {
              std::cerr << "verify-rtl: " << failed_units << " unit(s) mismatch; first failing vector: " << first_failure
                        << "\n";
              if (!o->trace.empty()) std::cerr << "verify-rtl: VCD of the failing vector written to " << o->trace << "\n";
              return 1;
            }
            if (!json) std::cout << fmt::format("verify-rtl: {} unit(s), no mismatch\n", selected.size());
            return 0;
          }};
}

}  // namespace lpsim::cli
