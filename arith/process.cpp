#include "arith/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace lpsim {

namespace {

// posix_spawn_file_actions_t with RAII: destroyed on every path out of run_process.
struct FileActions {
  posix_spawn_file_actions_t a;
  FileActions() { posix_spawn_file_actions_init(&a); }
  ~FileActions() { posix_spawn_file_actions_destroy(&a); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

bool executable_file(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::string ProcessResult::describe() const {
  switch (status) {
    case Status::exited:
      return "exited with status " + std::to_string(code);
    case Status::signaled: {
      const char* name = ::strsignal(code);
      return "killed by signal " + std::to_string(code) + (name ? std::string(" (") + name + ")" : std::string());
    }
    case Status::not_found:
      return "not found on PATH";
    case Status::failed:
      break;
  }
  return std::string("could not be started: ") + std::strerror(code);
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty() || argv[0].empty()) throw std::invalid_argument("run_process: empty argument vector");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  FileActions fa;
  // The paths must outlive posix_spawn: the actions keep pointers to them.
  const std::string in = options.stdin_from ? options.stdin_from->string() : std::string();
  const std::string out = options.stdout_to ? options.stdout_to->string() : std::string();
  const std::string err = options.stderr_to ? options.stderr_to->string() : std::string();
  if (options.stdin_from) posix_spawn_file_actions_addopen(&fa.a, STDIN_FILENO, in.c_str(), O_RDONLY, 0);
  if (options.stdout_to)
    posix_spawn_file_actions_addopen(&fa.a, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (options.stderr_to) {
    if (options.stdout_to && out == err)
      posix_spawn_file_actions_adddup2(&fa.a, STDOUT_FILENO, STDERR_FILENO);  // one file, one offset
    else
      posix_spawn_file_actions_addopen(&fa.a, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }

  // After the redirections, so that their relative paths are the caller's.
  const std::string dir = options.cwd ? options.cwd->string() : std::string();
  if (options.cwd) posix_spawn_file_actions_addchdir_np(&fa.a, dir.c_str());

  ProcessResult r;
  // The PATH lookup first, so that a missing program is told from a redirection that
  // cannot be opened (both are ENOENT from posix_spawn).
  const std::optional<std::filesystem::path> program = find_program(argv[0]);
  if (!program) {
    r.status = ProcessResult::Status::not_found;
    r.code = ENOENT;
    return r;
  }
  const std::string exe = program->string();
  pid_t pid = 0;
  // glibc reports a failed exec (or a failed redirection) of the child as the return value.
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa.a, nullptr, args.data(), environ);
  if (rc != 0) {
    r.status = ProcessResult::Status::failed;
    r.code = rc;
    return r;
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno == EINTR) continue;
    r.status = ProcessResult::Status::failed;  // e.g. ECHILD when SIGCHLD is ignored
    r.code = errno;
    return r;
  }
  if (WIFSIGNALED(st)) {
    r.status = ProcessResult::Status::signaled;
    r.code = WTERMSIG(st);
  } else {
    r.status = ProcessResult::Status::exited;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  return r;
}

std::optional<std::filesystem::path> find_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (executable_file(name)) return std::filesystem::path(name);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "/bin:/usr/bin";
  size_t b = 0;
  while (b <= dirs.size()) {
    size_t e = dirs.find(':', b);
    if (e == std::string::npos) e = dirs.size();
    const std::string dir = e == b ? "." : dirs.substr(b, e - b);  // an empty entry is the current directory
    const std::filesystem::path p = std::filesystem::path(dir) / name;
    if (executable_file(p)) return p;
    b = e + 1;
  }
  return std::nullopt;
}

std::filesystem::path program_beside_self(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / name;
}

}  // namespace lpsim
