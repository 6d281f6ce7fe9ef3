// `lpsim verify-rtl ...` / `lpsim sim ...`: run lpsim-verify-rtl / lpsim-sim ... in this
// process's place. The Verilated units take most of a fresh build (about 1000 of 1400
// CPU-seconds); keeping them, and the SystemC accelerator, out of lpsim lets the main job
// build in a fraction of that, and each command stays complete in its own program (built
// by the default target, installed beside lpsim).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "arith/error.h"
#include "arith/process.h"
#include "cli/commands.h"

namespace lpsim::cli {

namespace {

Command add_forwarder(CLI::App& app, const bool& json, const std::string& command, const std::string& program_name,
                      const std::string& description, const std::string& needs) {
  CLI::App* sub = app.add_subcommand(command, description);
  sub->prefix_command();  // every argument after the command goes to the program as it is
  sub->set_help_flag();   // --help too: that program knows the options
  return {sub, [sub, &json, command, program_name, needs]() -> int {
            const std::filesystem::path program = program_beside_self(program_name);
            if (!std::filesystem::exists(program))
              throw InputError(command + " needs " + needs + ": " + program.string() +
                               " is not built (cmake --build build --target " + program_name + ")");
            std::vector<std::string> args = {program.string()};
            if (json) args.push_back("--json");  // `lpsim --json verify-rtl`
            for (const std::string& a : sub->remaining()) args.push_back(a);
            std::vector<char*> argv;
            for (std::string& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(program.c_str(), argv.data());
            throw std::runtime_error("cannot run " + program.string() + ": " + std::strerror(errno));
          }};
}

}  // namespace

Command add_verify_rtl_forwarder(CLI::App& app, const bool& json) {
  return add_forwarder(app, json, "verify-rtl", "lpsim-verify-rtl",
                       "Check the RTL units bit-for-bit against the golden models (Verilator)",
                       "the Verilated RTL units, which are a program of their own");
}

Command add_sim_forwarder(CLI::App& app, const bool& json) {
  return add_forwarder(app, json, "sim", "lpsim-sim",
                       "Stream a scenario's network through the SystemC systolic array of its accelerator: section, "
                       "cycle by cycle",
                       "the SystemC accelerator, which is a program of its own");
}

}  // namespace lpsim::cli
