// Running external tools (yosys, gnuplot) without a shell: the program and its arguments
// are an argument vector handed to posix_spawn, so a path holding spaces, quotes or
// `;echo INJECTED` is one literal argument, never shell syntax. POSIX only, no other
// dependency, so every library above arith can use it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lpsim {

struct ProcessOptions {
  // Where the child's standard streams go: unset inherits lpsim's own; a path is opened
  // for the child (stdin read-only; stdout/stderr created or truncated), e.g. "/dev/null".
  std::optional<std::filesystem::path> stdin_from, stdout_to, stderr_to;
  // The child's working directory (unset: lpsim's). Lets a tool that splits paths at
  // spaces (Verilator 5.006, make) be given short relative ones.
  std::optional<std::filesystem::path> cwd = std::nullopt;
};

struct ProcessResult {
  enum class Status {
    exited,     // ran and exited; code is its exit status
    signaled,   // killed by a signal; code is the signal number
    not_found,  // no such program on PATH (or not an executable file); code is ENOENT
    failed,     // could not be started (e.g. a redirection could not be opened); code is errno
  };
  Status status = Status::failed;
  int code = 0;
  bool ok() const { return status == Status::exited && code == 0; }
  // "exited with status 1", "killed by signal 9 (Killed)", "not found on PATH",
  // "could not be started: Permission denied".
  std::string describe() const;
};

// Runs argv[0] (looked up on PATH unless it contains a '/') with argv as its arguments
// and waits for it. Never throws for a failure of the program itself: the result says
// what happened. Throws std::invalid_argument on an empty argv.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The executable file `name` resolves to (PATH search as execvp does; a name with
// a '/' is taken as a path), or nullopt: the shell-free `command -v`.
std::optional<std::filesystem::path> find_program(const std::string& name);

// A program installed beside the running one (build/cli/ in a build tree, bin/ when
// installed): lpsim-verify-rtl and lpsim-sim next to lpsim. Not checked for existence.
std::filesystem::path program_beside_self(const std::string& name);

}  // namespace lpsim
