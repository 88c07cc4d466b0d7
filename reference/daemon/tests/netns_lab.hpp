// Throw-away network namespaces for the refnat tests and benchmark: created with `ip`, named the way
// natcert's leftover sweep recognises ("nc<pid>_<n>-h", "nc<pid>_<n>-dut"), deleted in the destructor.
// Header-only so bench/ can use it too. Needs root.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace natcert::ref::testing {

inline bool running_as_root() { return ::geteuid() == 0; }

// Runs `command` through the shell, quietly; throws with the command line when it fails.
inline void shell(const std::string& command) {
  const std::string quiet = command + " >/dev/null 2>&1";
  if (std::system(quiet.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}

class NetnsLab {
 public:
  NetnsLab() = default;
  ~NetnsLab() {
    for (const auto& name : namespaces_) {
      if (std::system(("ip netns del " + name + " >/dev/null 2>&1").c_str()) != 0) {
        std::fprintf(stderr, "warning: could not delete network namespace %s\n", name.c_str());
      }
    }
  }
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  // role "h" (a host) or "dut".
  std::string add_namespace(const std::string& role) {
    static std::atomic<int> counter{0};
    const std::string name = "nc" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "-" + role;
    shell("ip netns add " + name);
    namespaces_.push_back(name);
    shell("ip -n " + name + " link set lo up");
    // No IPv6 chatter (router solicitations, DAD) on the links under test.
    in_namespace(name, [] {
      std::ofstream("/proc/sys/net/ipv6/conf/all/disable_ipv6") << "1\n";
      std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << "1\n";
    });
    return name;
  }

  // A veth pair with one end in each namespace, both up.
  void add_veth(const std::string& ns_a, const std::string& if_a, const std::string& ns_b, const std::string& if_b) {
    shell("ip link add " + if_a + " netns " + ns_a + " type veth peer name " + if_b + " netns " + ns_b);
    shell("ip -n " + ns_a + " link set " + if_a + " up");
    shell("ip -n " + ns_b + " link set " + if_b + " up");
  }

  void in(const std::string& ns, const std::string& ip_arguments) { shell("ip -n " + ns + " " + ip_arguments); }

  // Runs `body` on a new thread that entered the namespace; returns when it is done.
  static void in_namespace(const std::string& ns, const std::function<void()>& body) {
    std::exception_ptr error;
    std::thread thread([&] {
      try {
        enter(ns);
        body();
      } catch (...) {
        error = std::current_exception();
      }
    });
    thread.join();
    if (error) std::rethrow_exception(error);
  }

  // Moves the calling thread into the namespace (only this thread: CLONE_NEWNET is per thread).
  static void enter(const std::string& ns) {
    const std::string path = "/var/run/netns/" + ns;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    const int result = ::setns(fd, CLONE_NEWNET);
    ::close(fd);
    if (result != 0) throw std::runtime_error("setns into " + ns + " failed");
  }

 private:
  std::vector<std::string> namespaces_;
};

}  // namespace natcert::ref::testing
