// natcert refnat: runs the reference NAT as a userspace NAT between two interfaces (the namespace
// testbed starts it in its DUT namespace). Optional line protocol on stdin/stdout (--control stdio):
// "ready ..." once forwarding, then "reset" -> "ok reset", "stats" -> "stats k=v ...", "quit"/EOF.
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common.hpp"
#include "natcert/reference/daemon.hpp"

namespace natcert::cli {
namespace {

constexpr const char* refnat_footer = R"(Exit codes:
  0  stopped by SIGINT or SIGTERM (or by "quit" or end of input with --control stdio)
  2  usage or setup error: bad option, address or SPEC, unknown interface, missing privilege
  3  the data path failed while running (a socket error)

SIGHUP forgets all NAT state. With --control stdio, stdout carries one "ready inside-mac=.. outside-mac=.."
line, then one reply line per command: reset -> "ok reset", stats -> "stats key=value ...", quit.
The interfaces must carry no IPv4 address: the daemon answers ARP for its addresses itself.
See docs/reference-model.md, "The reference NAT daemon".)";

struct RefnatOptions {
  std::string inside_interface;
  std::string outside_interface;
  std::string inside;
  std::vector<std::string> outside;
  std::string gateway;
  std::string spec = "rfc-strict";
  std::string control;
};

struct Prefixed {
  ref::Ipv4Address address = 0;
  unsigned length = 0;
};

Prefixed parse_prefixed(const std::string& option, const std::string& text) {
  const auto slash = text.find('/');
  const auto bad = [&](const std::string& why) { return UsageError(option + " " + text + ": " + why); };
  if (slash == std::string::npos) throw bad("expected ADDRESS/PREFIX (e.g. 10.0.0.1/24)");
  const auto address = ref::parse_ipv4_address(std::string_view(text).substr(0, slash));
  if (!address || *address == 0) throw bad("not an IPv4 address");
  const std::string length = text.substr(slash + 1);
  if (length.empty() || length.size() > 2 || length.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(length) > 32) {
    throw bad("the prefix length must be 0 to 32");
  }
  return Prefixed{*address, static_cast<unsigned>(std::stoul(length))};
}

ref::DaemonConfig daemon_config(const RefnatOptions& options) {
  ref::DaemonConfig config;
  config.inside_interface = options.inside_interface;
  config.outside_interface = options.outside_interface;
  const auto inside = parse_prefixed("--inside", options.inside);
  config.inside_address = inside.address;
  config.inside_prefix = inside.length;
  for (const auto& text : options.outside) {
    const auto outside = parse_prefixed("--outside", text);
    if (!config.outside_addresses.empty() && outside.length != config.outside_prefix) {
      throw UsageError("--outside " + text + ": every outside address must have the same prefix length");
    }
    config.outside_addresses.push_back(outside.address);
    config.outside_prefix = outside.length;
  }
  if (!options.gateway.empty()) {
    const auto gateway = ref::parse_ipv4_address(options.gateway);
    if (!gateway || *gateway == 0) throw UsageError("--gateway " + options.gateway + ": not an IPv4 address");
    config.gateway = *gateway;
  }
  config.nat_spec = options.spec;
  return config;
}

void reply(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

// Handles one control line; returns false on "quit".
bool handle_command(ref::Daemon& daemon, const std::string& line) {
  const std::string command = trimmed(line);
  if (command.empty()) return true;
  if (command == "quit") return false;
  if (command == "reset") {
    reply(daemon.reset_and_wait() ? "ok reset" : "error reset timed out");
  } else if (command == "stats") {
    reply("stats " + ref::format_stats(daemon.stats()));
  } else {
    reply("error unknown command \"" + reports::one_line(command) + "\"");
  }
  return true;
}

int run_refnat(const RefnatOptions& options) {
  const bool stdio = options.control == "stdio";
  std::unique_ptr<ref::Daemon> daemon;
  try {
    daemon = std::make_unique<ref::Daemon>(daemon_config(options));
  } catch (const ref::DaemonError& e) {
    throw UsageError(e.what());
  }

  // Signals arrive on a signalfd read by this thread; the data-path thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  const int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  const int finished_fd = ::eventfd(0, EFD_CLOEXEC);
  if (signal_fd < 0 || finished_fd < 0) throw std::runtime_error(std::string("signalfd/eventfd: ") + std::strerror(errno));

  std::string run_error;
  std::thread data_path([&] {
    try {
      daemon->run();
    } catch (const std::exception& e) {
      run_error = e.what();
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(finished_fd, &one, sizeof one);
  });

  std::fprintf(stderr, "%s\n", daemon->startup_line().c_str());
  if (!daemon->wait_running()) run_error = "the data path did not start";
  if (stdio && run_error.empty()) reply("ready inside-mac=" + daemon->inside_mac() + " outside-mac=" + daemon->outside_mac());

  std::string input;
  bool running = run_error.empty();
  while (running) {
    pollfd fds[3] = {{signal_fd, POLLIN, 0}, {finished_fd, POLLIN, 0}, {stdio ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) break;  // the data path ended on its own (an error)
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_signo == SIGHUP) {
          daemon->request_reset();
          std::fprintf(stderr, "natcert refnat: SIGHUP: NAT state reset\n");
        } else {
          running = false;
        }
      }
    }
    if (running && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buffer[4096];
      const auto got = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (got <= 0) break;  // end of input
      input.append(buffer, static_cast<std::size_t>(got));
      for (auto newline = input.find('\n'); running && newline != std::string::npos; newline = input.find('\n')) {
        running = handle_command(*daemon, input.substr(0, newline));
        input.erase(0, newline + 1);
      }
      if (input.size() > 65536) input.clear();  // no newline in sight: not a command
    }
  }
  daemon->stop();
  data_path.join();
  ::close(signal_fd);
  ::close(finished_fd);
  std::fprintf(stderr, "natcert refnat: stopped; %s\n", ref::format_stats(daemon->stats()).c_str());
  if (!run_error.empty()) {
    std::fprintf(stderr, "natcert refnat: %s\n", reports::one_line(run_error).c_str());
    return exit_incomplete;
  }
  return exit_ok;
}

}  // namespace

Command add_refnat(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "refnat", "Run the reference NAT as a userspace NAT between two interfaces (AF_PACKET; needs root)");
  auto options = std::make_shared<RefnatOptions>();
  app->add_option("--inside-if", options->inside_interface, "Inside interface (no IPv4 address on it)")->required();
  app->add_option("--outside-if", options->outside_interface, "Outside interface (no IPv4 address on it)")->required();
  app->add_option("--inside", options->inside, "The NAT's inside ADDRESS/PREFIX, e.g. 10.0.0.1/24")->required();
  app->add_option("--outside", options->outside,
                  "An outside ADDRESS/PREFIX (repeatable; all form the external pool), e.g. 203.0.113.1/24")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--gateway", options->gateway, "Outside next hop for off-link destinations (default: all on-link)");
  app->add_option("--config", options->spec, "SPEC: PRESET[,key=value...] as for --dut reference:SPEC")
      ->capture_default_str();
  app->add_option("--control", options->control, "Line commands on stdin, replies on stdout")
      ->check(CLI::IsMember({"stdio"}));
  app->footer(refnat_footer);
  return Command{app, [options] { return run_refnat(*options); }};
}

}  // namespace natcert::cli
