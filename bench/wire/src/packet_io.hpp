// Frames and AF_PACKET I/O for the wire benchmarks: sockets opened inside a namespace, pre-built
// frames sent paced in sendmmsg batches, and the receiver that answers and counts connection probes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "natcert/wirebench/search.hpp"

namespace natcert::wirebench {

using Mac = std::array<std::uint8_t, 6>;
using Frame = std::vector<std::uint8_t>;

// Runs `work` on a thread that entered the named namespace (sockets it opens stay in it).
void in_namespace(const std::string& ns, const std::function<void()>& work);
Mac interface_mac(const std::string& ns, const std::string& interface);

// An AF_PACKET socket bound to one interface of a namespace; receiving ones see IPv4 only and not
// their own transmissions. Closed by the destructor.
class PacketSocket {
 public:
  PacketSocket(const std::string& ns, const std::string& interface, bool receive);
  ~PacketSocket();
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

enum class Protocol { udp, tcp };

// One end of a flow as frames carry it.
struct Flow {
  Mac source_mac{}, destination_mac{};
  std::uint32_t source = 0, destination = 0;  // host byte order
  std::uint16_t source_port = 0, destination_port = 0;
};

// Test payload: magic, trial tag, connection index, kind. TCP connections are identified by their
// initial sequence numbers instead while the handshake runs (SYN and SYN-ACK carry no payload).
enum class Kind : std::uint8_t { probe = 1, reply = 2, data = 3 };
inline std::uint32_t initiator_isn(std::uint32_t tag, std::uint32_t index) { return (index << 8) | (tag & 0xff); }
inline std::uint32_t responder_isn(std::uint32_t tag, std::uint32_t index) { return initiator_isn(tag, index) ^ 0xa5a5a5a5u; }

// A UDP datagram or TCP segment (flags: 0x02 SYN, 0x12 SYN-ACK, 0x10 ACK, 0x18 PSH-ACK) with valid checksums.
Frame build_frame(Protocol protocol, const Flow& flow, std::uint8_t tcp_flags, std::uint32_t seq, std::uint32_t ack,
                  bool payload, std::uint32_t tag, std::uint32_t index, Kind kind);

struct SendOutcome {
  std::uint64_t sent = 0;
  double seconds = 0;
  bool on_time = false;  // every frame left within the trial time (+10 %)
};

// Sends `count` frames cycling through `frames` at `rate` per second (<= 0: as fast as possible), in
// sendmmsg batches. Bounded: gives up at twice the trial time plus one second.
SendOutcome send_paced(int fd, const std::vector<Frame>& frames, std::uint64_t count, double rate);

// The learnt far end of a connection (as the Responder saw the Initiator's packet arrive).
struct Learnt {
  std::uint32_t address = 0;
  std::uint16_t port = 0;
  bool valid = false;
};

// A receiver thread on one generator interface while connections are being established.
//  - Responder (outside): answers each probe of trial `tag` (UDP reply, TCP SYN-ACK) and records the
//    translated source it came from.
//  - Initiator (inside): marks connection `index` validated when its reply / SYN-ACK arrives and, for
//    TCP, completes the handshake with an ACK.
class ProbeReceiver {
 public:
  enum class Role { initiator, responder };
  ProbeReceiver(const std::string& ns, const std::string& interface, Role role, Protocol protocol, std::uint32_t tag,
                std::size_t connections, Mac own_mac);
  ~ProbeReceiver();
  ProbeReceiver(const ProbeReceiver&) = delete;
  ProbeReceiver& operator=(const ProbeReceiver&) = delete;

  std::size_t validated() const { return validated_.load(); }
  // Stops the thread; afterwards learnt() and marks are stable.
  void stop();
  const std::vector<Learnt>& learnt() const { return learnt_; }
  bool marked(std::size_t index) const { return index < marks_.size() && marks_[index] != 0; }

 private:
  void loop();
  bool handle(std::uint8_t* frame, std::size_t length, Frame& answer);

  PacketSocket socket_;
  Role role_;
  Protocol protocol_;
  std::uint32_t tag_;
  Mac own_mac_;
  std::vector<std::uint8_t> marks_;
  std::vector<Learnt> learnt_;
  std::atomic<std::size_t> validated_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace natcert::wirebench
