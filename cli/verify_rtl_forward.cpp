// `lpsim verify-rtl ...`: runs lpsim-verify-rtl ... in this process's place. The Verilated
// units take most of a fresh build (about 1000 of 1400 CPU-seconds); keeping them out of
// lpsim lets the main job build in a fraction of that, and verify-rtl stays complete in its
// own program (built by the default target, installed beside lpsim).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "arith/error.h"
#include "cli/commands.h"

namespace lpsim::cli {

namespace {

// lpsim-verify-rtl beside the running lpsim (build/cli/ in a build tree, bin/ installed).
std::filesystem::path verify_rtl_program() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / "lpsim-verify-rtl";
}

}  // namespace

Command add_verify_rtl_forwarder(CLI::App& app, const bool& json) {
  CLI::App* sub = app.add_subcommand("verify-rtl", "Check the RTL units bit-for-bit against the golden models (Verilator)");
  sub->prefix_command();  // every argument after verify-rtl goes to lpsim-verify-rtl as it is
  sub->set_help_flag();   // --help too: that program knows the options
  return {sub, [sub, &json]() -> int {
            const std::filesystem::path program = verify_rtl_program();
            if (!std::filesystem::exists(program))
              throw InputError("verify-rtl needs the Verilated RTL units, which are a program of their own: " +
                               program.string() + " is not built (cmake --build build --target lpsim-verify-rtl)");
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

}  // namespace lpsim::cli
