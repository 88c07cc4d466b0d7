#include <gtest/gtest.h>

#include <algorithm>

#include "natcert/harness/craft.hpp"
#include "natcert/harness/decode.hpp"

using namespace natcert::harness;
namespace ref = natcert::ref;

namespace {

const Endpoint x{0x0A00000Au, 40000};   // 10.0.0.10:40000
const Endpoint y{0xC633640Au, 3478};    // 198.51.100.10:3478

ref::ParseResult strict(const Packet& packet) {
  return ref::parse_packet(packet, ref::ParseOptions{true, true, true});
}

}  // namespace

TEST(Craft, UdpIsWellFormedWithValidChecksums) {
  const Packet packet = udp(x, y, "hello");
  const auto parsed = strict(packet);
  ASSERT_TRUE(parsed.ok()) << ref::describe(parsed.error);
  ASSERT_EQ(parsed.packet.kind, ref::TransportKind::udp);
  EXPECT_EQ(parsed.packet.ip.source(), x.address);
  EXPECT_EQ(parsed.packet.ip.destination(), y.address);
  EXPECT_EQ(parsed.packet.udp.source_port(), x.port);
  EXPECT_EQ(parsed.packet.udp.destination_port(), y.port);
  EXPECT_EQ(parsed.packet.ip.ttl(), 64);
  EXPECT_FALSE(parsed.packet.ip.dont_fragment());
  const auto payload = parsed.packet.udp.payload();
  EXPECT_EQ(std::string(payload.begin(), payload.end()), "hello");
  EXPECT_NE(parsed.packet.udp.checksum(), 0);
}

TEST(Craft, IpFieldsAreApplied) {
  IpFields fields;
  fields.ttl = 1;
  fields.dont_fragment = true;
  fields.tos = 0xb8;
  fields.id = 0x1234;
  fields.options = {0x94, 0x04, 0x00, 0x00};  // router alert (copied)
  const Packet packet = udp(x, y, "x", fields);
  const auto parsed = strict(packet);
  ASSERT_TRUE(parsed.ok()) << ref::describe(parsed.error);
  EXPECT_EQ(parsed.packet.ip.ttl(), 1);
  EXPECT_TRUE(parsed.packet.ip.dont_fragment());
  EXPECT_EQ(parsed.packet.ip.tos(), 0xb8);
  EXPECT_EQ(parsed.packet.ip.identification(), 0x1234);
  EXPECT_EQ(parsed.packet.ip.header_length(), 24);
  EXPECT_EQ(parsed.packet.kind, ref::TransportKind::udp);
}

TEST(Craft, IdentificationIsDeterministic) {
  EXPECT_EQ(udp(x, y, "a"), udp(x, y, "a"));
  EXPECT_NE(ref::load16(&udp(x, y, "a")[4]), ref::load16(&udp(x, y, "b")[4]));
}

TEST(Craft, TcpCarriesFlagsSequenceAndOptions) {
  const Packet packet = tcp(x, y, {.flags = tcp_flag::syn | tcp_flag::ack, .seq = 7, .ack = 1001, .window = 1000,
                                   .options = {0x02, 0x04, 0x05, 0xb4}},
                            "data");
  const auto parsed = strict(packet);
  ASSERT_TRUE(parsed.ok()) << ref::describe(parsed.error);
  ASSERT_EQ(parsed.packet.kind, ref::TransportKind::tcp);
  EXPECT_EQ(parsed.packet.tcp.flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(parsed.packet.tcp.sequence(), 7u);
  EXPECT_EQ(parsed.packet.tcp.acknowledgement(), 1001u);
  EXPECT_EQ(parsed.packet.tcp.window(), 1000);
  EXPECT_EQ(parsed.packet.tcp.header_length(), 24);
  const auto payload = parsed.packet.tcp.payload();
  EXPECT_EQ(std::string(payload.begin(), payload.end()), "data");
}

TEST(Craft, IcmpEchoAndMessages) {
  const Packet echo = icmp_echo(x.address, y.address, 0x4242, 3, "ping");
  const auto parsed = strict(echo);
  ASSERT_TRUE(parsed.ok()) << ref::describe(parsed.error);
  ASSERT_EQ(parsed.packet.kind, ref::TransportKind::icmp_query);
  EXPECT_EQ(parsed.packet.icmp.type(), icmp_type::echo_request);
  EXPECT_EQ(parsed.packet.icmp.identifier(), 0x4242);
  EXPECT_EQ(parsed.packet.icmp.sequence(), 3);

  const Packet reply = icmp_echo_reply(y.address, x.address, 0x4242, 3);
  ASSERT_TRUE(strict(reply).ok());
  EXPECT_EQ(strict(reply).packet.icmp.type(), icmp_type::echo_reply);

  const Packet timestamp = icmp_message(x.address, y.address, icmp_type::timestamp_request, 0, 1, 2, Payload(Packet(12)));
  ASSERT_TRUE(strict(timestamp).ok());
  EXPECT_EQ(strict(timestamp).packet.icmp.body().size(), 12u);
}

TEST(Craft, IcmpErrorQuotesTheOffendingPacket) {
  const Packet offending = udp(x, y, "a long payload that is not quoted entirely");
  const Packet error = icmp_error(y.address, x.address, icmp_type::destination_unreachable, 4, offending,
                                  {.next_hop_mtu = 1400});
  const auto parsed = strict(error);
  ASSERT_TRUE(parsed.ok()) << ref::describe(parsed.error);
  ASSERT_EQ(parsed.packet.kind, ref::TransportKind::icmp_error);
  EXPECT_EQ(parsed.packet.icmp.next_hop_mtu(), 1400);
  EXPECT_EQ(parsed.packet.icmp.body().size(), 28u);  // 20-byte header + 8 bytes (RFC 792)
  EXPECT_EQ(parsed.packet.embedded.ip.source(), x.address);
  EXPECT_EQ(parsed.packet.embedded.source_port(), x.port);
  EXPECT_EQ(parsed.packet.embedded.destination_port(), y.port);

  const Packet whole = icmp_error(y.address, x.address, 3, 3, offending, {.quoted_transport_bytes = SIZE_MAX});
  EXPECT_EQ(strict(whole).packet.icmp.body().size(), offending.size());
}

TEST(Craft, RawIpCarriesAnyProtocol) {
  const Packet esp = raw_ip(x.address, y.address, ref::ip_protocol::esp, "\x01\x02\x03\x04");
  const auto parsed = strict(esp);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.packet.ip.protocol(), ref::ip_protocol::esp);
  EXPECT_EQ(parsed.packet.kind, ref::TransportKind::none);
}

TEST(Craft, FragmentsReassembleInAnyOrder) {
  const std::string payload(1000, 'z');
  IpFields fields;
  fields.options = {0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04, 0, 0, 0, 0};  // copied router alert, uncopied RR
  const Packet original = udp(x, y, payload, fields);
  auto fragments = fragment(original, 300);
  ASSERT_EQ(fragments.size(), 4u);  // 1008 bytes of UDP in 296-byte pieces
  for (const auto& piece : fragments) {
    const auto parsed = ref::parse_packet(piece);
    ASSERT_TRUE(parsed.ok()) << ref::describe(parsed.error);
    EXPECT_TRUE(parsed.packet.ip.is_fragment());
  }
  EXPECT_EQ(ref::parse_packet(fragments[0]).packet.ip.header_length(), 32);
  EXPECT_EQ(ref::parse_packet(fragments[1]).packet.ip.header_length(), 24);  // only the copied option
  EXPECT_EQ(ref::parse_packet(fragments[0]).packet.kind, ref::TransportKind::udp);
  EXPECT_EQ(ref::parse_packet(fragments[1]).packet.kind, ref::TransportKind::none);

  std::reverse(fragments.begin(), fragments.end());
  const auto rebuilt = reassemble(fragments);
  ASSERT_TRUE(rebuilt.has_value());
  EXPECT_EQ(*rebuilt, original);

  fragments.erase(fragments.begin() + 1);
  EXPECT_FALSE(reassemble(fragments).has_value());
  EXPECT_EQ(fragment(original, 5000).size(), 1u);
  EXPECT_THROW(fragment(Packet{1, 2, 3}, 100), std::invalid_argument);
}

TEST(Decode, SummariesAreOneReadableLine) {
  EXPECT_EQ(summarize(udp(x, y, "hello", {.id = 0x1a2b})),
            "UDP 10.0.0.10:40000 > 198.51.100.10:3478 len=5 ttl=64 id=0x1a2b");
  const std::string syn = summarize(tcp(x, y, {.flags = tcp_flag::syn, .seq = 5}));
  EXPECT_NE(syn.find("TCP 10.0.0.10:40000 > 198.51.100.10:3478 [S] seq=5"), std::string::npos) << syn;
  const std::string error = summarize(icmp_error(y.address, x.address, 3, 3, udp(x, y)));
  EXPECT_NE(error.find("ICMP 3/3 port-unreachable 198.51.100.10 > 10.0.0.10 quoting UDP 10.0.0.10:40000 > "
                       "198.51.100.10:3478"),
            std::string::npos)
      << error;
  EXPECT_EQ(summarize(Packet{0x45, 0x00}).rfind("malformed: ", 0), 0u);
  Packet broken = udp(x, y, "hello");
  broken.back() ^= 0xff;
  EXPECT_NE(summarize(broken).find("; "), std::string::npos) << summarize(broken);
}

TEST(Decode, ObservedExposesEndpointsAndPayload) {
  const Observed seen(Side::outside, std::chrono::seconds(1), udp(x, y, "hi"));
  EXPECT_TRUE(seen.well_formed());
  EXPECT_TRUE(seen.checksums_ok());
  EXPECT_EQ(seen.source(), x);
  EXPECT_EQ(seen.destination(), y);
  EXPECT_EQ(seen.payload_text(), "hi");
  const Observed copy = seen;  // copies share the bytes; views stay valid
  EXPECT_EQ(copy.view().udp.source_port(), x.port);

  const Observed garbage(Side::inside, Duration{}, Packet{1, 2, 3});
  EXPECT_FALSE(garbage.well_formed());
  EXPECT_EQ(garbage.source(), Endpoint{});
  EXPECT_TRUE(garbage.payload().empty());
}
