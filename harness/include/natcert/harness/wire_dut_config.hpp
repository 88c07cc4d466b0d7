// What the wire testbeds (NetnsTestbed, PortsTestbed) share: the addressing plan the emulated hosts
// use around the DUT, the commands that set the DUT up, reset it between tests, tear it down and
// collect diagnostics, and where captures go. Each testbed's own config derives from WireDutConfig.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "natcert/harness/types.hpp"

namespace natcert::harness {

// Setting up or running a wire testbed failed (a command failed, no privileges, no ARP reply from the
// DUT, ...). The message names the command and carries its output. The CLI maps it to exit code 2.
class NetnsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One DUT command (fork/exec, no shell unless argv says so, e.g. {"/bin/sh", "-c", "..."}): run in the
// DUT namespace (`ip netns exec <dut-ns> argv...`) by NetnsTestbed, on the natcert host by
// PortsTestbed. Brace-initialisable from a list of strings.
struct NetnsCommand {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{0};  // 0: WireDutConfig::command_timeout
  bool may_fail = false;                 // a failing setup command is logged, not fatal

  NetnsCommand() = default;
  NetnsCommand(std::initializer_list<std::string> args) : argv(args) {}
  NetnsCommand(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::milliseconds{0},
               bool failure_allowed = false)
      : argv(std::move(args)), timeout(limit), may_fail(failure_allowed) {}
};

// The names the testbed chose, for expanding commands (a profile's {dut_netns}, {inside_if}, ...).
// PortsTestbed leaves the namespaces empty and names the host interfaces.
struct NetnsNames {
  std::string dut_netns;
  std::string harness_netns;
  std::string inside_if;
  std::string outside_if;
};

struct WireDutConfig {
  using Command = NetnsCommand;

  std::string label = "linux";  // for describe() and reports

  // The DUT's addresses.
  Ipv4Address inside_address = 0x0A000001u;  // 10.0.0.1
  unsigned inside_prefix = 24;
  std::vector<Ipv4Address> outside_addresses{0xCB007101u};  // 203.0.113.1 (the first is primary)
  unsigned outside_prefix = 24;
  // 203.0.113.254: the DUT's default route, emulated (ARP) by the harness. 0: no default route (every
  // outside host is then on the outside link, and the harness answers ARP for each).
  Ipv4Address upstream_router = 0xCB0071FEu;

  // Emulated hosts. Inside hosts must be on the inside prefix; outside hosts and the third party are
  // reached through the upstream router.
  std::vector<Ipv4Address> inside_hosts{0x0A00000Au, 0x0A00000Bu};    // 10.0.0.10, 10.0.0.11
  std::vector<Ipv4Address> outside_hosts{0xC633640Au, 0xC633640Bu};  // 198.51.100.10, .11
  std::optional<Ipv4Address> third_party = 0xC0000232u;                // 192.0.2.50
  // The NAT's external addresses when declared (RFC 4787 REQ-2 needs two); empty: learnt by the reflector.
  std::vector<Ipv4Address> nat_external{};
  // The ALGs the DUT declares (Addressing::declared_algs).
  std::vector<std::string> declared_algs{};

  // DUT commands, each argument expanded by `expand` first (a profile's placeholders). Without
  // `expand`, "{inside_if}", "{outside_if}", "{dut_netns}" (or "{ns}") and "{outside_address}" are
  // replaced by the interface names, the DUT namespace and the DUT's first outside address.
  std::vector<Command> setup{};        // after the interfaces are configured; a failure is a NetnsError
  // When a session opens while no other session is running (always, with max_concurrency 1); with
  // concurrency, sessions rely on their disjoint port slices instead. Failures go to the test's log.
  std::vector<Command> reset{};
  std::vector<Command> teardown{};     // at shutdown, also after a failed setup (failures ignored)
  std::vector<Command> diagnostics{};  // run by diagnostics() and written next to the pcaps at shutdown
  // Expands one argv given the testbed's names; may throw (the message becomes a NetnsError).
  std::function<std::vector<std::string>(const std::vector<std::string>&, const NetnsNames&)> expand{};

  // Where the per-side pcaps (<kind>-inside.pcap, <kind>-outside.pcap) go (created if missing); none
  // when unset.
  std::optional<std::filesystem::path> pcap_directory{};

  // Sessions that may run at once (each gets a disjoint port slice). 1 = strictly sequential.
  std::size_t max_concurrency = 8;
  // Real time one timer test may spend waiting (a profile's realtime_budget); see Testbed::timer_budget.
  std::chrono::seconds timer_budget{300};
  std::chrono::milliseconds command_timeout{15000};
  // Extra key/value pairs for the report's DUT configuration (e.g. the profile file and its name).
  std::vector<std::pair<std::string, std::string>> configuration{};
};

}  // namespace natcert::harness
