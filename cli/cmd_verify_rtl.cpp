// `lpsim verify-rtl`: runs the Verilated RTL units against the arith golden models and
// prints a table; exits 1 on any mismatch with the first failing vector.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "cli/commands.h"
#include "rtl/units.h"

namespace lpsim::cli {

Command add_verify_rtl(CLI::App& app, const bool& json) {
  struct Opts {
    std::vector<std::string> units;
    uint64_t vectors = 1000000;
    uint64_t seed = 1;
    std::string trace;
    uint64_t inject = ~uint64_t{0};
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("verify-rtl", "Check the RTL units bit-for-bit against the golden models (Verilator)");
  sub->add_option("--unit,-u", o->units, "instance name, or module name for all its instances (repeatable; default all)");
  sub->add_option("--vectors,-n", o->vectors, "random vectors (or cycles) for units wider than 8 bits")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of the random vectors")->capture_default_str();
  sub->add_option("--trace", o->trace, "write a VCD of the first failing vector to this file");
  sub->add_option("--inject-mismatch", o->inject,
                  "self-test of the checker: treat vector N of multipliers/accumulators as a mismatch");
  return {sub, [o, &json] {
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
