// huddle-server's configuration: flags, HUDDLE_* environment variables and a --config file, with
// that precedence; --print-config shows each effective value and where it came from; a bad
// source is refused with exit status 2 (issue #8).
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/shell.hpp"
#include "tests/support/test_server.hpp"

#ifndef HUDDLE_SERVER_BINARY
#error "HUDDLE_SERVER_BINARY must be defined by the build"
#endif

namespace huddle::testing {
namespace {

// `env` is prepended to the command line (VAR=value ...).
ShellRun server(const std::string& env, const std::string& args) {
  return run_shell(env + " " + HUDDLE_SERVER_BINARY + " " + args);
}

TEST(Config, FlagsBeatTheEnvironmentWhichBeatsTheFileWhichBeatsDefaults) {
  TempDir dir;
  const auto file = (dir.path() / "huddle.ini").string();
  std::ofstream(file) << "# Huddle\nlisten = 127.0.0.1:9999\ndurability = wal\nthreads = 2\n"
                         "log-level = warn\n";
  const auto r = server("HUDDLE_THREADS=3 HUDDLE_EPHEMERAL=true",
                        "--config " + file + " --log-level debug --print-config");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("listen = 127.0.0.1:9999  # config file " + file), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("durability = wal  # config file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("threads = 3  # environment"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ephemeral = true  # environment"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("log-level = debug  # flag"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("data-dir = ./data  # default"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("room-idle-seconds = 300  # default"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max-ideas = 2000  # default"), std::string::npos) << r.out;
}

TEST(Config, BadSourcesAreRefusedWithStatusTwoAndAOneLineReason) {
  TempDir dir;
  const auto file = (dir.path() / "bad.ini").string();
  std::ofstream(file) << "bogus = 1\n";
  auto r = server("", "--config " + file + " --print-config");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bogus"), std::string::npos) << r.out;
  r = server("", "--config " + (dir.path() / "missing.ini").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cannot read"), std::string::npos) << r.out;
  r = server("HUDDLE_DURABILITY=fast", "--print-config");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("durability is sync or wal"), std::string::npos) << r.out;
  r = server("", "--threads many --print-config");
  EXPECT_EQ(r.status, 2);
  r = server("", "--max-ideas 0 --print-config");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("max-ideas is 1..100000"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace huddle::testing
