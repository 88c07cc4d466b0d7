// A long-running DUT process (the reference NAT daemon) with a line-based control channel on its
// stdin/stdout (Boost.Process, pipes): a "ready ..." line once it runs, then request/reply lines.
// Its stderr goes to a log file whose tail is quoted when it fails. Never hangs: every read has a
// deadline; stop() asks it to quit, then SIGTERM, then SIGKILL to its process group.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "netns/process.hpp"

namespace natcert::harness::netns {

class ControlledProcess {
 public:
  // Starts argv[0] (looked up in PATH) with stdin/stdout on pipes and stderr appended to `log_file`.
  // Throws NetnsError when it cannot start.
  ControlledProcess(const Argv& argv, std::filesystem::path log_file);
  ~ControlledProcess();
  ControlledProcess(const ControlledProcess&) = delete;
  ControlledProcess& operator=(const ControlledProcess&) = delete;

  // Waits for the first stdout line starting with "ready"; returns it. Throws NetnsError naming the
  // command, with its stderr tail, when it exits first or `timeout` passes (then it is stopped).
  std::string wait_ready(std::chrono::milliseconds timeout);
  // Sends one command line and returns the first reply line starting with `reply_prefix`; nullopt
  // (with `problem` set) when it does not come within `timeout` or the process is gone.
  std::optional<std::string> request(const std::string& line, std::string_view reply_prefix,
                                     std::chrono::milliseconds timeout, std::string& problem);
  // Why it is no longer running ("exited with status 1; its stderr ends: ..."), nullopt while it runs.
  std::optional<std::string> failure();
  // "quit", up to 2 s to exit, then SIGTERM (1 s), then SIGKILL. Idempotent.
  void stop();
  std::string stderr_tail(std::size_t max_bytes = 1500) const;
  const Argv& argv() const { return argv_; }
  const std::filesystem::path& log_file() const { return log_file_; }

  struct Child;  // Boost.Process state

 private:
  // Next stdout line before `deadline`; nullopt on timeout or EOF (`eof` tells which).
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline, bool& eof);
  bool write_line(const std::string& line);
  bool wait_exit(std::chrono::milliseconds timeout);
  std::string exit_text() const;

  Argv argv_;
  std::filesystem::path log_file_;
  std::unique_ptr<Child> child_;
  int to_child_ = -1;    // its stdin
  int from_child_ = -1;  // its stdout
  std::string pending_;  // stdout read but not yet returned as a line
  std::mutex mutex_;        // one request at a time
  std::mutex state_mutex_;  // exited_/status_: sessions ask for failure() from any thread
  bool exited_ = false;
  int status_ = 0;  // raw wait status once exited_
  bool stopped_ = false;
};

}  // namespace natcert::harness::netns
