// lpsim-sim: the `sim` command as a program of its own (cli/commands.h says why).
// `lpsim sim ARGS` runs it with ARGS; run directly it behaves the same.
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/commands.h"
#include "lpsim_version.h"

int main(int argc, char** argv) {
  CLI::App app{"lpsim: hardware-accurate simulator and power/area models for low-precision neural networks", "lpsim"};
  app.set_version_flag("--version", std::string("lpsim ") + LPSIM_VERSION);
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json, "machine-readable JSON output");
  const std::vector<lpsim::cli::Command> commands = {lpsim::cli::add_sim(app, json)};
  commands[0].sub->add_flag("--json", json, "machine-readable JSON output");
  // Parsed as `lpsim sim ARGS`, so that usage lines and errors name the command.
  std::string name = "sim";
  std::vector<char*> args = {argv[0], name.data()};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  return lpsim::cli::run_commands(app, commands, int(args.size()), args.data());
}
