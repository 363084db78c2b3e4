// Runs a command line through /bin/sh, as a user at a terminal would, for tests of the binaries
// (huddle-server's configuration, the huddle CLI, the example bot).
#pragma once

#include <string>
#include <vector>

namespace huddle::testing {

struct ShellRun {
  int status = -1;  // Exit status; -1 if it could not run or was killed by a signal.
  std::string out;  // stdout and stderr, interleaved.
  [[nodiscard]] std::vector<std::string> lines() const;
};

// `command_line` is passed to the shell as written (quote arguments yourself); stderr joins
// stdout.
ShellRun run_shell(const std::string& command_line);

// Single-quotes `arg` for the shell.
std::string shell_quote(const std::string& arg);

}  // namespace huddle::testing
