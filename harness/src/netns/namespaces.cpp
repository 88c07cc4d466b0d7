#include "netns/namespaces.hpp"

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include "netns/process.hpp"

namespace natcert::harness::netns {
namespace {

constexpr const char* kNetnsDir = "/run/netns/";

// The registry is a fixed array so the signal handler can walk it without allocating or locking.
constexpr std::size_t kSlots = 64;
constexpr std::size_t kPathMax = 96;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 registered
  char path[kPathMax] = {};
};
std::array<Slot, kSlots> g_slots;

struct sigaction g_previous_int {};
struct sigaction g_previous_term {};
std::once_flag g_handlers_once;

void remove_path(const char* path) {
  umount2(path, MNT_DETACH);
  unlink(path);
}

void cleanup_all_registered() {
  for (auto& slot : g_slots) {
    int expected = 2;
    if (slot.state.compare_exchange_strong(expected, 1)) {
      remove_path(slot.path);
      slot.state.store(0);
    }
  }
}

void on_signal(int sig) {
  const int saved_errno = errno;
  cleanup_all_registered();
  const struct sigaction& previous = sig == SIGINT ? g_previous_int : g_previous_term;
  if ((previous.sa_flags & SA_SIGINFO) == 0 && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
      previous.sa_handler != nullptr) {
    // Someone else (e.g. the CLI) handles the signal too: let it, after the namespaces are gone.
    previous.sa_handler(sig);
    errno = saved_errno;
    return;
  }
  if ((previous.sa_flags & SA_SIGINFO) == 0 && previous.sa_handler == SIG_IGN) {
    errno = saved_errno;
    return;
  }
  signal(sig, SIG_DFL);
  raise(sig);
  errno = saved_errno;
}

void install_handlers() {
  std::call_once(g_handlers_once, [] {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &g_previous_int);
    sigaction(SIGTERM, &action, &g_previous_term);
  });
}

std::atomic<unsigned> g_counter{0};

}  // namespace

void cleanup_registered() noexcept { cleanup_all_registered(); }

std::string unique_prefix() { return "nc" + std::to_string(getpid()) + "_" + std::to_string(g_counter.fetch_add(1)); }

long owner_pid(const std::string& name) {
  if (name.size() < 4 || name.compare(0, 2, "nc") != 0) return 0;
  std::size_t i = 2;
  long pid = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && pid < 100000000) pid = pid * 10 + (name[i++] - '0');
  if (i == 2 || i >= name.size() || name[i] != '_') return 0;
  std::size_t j = ++i;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i == j) return 0;
  const std::string rest = name.substr(i);
  if (rest != "-dut" && rest != "-h") return 0;
  return pid;
}

std::vector<std::string> list_namespaces() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, ec)) out.push_back(entry.path().filename().string());
  return out;
}

bool delete_namespace(const std::string& name) {
  const std::string path = kNetnsDir + name;
  if (access(path.c_str(), F_OK) != 0) return false;
  remove_path(path.c_str());
  return true;
}

std::vector<std::string> remove_stale_namespaces() {
  std::vector<std::string> removed;
  for (const auto& name : list_namespaces()) {
    const long pid = owner_pid(name);
    if (pid <= 0) continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    if (delete_namespace(name)) removed.push_back(name);
  }
  return removed;
}

void register_namespace(const std::string& name) {
  install_handlers();
  const std::string path = kNetnsDir + name;
  if (path.size() >= kPathMax) throw std::runtime_error("namespace name too long: " + name);
  for (auto& slot : g_slots) {
    int expected = 0;
    if (slot.state.compare_exchange_strong(expected, 1)) {
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.state.store(2);
      return;
    }
  }
  throw std::runtime_error("too many network namespaces registered in this process");
}

void unregister_namespace(const std::string& name) {
  const std::string path = kNetnsDir + name;
  for (auto& slot : g_slots) {
    int expected = 2;
    if (slot.state.compare_exchange_strong(expected, 1)) {
      if (path == slot.path) {
        slot.path[0] = '\0';
        slot.state.store(0);
      } else {
        slot.state.store(2);
      }
    }
  }
}

NamespacePair::NamespacePair(std::chrono::milliseconds command_timeout) : prefix_(unique_prefix()) {
  dut_ = prefix_ + "-dut";
  harness_ = prefix_ + "-h";
  // Registered before creation: a signal between `ip netns add` and registration must not leak it.
  register_namespace(dut_);
  register_namespace(harness_);
  try {
    run_checked({"ip", "netns", "add", dut_}, command_timeout, "creating the DUT namespace");
    run_checked({"ip", "netns", "add", harness_}, command_timeout, "creating the harness namespace");
  } catch (...) {
    destroy();
    throw;
  }
}

NamespacePair::~NamespacePair() { destroy(); }

void NamespacePair::destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  delete_namespace(dut_);
  delete_namespace(harness_);
  unregister_namespace(dut_);
  unregister_namespace(harness_);
}

}  // namespace natcert::harness::netns
