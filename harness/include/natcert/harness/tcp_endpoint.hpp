// Scripted TCP endpoints: the harness, not a kernel socket, sends every segment of a connection
// through the DUT, tracking sequence and acknowledgement numbers per side, so a test can drive an
// exact sequence (three-way handshake either way, simultaneous open, half-close, simultaneous close,
// RST in any state, data with options, retransmissions) and see how the DUT treats each segment.
//
//   TcpConnection c = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
//   c.handshake();                        // inside SYN, outside SYN-ACK, inside ACK
//   c.data(Side::outside, "hello");       // PSH-ACK with data, expected translated at the inside
//   c.fin(Side::inside); c.ack(Side::outside);
//   ctx.check("RFC5382-REQ-2", c.ok(), "every segment translated", c.ok() ? "all translated" : c.first_failure());
//
// Every step sends one segment from one peer and expects its translation at the other peer
// (`expect_dropped` steps expect nothing instead). A translated segment is checked: addresses and
// ports rewritten as the peers expect, flags, payload and option kinds unchanged, sequence and
// acknowledgement numbers preserved (unless `sequence_may_change`, for a DUT with a declared ALG),
// checksums valid. Problems do not decide anything by themselves: they are collected as one line per
// failed step ("step 3 (inside ACK of SYN-ACK): expected a TCP ACK 198.51.100.10:80 <- 203.0.113.1:X,
// got nothing in 1 s") and the test turns them into checks. A peer behind the NAT learns its external
// endpoint from the first translated segment it sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/context.hpp"

namespace natcert::harness {

// One end of a scripted connection.
struct TcpPeer {
  std::string name;                 // "inside", "outside", "X1", ... (used in step descriptions)
  Side side = Side::inside;         // where the emulated host sits
  Endpoint local{};                 // its own address and port
  // How the other peer sees it (and sends to it): the outside host itself, or the external endpoint
  // the DUT chose for an inside host. Unknown until learned from the first translated segment.
  std::optional<Endpoint> seen_as{};
};

struct TcpOptions {
  Duration window = reply_window;  // how long a step waits for its translated segment
  // An ALG may shift sequence numbers; the endpoint then tracks what the receiver saw instead of
  // requiring the numbers to be preserved.
  bool sequence_may_change = false;
  std::uint16_t window_size = 65535;
};

// TCP option bytes for segments (padded by the crafting code).
namespace tcp_option {
Packet mss(std::uint16_t value);
Packet timestamps(std::uint32_t value, std::uint32_t echo);
Packet sack_permitted();
Packet window_scale(std::uint8_t shift);
// Concatenation, e.g. join({mss(1460), sack_permitted(), timestamps(1, 0)}).
Packet join(const std::vector<Packet>& options);
}  // namespace tcp_option

// What one step saw.
struct TcpStep {
  std::size_t number = 0;
  std::string description;            // "inside SYN"
  std::optional<Observed> delivered;  // the translated segment, when it arrived
  std::vector<std::string> problems;  // empty when the step went as expected
  bool ok() const { return problems.empty(); }
};

class TcpConnection {
 public:
  TcpConnection(TestContext& ctx, TcpPeer first, TcpPeer second, TcpOptions options = {});
  // The usual pair: inside host X:x talking to outside host Y:y through the DUT. `external` is X':x'
  // when already known (an existing mapping), so the outside can open the connection.
  static TcpConnection through(TestContext& ctx, Endpoint inside, Endpoint outside,
                               std::optional<Endpoint> external = std::nullopt, TcpOptions options = {});

  const TcpPeer& peer(Side side) const;  // for the usual pair; the first peer on that side
  const TcpPeer& first() const { return peers_[0]; }
  const TcpPeer& second() const { return peers_[1]; }
  // The external endpoint of the inside peer of the usual pair, once learned.
  std::optional<Endpoint> external() const;

  // ---- Single segments. `from` names the sending peer by side; for two peers on the same side
  // (hairpinning) use the index overloads (0 = first, 1 = second). The segment's sequence number is
  // the sender's next one (its ISN for a SYN); the ACK flag acknowledges everything the sender has
  // received. `what` describes the step; empty gives "<peer> <flags>".
  std::optional<Observed> send(Side from, std::uint8_t flags, const Payload& payload = {}, Packet options = {},
                               std::string_view what = {});
  std::optional<Observed> send_from(std::size_t peer, std::uint8_t flags, const Payload& payload = {},
                                    Packet options = {}, std::string_view what = {});
  // The same, but the DUT is expected to drop the segment: a delivery is a problem of this step.
  bool send_expect_dropped(Side from, std::uint8_t flags, const Payload& payload = {},
                           std::string_view what = {}, Duration window = silence_window);
  // A segment the DUT may or may not forward (a filter probe): a missing translation is not a problem
  // of this step; a translated one is still checked.
  std::optional<Observed> probe(Side from, std::uint8_t flags, std::string_view what = {});
  std::optional<Observed> probe_from(std::size_t peer, std::uint8_t flags, std::string_view what = {});
  // Sends the sender's previous segment again, byte for byte (same sequence numbers).
  std::optional<Observed> retransmit(Side from, std::string_view what = {});

  // ---- Sequences (each is a few send() steps; they return whether every step of theirs went well).
  bool handshake();               // inside SYN, outside SYN-ACK, inside ACK
  bool handshake_from_outside();  // outside SYN to X':x' (must be known), inside SYN-ACK, outside ACK
  bool simultaneous_open();       // both SYNs cross (inside first), then both SYN-ACKs
  bool data(Side from, const Payload& payload, Packet options = {});  // PSH-ACK with data
  std::optional<Observed> ack(Side from);                              // a bare ACK
  std::optional<Observed> fin(Side from);                              // FIN-ACK
  bool simultaneous_close();  // both FIN-ACKs cross, then both ACKs
  std::optional<Observed> reset(Side from);  // RST (RST-ACK once the sender has received something)

  // ---- Outcome
  bool ok() const { return failures_.empty(); }
  const std::vector<TcpStep>& steps() const { return steps_; }
  // One line per failed step, in order.
  const std::vector<std::string>& failures() const { return failures_; }
  std::string first_failure() const;  // "" when ok()
  std::string describe_failures() const;  // every failure, "; "-joined

 private:
  struct SideState {
    std::optional<std::uint32_t> isn;
    std::uint32_t next_seq = 0;                 // next sequence number this peer sends
    std::optional<std::uint32_t> receive_next;  // what this peer acknowledges
    Packet last_sent;                           // for retransmissions
    std::uint8_t last_flags = 0;
  };

  std::size_t index_of(Side side) const;
  std::optional<Observed> step(std::size_t from, std::uint8_t flags, const Payload& payload, Packet options,
                               std::string_view what, bool retransmission);
  std::optional<Observed> deliver(std::size_t from, const Packet& packet, std::uint8_t flags, std::string description,
                                  bool required = true);
  Packet build(std::size_t from, std::uint8_t flags, const Payload& payload, const Packet& options);
  Matcher arrival(std::size_t from) const;
  std::string expectation(std::size_t from, std::uint8_t flags) const;
  std::string source_text(std::size_t peer) const;
  void verify(std::size_t from, const Packet& sent, const Observed& got, std::vector<std::string>& problems);
  void learn(std::size_t from, const Observed& got);
  void finish_step(TcpStep step);

  TestContext& ctx_;
  TcpPeer peers_[2];
  SideState state_[2];
  TcpOptions options_;
  std::vector<TcpStep> steps_;
  std::vector<std::string> failures_;
};

// "SYN", "SYN-ACK", "ACK", "PSH-ACK", "FIN-ACK", "RST", "RST-ACK".
std::string tcp_flags_name(std::uint8_t flags);

}  // namespace natcert::harness
