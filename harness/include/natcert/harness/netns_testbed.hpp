// The namespace testbed: a real DUT (typically a Linux NAT configured by a profile's commands) in a
// network namespace natcert creates, reached over veth pairs whose harness ends sit in a second,
// harness-owned namespace. The emulated hosts live at L2 on those ends: natcert answers ARP for every
// emulated address and the ends carry no kernel IPv4 configuration, so the kernel never answers for an
// emulated host. Injection and capture use AF_PACKET; captures are demultiplexed to the session that
// owns the packet's ports, so tests run concurrently against the one DUT; a pcap is written per side.
//
//   inside hosts 10.0.0.10, .11            DUT namespace                 upstream router 203.0.113.254
//   (harness ns, "h-in")  <--veth-->  in0 10.0.0.1/24                    outside hosts 198.51.100.10, .11
//                                     out0 203.0.113.1/24  <--veth-->   third party 192.0.2.50
//                                     default via 203.0.113.254          (harness ns, "h-out")
//
// Names are unique per run: "nc<pid>_<n>-dut" and "nc<pid>_<n>-h". Everything is removed when the
// testbed is destroyed, when construction fails, on SIGINT/SIGTERM (handlers delete the namespaces,
// then the signal takes its previous course), and a later run removes namespaces whose creating
// process is gone (a SIGKILLed run).
//
// Usage (CLI):
//   NetnsDutConfig config = to_netns_config(load_profile(path));   // dut_profile.hpp; or by hand:
//   NetnsDutConfig config;                        // defaults: the addressing above
//   config.label = "linux-nft-masquerade";
//   config.setup = {{"nft", "add", "table", "ip", "nat"}, ...};   // run in the DUT namespace
//   config.expand = [&](const auto& argv, const NetnsNames& names) { ...profile placeholders... };
//   config.reset = {{"conntrack", "-F"}};
//   config.pcap_directory = report_dir;
//   NetnsTestbed testbed(config);                 // throws NetnsError (exit 2) on any setup problem
//   RunResult result = run(testbed, tests, options);
//   testbed.shutdown();                           // optional: the destructor does it too
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "natcert/harness/testbed.hpp"

namespace natcert::harness {

// Setting up or running the namespace testbed failed (a command failed, no privileges, ...). The
// message names the command and carries its output. The CLI maps it to exit code 2.
class NetnsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One command run in the DUT namespace as `ip netns exec <dut-ns> argv...` (fork/exec, no shell unless
// argv says so, e.g. {"/bin/sh", "-c", "..."}). Brace-initialisable from a list of strings.
struct NetnsCommand {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{0};  // 0: NetnsDutConfig::command_timeout
  bool may_fail = false;                 // a failing setup command is logged, not fatal

  NetnsCommand() = default;
  NetnsCommand(std::initializer_list<std::string> args) : argv(args) {}
  NetnsCommand(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::milliseconds{0},
               bool failure_allowed = false)
      : argv(std::move(args)), timeout(limit), may_fail(failure_allowed) {}
};

// The names the testbed chose, for expanding commands (a profile's {dut_netns}, {inside_if}, ...).
struct NetnsNames {
  std::string dut_netns;
  std::string harness_netns;
  std::string inside_if;
  std::string outside_if;
};

struct NetnsDutConfig {
  using Command = NetnsCommand;

  std::string label = "linux";  // for describe() and reports

  // The DUT's interfaces (names inside its namespace) and addresses.
  std::string inside_interface = "in0";
  std::string outside_interface = "out0";
  Ipv4Address inside_address = 0x0A000001u;  // 10.0.0.1
  unsigned inside_prefix = 24;
  std::vector<Ipv4Address> outside_addresses{0xCB007101u};  // 203.0.113.1 (the first is primary)
  unsigned outside_prefix = 24;
  // 203.0.113.254: the DUT's default route, emulated (ARP) by the harness. 0: no default route (every
  // outside host is then on the outside link, and the harness answers ARP for each).
  Ipv4Address upstream_router = 0xCB0071FEu;
  std::optional<unsigned> outside_mtu{};      // e.g. 1400 to exercise RFC 4787 REQ-13 / 13a

  // Emulated hosts. Inside hosts must be on the inside prefix; outside hosts and the third party are
  // reached through the upstream router.
  std::vector<Ipv4Address> inside_hosts{0x0A00000Au, 0x0A00000Bu};         // 10.0.0.10, 10.0.0.11
  std::vector<Ipv4Address> outside_hosts{0xC633640Au, 0xC633640Bu};       // 198.51.100.10, .11
  std::optional<Ipv4Address> third_party = 0xC0000232u;                      // 192.0.2.50
  // The NAT's external addresses when declared (RFC 4787 REQ-2 needs two); empty: learnt by the reflector.
  std::vector<Ipv4Address> nat_external{};

  // Commands run in the DUT namespace, each argument expanded by `expand` once the namespace exists
  // (a profile's placeholders). Without `expand`, "{inside_if}", "{outside_if}", "{dut_netns}" (or
  // "{ns}") and "{outside_address}" are replaced by the DUT's interface names, its namespace and its
  // first outside address; other text is left alone.
  std::vector<Command> setup{};        // after the interfaces are configured; a failure is a NetnsError
  // When a session opens while no other session is running (always, with max_concurrency 1); with
  // concurrency, sessions rely on their disjoint port slices instead. Failures go to the test's log.
  std::vector<Command> reset{};
  std::vector<Command> teardown{};     // before the namespaces are removed, also after a failed setup (failures ignored)
  std::vector<Command> diagnostics{};  // run by diagnostics() and written next to the pcaps at shutdown
  // Expands one argv given the testbed's names; may throw (the message becomes a NetnsError).
  std::function<std::vector<std::string>(const std::vector<std::string>&, const NetnsNames&)> expand{};

  // Where netns-inside.pcap and netns-outside.pcap go (created if missing); none when unset.
  std::optional<std::filesystem::path> pcap_directory{};

  // Sessions that may run at once (each gets a disjoint port slice). 1 = strictly sequential.
  std::size_t max_concurrency = 8;
  std::chrono::milliseconds command_timeout{15000};
  // Extra key/value pairs for the report's DUT configuration (e.g. the profile file and its name).
  std::vector<std::pair<std::string, std::string>> configuration{};
};

class NetnsTestbed final : public Testbed {
 public:
  // Removes stale namespaces of dead runs, creates the namespaces and links, configures the DUT,
  // runs the setup commands, starts capture. Throws NetnsError (everything created is removed again).
  explicit NetnsTestbed(NetnsDutConfig config);
  ~NetnsTestbed() override;
  NetnsTestbed(const NetnsTestbed&) = delete;
  NetnsTestbed& operator=(const NetnsTestbed&) = delete;

  std::string kind() const override { return "netns"; }
  std::string describe() const override;
  std::vector<std::pair<std::string, std::string>> dut_configuration() const override;
  Addressing addressing() const override;
  bool virtual_time() const override { return false; }
  std::size_t max_concurrency() const override;
  std::unique_ptr<DutSession> open_session(const TestCase& test, std::uint64_t seed) override;

  const NetnsDutConfig& config() const;
  const std::string& dut_namespace() const;
  const std::string& harness_namespace() const;
  std::vector<std::filesystem::path> pcap_files() const;
  // Runs the diagnostics commands now (e.g. after a test that did not PASS); one "$ command\noutput"
  // text per command.
  std::vector<std::string> diagnostics();
  // Packets captured towards emulated hosts that no session owned (still in the pcaps).
  std::uint64_t unclaimed_packets() const;
  // Teardown commands, diagnostics file, capture stop, namespace removal. Idempotent; open sessions
  // must be closed first. The destructor calls it.
  void shutdown();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// True when this process may create network namespaces (effective CAP_NET_ADMIN and CAP_SYS_ADMIN).
bool netns_privileged();

// Deletes every namespace this process created, now. Async-signal-safe: for a program that installs
// its own SIGINT/SIGTERM handler after constructing a NetnsTestbed (which replaces natcert's), call it
// from that handler. (natcert's handlers, installed at the first testbed, call a handler that was
// installed before them after cleaning up, or re-raise the signal with its default action.)
void netns_emergency_cleanup() noexcept;

// Removes namespaces left by natcert runs whose process is gone; returns their names.
std::vector<std::string> remove_stale_netns();

// Names of the namespaces currently present that natcert created (for tests and `natcert doctor`).
std::vector<std::string> natcert_namespaces();

}  // namespace natcert::harness
