// Running external commands (ip, nft, conntrack, sysctl) for the namespace testbed: a thin shape over
// the harness command runner (command.hpp). Never goes through a shell.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace natcert::harness::netns {

using Argv = std::vector<std::string>;

struct CommandResult {
  int exit_code = -1;       // exit status; -1 when it did not exit normally (signal, timeout, exec failure)
  bool timed_out = false;
  std::string output;       // stdout and stderr, interleaved
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null, killing its process group after
// `timeout`. Never throws for a failing command; throws std::runtime_error when it cannot start one.
CommandResult run_command(const Argv& argv, std::chrono::milliseconds timeout);

// Runs the command and throws NetnsError (with the command line, its status and output) unless it succeeds.
CommandResult run_checked(const Argv& argv, std::chrono::milliseconds timeout, const std::string& purpose);

// "ip netns exec ns ..." as argv.
Argv in_namespace(const std::string& ns, const Argv& argv);

// Quoted, shell-like command line for messages.
std::string command_line(const Argv& argv);

}  // namespace natcert::harness::netns
