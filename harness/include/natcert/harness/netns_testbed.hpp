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
// A DUT process (dut_process) may be started in the DUT namespace once the links are up, e.g. the
// reference NAT daemon (`natcert refnat`, kind "refnat" profiles): natcert waits for its ready line,
// resets it over its stdin/stdout control channel where reset commands run, adds its stats to the
// diagnostics and stops it at shutdown. With kernel_addressing = false the DUT interfaces carry no
// kernel IPv4 configuration, so only the process answers for the DUT's addresses.
// The emulated hosts, capture demultiplexing and sessions are shared with PortsTestbed
// (ports_testbed.hpp), which puts the same emulated hosts on two physical interfaces instead.
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
#include "natcert/harness/wire_dut_config.hpp"

namespace natcert::harness {

// A DUT process natcert starts itself in the DUT namespace (`ip netns exec`), after the links are up:
// the reference NAT daemon (`natcert refnat ... --control stdio`) or anything speaking its protocol.
// With stdio_control it prints one line "ready inside-mac=MAC outside-mac=MAC" on stdout once it runs
// (an error before that: a line on stderr and exit status 2), then reads line commands on stdin:
// "reset" -> "ok reset" once its NAT state is cleared; "stats" -> one line "stats k=v ..."; "quit" or
// EOF -> exit 0. Its stderr is kept in netns-dut-process.log next to the pcaps.
struct DutProcess {
  std::vector<std::string> argv;  // placeholders expanded as for commands
  std::chrono::milliseconds ready_timeout{10000};
  bool stdio_control = true;  // false: no control channel (no ready line awaited, no reset/stats)
  std::chrono::milliseconds reply_timeout{3000};  // for reset/stats replies
};

struct NetnsDutConfig : WireDutConfig {
  // The DUT's interfaces (names inside its namespace).
  std::string inside_interface = "in0";
  std::string outside_interface = "out0";
  std::optional<unsigned> outside_mtu{};  // e.g. 1400 to exercise RFC 4787 REQ-13 / 13a
  // true: the testbed assigns the DUT's addresses to its interfaces, adds the default route and turns
  // IPv4 forwarding on (a kernel NAT). false: the interfaces carry no kernel IPv4 address or route and
  // forwarding is off, so only a DUT process that owns the addresses at L2 answers (the kernel must not).
  bool kernel_addressing = true;
  std::optional<DutProcess> dut_process{};
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
  std::optional<Duration> timer_budget() const override;
  std::size_t max_concurrency() const override;
  std::unique_ptr<DutSession> open_session(const TestCase& test, std::uint64_t seed) override;

  const NetnsDutConfig& config() const;
  const std::string& dut_namespace() const;
  const std::string& harness_namespace() const;
  std::vector<std::filesystem::path> pcap_files() const;
  // Runs the diagnostics commands now (e.g. after a test that did not PASS); one "$ command\noutput"
  // text per command, and the DUT process's "stats" line first when there is one.
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
