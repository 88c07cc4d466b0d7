#include "netns/process.hpp"

#include <stdexcept>

#include "natcert/harness/command.hpp"
#include "natcert/harness/netns_testbed.hpp"

namespace natcert::harness::netns {

std::string command_line(const Argv& argv) { return format_argv(argv); }

Argv in_namespace(const std::string& ns, const Argv& argv) {
  Argv out{"ip", "netns", "exec", ns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// The testbed's commands go through the harness's one command runner (Boost.Process, process group,
// timeout); this keeps the small result shape the namespace code was written against.
CommandResult run_command(const Argv& argv, std::chrono::milliseconds timeout) {
  if (argv.empty()) throw std::runtime_error("empty command");
  CommandOptions options;
  options.timeout = timeout;
  options.max_output = std::size_t{1} << 20;
  const harness::CommandResult ran = harness::run_command(argv, options);
  CommandResult result;
  result.timed_out = ran.timed_out;
  result.output = ran.output;
  if (!ran.started) {
    // As a shell would report it: status 127 with the reason, so callers see a failed command.
    result.exit_code = 127;
    result.output += ran.error + "\n";
  } else if (!ran.timed_out && ran.exit_code) {
    result.exit_code = *ran.exit_code;
  }
  return result;
}

CommandResult run_checked(const Argv& argv, std::chrono::milliseconds timeout, const std::string& purpose) {
  CommandResult result = run_command(argv, timeout);
  if (result.ok()) return result;
  std::string status = result.timed_out ? "timed out after " + std::to_string(timeout.count()) + " ms"
                                        : "exited with status " + std::to_string(result.exit_code);
  std::string output = result.output;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  throw NetnsError(purpose + ": command `" + command_line(argv) + "` " + status +
                   (output.empty() ? std::string(" (no output)") : ": " + output));
}

}  // namespace natcert::harness::netns
