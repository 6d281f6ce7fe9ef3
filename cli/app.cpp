#include "cli/app.h"

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

}  // namespace lpsim::cli
