// The physical-port testbed: a real box (home router, CPE, firewall) cabled to two interfaces of the
// natcert host. natcert emulates the same hosts as on the namespace testbed, at L2 on those
// interfaces (AF_PACKET in natcert's own network namespace; no namespace is created), and runs the
// profile's commands on the host itself (typically ssh to the box's management address).
//
//   inside hosts 10.0.0.10, .11             the box                upstream router 203.0.113.254
//   (host NIC inside_interface) <-cable-> LAN 10.0.0.1/24           outside hosts 198.51.100.10, .11
//                                          WAN 203.0.113.1/24 <-cable-> third party 192.0.2.50
//                                          default via .254          (host NIC outside_interface)
//
// The box's MAC addresses are learnt by ARP from an emulated host at start (bounded retries) and
// from the box's own ARP requests later. The interfaces must exist; one that is down is brought up
// (a note says so). The host must not use them itself: an IPv4 address on one is reported as a note
// (the kernel would answer for it), and IPv4 forwarding is switched off on both while the testbed
// runs (restored at shutdown), so packets the box sends to emulated hosts go nowhere else.
//
// Usage:
//   PortsDutConfig config = to_ports_config(load_profile(path), {"enp1s0", "enp2s0"});  // dut_profile.hpp
//   config.pcap_directory = report_dir;
//   PortsTestbed testbed(config);                 // throws NetnsError (exit 2) on any setup problem
//   RunResult result = run(testbed, tests, options);
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "natcert/harness/testbed.hpp"
#include "natcert/harness/wire_dut_config.hpp"

namespace natcert::harness {

struct PortsDutConfig : WireDutConfig {
  std::string inside_interface;   // host NIC cabled to the box's LAN port
  std::string outside_interface;  // host NIC cabled to the box's WAN port
  // ARP requests for each of the box's addresses before giving up, and the wait for each reply.
  unsigned arp_attempts = 5;
  std::chrono::milliseconds arp_interval{400};
};

class PortsTestbed final : public Testbed {
 public:
  // Checks the interfaces, opens the ports, resolves the box's MACs, runs the setup commands.
  // Throws NetnsError (one line; a failing command's output appended).
  explicit PortsTestbed(PortsDutConfig config);
  ~PortsTestbed() override;
  PortsTestbed(const PortsTestbed&) = delete;
  PortsTestbed& operator=(const PortsTestbed&) = delete;

  std::string kind() const override { return "ports"; }
  std::string describe() const override;
  std::vector<std::pair<std::string, std::string>> dut_configuration() const override;
  Addressing addressing() const override;
  bool virtual_time() const override { return false; }
  std::optional<Duration> timer_budget() const override;
  std::size_t max_concurrency() const override;
  std::unique_ptr<DutSession> open_session(const TestCase& test, std::uint64_t seed) override;

  const PortsDutConfig& config() const;
  std::vector<std::filesystem::path> pcap_files() const;  // ports-inside.pcap, ports-outside.pcap
  // Runs the diagnostics commands now; one "$ command\noutput" text per command.
  std::vector<std::string> diagnostics();
  // Warnings about the host (addresses on a test port, an interface brought up, forwarding switched off).
  const std::vector<std::string>& notes() const;
  std::uint64_t unclaimed_packets() const;
  // Diagnostics file, teardown commands, capture stop, forwarding restored. Idempotent.
  void shutdown();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace natcert::harness
