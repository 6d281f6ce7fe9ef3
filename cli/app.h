// The one way every lpsim program parses its command line and maps failures to exit codes
// (README "Exit codes"): a parse error is one line pointing at the command's --help and
// exit 2, lpsim::InputError exit 2, any other exception "internal error" and exit 3.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace lpsim::cli {

int run_commands(CLI::App& app, const std::vector<Command>& commands, int argc, char** argv);

// main() of a program that is one lpsim command of its own (lpsim-verify-rtl, lpsim-sim):
// `PROGRAM ARGS` is parsed as `lpsim NAME ARGS`, so usage lines and errors name the command.
int run_single_command(const std::string& name, Command (*add)(CLI::App&, const bool&), int argc, char** argv);

}  // namespace lpsim::cli
