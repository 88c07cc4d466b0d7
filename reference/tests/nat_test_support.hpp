// Shared helpers for the reference NAT's tests: packets built with libtins (an independent encoder),
// a driver that feeds the NAT on virtual time, and an independent checksum verifier.
#pragma once

#include <gtest/gtest.h>
#include <tins/tins.h>

#include <string>
#include <vector>

#include "natcert/reference/nat.hpp"

namespace natcert::ref::testing {

inline constexpr const char* kInside1 = "10.0.0.10";
inline constexpr const char* kInside2 = "10.0.0.11";
inline constexpr const char* kOutside1 = "198.51.100.10";
inline constexpr const char* kOutside2 = "198.51.100.11";
inline constexpr const char* kThirdParty = "192.0.2.50";
inline constexpr const char* kExternal = "203.0.113.1";

inline Ipv4Address addr(const char* text) { return *parse_ipv4_address(text); }

inline std::vector<std::uint8_t> serialize(Tins::PDU& pdu) {
  const Tins::PDU::serialization_type bytes = pdu.serialize();
  return {bytes.begin(), bytes.end()};
}

inline std::vector<std::uint8_t> udp(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
                                     const std::string& payload = "probe") {
  Tins::IP ip(dst, src);
  ip /= Tins::UDP(dport, sport);
  ip /= Tins::RawPDU(payload);
  return serialize(ip);
}

inline std::vector<std::uint8_t> tcp(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
                                     std::uint16_t flags, std::uint32_t seq = 1000, std::uint32_t ack = 0,
                                     const std::string& payload = "") {
  Tins::IP ip(dst, src);
  Tins::TCP segment(dport, sport);
  segment.flags(flags);
  segment.seq(seq);
  segment.ack_seq(ack);
  ip /= segment;
  if (!payload.empty()) ip /= Tins::RawPDU(payload);
  return serialize(ip);
}

inline std::vector<std::uint8_t> echo_request(const char* src, const char* dst, std::uint16_t id,
                                              std::uint16_t seq = 1) {
  Tins::IP ip(dst, src);
  Tins::ICMP icmp(Tins::ICMP::ECHO_REQUEST);
  icmp.id(id);
  icmp.sequence(seq);
  ip /= icmp;
  ip /= Tins::RawPDU("ping");
  return serialize(ip);
}

inline std::vector<std::uint8_t> echo_reply(const char* src, const char* dst, std::uint16_t id, std::uint16_t seq = 1) {
  Tins::IP ip(dst, src);
  Tins::ICMP icmp(Tins::ICMP::ECHO_REPLY);
  icmp.id(id);
  icmp.sequence(seq);
  ip /= icmp;
  ip /= Tins::RawPDU("ping");
  return serialize(ip);
}

// An ICMP error from `src` to `dst` quoting `quoted` (whole, as routers quote small packets).
inline std::vector<std::uint8_t> icmp_error(const char* src, const char* dst, std::uint8_t type, std::uint8_t code,
                                            const std::vector<std::uint8_t>& quoted, std::uint32_t rest = 0) {
  std::vector<std::uint8_t> packet(28 + quoted.size(), 0);
  packet[0] = 0x45;
  store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  packet[8] = 64;
  packet[9] = ip_protocol::icmp;
  store32(&packet[12], addr(src));
  store32(&packet[16], addr(dst));
  packet[20] = type;
  packet[21] = code;
  store32(&packet[24], rest);
  std::copy(quoted.begin(), quoted.end(), packet.begin() + 28);
  recompute_checksums(packet);
  return packet;
}

// Independent checksum oracle: byte-wise RFC 1071 sum, deliberately not sharing code with checksum.cpp.
inline std::uint16_t naive_sum(const std::uint8_t* data, std::size_t length, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i < length; ++i) sum += (i % 2 == 0) ? (data[i] << 8) : data[i];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// Verifies the IPv4 header checksum and, for an unfragmented datagram, the transport checksum.
inline ::testing::AssertionResult checksums_valid(const std::vector<std::uint8_t>& packet) {
  const std::size_t header = (packet[0] & 0x0f) * 4u;
  if (naive_sum(packet.data(), header) != 0xffff) return ::testing::AssertionFailure() << "bad IPv4 checksum";
  const bool fragment = (load16(&packet[6]) & 0x3fff) != 0;
  if (fragment) return ::testing::AssertionSuccess();
  const std::uint8_t protocol = packet[9];
  const std::size_t length = packet.size() - header;
  const std::uint8_t* transport = packet.data() + header;
  if (protocol == ip_protocol::icmp) {
    if (naive_sum(transport, length) != 0xffff) return ::testing::AssertionFailure() << "bad ICMP checksum";
    return ::testing::AssertionSuccess();
  }
  if (protocol == ip_protocol::udp && load16(transport + 6) == 0) return ::testing::AssertionSuccess();
  std::uint32_t pseudo = 0;
  pseudo += load16(&packet[12]) + load16(&packet[14]) + load16(&packet[16]) + load16(&packet[18]);
  pseudo += protocol + static_cast<std::uint32_t>(length);
  if (naive_sum(transport, length, pseudo) != 0xffff) return ::testing::AssertionFailure() << "bad transport checksum";
  return ::testing::AssertionSuccess();
}

// Drives one ReferenceNat on virtual time and keeps what it emitted.
class NatDriver {
 public:
  explicit NatDriver(NatConfig config) : nat_(std::move(config)) {}

  std::vector<Emitted> send(Side side, const std::vector<std::uint8_t>& packet) {
    nat_.process(packet, side, now_, out_);
    last_drop_ = out_.drop_reason();
    std::vector<Emitted> emitted(out_.packets().begin(), out_.packets().end());
    for (const Emitted& e : emitted) EXPECT_TRUE(checksums_valid(e.bytes));
    return emitted;
  }
  std::vector<Emitted> outbound(const std::vector<std::uint8_t>& packet) { return send(Side::inside, packet); }
  std::vector<Emitted> inbound(const std::vector<std::uint8_t>& packet) { return send(Side::outside, packet); }
  std::vector<Emitted> wait(Duration duration) {
    now_ += duration;
    nat_.advance(now_, out_);
    return {out_.packets().begin(), out_.packets().end()};
  }

  // The external endpoint of an outbound UDP/TCP packet's translation (asserts exactly one packet out).
  Endpoint external_of(const std::vector<Emitted>& emitted) {
    EXPECT_EQ(emitted.size(), 1u);
    if (emitted.empty()) return {};
    const ParseResult parsed = parse_packet(emitted.front().bytes);
    EXPECT_TRUE(parsed.ok());
    const PacketView& v = parsed.packet;
    std::uint16_t port = 0;
    if (v.kind == TransportKind::udp) port = v.udp.source_port();
    if (v.kind == TransportKind::tcp) port = v.tcp.source_port();
    if (v.kind == TransportKind::icmp_query) port = v.icmp.identifier();
    return Endpoint{v.ip.source(), port};
  }

  ReferenceNat& nat() { return nat_; }
  DropReason last_drop() const { return last_drop_; }
  TimePoint now() const { return now_; }

 private:
  ReferenceNat nat_;
  Output out_;
  TimePoint now_{};
  DropReason last_drop_ = DropReason::none;
};

inline PacketView view_of(const Emitted& emitted) {
  const ParseResult parsed = parse_packet(emitted.bytes);
  EXPECT_TRUE(parsed.ok()) << describe(parsed.error);
  return parsed.packet;
}

}  // namespace natcert::ref::testing
