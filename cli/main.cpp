// lpsim: command-line entry point.
#include <filesystem>
#include <iostream>
#include <vector>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/mpi.h"
#include "lpsim_version.h"

int main(int argc, char** argv) {
  const lpsim::cli::MpiSession mpi(argc, argv);  // MPI_Init only under mpirun
  CLI::App app{"lpsim: hardware-accurate simulator and power/area models for low-precision neural networks"};
  app.set_version_flag("--version", std::string("lpsim ") + LPSIM_VERSION);
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json, "machine-readable JSON output where a command prints results");
  const std::vector<lpsim::cli::Command> commands = {
      lpsim::cli::add_quantize(app, json), lpsim::cli::add_clip(app, json),
      lpsim::cli::add_formats(app, json), lpsim::cli::add_demo(app, json),
      lpsim::cli::add_verify_rtl_forwarder(app, json), lpsim::cli::add_energy(app, json),
      lpsim::cli::add_energy_findings(app, json), lpsim::cli::add_run(app, json),
      lpsim::cli::add_schema(app, json), lpsim::cli::add_sim_forwarder(app, json)};
  for (const auto& c : commands)
    if (c.sub->get_name() != "verify-rtl" && c.sub->get_name() != "sim") c.sub->add_flag("--json", json, "machine-readable JSON output");
  // `lpsim run DIR`: a folder would read as an empty scenario; say what it is instead.
  if (CLI::App* run = app.get_subcommand("run"))
    run->get_option("scenario")->check(CLI::Validator(
        [](std::string& path) {
          return std::filesystem::is_directory(path) ? "'" + path + "' is a directory, not a scenario YAML file"
                                                     : std::string();
        },
        "FILE", "not a directory"));
  return lpsim::cli::run_commands(app, commands, argc, argv);
}
