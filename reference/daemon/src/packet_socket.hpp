// Linux plumbing for the daemon: interface facts (index, MAC, MTU) and AF_PACKET sockets bound to one
// interface. Every failure is a DaemonError with a one-line message naming the option at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "frames.hpp"

namespace natcert::ref::daemon {

struct InterfaceInfo {
  std::string name;
  int index = 0;
  MacAddress mac{};
  unsigned mtu = 1500;
  bool up = false;
};
// `option` names the command-line option in messages ("--inside-if eth9: no such interface").
InterfaceInfo query_interface(const std::string& name, const std::string& option);

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// The receive ring of a packet socket (PACKET_RX_RING, TPACKET_V2): the kernel copies each frame into
// shared memory in its receive path, so the daemon reads frames without a system call or an skb per
// frame. Frames are taken in order and must be given back (release) before the next one.
class RxRing {
 public:
  struct Frame {
    std::uint8_t* data = nullptr;  // the Ethernet frame, writable
    std::size_t length = 0;
    bool truncated = false;            // larger than a ring slot (a GSO/GRO aggregate)
    bool checksum_not_ready = false;   // the local kernel left the transport checksum to offload
    bool vlan_stripped = false;        // an 802.1Q tag was removed by the driver: not for us
  };
  RxRing() = default;
  ~RxRing();
  RxRing(RxRing&& other) noexcept;
  RxRing& operator=(RxRing&& other) noexcept;
  RxRing(const RxRing&) = delete;
  RxRing& operator=(const RxRing&) = delete;

  // Sets the ring up on an unbound socket; slots fit `mtu`-byte packets. Throws DaemonError.
  void attach(int fd, unsigned mtu, const std::string& where);
  bool next(Frame& frame);  // false when the kernel has filled nothing new
  void release();           // returns the frame next() gave to the kernel

 private:
  std::uint8_t* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t frame_size_ = 0;
  std::size_t frame_count_ = 0;
  std::size_t current_ = 0;
};

struct PacketSocket {
  FileDescriptor fd;
  RxRing ring;
};
// A non-blocking AF_PACKET/SOCK_RAW socket receiving every frame of the interface except its own
// (PACKET_IGNORE_OUTGOING) into an RxRing, and sending past the qdisc (PACKET_QDISC_BYPASS).
PacketSocket open_packet_socket(const InterfaceInfo& interface, const std::string& option);

// The kernel would run its own IPv4 input (a failing route lookup) on every frame the daemon handles,
// which costs more than the daemon's own work. An nftables netdev table with an ingress chain per
// interface drops frames after the packet sockets have seen them. Runs `nft` in the calling thread's
// network namespace; returns false when nft is missing or refuses (the daemon then works, slower).
bool install_ingress_drop(const std::string& table, const std::vector<std::string>& interfaces);
void remove_ingress_drop(const std::string& table);

}  // namespace natcert::ref::daemon
