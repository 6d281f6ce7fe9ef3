// `lpsim verify-rtl`: runs the Verilated RTL units against the arith golden models and
// prints a table; exits 1 on any mismatch with the first failing vector.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "cli/commands.h"
#include "cli/user_unit_options.h"
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
  UserUnitOptions unit;
  int a_bits = 8, b_bits = 8, acc_bits = 32;
  bool is_signed = true;
  std::string format = "fp16", cache = "results/rtl-cache";
  CLI::Option *a_opt = nullptr, *b_opt = nullptr, *acc_opt = nullptr, *sign_opt = nullptr, *format_opt = nullptr;
};

// A mismatch of a clocked unit may only be a wrong --latency: the latencies that pass the
// first vectors, as a hint.
std::string latency_hint(const rtl::BuiltUserUnit& unit, const rtl::CheckOptions& opt) {
  const bool comb = unit.spec.kind != "acc" && unit.spec.kind != "mac" && unit.spec.kind != "fp8_mac";
  if (!unit.mapping.count("clk") || unit.spec.kind == "pann_add") return {};
  for (int l = comb ? 0 : 1; l <= 16; ++l) {
    if (l == unit.spec.latency) continue;
    rtl::BuiltUserUnit other = unit;
    other.spec.latency = l;
    rtl::CheckOptions o = opt;
    o.random_vectors = 2000;
    o.trace_path.clear();
    o.inject_mismatch_at = ~uint64_t{0};
    const rtl::CheckResult r = rtl::check_user_unit(other, o);
    if (r.mismatches == 0)
      return "; with --latency " + std::to_string(l) + " it matches the first " + std::to_string(r.vectors) +
             " vectors: is that its latency?";
  }
  return "; no latency of 0..16 cycles makes it match either";
}

// `verify-rtl --rtl FILE.sv --top M --kind K` (or --spec unit.yaml): build the user's unit
// (cached), check it against the kind's golden model, print the verdict.
int verify_user_unit(Opts& o, bool json) {
  UserUnitOptions::Given g;
  if (o.a_opt->count()) g.a_bits = o.a_bits;
  if (o.b_opt->count()) g.b_bits = o.b_bits;
  if (o.acc_opt->count()) g.acc_bits = o.acc_bits;
  if (o.sign_opt->count()) g.is_signed = o.is_signed;
  if (o.format_opt->count()) g.format = o.format;
  const rtl::BuiltUserUnit unit = rtl::build_user_unit(o.unit.spec(g), o.cache);
  if (!json)
    std::cout << fmt::format("{}; latency {}; {}\n", describe_ports(unit.spec, unit.mapping), unit.spec.latency,
                             unit.cached ? "built before (cache " + unit.dir.string() + ")"
                                         : fmt::format("built in {:.1f} s (cache {})", unit.build_seconds, unit.dir.string()));
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
    const std::string hint = o.inject == ~uint64_t{0} ? latency_hint(unit, opt) : "";
    std::cerr << "verify-rtl: " << unit.spec.top << " differs from the golden " << unit.spec.kind
              << "; first failing vector: " << r.first_failure << hint << "\n";
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
  o->unit.add_to(own);
  o->a_opt = own->add_option("--a-bits", o->a_bits, "width of operand a (default 8; luq_mul 4)");
  o->b_opt = own->add_option("--b-bits", o->b_bits, "width of operand b (default: as a; pann_add 4)");
  o->acc_opt = own->add_option("--acc-bits", o->acc_bits, "accumulator width (acc, mac)")->capture_default_str();
  o->sign_opt = own->add_flag("--signed,!--unsigned", o->is_signed, "two's complement operands (mul, acc, mac; default)");
  o->format_opt = own->add_option("--format", o->format,
                                  "FP format (fp_add, fp_mul_rne: fp16|bf16|fp32|eXmY; fp8_mac: e4m3|e5m2|fp16)")
                      ->capture_default_str();
  own->add_option("--cache", o->cache, "folder of built units (keyed by file contents)")->capture_default_str();
  return {sub, [o, &json] {
            if (o->unit.used()) return verify_user_unit(*o, json);
            o->unit.check_not_orphaned();
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
