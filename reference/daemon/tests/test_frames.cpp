// Ethernet and ARP frames: what the daemon parses and what it writes.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "frames.hpp"

namespace natcert::ref::daemon {
namespace {

const MacAddress kOurs{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddress kTheirs{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr Ipv4Address kInside = 0x0a000001;  // 10.0.0.1
constexpr Ipv4Address kHost = 0x0a00000a;    // 10.0.0.10

TEST(Frames, FormatsMacAddresses) {
  EXPECT_EQ(format_mac(MacAddress{0xaa, 0xbb, 0x0c, 0x00, 0x01, 0xff}), "aa:bb:0c:00:01:ff");
}

TEST(Frames, EthernetHeaderRoundTrips) {
  std::array<std::uint8_t, kEthernetHeaderSize> frame{};
  write_ethernet(frame.data(), kTheirs, kOurs, kEtherTypeIpv4);
  const auto header = parse_ethernet(frame);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->destination, kTheirs);
  EXPECT_EQ(header->source, kOurs);
  EXPECT_EQ(header->ether_type, kEtherTypeIpv4);
  EXPECT_EQ(frame[12], 0x08);
  EXPECT_EQ(frame[13], 0x00);
}

TEST(Frames, ShortEthernetFrameIsRejected) {
  const std::vector<std::uint8_t> runt(13, 0);
  EXPECT_FALSE(parse_ethernet(runt).has_value());
}

TEST(Frames, ArpRequestIsBroadcastWithTheWireLayout) {
  std::array<std::uint8_t, kArpFrameSize> frame{};
  write_arp_frame(frame.data(), kBroadcastMac, arp_request(kOurs, kInside, kHost));
  const std::array<std::uint8_t, kArpFrameSize> expected{
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,  // Ethernet
      0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,                                 // Ethernet/IPv4, request
      0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1,                                      // sender
      0, 0, 0, 0, 0, 0, 10, 0, 0, 10};                                          // target
  EXPECT_EQ(frame, expected);
}

TEST(Frames, ArpReplyAnswersTheRequester) {
  const ArpMessage request = arp_request(kTheirs, kHost, kInside);
  std::array<std::uint8_t, kArpFrameSize> frame{};
  write_arp_frame(frame.data(), request.sender_mac, arp_reply(request, kOurs, kInside));
  const auto header = parse_ethernet(frame);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->destination, kTheirs);
  EXPECT_EQ(header->ether_type, kEtherTypeArp);
  const auto reply = parse_arp(std::span<const std::uint8_t>(frame).subspan(kEthernetHeaderSize));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->operation, ArpOperation::reply);
  EXPECT_EQ(reply->sender_mac, kOurs);
  EXPECT_EQ(reply->sender_ip, kInside);
  EXPECT_EQ(reply->target_mac, kTheirs);
  EXPECT_EQ(reply->target_ip, kHost);
}

TEST(Frames, NonIpv4OrTruncatedArpIsRejected) {
  std::array<std::uint8_t, kArpFrameSize> frame{};
  write_arp_frame(frame.data(), kBroadcastMac, arp_request(kOurs, kInside, kHost));
  auto payload = std::span<std::uint8_t>(frame).subspan(kEthernetHeaderSize);
  EXPECT_FALSE(parse_arp(payload.first(27)).has_value());
  payload[2] = 0x86;  // protocol type IPv6
  EXPECT_FALSE(parse_arp(payload).has_value());
  payload[2] = 0x08;
  payload[7] = 9;  // operation 9 (InARP and friends)
  EXPECT_FALSE(parse_arp(payload).has_value());
}

std::vector<std::uint8_t> udp_packet() {
  std::vector<std::uint8_t> packet(32, 0);
  packet[0] = 0x45;
  store16(&packet[2], 32);
  packet[8] = 64;
  packet[9] = ip_protocol::udp;
  store32(&packet[12], kHost);
  store32(&packet[16], 0xcb0071fe);
  store16(&packet[20], 5555);
  store16(&packet[22], 7777);
  store16(&packet[24], 12);
  std::memcpy(&packet[28], "ping", 4);
  return packet;
}

TEST(Frames, CompletesAnOffloadedUdpChecksum) {
  auto expected = udp_packet();
  recompute_checksums(expected, false);
  auto partial = udp_packet();
  recompute_checksums(partial, false);
  // What the sending kernel leaves for the NIC: the folded pseudo-header sum, not complemented.
  store16(&partial[26], fold16(pseudo_header_sum(kHost, 0xcb0071fe, ip_protocol::udp, 12)));
  ASSERT_NE(partial, expected);
  EXPECT_TRUE(complete_transport_checksum(partial));
  EXPECT_EQ(partial, expected);
}

TEST(Frames, LeavesFragmentsAndOtherProtocolsAlone) {
  auto fragment = udp_packet();
  store16(&fragment[6], 0x2000);  // MF
  const auto before = fragment;
  EXPECT_FALSE(complete_transport_checksum(fragment));
  EXPECT_EQ(fragment, before);
  auto icmp = udp_packet();
  icmp[9] = ip_protocol::icmp;
  EXPECT_FALSE(complete_transport_checksum(icmp));
  auto truncated = udp_packet();
  truncated.resize(30);
  EXPECT_FALSE(complete_transport_checksum(truncated));
}

}  // namespace
}  // namespace natcert::ref::daemon
