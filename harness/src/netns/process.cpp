#include "netns/process.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natcert/harness/netns_testbed.hpp"

namespace natcert::harness::netns {

std::string command_line(const Argv& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    const bool plain = !arg.empty() && arg.find_first_of(" \t\"'{};$\\|&<>*") == std::string::npos;
    line += plain ? arg : "'" + arg + "'";
  }
  return line;
}

Argv in_namespace(const std::string& ns, const Argv& argv) {
  Argv out{"ip", "netns", "exec", ns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

CommandResult run_command(const Argv& argv, std::chrono::milliseconds timeout) {
  if (argv.empty()) throw std::runtime_error("empty command");
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    if (devnull >= 0) close(devnull);
    throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    execvp(args[0], args.data());
    static const char message[] = "exec failed: command not found or not executable\n";
    ssize_t ignored = write(2, message, sizeof message - 1);
    (void)ignored;
    _exit(127);
  }
  close(pipe_fds[1]);
  if (devnull >= 0) close(devnull);

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: every writer (the child and its descendants) closed the pipe
    if (result.output.size() < (1u << 20)) result.output.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  if (result.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, 0) >= 0) break;
    if (errno != EINTR) break;
  }
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
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
