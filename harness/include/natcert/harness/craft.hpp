// Packet crafting for emulated hosts. Every function returns a complete IPv4 packet (no link header)
// with correct checksums, built with libtins. The result is a plain byte vector: edit any byte
// afterwards to make it wrong on purpose, and call natcert::ref::recompute_checksums(packet) if the
// checksums should be valid again.
//
//   ctx.send(Side::inside, udp(x, y1, "hello"));
//   ctx.send(Side::outside, tcp(y1, x_ext, {.flags = tcp_flag::syn | tcp_flag::ack, .seq = 7, .ack = 1001}));
//   ctx.send(Side::outside, icmp_error(router, x_ext.address, 3, 3, probe.bytes()));
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/types.hpp"

namespace natcert::harness {

namespace tcp_flag = ref::tcp_flag;
namespace icmp_type = ref::icmp_type;

// Payload bytes: from text ("hello") or from bytes.
struct Payload {
  Packet bytes{};
  Payload() = default;
  Payload(std::string_view text) : bytes(text.begin(), text.end()) {}  // NOLINT: implicit on purpose
  Payload(const char* text) : Payload(std::string_view(text)) {}      // NOLINT
  Payload(const std::string& text) : Payload(std::string_view(text)) {}  // NOLINT
  Payload(Bytes data) : bytes(data.begin(), data.end()) {}             // NOLINT
  Payload(Packet data) : bytes(std::move(data)) {}                     // NOLINT
};

// IPv4 header fields. Defaults give an ordinary packet from a host.
struct IpFields {
  std::uint8_t ttl = 64;
  bool dont_fragment = false;
  std::uint8_t tos = 0;                      // DSCP << 2 | ECN
  std::optional<std::uint16_t> id{};         // default: derived from the packet's content (deterministic)
  Packet options{};                          // raw IPv4 option bytes, zero-padded to a multiple of 4
};

struct TcpFields {
  std::uint8_t flags = tcp_flag::syn;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 65535;
  Packet options{};  // raw TCP option bytes, zero-padded to a multiple of 4
};

struct IcmpErrorFields {
  std::uint16_t next_hop_mtu = 0;  // type 3 code 4 (RFC 1191)
  std::uint32_t rest_of_header = 0;  // the 32-bit word after the checksum, when next_hop_mtu is 0
  // How much of the offending packet to quote after its IP header (RFC 792: 8 bytes; RFC 1812
  // allows more). SIZE_MAX quotes the whole packet.
  std::size_t quoted_transport_bytes = 8;
};

Packet udp(Endpoint from, Endpoint to, const Payload& payload = {}, const IpFields& ip = {});
Packet tcp(Endpoint from, Endpoint to, const TcpFields& tcp, const Payload& payload = {},
           const IpFields& ip = {});
// ICMP echo request / reply (the identifier plays the role of a port for the NAT).
Packet icmp_echo(Ipv4Address from, Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                 const Payload& payload = {}, const IpFields& ip = {});
Packet icmp_echo_reply(Ipv4Address from, Ipv4Address to, std::uint16_t identifier,
                       std::uint16_t sequence, const Payload& payload = {}, const IpFields& ip = {});
// Any ICMP message with an identifier/sequence word (queries and odd types).
Packet icmp_message(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code,
                    std::uint16_t identifier, std::uint16_t sequence, const Payload& payload = {},
                    const IpFields& ip = {});
// An ICMP error quoting `offending` (a whole IPv4 packet, e.g. what the outside host captured).
Packet icmp_error(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code, Bytes offending,
                  const IcmpErrorFields& fields = {}, const IpFields& ip = {});
// An IPv4 packet with an arbitrary protocol number and payload (ESP, AH, garbage, ...).
Packet raw_ip(Ipv4Address from, Ipv4Address to, std::uint8_t protocol, const Payload& payload,
              const IpFields& ip = {});

// Splits an IPv4 packet into fragments carrying at most `max_fragment_payload` bytes of IP payload
// each (rounded down to a multiple of 8, at least 8). Options without the copied flag stay in the
// first fragment only (RFC 791). Fragments are returned in order; reverse or shuffle them as needed.
// A packet that already fits is returned as a single element. Throws std::invalid_argument on a
// packet that does not parse as IPv4.
std::vector<Packet> fragment(Bytes packet, std::size_t max_fragment_payload);

// Reassembles fragments (any order) of one datagram. nullopt when they do not form a complete
// datagram (holes, overlaps that disagree, different ids).
std::optional<Packet> reassemble(const std::vector<Packet>& fragments);

}  // namespace natcert::harness
