// Shared by every fuzz target: a byte reader that turns fuzz input into structured choices, packet
// builders that need no libtins (they run once per input, so they must be cheap), and the invariant
// check that aborts with a one-line reason libFuzzer then reports with the input.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "natcert/reference/packet.hpp"

namespace natcert::fuzz {

using ref::Bytes;
using Packet = std::vector<std::uint8_t>;

// An invariant violation: print why and abort, so libFuzzer (and the replay driver) report a crash.
[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz invariant violated: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}
inline void check(bool condition, std::string_view what) {
  if (!condition) fail(what);
}

// Reads fixed-size choices from the front of the input; past the end every read yields zero, so any
// input decodes to a complete program.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return position_ >= size_; }
  std::size_t remaining() const { return empty() ? 0 : size_ - position_; }
  std::uint8_t u8() { return empty() ? 0 : data_[position_++]; }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::uint32_t u32() { return (std::uint32_t{u16()} << 16) | u16(); }
  bool flag() { return (u8() & 1) != 0; }
  // A value in [0, count).
  std::size_t pick(std::size_t count) { return count == 0 ? 0 : u8() % count; }
  template <typename T, std::size_t N>
  const T& pick_from(const T (&choices)[N]) { return choices[pick(N)]; }
  // Up to `max` bytes (the length comes first).
  Bytes bytes(std::size_t max) {
    const std::size_t wanted = std::min<std::size_t>(u8() % (max + 1), remaining());
    const Bytes out{data_ + position_, wanted};
    position_ += wanted;
    return out;
  }
  Bytes rest() {
    const Bytes out{data_ + std::min(position_, size_), remaining()};
    position_ = size_;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

struct IpHeader {
  ref::Ipv4Address source = 0;
  ref::Ipv4Address destination = 0;
  std::uint8_t protocol = ref::ip_protocol::udp;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset_bytes = 0;  // multiple of 8
  Bytes options{};                          // padded with zeros to a multiple of 4 (at most 40)
};

// Appends an IPv4 header for `payload_length` payload bytes (checksum filled in by finish()).
inline void append_ipv4(Packet& out, const IpHeader& ip, std::size_t payload_length) {
  const std::size_t options_length = std::min<std::size_t>((ip.options.size() + 3) / 4 * 4, 40);
  const std::size_t header_length = 20 + options_length;
  const std::size_t base = out.size();
  out.resize(base + header_length, 0);
  std::uint8_t* h = out.data() + base;
  h[0] = static_cast<std::uint8_t>(0x40 | (header_length / 4));
  h[1] = ip.tos;
  ref::store16(h + 2, static_cast<std::uint16_t>(std::min<std::size_t>(header_length + payload_length, 0xffff)));
  ref::store16(h + 4, ip.id);
  ref::store16(h + 6, static_cast<std::uint16_t>((ip.dont_fragment ? 0x4000 : 0) | (ip.more_fragments ? 0x2000 : 0) |
                                                 ((ip.fragment_offset_bytes / 8) & 0x1fff)));
  h[8] = ip.ttl;
  h[9] = ip.protocol;
  ref::store32(h + 12, ip.source);
  ref::store32(h + 16, ip.destination);
  for (std::size_t i = 0; i < options_length && i < ip.options.size(); ++i) h[20 + i] = ip.options[i];
}

// Completes a packet: every checksum recomputed (a zero UDP checksum stays zero).
inline Packet finish(Packet packet) {
  ref::recompute_checksums(packet);
  return packet;
}

inline Packet udp_packet(IpHeader ip, std::uint16_t source_port, std::uint16_t destination_port, Bytes payload,
                         bool zero_checksum = false) {
  ip.protocol = ref::ip_protocol::udp;
  Packet out;
  out.reserve(60 + 8 + payload.size());
  append_ipv4(out, ip, 8 + payload.size());
  const std::size_t at = out.size();
  out.resize(at + 8, 0);
  ref::store16(&out[at], source_port);
  ref::store16(&out[at + 2], destination_port);
  ref::store16(&out[at + 4], static_cast<std::uint16_t>(8 + payload.size()));
  if (!zero_checksum) out[at + 6] = 1;  // any non-zero value: recompute_checksums then fills it in
  out.insert(out.end(), payload.begin(), payload.end());
  return finish(std::move(out));
}

struct TcpHeader {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = ref::tcp_flag::syn;
  std::uint16_t window = 65535;
  Bytes options{};  // padded to a multiple of 4 (at most 40)
};

inline Packet tcp_packet(IpHeader ip, const TcpHeader& tcp, Bytes payload) {
  ip.protocol = ref::ip_protocol::tcp;
  const std::size_t options_length = std::min<std::size_t>((tcp.options.size() + 3) / 4 * 4, 40);
  const std::size_t header_length = 20 + options_length;
  Packet out;
  out.reserve(60 + header_length + payload.size());
  append_ipv4(out, ip, header_length + payload.size());
  const std::size_t at = out.size();
  out.resize(at + header_length, 0);
  std::uint8_t* t = &out[at];
  ref::store16(t, tcp.source_port);
  ref::store16(t + 2, tcp.destination_port);
  ref::store32(t + 4, tcp.seq);
  ref::store32(t + 8, tcp.ack);
  t[12] = static_cast<std::uint8_t>((header_length / 4) << 4);
  t[13] = tcp.flags;
  ref::store16(t + 14, tcp.window);
  for (std::size_t i = 0; i < options_length && i < tcp.options.size(); ++i) t[20 + i] = tcp.options[i];
  out.insert(out.end(), payload.begin(), payload.end());
  return finish(std::move(out));
}

// Any ICMP message: type, code, the 32-bit "rest of header" word, then `body`.
inline Packet icmp_packet(IpHeader ip, std::uint8_t type, std::uint8_t code, std::uint32_t rest, Bytes body) {
  ip.protocol = ref::ip_protocol::icmp;
  Packet out;
  out.reserve(60 + 8 + body.size());
  append_ipv4(out, ip, 8 + body.size());
  const std::size_t at = out.size();
  out.resize(at + 8, 0);
  out[at] = type;
  out[at + 1] = code;
  ref::store32(&out[at + 4], rest);
  out.insert(out.end(), body.begin(), body.end());
  return finish(std::move(out));
}

// Whether every checksum of a complete packet verifies (IP header, and the transport checksum of an
// unfragmented datagram).
inline bool checksums_valid(Bytes packet) {
  ref::ParseOptions strict;
  strict.verify_ip_checksum = true;
  strict.verify_transport_checksum = true;
  return ref::parse_packet(packet, strict).ok();
}

inline std::string_view text(Bytes bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace natcert::fuzz
