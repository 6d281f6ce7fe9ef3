// lpsim-sim: the `sim` command as a program of its own (cli/commands.h says why).
// `lpsim sim ARGS` runs it with ARGS; run directly it behaves the same.
#include "cli/app.h"
#include "cli/commands.h"

int main(int argc, char** argv) { return lpsim::cli::run_single_command("sim", lpsim::cli::add_sim, argc, argv); }
