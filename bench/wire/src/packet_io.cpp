#include "packet_io.hpp"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <span>
#include <stdexcept>

#include "natcert/reference/checksum.hpp"
#include "natcert/reference/packet.hpp"
#include "natcert/wirebench/wire_bench.hpp"

namespace natcert::wirebench {

using ref::load16;
using ref::load32;
using ref::store16;
using ref::store32;

namespace {

constexpr std::uint32_t kMagic = 0x4e435742;  // "NCWB"
constexpr std::size_t kPayload = 16;
constexpr std::size_t kBatch = 64;

}  // namespace

void in_namespace(const std::string& ns, const std::function<void()>& work) {
  std::exception_ptr error;
  std::thread thread([&] {
    try {
      const int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw BenchError("cannot open namespace " + ns);
      const int entered = ::setns(fd, CLONE_NEWNET);
      ::close(fd);
      if (entered != 0) throw BenchError("cannot enter namespace " + ns + ": " + std::strerror(errno));
      work();
    } catch (...) {
      error = std::current_exception();
    }
  });
  thread.join();
  if (error) std::rethrow_exception(error);
}

Mac interface_mac(const std::string& ns, const std::string& interface) {
  Mac mac{};
  in_namespace(ns, [&] {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq request{};
    std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    const int result = ::ioctl(fd, SIOCGIFHWADDR, &request);
    ::close(fd);
    if (result != 0) throw BenchError("no MAC address for " + interface + " in " + ns);
    std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, 6);
  });
  return mac;
}

PacketSocket::PacketSocket(const std::string& ns, const std::string& interface, bool receive) {
  in_namespace(ns, [&] {
    const int protocol = receive ? htons(ETH_P_IP) : 0;
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd_ < 0) throw BenchError(std::string("AF_PACKET socket: ") + std::strerror(errno));
    const int one = 1;
    const int buffer = 16 * 1024 * 1024;
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    ::setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    if (receive) ::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = static_cast<std::uint16_t>(protocol);
    address.sll_ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    if (address.sll_ifindex == 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw BenchError("cannot bind an AF_PACKET socket to " + interface + " in " + ns);
    }
  });
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Frame build_frame(Protocol protocol, const Flow& flow, std::uint8_t tcp_flags, std::uint32_t seq, std::uint32_t ack,
                  bool payload, std::uint32_t tag, std::uint32_t index, Kind kind) {
  const std::size_t l4 = protocol == Protocol::udp ? 8 : 20;
  const std::size_t data = payload ? kPayload : 0;
  const std::size_t ip_length = 20 + l4 + data;
  Frame frame(std::max<std::size_t>(14 + ip_length, 60), 0);
  std::memcpy(&frame[0], flow.destination_mac.data(), 6);
  std::memcpy(&frame[6], flow.source_mac.data(), 6);
  store16(&frame[12], 0x0800);
  std::uint8_t* ip = &frame[14];
  ip[0] = 0x45;
  store16(ip + 2, static_cast<std::uint16_t>(ip_length));
  store16(ip + 4, static_cast<std::uint16_t>(index));
  ip[8] = 64;
  ip[9] = protocol == Protocol::udp ? 17 : 6;
  store32(ip + 12, flow.source);
  store32(ip + 16, flow.destination);
  std::uint8_t* transport = ip + 20;
  store16(transport, flow.source_port);
  store16(transport + 2, flow.destination_port);
  if (protocol == Protocol::udp) {
    store16(transport + 4, static_cast<std::uint16_t>(8 + data));
  } else {
    store32(transport + 4, seq);
    store32(transport + 8, ack);
    transport[12] = 5 << 4;
    transport[13] = tcp_flags;
    store16(transport + 14, 65535);
  }
  if (payload) {
    std::uint8_t* p = transport + l4;
    store32(p, kMagic);
    store32(p + 4, tag);
    store32(p + 8, index);
    p[12] = static_cast<std::uint8_t>(kind);
  }
  ref::recompute_checksums(std::span<std::uint8_t>(ip, ip_length), false);
  return frame;
}

SendOutcome send_paced(int fd, const std::vector<Frame>& frames, std::uint64_t count, double rate) {
  SendOutcome outcome;
  if (frames.empty() || count == 0) {
    outcome.on_time = true;
    return outcome;
  }
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> vectors{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  using Clock = std::chrono::steady_clock;
  const double planned = rate > 0 ? static_cast<double>(count) / rate : 0;
  const auto start = Clock::now();
  const auto give_up = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(2 * planned + 1));
  std::size_t next = 0;
  std::uint64_t stalls = 0;
  while (outcome.sent < count) {
    const auto now = Clock::now();
    if (now > give_up) break;
    std::size_t batch = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, count - outcome.sent));
    if (rate > 0) {
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const double due = elapsed * rate - static_cast<double>(outcome.sent);
      if (due < static_cast<double>(batch)) {
        if (due < 1) {
          const double wait = (static_cast<double>(std::min<std::size_t>(batch, 8)) - due) / rate;
          if (wait > 100e-6) {
            std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, 0.002)));
          } else {
            sched_yield();
          }
          continue;
        }
        batch = static_cast<std::size_t>(due);
      }
    }
    for (std::size_t i = 0; i < batch; ++i) {
      const Frame& frame = frames[next];
      next = next + 1 == frames.size() ? 0 : next + 1;
      vectors[i] = iovec{const_cast<std::uint8_t*>(frame.data()), frame.size()};
    }
    const int sent = ::sendmmsg(fd, messages.data(), static_cast<unsigned>(batch), 0);
    if (sent > 0) {
      outcome.sent += static_cast<std::uint64_t>(sent);
      // Frames the kernel did not take are offered again (next is rewound) so the sequence stays exact.
      const std::size_t unsent = batch - static_cast<std::size_t>(sent);
      next = (next + frames.size() - unsent % frames.size()) % frames.size();
    } else if (++stalls % 64 == 0) {
      sched_yield();
    }
  }
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  outcome.on_time = outcome.sent == count && (rate <= 0 || outcome.seconds <= planned * 1.10 + 0.005);
  return outcome;
}

ProbeReceiver::ProbeReceiver(const std::string& ns, const std::string& interface, Role role, Protocol protocol,
                             std::uint32_t tag, std::size_t connections, Mac own_mac)
    : socket_(ns, interface, true),
      role_(role),
      protocol_(protocol),
      tag_(tag),
      own_mac_(own_mac),
      marks_(connections, 0),
      learnt_(connections) {
  thread_ = std::thread([this] { loop(); });
}

ProbeReceiver::~ProbeReceiver() { stop(); }

void ProbeReceiver::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ProbeReceiver::loop() {
  constexpr std::size_t kFrame = 2048;
  std::vector<std::uint8_t> buffers(kBatch * kFrame);
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> vectors{};
  std::vector<Frame> answers(kBatch);
  std::array<mmsghdr, kBatch> out{};
  std::array<iovec, kBatch> out_vectors{};
  while (!stop_) {
    pollfd waiting{socket_.fd(), POLLIN, 0};
    if (::poll(&waiting, 1, 20) <= 0) continue;
    for (std::size_t i = 0; i < kBatch; ++i) {
      vectors[i] = iovec{&buffers[i * kFrame], kFrame};
      messages[i] = mmsghdr{};
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int received = ::recvmmsg(socket_.fd(), messages.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) continue;
    std::size_t pending = 0;
    for (int i = 0; i < received; ++i) {
      if (handle(&buffers[static_cast<std::size_t>(i) * kFrame], messages[static_cast<std::size_t>(i)].msg_len,
                 answers[pending])) {
        out_vectors[pending] = iovec{answers[pending].data(), answers[pending].size()};
        out[pending] = mmsghdr{};
        out[pending].msg_hdr.msg_iov = &out_vectors[pending];
        out[pending].msg_hdr.msg_iovlen = 1;
        ++pending;
      }
    }
    std::size_t done = 0;
    for (int attempt = 0; done < pending && attempt < 100; ++attempt) {
      const int sent = ::sendmmsg(socket_.fd(), out.data() + done, static_cast<unsigned>(pending - done), 0);
      if (sent > 0) done += static_cast<std::size_t>(sent);
    }
  }
}

// Returns true with `answer` set when the frame is to be answered.
bool ProbeReceiver::handle(std::uint8_t* frame, std::size_t length, Frame& answer) {
  if (length < 14 + 20 + 8 || load16(frame + 12) != 0x0800) return false;
  const std::uint8_t* ip = frame + 14;
  const std::size_t header = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  const std::size_t total = load16(ip + 2);
  if (header < 20 || total > length - 14 || total < header + 8) return false;
  const std::uint8_t* l4 = ip + header;
  Flow back;
  std::memcpy(back.destination_mac.data(), frame + 6, 6);
  back.source_mac = own_mac_;
  back.source = load32(ip + 16);
  back.destination = load32(ip + 12);
  back.source_port = load16(l4 + 2);
  back.destination_port = load16(l4);

  std::uint32_t index = 0;
  if (protocol_ == Protocol::udp) {
    if (ip[9] != 17 || total < header + 8 + kPayload) return false;
    const std::uint8_t* p = l4 + 8;
    if (load32(p) != kMagic || load32(p + 4) != tag_) return false;
    index = load32(p + 8);
    const auto kind = static_cast<Kind>(p[12]);
    if (index >= marks_.size()) return false;
    if (role_ == Role::responder && kind == Kind::probe) {
      learnt_[index] = Learnt{back.destination, back.destination_port, true};
      answer = build_frame(Protocol::udp, back, 0, 0, 0, true, tag_, index, Kind::reply);
      if (!marks_[index]) {
        marks_[index] = 1;
        validated_.fetch_add(1);
      }
      return true;
    }
    if (role_ == Role::initiator && kind == Kind::reply && !marks_[index]) {
      marks_[index] = 1;
      validated_.fetch_add(1);
    }
    return false;
  }
  if (ip[9] != 6 || total < header + 20) return false;
  const std::uint8_t flags = l4[13] & 0x3f;
  const std::uint32_t seq = load32(l4 + 4);
  const std::uint32_t ack = load32(l4 + 8);
  if (role_ == Role::responder && flags == 0x02) {
    if ((seq & 0xff) != (tag_ & 0xff)) return false;
    index = seq >> 8;
    if (index >= marks_.size()) return false;
    learnt_[index] = Learnt{back.destination, back.destination_port, true};
    if (!marks_[index]) {
      marks_[index] = 1;
      validated_.fetch_add(1);
    }
    answer = build_frame(Protocol::tcp, back, 0x12, responder_isn(tag_, index), seq + 1, false, tag_, index, Kind::reply);
    return true;
  }
  if (role_ == Role::initiator && flags == 0x12) {
    const std::uint32_t isn = ack - 1;
    if ((isn & 0xff) != (tag_ & 0xff)) return false;
    index = isn >> 8;
    if (index >= marks_.size() || seq != responder_isn(tag_, index)) return false;
    if (!marks_[index]) {
      marks_[index] = 1;
      validated_.fetch_add(1);
    }
    answer = build_frame(Protocol::tcp, back, 0x10, ack, seq + 1, false, tag_, index, Kind::data);
    return true;
  }
  return false;
}

}  // namespace natcert::wirebench
