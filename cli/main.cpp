// lpsim: command-line entry point.
#include <cstdio>
#include <iostream>
#include <vector>

#include "arith/error.h"
#include "cli/commands.h"
#include "lpsim_version.h"

int main(int argc, char** argv) {
  CLI::App app{"lpsim: hardware-accurate simulator and power/area models for low-precision neural networks"};
  app.set_version_flag("--version", std::string("lpsim ") + LPSIM_VERSION);
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json, "machine-readable JSON output where a command prints results");
  const std::vector<lpsim::cli::Command> commands = {
      lpsim::cli::add_quantize(app, json), lpsim::cli::add_clip(app, json),
      lpsim::cli::add_formats(app, json), lpsim::cli::add_demo(app, json),
      lpsim::cli::add_verify_rtl(app, json), lpsim::cli::add_energy(app, json),
      lpsim::cli::add_energy_findings(app, json), lpsim::cli::add_run(app, json)};
  for (const auto& c : commands) c.sub->add_flag("--json", json, "machine-readable JSON output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "lpsim: " << e.what() << "\n";
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
