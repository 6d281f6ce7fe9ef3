// lpsim-verify-rtl: the `verify-rtl` command as a program of its own (cli/commands.h says
// why). `lpsim verify-rtl ARGS` runs it with ARGS; run directly it behaves the same.
#include "cli/app.h"
#include "cli/commands.h"

int main(int argc, char** argv) { return lpsim::cli::run_single_command("verify-rtl", lpsim::cli::add_verify_rtl, argc, argv); }
