// Subcommands of the lpsim CLI. Each registers its options on the CLI11 app and returns
// the function that runs it; main() maps InputError to a one-line message and exit 2.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace lpsim::cli {

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

Command add_quantize(CLI::App& app, const bool& json);
Command add_clip(CLI::App& app, const bool& json);
Command add_formats(CLI::App& app, const bool& json);
Command add_demo(CLI::App& app, const bool& json);
// `verify-rtl` lives in its own program, lpsim-verify-rtl (cli/verify_rtl_main.cpp), so that
// lpsim builds without the Verilated units: add_verify_rtl is its command,
// add_verify_rtl_forwarder the `lpsim verify-rtl` that hands its arguments over.
Command add_verify_rtl(CLI::App& app, const bool& json);
Command add_verify_rtl_forwarder(CLI::App& app, const bool& json);
Command add_energy(CLI::App& app, const bool& json);
Command add_energy_findings(CLI::App& app, const bool& json);
Command add_run(CLI::App& app, const bool& json);
Command add_schema(CLI::App& app, const bool& json);
// `sim` too lives in its own program, lpsim-sim (cli/sim_main.cpp: the SystemC accelerator
// stays out of lpsim's build and link); add_sim_forwarder is `lpsim sim`.
Command add_sim(CLI::App& app, const bool& json);
Command add_sim_forwarder(CLI::App& app, const bool& json);

}  // namespace lpsim::cli
