#include "packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "natcert/reference/daemon.hpp"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

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

FileDescriptor open_packet_socket(const InterfaceInfo& interface, const std::string& option) {
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
  // Tells which received frames the local kernel left with an offloaded (partial) checksum.
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0) {
    fail(option, interface.name, "PACKET_AUXDATA: " + errno_text(errno));
  }
  // Room for bursts: about 2 ms of traffic at 1 Mpps. FORCE needs CAP_NET_ADMIN; the plain one is capped.
  const int buffer = 4 * 1024 * 1024;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
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
  return fd;
}

}  // namespace natcert::ref::daemon
