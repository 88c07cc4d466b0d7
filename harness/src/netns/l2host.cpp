#include "netns/l2host.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "natcert/harness/netns_testbed.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::harness::netns {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherArp = 0x0806;

std::uint16_t load16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

bool checksum_not_ready(msghdr& message) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
    tpacket_auxdata aux{};
    std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
    return (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
  }
  return false;
}

std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

struct Opened {
  int fd = -1;
  int ifindex = 0;
  Mac mac{};
  std::string error;
};

// Runs on a helper thread: setns() affects only the calling thread, and the socket keeps its
// namespace when used from any other thread afterwards.
Opened open_in_namespace(const std::string& ns, const std::string& interface) {
  Opened out;
  if (!ns.empty()) {
    const std::string path = "/run/netns/" + ns;
    const int ns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
      out.error = errno_text(("open " + path).c_str());
      return out;
    }
    if (setns(ns_fd, CLONE_NEWNET) != 0) {
      out.error = errno_text(("setns " + path).c_str());
      close(ns_fd);
      return out;
    }
    close(ns_fd);
  }
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
  if (fd < 0) {
    out.error = errno_text("socket(AF_PACKET)");
    return out;
  }
  ifreq request{};
  std::snprintf(request.ifr_name, IFNAMSIZ, "%s", interface.c_str());
  if (ioctl(fd, SIOCGIFINDEX, &request) != 0) {
    out.error = errno_text(("SIOCGIFINDEX " + interface).c_str());
    close(fd);
    return out;
  }
  out.ifindex = request.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &request) != 0) {
    out.error = errno_text(("SIOCGIFHWADDR " + interface).c_str());
    close(fd);
    return out;
  }
  std::memcpy(out.mac.data(), request.ifr_hwaddr.sa_data, 6);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = out.ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    out.error = errno_text(("bind AF_PACKET to " + interface).c_str());
    close(fd);
    return out;
  }
  packet_mreq membership{};
  membership.mr_ifindex = out.ifindex;
  membership.mr_type = PACKET_MR_PROMISC;
  setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof membership);
  int buffer = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  // The kernel flags frames whose transport checksum it left for the NIC to finish; see receive_loop.
  const int auxdata = 1;
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &auxdata, sizeof auxdata);
  out.fd = fd;
  return out;
}

}  // namespace

std::string format_mac(const Mac& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

std::optional<Mac> parse_mac(const std::string& text) {
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return std::nullopt;
  Mac mac{};
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 255) return std::nullopt;
    mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v[i]);
  }
  return mac;
}

L2Port::L2Port(L2PortConfig config, PcapWriter* pcap, Ipv4Handler on_ipv4)
    : config_(std::move(config)), pcap_(pcap), on_ipv4_(std::move(on_ipv4)), dut_mac_(config_.dut_mac) {
  Opened opened;
  std::thread opener([&] { opened = open_in_namespace(config_.ns, config_.interface); });
  opener.join();
  if (opened.fd < 0) {
    throw NetnsError("opening the packet socket on " + config_.interface +
                     (config_.ns.empty() ? std::string() : " in " + config_.ns) + ": " + opened.error);
  }
  fd_ = opened.fd;
  ifindex_ = opened.ifindex;
  mac_ = opened.mac;
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    close(fd_);
    throw NetnsError(errno_text("eventfd"));
  }
  thread_ = std::thread([this] { receive_loop(); });
}

L2Port::~L2Port() {
  stop();
  if (fd_ >= 0) close(fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void L2Port::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  ssize_t ignored = write(stop_fd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
}

Mac L2Port::dut_mac() const {
  std::lock_guard<std::mutex> lock(dut_mac_mutex_);
  return dut_mac_;
}

void L2Port::send_frame(Bytes frame) {
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_ifindex = ifindex_;
  address.sll_halen = 6;
  std::memcpy(address.sll_addr, frame.data(), 6);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const ssize_t sent = sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (sent >= 0) {
      if (pcap_) pcap_->write(frame);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == ENOBUFS) {
      pollfd p{fd_, POLLOUT, 0};
      poll(&p, 1, 10);
      continue;
    }
    throw NetnsError("sending on " + config_.interface + " failed (the link to the DUT is gone?): " + std::strerror(errno));
  }
  throw NetnsError("sending on " + config_.interface + ": the socket stayed busy");
}

bool L2Port::dut_mac_learnt() const {
  std::lock_guard<std::mutex> lock(dut_mac_mutex_);
  return dut_mac_learnt_;
}

void L2Port::send_arp_request(Ipv4Address sender, Ipv4Address target) {
  std::uint8_t request[42] = {};
  std::memset(request, 0xff, 6);  // broadcast
  std::memcpy(request + 6, mac_.data(), 6);
  store16(request + 12, kEtherArp);
  std::uint8_t* r = request + 14;
  store16(r, 1);
  store16(r + 2, kEtherIpv4);
  r[4] = 6;
  r[5] = 4;
  store16(r + 6, 1);
  std::memcpy(r + 8, mac_.data(), 6);
  for (int i = 0; i < 4; ++i) r[14 + i] = static_cast<std::uint8_t>(sender >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) r[24 + i] = static_cast<std::uint8_t>(target >> (24 - 8 * i));
  send_frame(Bytes(request, sizeof request));
}

void L2Port::send_ipv4(Bytes packet) {
  std::vector<std::uint8_t> frame(14 + packet.size());
  const Mac destination = dut_mac();
  std::memcpy(frame.data(), destination.data(), 6);
  std::memcpy(frame.data() + 6, mac_.data(), 6);
  store16(frame.data() + 12, kEtherIpv4);
  std::memcpy(frame.data() + 14, packet.data(), packet.size());
  send_frame(frame);
}

void L2Port::receive_loop() {
  std::vector<std::uint8_t> buffer(65536 + 64);
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, 1000);
    if (ready < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0 && (fds[0].revents & POLLIN) == 0) {
      // The interface went away (the namespace was deleted under us): nothing more will arrive.
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
      if ((fds[0].revents & POLLNVAL) != 0) return;
      pollfd stop{stop_fd_, POLLIN, 0};  // do not spin on a link that went away
      if (poll(&stop, 1, 50) > 0) return;
      continue;
    }
    for (int budget = 0; budget < 4096; ++budget) {
      sockaddr_ll from{};
      iovec data{buffer.data(), buffer.size()};
      alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(tpacket_auxdata))];
      msghdr message{};
      message.msg_name = &from;
      message.msg_namelen = sizeof from;
      message.msg_iov = &data;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(fd_, &message, 0);
      if (n < 0) break;  // EAGAIN (drained) or an error poll will report
      if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own frames: written to the pcap when sent
      if (checksum_not_ready(message)) finish_transport_checksum(buffer.data(), static_cast<std::size_t>(n));
      frames_received_.fetch_add(1);
      if (pcap_) pcap_->write(Bytes(buffer.data(), static_cast<std::size_t>(n)));
      try {
        handle_frame(buffer.data(), static_cast<std::size_t>(n));
      } catch (...) {
        // A malformed frame or a failed ARP reply must not stop the capture.
      }
    }
  }
}

// A kernel DUT that rewrites a packet (a conntrack helper mangling a payload) leaves the transport
// checksum for the NIC to finish (CHECKSUM_PARTIAL); on a veth no NIC ever does, so the frame reaches
// us with only the pseudo-header sum in place. The kernel says so (TP_STATUS_CSUMNOTREADY): we finish
// it as the NIC would have, so that the DUT is judged on what a real link would carry. Frames without
// the flag, a userspace DUT's included, are never touched.
void L2Port::finish_transport_checksum(std::uint8_t* frame, std::size_t size) {
  if (size < 14 + 20 || load16(frame + 12) != kEtherIpv4) return;
  const std::size_t ip_total = load16(frame + 14 + 2);
  if (ip_total < 20 || 14 + ip_total > size) return;
  ref::recompute_checksums(ref::MutableBytes(frame + 14, ip_total));
  checksums_finished_.fetch_add(1);
}

void L2Port::handle_frame(const std::uint8_t* data, std::size_t size) {
  if (size < 14) return;
  const std::uint16_t ethertype = load16(data + 12);
  if (ethertype == kEtherArp) {
    if (size < 14 + 28) return;
    const std::uint8_t* arp = data + 14;
    if (load16(arp) != 1 || load16(arp + 2) != kEtherIpv4 || arp[4] != 6 || arp[5] != 4) return;
    const std::uint16_t op = load16(arp + 6);
    const Ipv4Address sender_ip = load32(arp + 14);
    const Ipv4Address target_ip = load32(arp + 24);
    if (sender_ip == config_.dut_address && sender_ip != 0) {
      std::lock_guard<std::mutex> lock(dut_mac_mutex_);
      std::memcpy(dut_mac_.data(), arp + 8, 6);
      dut_mac_learnt_ = true;
    }
    if (op != 1) return;
    if (std::find(config_.arp_answers.begin(), config_.arp_answers.end(), target_ip) == config_.arp_answers.end()) return;
    std::uint8_t reply[42];
    std::memcpy(reply, arp + 8, 6);      // to the requester
    std::memcpy(reply + 6, mac_.data(), 6);
    store16(reply + 12, kEtherArp);
    std::uint8_t* r = reply + 14;
    store16(r, 1);
    store16(r + 2, kEtherIpv4);
    r[4] = 6;
    r[5] = 4;
    store16(r + 6, 2);
    std::memcpy(r + 8, mac_.data(), 6);   // sender: us, as the emulated host
    std::memcpy(r + 14, arp + 24, 4);
    std::memcpy(r + 18, arp + 8, 6);      // target: the requester
    std::memcpy(r + 24, arp + 14, 4);
    send_frame(Bytes(reply, sizeof reply));
    arp_replies_.fetch_add(1);
    return;
  }
  if (ethertype != kEtherIpv4) return;  // IPv6, LLDP, ...: not ours
  if (size < 14 + 20) return;
  const std::uint8_t* ip = data + 14;
  if ((ip[0] >> 4) != 4) return;
  std::size_t length = size - 14;
  const std::size_t total = load16(ip + 2);
  if (total >= 20 && total < length) length = total;  // strip link padding
  on_ipv4_(std::chrono::steady_clock::now(), Packet(ip, ip + length));
}

}  // namespace natcert::harness::netns
