// Command runner on Boost.Process: own process group, merged bounded output, timeout with group kill.
#include "natcert/harness/command.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>

#include "natcert/harness/dut_profile.hpp"

namespace natcert::harness {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

namespace {

bool needs_quoting(const std::string& arg) {
  if (arg.empty()) return true;
  for (char c : arg) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == ',' || c == '=' ||
                       c == '+' || c == '@' || c == '%';
    if (!plain) return true;
  }
  return false;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g s", static_cast<double>(ms.count()) / 1000.0);
  return buffer;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Resolves a program like execvp would; empty when not found.
std::string resolve_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return is_executable_file(program) ? program : std::string();
  try {
    const boost::filesystem::path found = bp::search_path(program);
    if (!found.empty() && is_executable_file(found.string())) return found.string();
  } catch (...) {
  }
  // PATH may lack the sbin directories when natcert runs from a user shell under sudo.
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    const std::string candidate = std::string(dir) + "/" + program;
    if (is_executable_file(candidate)) return candidate;
  }
  return {};
}

void finish(CommandResult& result, Clock::time_point start) {
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

std::string format_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    if (!needs_quoting(arg)) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'') {
        out += "'\\''";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

std::string CommandResult::summary() const {
  std::string out = "`" + format_argv(argv) + "`: ";
  out += ok() ? std::string("ok") : error;
  out += " (" + std::to_string(duration.count()) + " ms)";
  return out;
}

CommandResult run_command(const std::vector<std::string>& argv_in, const CommandOptions& options) {
  const auto start = Clock::now();
  CommandResult result;
  try {
    if (argv_in.empty() || argv_in.front().empty()) {
      result.error = "empty command";
      return result;
    }
    std::vector<std::string> argv;
    if (!options.netns.empty()) argv = {"ip", "netns", "exec", options.netns};
    argv.insert(argv.end(), argv_in.begin(), argv_in.end());
    result.argv = argv;

    // Check the program (and, in a namespace, the inner program: ip netns exec uses the same PATH).
    const std::string program = resolve_program(argv.front());
    if (program.empty()) {
      result.error = "command not found: " + argv.front();
      finish(result, start);
      return result;
    }
    if (!options.netns.empty() && resolve_program(argv_in.front()).empty()) {
      result.error = "command not found: " + argv_in.front();
      finish(result, start);
      return result;
    }

    const auto timeout = std::max(options.timeout, std::chrono::milliseconds(1));
    const auto deadline = start + timeout;
    const std::size_t limit = options.max_output;

    boost::asio::io_context io;
    bp::async_pipe pipe(io);
    bp::group group;
    std::error_code launch_error;
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    bp::child child(program, bp::args(args), (bp::std_out & bp::std_err) > pipe, bp::std_in < bp::null, group,
                    launch_error);
    if (launch_error || !child.valid()) {
      result.error = "cannot start " + argv.front() + ": " + launch_error.message();
      if (!options.keep_background) group.detach();
      finish(result, start);
      return result;
    }
    result.started = true;
    if (options.keep_background) group.detach();

    // Reads until EOF; keeps at most `limit` bytes, discards the rest.
    std::array<char, 4096> buffer{};
    bool eof = false;
    std::function<void()> read_more = [&]() {
      pipe.async_read_some(boost::asio::buffer(buffer), [&](const boost::system::error_code& ec, std::size_t n) {
        if (n > 0) {
          const std::size_t room = limit > result.output.size() ? limit - result.output.size() : 0;
          result.output.append(buffer.data(), std::min(room, n));
          if (n > room) result.output_truncated = true;
        }
        if (ec) {
          eof = true;
          return;
        }
        read_more();
      });
    };
    read_more();

    constexpr auto step = std::chrono::milliseconds(10);
    constexpr auto grace = std::chrono::milliseconds(200);  // for output after exit
    bool exited = false;
    Clock::time_point exited_at{};
    // Bounded: each iteration takes at least ~`step` unless the run is complete, and the deadline
    // (plus the grace period) ends the loop.
    const std::size_t max_iterations =
        static_cast<std::size_t>((timeout + grace) / std::chrono::milliseconds(1)) + 1000;
    for (std::size_t i = 0; i < max_iterations; ++i) {
      io.restart();
      io.run_for(step);
      if (!exited) {
        std::error_code ec;
        if (!child.running(ec)) {
          exited = true;
          exited_at = Clock::now();
        }
      }
      const auto now = Clock::now();
      if (exited && (eof || now - exited_at >= grace)) break;
      if (!exited && now >= deadline) {
        result.timed_out = true;
        std::error_code ec;
        group.terminate(ec);             // SIGKILL to the whole process group
        ::kill(child.id(), SIGKILL);     // in case it left the group; reaped below with its status
        break;
      }
      if (exited && now >= deadline + grace) break;
      if (eof) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // nothing left to read
    }
    if (!exited) {
      // Reap the killed child (bounded: SIGKILL'ed processes go away at once).
      for (int i = 0; i < 200; ++i) {
        std::error_code ec;
        if (!child.running(ec)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    {
      boost::system::error_code ignored;
      pipe.close(ignored);
      io.restart();
      io.poll();  // let the aborted read complete so nothing refers to this frame
    }
    const int status = child.native_exit_code();
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
    }
    if (!options.keep_background) {
      std::error_code ec;
      group.terminate(ec);  // whatever the command left behind in its group
      group.detach();
    }
    finish(result, start);
    if (result.timed_out) {
      result.error = "timed out after " + seconds_text(timeout);
    } else if (result.exit_code && *result.exit_code != 0) {
      result.error = "exited with status " + std::to_string(*result.exit_code);
      // `ip netns exec` reports a missing namespace or program with status 255 and one line.
      if (!options.netns.empty() && *result.exit_code == 255 && !result.output.empty()) {
        std::string first = result.output.substr(0, result.output.find('\n'));
        result.error += ": " + first;
      }
    } else if (result.signal) {
      result.error = "killed by signal " + std::to_string(*result.signal);
    } else if (!result.exit_code) {
      result.error = "exit status unavailable";
    }
    return result;
  } catch (const std::exception& e) {
    result.error = std::string("cannot run command: ") + e.what();
  } catch (...) {
    result.error = "cannot run command: unknown error";
  }
  finish(result, start);
  return result;
}

CommandResult run_shell(std::string_view script, const CommandOptions& options) {
  return run_command({"/bin/sh", "-c", std::string(script)}, options);
}

CommandResult run_profile_command(const DutProfile& profile, const CommandSpec& command,
                                  const Placeholders& values, const std::string& netns) {
  std::vector<std::string> argv;
  try {
    argv = expand_command(profile, command, values);
  } catch (const std::exception& e) {
    CommandResult result;
    result.argv = command.shell ? std::vector<std::string>{"/bin/sh", "-c", *command.shell} : command.argv;
    result.error = e.what();
    return result;
  }
  CommandOptions options;
  options.netns = netns;
  const double ms = std::ceil(command.timeout_seconds * 1000.0);
  options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, ms)));
  return run_command(argv, options);
}

}  // namespace natcert::harness
