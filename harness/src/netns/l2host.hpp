// L2 host emulation on one harness-side veth end: an AF_PACKET socket opened inside the harness
// namespace, a receive thread that answers ARP for every emulated address on that side (the kernel
// has no IPv4 configuration there and never answers for them), hands IPv4 frames to a callback and
// writes every frame (both directions) to the side's pcap.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "natcert/harness/types.hpp"
#include "netns/pcap.hpp"

namespace natcert::harness::netns {

using Mac = std::array<std::uint8_t, 6>;
std::string format_mac(const Mac& mac);
std::optional<Mac> parse_mac(const std::string& text);

struct L2PortConfig {
  Side side = Side::inside;
  std::string ns;          // namespace holding the interface; empty: natcert's own (physical ports)
  std::string interface;   // the harness end of the veth pair
  std::vector<Ipv4Address> arp_answers;  // addresses this side answers ARP for
  Ipv4Address dut_address = 0;           // the DUT's address on this link (its ARP requests teach its MAC)
  Mac dut_mac{};                         // the DUT interface's MAC when known from its configuration
};

class L2Port {
 public:
  using Ipv4Handler = std::function<void(std::chrono::steady_clock::time_point, Packet)>;

  // Opens the socket inside `config.ns` (from a helper thread that setns() there) and starts the
  // receive thread. Throws NetnsError.
  L2Port(L2PortConfig config, PcapWriter* pcap, Ipv4Handler on_ipv4);
  ~L2Port();
  L2Port(const L2Port&) = delete;
  L2Port& operator=(const L2Port&) = delete;

  // Sends an IPv4 packet to the DUT as an Ethernet frame. Throws NetnsError when the link is gone.
  void send_ipv4(Bytes packet);
  void stop();

  const Mac& mac() const { return mac_; }
  Mac dut_mac() const;
  // True once an ARP packet from the DUT's address (request or reply) taught its MAC.
  bool dut_mac_learnt() const;
  // Broadcasts "who has `target`? tell `sender`" as an emulated host (to learn the DUT's MAC).
  void send_arp_request(Ipv4Address sender, Ipv4Address target);
  std::uint64_t arp_replies() const { return arp_replies_.load(); }
  std::uint64_t frames_received() const { return frames_received_.load(); }
  // Frames whose transport checksum the kernel left unfinished (CHECKSUM_PARTIAL) and we completed.
  std::uint64_t checksums_finished() const { return checksums_finished_.load(); }

 private:
  void receive_loop();
  void handle_frame(const std::uint8_t* data, std::size_t size);
  void finish_transport_checksum(std::uint8_t* frame, std::size_t size);
  void send_frame(Bytes frame);

  L2PortConfig config_;
  PcapWriter* pcap_;
  Ipv4Handler on_ipv4_;
  int fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the receive thread
  int ifindex_ = 0;
  Mac mac_{};
  mutable std::mutex dut_mac_mutex_;
  Mac dut_mac_{};
  bool dut_mac_learnt_ = false;
  std::atomic<std::uint64_t> arp_replies_{0};
  std::atomic<std::uint64_t> frames_received_{0};
  std::atomic<std::uint64_t> checksums_finished_{0};
  std::thread thread_;
};

}  // namespace natcert::harness::netns
