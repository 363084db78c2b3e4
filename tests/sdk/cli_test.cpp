// The `huddle` command-line client driven as a user would: a real server on loopback, the CLI
// binary run through a shell, its output and exit status checked.
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "huddle/v1/event.pb.h"
#include "tests/support/shell.hpp"
#include "tests/support/test_server.hpp"

#ifndef HUDDLE_BOT_BINARY
#error "HUDDLE_BOT_BINARY must be defined by the build"
#endif
#ifndef HUDDLE_CLI_BINARY
#error "HUDDLE_CLI_BINARY must be defined by the build"
#endif

namespace huddle::testing {
namespace {

using Run = ShellRun;

// Runs `command ARGS` (each argument quoted).
Run shell(std::string cmd, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    cmd += " " + shell_quote(a);
  }
  return run_shell(cmd);
}

// Runs `huddle --url ws://127.0.0.1:PORT/ws ARGS`.
Run huddle(std::uint16_t port, const std::vector<std::string>& args) {
  return shell(
      std::string(HUDDLE_CLI_BINARY) + " --url ws://127.0.0.1:" + std::to_string(port) + "/ws",
      args);
}

TEST(Cli, ABrainstormFromTheCommandLine) {
  TestServer server;
  const auto port = server.port();
  auto r = huddle(port, {"--name", "Ann", "create", "q4", "--goal", "Grow the pipeline"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "created q4\n");
  EXPECT_EQ(huddle(port, {"--name", "Ann", "create", "q4"}).status, 1);  // ROOM_EXISTS

  r = huddle(port, {"--name", "Bob", "idea", "q4", "Bundle onboarding"});
  ASSERT_EQ(r.status, 0) << r.out;
  const auto idea = r.lines().back();  // The id is the last line.
  ASSERT_FALSE(idea.empty());
  EXPECT_EQ(idea.find_first_not_of("0123456789"), std::string::npos) << idea;

  ASSERT_EQ(huddle(port, {"--name", "Ann", "phase", "q4", "vote"}).status, 0);
  for (int i = 0; i < 5; ++i) {
    r = huddle(port, {"--name", "Bob", "vote", "q4", idea});
    ASSERT_EQ(r.status, 0) << r.out;
  }
  EXPECT_NE(r.out.find("0 votes left"), std::string::npos) << r.out;
  r = huddle(port, {"--name", "Bob", "vote", "q4", idea});  // Past the budget of 5.
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("ERROR_CODE_VOTE_BUDGET_EXCEEDED"), std::string::npos) << r.out;
  EXPECT_EQ(r.lines().size(), 1U) << "one-line message";

  r = huddle(port, {"--name", "Ann", "action", "q4", "Price sheet", "--owner", "bob", "--due",
                    "2026-12-04", "--idea", idea});
  ASSERT_EQ(r.status, 0) << r.out;

  // tail --json: one proto3 JSON Event a line, in order, ending at the head.
  r = huddle(port, {"--name", "Ann", "tail", "q4", "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  std::uint64_t prev = 0;
  int votes = 0;
  for (const auto& line : r.lines()) {
    v1::Event e;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
    EXPECT_EQ(e.prev_seq(), prev);
    prev = e.seq();
    votes += e.has_vote_cast() ? 1 : 0;
  }
  EXPECT_EQ(votes, 5);
  r = huddle(port, {"--name", "Ann", "tail", "q4", "--since", std::to_string(prev - 1)});
  ASSERT_EQ(r.lines().size(), 1U) << r.out;
  EXPECT_NE(r.out.find("created action"), std::string::npos) << r.out;

  r = huddle(port, {"--name", "Ann", "export", "q4", "--format", "md"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("**Bundle onboarding** (5 votes) by Bob"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Price sheet: Bob, due 2026-12-04"), std::string::npos) << r.out;

  r = huddle(port, {"rooms"});
  EXPECT_EQ(r.out, "q4\tq4\n");

  // The SDK's example bot posts the summary of the vote to the chat.
  r = shell(HUDDLE_BOT_BINARY, {"ws://127.0.0.1:" + std::to_string(port) + "/ws", "q4", "1"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "Top ideas: 1. Bundle onboarding (5 votes)\n");
  r = huddle(port, {"tail", "q4", "--since", std::to_string(prev + 1)});
  EXPECT_NE(r.out.find("Summary Bot says: Top ideas: 1. Bundle onboarding (5 votes)"),
            std::string::npos)
      << r.out;
}

TEST(Cli, BadUsageAndAnUnreachableServerExitWithTwo) {
  EXPECT_EQ(huddle(1, {"frobnicate"}).status, 2);
  const auto r = huddle(1, {"--timeout", "2", "rooms"});  // Port 1 on loopback: nothing listens.
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no answer"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace huddle::testing
