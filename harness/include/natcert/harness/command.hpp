// Running external commands (DUT setup/reset/teardown/diagnostics, doctor probes) with a timeout,
// optionally inside a network namespace, capturing their output. Built on Boost.Process.
//
// Guarantees:
//   - never throws (launch problems are reported in the result, e.g. "command not found: nft");
//   - never hangs: the command runs in its own process group, and when the timeout expires the whole
//     group is killed (SIGKILL) and the result says "timed out after N s";
//   - stdout and stderr are captured together (interleaved as written), bounded by max_output bytes
//     (the rest is read and discarded so the command never blocks on a full pipe);
//   - stdin is /dev/null;
//   - when the command exits, whatever it left running in its process group is killed too (unless
//     keep_background is set), and output still held open by such processes is not waited for
//     beyond a short grace period.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace natcert::harness {

struct DutProfile;
struct CommandSpec;
class Placeholders;

struct CommandOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // > 0; clamped to at least 1 ms
  std::string netns;  // non-empty: run as `ip netns exec NETNS argv...`
  std::size_t max_output = 64 * 1024;  // bytes of stdout+stderr kept
  bool keep_background = false;        // leave processes the command started in its group running
};

struct CommandResult {
  std::vector<std::string> argv;  // what was executed (with the `ip netns exec` prefix, if any)
  bool started = false;           // the program was found and launched
  bool timed_out = false;
  std::optional<int> exit_code;   // set when the process exited normally
  std::optional<int> signal;      // set when a signal ended it (SIGKILL after a timeout)
  std::string output;             // stdout and stderr, at most max_output bytes
  bool output_truncated = false;
  std::chrono::milliseconds duration{0};
  std::string error;  // one line; empty when ok(): "command not found: X", "timed out after 5 s",
                      // "exited with status 3", "killed by signal 9", "cannot start X: reason"

  bool ok() const { return started && !timed_out && exit_code && *exit_code == 0; }
  // One line for logs: "`nft list tables` in netns X: ok (12 ms)" or "...: exited with status 1 (3 ms)".
  std::string summary() const;
};

// Runs argv[0] (looked up in PATH unless it contains '/') with arguments argv[1..].
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});
// Runs `/bin/sh -c script`. Only for commands a profile explicitly allows to be shell strings.
CommandResult run_shell(std::string_view script, const CommandOptions& options = {});

// Runs one profile command: substitutes placeholders (a ProfileError is reported as the result's
// error, not thrown), uses the command's timeout, and `netns` (may be empty) as the namespace.
CommandResult run_profile_command(const DutProfile& profile, const CommandSpec& command,
                                  const Placeholders& values, const std::string& netns);

// Shell-style quoting of an argv for logs and messages: nft add rule 'ip' "a b" -> nft add rule ip 'a b'.
std::string format_argv(const std::vector<std::string>& argv);

}  // namespace natcert::harness
