// Network namespace lifecycle: unique per-run names that embed the creating process id, a
// process-wide registry of the namespaces this process created (deleted by SIGINT/SIGTERM handlers
// before the signal is re-raised), removal of namespaces a killed run left behind, and the RAII
// owner of one testbed's namespaces.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace natcert::harness::netns {

// "nc<pid>_<n>": the prefix of one testbed's names. Namespaces are "<prefix>-dut" and "<prefix>-h".
std::string unique_prefix();

// Parses a name this module creates; returns the embedded pid, or 0 when the name is not ours.
long owner_pid(const std::string& name);

// Names of the network namespaces in /run/netns.
std::vector<std::string> list_namespaces();

// Removes a named namespace the way `ip netns del` does (detach the bind mount, unlink the file).
// Async-signal-safe when given a ready path. Returns false when it was not there.
bool delete_namespace(const std::string& name);

// Removes every namespace ours by name whose creating process no longer exists; returns their names.
std::vector<std::string> remove_stale_namespaces();

// Registers names in the process-wide registry the signal handlers clean up (installs the handlers
// on first use). unregister after deleting.
void register_namespace(const std::string& name);
void unregister_namespace(const std::string& name);
// Deletes every registered namespace (async-signal-safe).
void cleanup_registered() noexcept;

// A DUT namespace and a harness namespace, created together and deleted together (destructor).
class NamespacePair {
 public:
  NamespacePair(std::chrono::milliseconds command_timeout);
  ~NamespacePair();
  NamespacePair(const NamespacePair&) = delete;
  NamespacePair& operator=(const NamespacePair&) = delete;

  const std::string& prefix() const { return prefix_; }
  const std::string& dut() const { return dut_; }
  const std::string& harness() const { return harness_; }
  // Deletes both now (idempotent).
  void destroy();

 private:
  std::string prefix_;
  std::string dut_;
  std::string harness_;
  bool destroyed_ = false;
};

}  // namespace natcert::harness::netns
