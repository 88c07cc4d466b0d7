#include "packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <cstring>

#include "natcert/reference/daemon.hpp"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

extern char** environ;

namespace natcert::ref::daemon {

namespace {

[[noreturn]] void fail(const std::string& option, const std::string& name, const std::string& problem) {
  throw DaemonError(option + " " + name + ": " + problem);
}

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

InterfaceInfo query_interface(const std::string& name, const std::string& option) {
  if (name.empty()) throw DaemonError(option + " is required");
  if (name.size() >= IFNAMSIZ) fail(option, name, "interface name too long");
  InterfaceInfo info;
  info.name = name;
  info.index = static_cast<int>(if_nametoindex(name.c_str()));
  if (info.index == 0) fail(option, name, "no such interface");

  FileDescriptor probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) fail(option, name, "cannot open a socket: " + errno_text(errno));
  ifreq request{};
  std::memcpy(request.ifr_name, name.c_str(), name.size() + 1);
  if (::ioctl(probe.get(), SIOCGIFHWADDR, &request) != 0) fail(option, name, "cannot read its MAC: " + errno_text(errno));
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER) fail(option, name, "not an Ethernet interface");
  std::memcpy(info.mac.data(), request.ifr_hwaddr.sa_data, info.mac.size());
  if (::ioctl(probe.get(), SIOCGIFMTU, &request) != 0) fail(option, name, "cannot read its MTU: " + errno_text(errno));
  info.mtu = static_cast<unsigned>(request.ifr_mtu);
  if (::ioctl(probe.get(), SIOCGIFFLAGS, &request) != 0) fail(option, name, "cannot read its flags: " + errno_text(errno));
  info.up = (request.ifr_flags & IFF_UP) != 0;
  return info;
}

PacketSocket open_packet_socket(const InterfaceInfo& interface, const std::string& option) {
  // Protocol 0 receives nothing until bind() names the protocol and the interface, so no frame of
  // another interface is ever queued on this socket.
  FileDescriptor fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    if (errno == EPERM || errno == EACCES) throw DaemonError("needs CAP_NET_RAW (run as root)");
    fail(option, interface.name, "cannot open a packet socket: " + errno_text(errno));
  }
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) {
    fail(option, interface.name, "PACKET_IGNORE_OUTGOING: " + errno_text(errno) + " (needs Linux 4.20)");
  }
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) {
    fail(option, interface.name, "PACKET_QDISC_BYPASS: " + errno_text(errno));
  }
  RxRing ring;
  ring.attach(fd.get(), interface.mtu, option + " " + interface.name);
  // Room for send bursts. FORCE needs CAP_NET_ADMIN; the plain one is capped by wmem_max.
  const int buffer = 4 * 1024 * 1024;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = interface.index;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail(option, interface.name, "cannot bind a packet socket: " + errno_text(errno));
  }
  return PacketSocket{std::move(fd), std::move(ring)};
}

namespace {

// Runs `nft <script>` with no output; true when it exits 0.
bool run_nft(const std::string& script) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; ++fd) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  std::string program = "nft";
  std::string argument = script;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t child = 0;
  const int spawned = ::posix_spawnp(&child, "nft", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return false;
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

bool install_ingress_drop(const std::string& table, const std::vector<std::string>& interfaces) {
  std::string script = "add table netdev " + table + "; ";
  for (std::size_t i = 0; i < interfaces.size(); ++i) {
    script += "add chain netdev " + table + " in" + std::to_string(i) + " { type filter hook ingress device \"" +
              interfaces[i] + "\" priority 0; policy drop; }; ";
  }
  if (run_nft(script)) return true;
  run_nft("delete table netdev " + table);  // a half-made table
  return false;
}

void remove_ingress_drop(const std::string& table) { run_nft("delete table netdev " + table); }

RxRing::~RxRing() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

RxRing::RxRing(RxRing&& other) noexcept
    : map_(other.map_), map_size_(other.map_size_), frame_size_(other.frame_size_),
      frame_count_(other.frame_count_), current_(other.current_) {
  other.map_ = nullptr;
}

RxRing& RxRing::operator=(RxRing&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) ::munmap(map_, map_size_);
    map_ = other.map_;
    map_size_ = other.map_size_;
    frame_size_ = other.frame_size_;
    frame_count_ = other.frame_count_;
    current_ = other.current_;
    other.map_ = nullptr;
  }
  return *this;
}

void RxRing::attach(int fd, unsigned mtu, const std::string& where) {
  const int version = TPACKET_V2;
  if (::setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
    throw DaemonError(where + ": TPACKET_V2: " + errno_text(errno));
  }
  // A slot holds the tpacket2 header and sockaddr_ll (80 bytes with alignment), the frame, a VLAN tag.
  frame_size_ = 2048;
  while (frame_size_ < 80 + std::size_t{mtu} + kEthernetHeaderSize + 4 + 32) frame_size_ *= 2;
  const std::size_t block_size = std::max<std::size_t>(frame_size_, 64 * 1024);
  const std::size_t total = std::max<std::size_t>(4 * 1024 * 1024, block_size * 4);
  tpacket_req request{};
  request.tp_block_size = static_cast<unsigned>(block_size);
  request.tp_block_nr = static_cast<unsigned>(total / block_size);
  request.tp_frame_size = static_cast<unsigned>(frame_size_);
  request.tp_frame_nr = static_cast<unsigned>(total / frame_size_);
  if (::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &request, sizeof request) != 0) {
    throw DaemonError(where + ": PACKET_RX_RING: " + errno_text(errno));
  }
  map_size_ = total;
  void* map = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
  if (map == MAP_FAILED) map = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) throw DaemonError(where + ": mmap of the receive ring: " + errno_text(errno));
  map_ = static_cast<std::uint8_t*>(map);
  frame_count_ = request.tp_frame_nr;
  current_ = 0;
}

bool RxRing::next(Frame& frame) {
  auto* header = reinterpret_cast<tpacket2_hdr*>(map_ + current_ * frame_size_);
  const auto status = __atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE);
  if ((status & TP_STATUS_USER) == 0) return false;
  frame.data = reinterpret_cast<std::uint8_t*>(header) + header->tp_mac;
  frame.length = header->tp_snaplen;
  frame.truncated = header->tp_snaplen < header->tp_len;
  frame.checksum_not_ready = (status & TP_STATUS_CSUMNOTREADY) != 0;
  frame.vlan_stripped = (status & TP_STATUS_VLAN_VALID) != 0;
  return true;
}

void RxRing::release() {
  auto* header = reinterpret_cast<tpacket2_hdr*>(map_ + current_ * frame_size_);
  __atomic_store_n(&header->tp_status, static_cast<decltype(header->tp_status)>(TP_STATUS_KERNEL), __ATOMIC_RELEASE);
  current_ = current_ + 1 == frame_count_ ? 0 : current_ + 1;
}

}  // namespace natcert::ref::daemon
