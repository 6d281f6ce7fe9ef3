// run_process: an argument vector reaches the program literally (no shell), redirection,
// exit status, a missing program and a killing signal are told apart.
#include "arith/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using lpsim::find_program;
using lpsim::ProcessOptions;
using lpsim::ProcessResult;
using lpsim::run_process;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("lpsim_process_test." + std::to_string(::getpid()) + "." +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

}  // namespace

TEST_F(ProcessTest, ArgumentsArePassedLiterally) {
  // Every shell metacharacter stays inside its argument: nothing is expanded or run.
  const fs::path out = dir / "out.txt";
  const ProcessResult r =
      run_process({"printf", "[%s]\\n", "a;echo INJECTED", "b c", "$(echo X)", "'q\"", "*", "x > y"}, {{}, out, {}});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(slurp(out), "[a;echo INJECTED]\n[b c]\n[$(echo X)]\n['q\"]\n[*]\n[x > y]\n");
}

TEST_F(ProcessTest, FileNamedLikeAnInjectionIsOneFile) {
  const fs::path evil = dir / "a;echo INJECTED";
  std::ofstream(evil) << "payload\n";
  const fs::path out = dir / "cat.txt";
  const ProcessResult r = run_process({"cat", evil.string()}, {{}, out, {}});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(slurp(out), "payload\n");  // no "INJECTED", no error about a file named "a"
  EXPECT_FALSE(fs::exists(dir / "a"));
}

TEST_F(ProcessTest, OutputPathWithMetacharactersIsOneFile) {
  const fs::path out = dir / "out;echo INJECTED > pwned";
  const ProcessResult r = run_process({"echo", "hello"}, {{}, out, {}});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(slurp(out), "hello\n");
  EXPECT_FALSE(fs::exists(dir / "pwned"));
  EXPECT_FALSE(fs::exists("pwned"));
}

TEST_F(ProcessTest, StderrRedirectionAndStdin) {
  const fs::path in = dir / "in.txt", out = dir / "o.txt", err = dir / "e.txt";
  std::ofstream(in) << "from stdin\n";
  const ProcessResult r = run_process({"sh", "-c", "cat; echo to-stderr >&2"}, {in, out, err});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(slurp(out), "from stdin\n");
  EXPECT_EQ(slurp(err), "to-stderr\n");
  // One file for both streams: both lines land, in order.
  const fs::path both = dir / "both.txt";
  ASSERT_TRUE(run_process({"sh", "-c", "echo one; echo two >&2"}, {{}, both, both}).ok());
  EXPECT_EQ(slurp(both), "one\ntwo\n");
  EXPECT_TRUE(run_process({"sh", "-c", "echo quiet; echo quiet >&2"}, {"/dev/null", "/dev/null", "/dev/null"}).ok());
}

TEST_F(ProcessTest, NonZeroExit) {
  const ProcessResult r = run_process({"sh", "-c", "exit 3"});
  EXPECT_EQ(r.status, ProcessResult::Status::exited);
  EXPECT_EQ(r.code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.describe(), "exited with status 3");
  EXPECT_EQ(run_process({"false"}).code, 1);
}

TEST_F(ProcessTest, MissingProgram) {
  const ProcessResult r = run_process({"lpsim-no-such-program-4711", "x"});
  EXPECT_EQ(r.status, ProcessResult::Status::not_found);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.describe(), "not found on PATH");
  EXPECT_FALSE(find_program("lpsim-no-such-program-4711"));
  EXPECT_EQ(run_process({(dir / "missing").string()}).status, ProcessResult::Status::not_found);
  // The shell's own syntax is not a program name.
  EXPECT_EQ(run_process({"echo a; echo b"}).status, ProcessResult::Status::not_found);
}

TEST_F(ProcessTest, KilledBySignal) {
  const ProcessResult r = run_process({"sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(r.status, ProcessResult::Status::signaled);
  EXPECT_EQ(r.code, SIGKILL);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.describe().find("killed by signal 9"), std::string::npos) << r.describe();
}

TEST_F(ProcessTest, UnopenableRedirectionIsAFailureToStart) {
  const ProcessResult r = run_process({"echo", "x"}, {{}, dir / "no-such-dir" / "out.txt", {}});
  EXPECT_EQ(r.status, ProcessResult::Status::failed);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.describe().find("could not be started"), std::string::npos) << r.describe();
}

TEST_F(ProcessTest, FindProgram) {
  const auto sh = find_program("sh");
  ASSERT_TRUE(sh);
  EXPECT_TRUE(fs::exists(*sh));
  const fs::path script = dir / "tool";
  std::ofstream(script) << "#!/bin/sh\nexit 0\n";
  EXPECT_FALSE(find_program(script.string()));  // not executable yet
  fs::permissions(script, fs::perms::owner_all);
  EXPECT_EQ(find_program(script.string()), script);
  EXPECT_FALSE(find_program(dir.string()));  // a directory is not a program
}

TEST(Process, EmptyArgvIsABug) { EXPECT_THROW(run_process({}), std::invalid_argument); }
