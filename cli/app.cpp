#include "cli/app.h"

#include "lpsim_version.h"

#include <iostream>
#include <string>

#include "arith/error.h"

namespace lpsim::cli {

int run_commands(CLI::App& app, const std::vector<Command>& commands, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, and where to look: the help of the command being parsed.
    std::string help = "lpsim";
    for (const auto& c : commands)
      if (c.sub->parsed()) help += " " + c.sub->get_name();
    std::cerr << "lpsim: " << e.what() << " (see " << help << " --help)\n";
    return 2;
  }
  try {
    for (const auto& c : commands)
      if (c.sub->parsed()) return c.run();
  } catch (const lpsim::InputError& e) {
    std::cerr << "lpsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "lpsim: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}

int run_single_command(const std::string& name, Command (*add)(CLI::App&, const bool&), int argc, char** argv) {
  CLI::App app{"lpsim: hardware-accurate simulator and power/area models for low-precision neural networks", "lpsim"};
  app.set_version_flag("--version", std::string("lpsim ") + LPSIM_VERSION);
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json, "machine-readable JSON output");
  const std::vector<Command> commands = {add(app, json)};
  commands[0].sub->add_flag("--json", json, "machine-readable JSON output");
  std::string command = name;
  std::vector<char*> args = {argv[0], command.data()};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  return run_commands(app, commands, int(args.size()), args.data());
}

}  // namespace lpsim::cli
