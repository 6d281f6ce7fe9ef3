// The one way every lpsim program parses its command line and maps failures to exit codes
// (README "Exit codes"): a parse error is one line pointing at the command's --help and
// exit 2, lpsim::InputError exit 2, any other exception "internal error" and exit 3.
#pragma once

#include <vector>

#include "cli/commands.h"

namespace lpsim::cli {

int run_commands(CLI::App& app, const std::vector<Command>& commands, int argc, char** argv);

}  // namespace lpsim::cli
