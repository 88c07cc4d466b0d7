// The reference NAT as a real userspace NAT between two Linux interfaces ("natcert refnat").
//
// The daemon owns its addresses at layer 2: the interfaces carry no kernel IPv4 address, it answers
// ARP for its inside address and its outside addresses itself, resolves next hops by ARP, and moves
// IPv4 frames through ReferenceNat with AF_PACKET sockets (batched receive and send). One thread runs
// the data path; stop(), request_reset() and stats() may be called from any other thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "natcert/reference/nat.hpp"

namespace natcert::ref {

// A configuration or setup problem, as one line ("--inside-if eth9: no such interface").
class DaemonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DaemonConfig {
  std::string inside_interface;
  std::string outside_interface;
  Ipv4Address inside_address = 0;
  unsigned inside_prefix = 24;
  std::vector<Ipv4Address> outside_addresses;  // the first one is the outside interface's primary
  unsigned outside_prefix = 24;
  Ipv4Address gateway = 0;  // 0: every outside host is on-link
  // A make_config spec ("PRESET[,key=value...]"). The daemon's addresses become the NAT's external
  // pool, inside address and inside prefix unless the spec sets external-addresses, inside-address or
  // inside-prefix itself; fragments.outside-mtu is clamped to the outside interface's MTU.
  std::string nat_spec = "rfc-strict";
  // Drop every frame at the interfaces' ingress hook once the daemon's sockets have seen it (an
  // nftables netdev table, removed on exit), so the kernel spends nothing on the daemon's traffic.
  bool drop_kernel_ingress = true;
};

struct DaemonStats {
  std::uint64_t frames_in_inside = 0;
  std::uint64_t frames_in_outside = 0;
  std::uint64_t frames_out_inside = 0;
  std::uint64_t frames_out_outside = 0;
  std::uint64_t forwarded = 0;          // packets the NAT emitted and the daemon sent
  std::uint64_t arp_replies_sent = 0;
  std::uint64_t arp_requests_sent = 0;
  std::uint64_t unresolved_drops = 0;   // packets dropped waiting for ARP (no answer, queue full)
  std::uint64_t send_errors = 0;        // frames the kernel refused (e.g. the peer is down)
  std::uint64_t ignored_frames = 0;     // not IPv4 or ARP, or not for us
  std::uint64_t truncated_frames = 0;   // larger than the interface MTU (GSO/GRO aggregates): dropped
  std::uint64_t resets = 0;
  std::array<std::uint64_t, 32> nat_drops{};  // indexed by DropReason
  std::uint64_t mappings = 0;  // as of the last timer tick (at most 100 ms old)
  std::uint64_t sessions = 0;
};
// "frames_in_inside=1 frames_in_outside=2 ... drop_no-mapping=3 ..." (drop reasons that occurred only).
std::string format_stats(const DaemonStats& stats);

class Daemon {
 public:
  // Builds the NAT configuration, checks the interfaces and opens the sockets. Throws DaemonError.
  explicit Daemon(DaemonConfig config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs the data path until stop(); throws DaemonError on a fatal socket error.
  void run();
  // Makes run() return soon. Async-signal-safe (an atomic store and an eventfd write).
  void stop();
  // Asks the loop to forget all NAT state (ARP caches are kept). Async-signal-safe.
  void request_reset();
  // request_reset(), then waits until the loop has done it; false if it did not within `timeout`.
  bool reset_and_wait(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits until run() is in its loop; false on timeout.
  bool wait_running(std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  DaemonStats stats() const;
  const NatConfig& nat_config() const;
  const DaemonConfig& config() const;
  std::string inside_mac() const;   // "aa:bb:cc:dd:ee:ff"
  std::string outside_mac() const;
  // One human line: interfaces, MACs, addresses, preset, and any adjustment (MTU clamp).
  std::string startup_line() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace natcert::ref
