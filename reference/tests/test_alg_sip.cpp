// The SIP and TFTP ALGs inside the reference NAT: what leaves, what is let in, and that garbage on their
// ports passes untouched.
#include <string>

#include "nat_test_support.hpp"

namespace natcert::ref::testing {
namespace {

NatConfig config(const std::string& spec) {
  NatConfig c;
  std::string error;
  EXPECT_TRUE(make_config(spec, c, error)) << error;
  return c;
}

std::string payload_of(const Emitted& emitted) {
  const PacketView v = view_of(emitted);
  const Bytes p = v.kind == TransportKind::udp ? v.udp.payload() : v.tcp.payload();
  return {p.begin(), p.end()};
}

std::string invite(std::uint16_t sip_port, std::uint16_t rtp) {
  const std::string body = "v=0\r\no=a 1 1 IN IP4 10.0.0.10\r\ns=-\r\nc=IN IP4 10.0.0.10\r\nt=0 0\r\nm=audio " +
                           std::to_string(rtp) + " RTP/AVP 0\r\n";
  return "INVITE sip:bob@198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:" + std::to_string(sip_port) +
         ";branch=z9hG4bK1\r\nCall-ID: 1@x\r\nCSeq: 1 INVITE\r\nContact: <sip:a@10.0.0.10:" +
         std::to_string(sip_port) + ">\r\nContent-Type: application/sdp\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(SipAlg, InviteRewrittenAndMediaLetIn) {
  NatDriver nat(config("port-restricted-cone,alg.sip=true"));
  const auto out = nat.outbound(udp(kInside1, 40000, kOutside1, 5060, invite(40000, 30000)));
  ASSERT_EQ(out.size(), 1u);
  const Endpoint external = nat.external_of(out);
  const std::string sent = payload_of(out[0]);
  const std::string ext = format_ipv4(external.address) + ":" + std::to_string(external.port);
  EXPECT_NE(sent.find("Via: SIP/2.0/UDP " + ext + ";"), std::string::npos) << sent;
  EXPECT_NE(sent.find("<sip:a@" + ext + ">"), std::string::npos) << sent;
  EXPECT_NE(sent.find("c=IN IP4 203.0.113.1\r\n"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("10.0.0.10"), std::string::npos) << sent;
  const auto m = sent.find("m=audio ");
  ASSERT_NE(m, std::string::npos);
  const auto media_port = static_cast<std::uint16_t>(std::stoul(sent.substr(m + 8)));
  const auto body = sent.substr(sent.find("\r\n\r\n") + 4);
  EXPECT_NE(sent.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);

  // Media from another host (APDF would drop it without the expectation) reaches X's RTP port.
  const auto media = nat.inbound(udp(kOutside2, 7078, kExternal, media_port, "rtp"));
  ASSERT_EQ(media.size(), 1u) << to_string(nat.last_drop());
  EXPECT_EQ(view_of(media[0]).ip.destination(), addr(kInside1));
  EXPECT_EQ(view_of(media[0]).udp.destination_port(), 30000);
  // X's own RTP leaves from the advertised port.
  EXPECT_EQ(nat.external_of(nat.outbound(udp(kInside1, 30000, kOutside2, 7078, "rtp"))).port, media_port);

  // The answer's Via is turned back into the inside endpoint.
  const std::string ringing = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP " + ext + ";branch=z9hG4bK1\r\n\r\n";
  const auto back = nat.inbound(udp(kOutside1, 5060, kExternal, external.port, ringing));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_NE(payload_of(back[0]).find("Via: SIP/2.0/UDP 10.0.0.10:40000;"), std::string::npos);
}

TEST(SipAlg, OffByDefaultAndMutants) {
  NatDriver off(config("rfc-strict"));
  const std::string message = invite(40000, 30000);
  EXPECT_EQ(payload_of(off.outbound(udp(kInside1, 40000, kOutside1, 5060, message))[0]), message);

  NatDriver wrong(config("rfc-strict,alg.sip=true,alg.sip-mutant=wrong-sdp-address"));
  EXPECT_NE(payload_of(wrong.outbound(udp(kInside1, 40000, kOutside1, 5060, message))[0]).find("c=IN IP4 203.0.113.2"),
            std::string::npos);

  NatDriver silent(config("rfc-strict,alg.sip=true,alg.sip-mutant=no-media-expectation"));
  const auto out = silent.outbound(udp(kInside1, 40000, kOutside1, 5060, message));
  EXPECT_NE(payload_of(out[0]).find("m=audio 30000 "), std::string::npos);
  EXPECT_TRUE(silent.inbound(udp(kOutside1, 7078, kExternal, 30000, "rtp")).empty());
}

TEST(SipAlg, GarbageOnPort5060PassesUntouched) {
  NatDriver nat(config("rfc-strict,alg.sip=true"));
  const std::vector<std::string> garbage = {
      "x", "INVITE", "INVITE sip:b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:40000", std::string(1400, '\r'),
      "INVITE sip:b SIP/2.0\r\nContent-Length: 999999999\r\nVia: SIP/2.0/UDP 10.0.0.10:40000\r\n\r\nv=0\r\n",
      "INVITE sip:b SIP/2.0\r\nContent-Length: 40\r\nVia: SIP/2.0/UDP 10.0.0.10:40000\r\n\r\nv=0\r\n"};
  for (const auto& text : garbage) {
    const auto out = nat.outbound(udp(kInside1, 40000, kOutside1, 5060, text));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(payload_of(out[0]), text);
  }
  // A well-formed message with a binary body: the headers change, the body's bytes stay.
  const std::string binary("INVITE sip:b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:40000\r\n\r\n\0\xff", 60);
  const std::string sent = payload_of(nat.outbound(udp(kInside1, 40000, kOutside1, 5060, binary))[0]);
  EXPECT_EQ(sent.find("10.0.0.10"), std::string::npos);
  EXPECT_TRUE(sent.ends_with(std::string("\r\n\r\n\0\xff", 6)));
}

std::string rrq() { return std::string("\0\1file.bin\0octet\0", 17); }

TEST(TftpAlg, ReplyFromNewPortLetInOnlyWithTheAlg) {
  NatDriver without(config("port-restricted-cone"));
  const Endpoint x1 = without.external_of(without.outbound(udp(kInside1, 40000, kOutside1, 69, rrq())));
  EXPECT_TRUE(without.inbound(udp(kOutside1, 33000, kExternal, x1.port, "\0\3\0\1data")).empty());

  NatDriver with(config("port-restricted-cone,alg.tftp=true"));
  const Endpoint x2 = with.external_of(with.outbound(udp(kInside1, 40000, kOutside1, 69, rrq())));
  const auto data = with.inbound(udp(kOutside1, 33000, kExternal, x2.port, std::string("\0\3\0\1data", 8)));
  ASSERT_EQ(data.size(), 1u) << to_string(with.last_drop());
  EXPECT_EQ(view_of(data[0]).udp.destination_port(), 40000);
  // Only the server's address: another host's packet is still filtered.
  EXPECT_TRUE(with.inbound(udp(kOutside2, 33001, kExternal, x2.port, "x")).empty());

  // Not a request (an ACK, garbage): nothing expected.
  NatDriver junk(config("port-restricted-cone,alg.tftp=true"));
  const Endpoint x3 = junk.external_of(junk.outbound(udp(kInside1, 40001, kOutside1, 69, std::string("\0\4\0\1", 4))));
  EXPECT_TRUE(junk.inbound(udp(kOutside1, 33000, kExternal, x3.port, "x")).empty());
}

}  // namespace
}  // namespace natcert::ref::testing
