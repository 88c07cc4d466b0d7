#include "netns/controlled_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>

#include "natcert/harness/wire_dut_config.hpp"

namespace natcert::harness::netns {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

struct ControlledProcess::Child {
  bp::pipe to_child;
  bp::pipe from_child;
  bp::group group;
  bp::child child;
};

namespace {

std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
  try {
    const auto found = bp::search_path(program);
    if (!found.empty()) return found.string();
  } catch (...) {
  }
  for (const char* dir : {"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::string candidate = std::string(dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// A write to a process that just died must fail with EPIPE, not kill natcert.
void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

ControlledProcess::ControlledProcess(const Argv& argv, std::filesystem::path log_file)
    : argv_(argv), log_file_(std::move(log_file)) {
  if (argv_.empty()) throw NetnsError("the DUT process has an empty command");
  ignore_sigpipe_once();
  const std::string program = find_program(argv_.front());
  if (program.empty()) throw NetnsError("starting the DUT process `" + command_line(argv_) + "`: command not found: " + argv_.front());
  child_ = std::make_unique<Child>();
  // Our ends must not leak into other commands we run (a leaked stdin end would hide EOF from it).
  for (int fd : {child_->to_child.native_sink(), child_->to_child.native_source(), child_->from_child.native_sink(),
                 child_->from_child.native_source()}) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  std::error_code error;
  const std::vector<std::string> args(argv_.begin() + 1, argv_.end());
  child_->child = bp::child(program, bp::args(args), bp::std_in < child_->to_child, bp::std_out > child_->from_child,
                            bp::std_err > log_file_.string(), child_->group, error);
  if (error || !child_->child.valid()) {
    throw NetnsError("starting the DUT process `" + command_line(argv_) + "`: " + error.message());
  }
  to_child_ = child_->to_child.native_sink();
  from_child_ = child_->from_child.native_source();
  fcntl(from_child_, F_SETFL, fcntl(from_child_, F_GETFL) | O_NONBLOCK);
}

ControlledProcess::~ControlledProcess() {
  try {
    stop();
  } catch (...) {
  }
}

std::string ControlledProcess::stderr_tail(std::size_t max_bytes) const {
  std::ifstream in(log_file_, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return trimmed(text);
}

std::string ControlledProcess::exit_text() const {
  std::string out;
  if (WIFEXITED(status_)) {
    out = "exited with status " + std::to_string(WEXITSTATUS(status_));
  } else if (WIFSIGNALED(status_)) {
    out = "was killed by signal " + std::to_string(WTERMSIG(status_));
  } else {
    out = "exited";
  }
  const std::string tail = stderr_tail();
  out += tail.empty() ? std::string(" (no output on stderr)") : "; its stderr: " + tail;
  return out;
}

std::optional<std::string> ControlledProcess::failure() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!exited_ && child_) {
    std::error_code ec;
    if (!child_->child.running(ec)) {
      exited_ = true;
      status_ = child_->child.native_exit_code();
    }
  }
  if (!exited_) return std::nullopt;
  return "the DUT process `" + command_line(argv_) + "` " + exit_text();
}

std::optional<std::string> ControlledProcess::read_line(Clock::time_point deadline, bool& eof) {
  eof = false;
  for (;;) {
    const auto newline = pending_.find('\n');
    if (newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      return trimmed(std::move(line));
    }
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{from_child_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 200)));
    if (ready < 0 && errno != EINTR) return std::nullopt;
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(from_child_, buffer, sizeof buffer);
    if (n > 0) {
      if (pending_.size() < (1u << 20)) pending_.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      eof = true;
      return std::nullopt;
    }
    if (errno != EAGAIN && errno != EINTR) {
      eof = true;
      return std::nullopt;
    }
  }
}

bool ControlledProcess::write_line(const std::string& line) {
  const std::string text = line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(to_child_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string ControlledProcess::wait_ready(std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    bool eof = false;
    auto line = read_line(deadline, eof);
    if (line && line->rfind("ready", 0) == 0) return *line;
    if (line) continue;  // chatter before the ready line
    std::string why;
    if (eof) {
      wait_exit(std::chrono::milliseconds(2000));
      if (auto failed = failure()) {
        why = *failed;
      } else {
        why = "the DUT process `" + command_line(argv_) + "` closed its stdout before printing its ready line";
      }
    } else {
      why = "the DUT process `" + command_line(argv_) + "` printed no ready line within " +
            std::to_string(timeout.count()) + " ms";
      if (auto failed = failure()) why = *failed;
      else {
        const std::string tail = stderr_tail();
        if (!tail.empty()) why += "; its stderr: " + tail;
      }
    }
    throw NetnsError(why);
  }
}

std::optional<std::string> ControlledProcess::request(const std::string& line, std::string_view reply_prefix,
                                                      std::chrono::milliseconds timeout, std::string& problem) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto failed = failure()) {
    problem = *failed;
    return std::nullopt;
  }
  if (!write_line(line)) {
    problem = "cannot write \"" + line + "\" to the DUT process: " + std::strerror(errno);
    return std::nullopt;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    bool eof = false;
    auto reply = read_line(deadline, eof);
    if (reply && reply->rfind(reply_prefix, 0) == 0) return reply;
    if (reply) continue;  // an unrelated line (e.g. a late reply to an earlier request)
    if (eof) {
      wait_exit(std::chrono::milliseconds(500));
      problem = failure().value_or("the DUT process closed its stdout");
    } else {
      problem = "no \"" + std::string(reply_prefix) + "\" reply from the DUT process to \"" + line + "\" within " +
                std::to_string(timeout.count()) + " ms";
    }
    return std::nullopt;
  }
}

bool ControlledProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (failure()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ControlledProcess::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_ || !child_) return;
  stopped_ = true;
  if (!failure()) {
    write_line("quit");
    ::close(to_child_);  // EOF means quit as well
    to_child_ = -1;
    child_->to_child.assign_sink(-1);
    if (!wait_exit(std::chrono::milliseconds(2000))) {
      ::kill(child_->child.id(), SIGTERM);
      if (!wait_exit(std::chrono::milliseconds(1000))) {
        std::error_code ec;
        child_->group.terminate(ec);  // SIGKILL to its whole process group
        ::kill(child_->child.id(), SIGKILL);
        wait_exit(std::chrono::milliseconds(2000));
      }
    }
  }
  std::error_code ec;
  child_->group.terminate(ec);  // anything it left behind
  child_->group.detach();
}

}  // namespace natcert::harness::netns
