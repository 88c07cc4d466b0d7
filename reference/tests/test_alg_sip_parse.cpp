// The SIP/SDP rewriting functions of the reference SIP ALG, on text alone.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "alg_sip_parse.hpp"

namespace natcert::ref::sip {
namespace {

const Ipv4Address kInside = *parse_ipv4_address("10.0.0.10");
const Ipv4Address kExternal = *parse_ipv4_address("203.0.113.1");

Translation outbound() { return {kInside, 5060, kExternal, 40000}; }

std::string sdp(const std::string& address = "10.0.0.10", const std::string& port = "49170") {
  return "v=0\r\no=alice 2890844526 2890844526 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " + address +
         "\r\nt=0 0\r\nm=audio " + port + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
}

std::string invite(const std::string& body, const std::string& length = "") {
  return "INVITE sip:bob@198.51.100.10 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK776asdhds\r\n"
         "From: <sip:alice@example.invalid>;tag=1928301774\r\n"
         "To: <sip:bob@198.51.100.10>\r\n"
         "Call-ID: a84b4c76e66710\r\n"
         "CSeq: 314159 INVITE\r\n"
         "Contact: <sip:alice@10.0.0.10:5060>\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: " +
         (length.empty() ? std::to_string(body.size()) : length) + "\r\n\r\n" + body;
}

struct Mapper {
  std::map<std::uint16_t, std::uint16_t> created;
  MediaMapper function() {
    return [this](std::uint16_t port) -> std::optional<std::uint16_t> {
      const std::uint16_t external = static_cast<std::uint16_t>(50000 + created.size() * 2);
      created[port] = external;
      return external;
    };
  }
};

std::size_t header_length(const std::string& message) {
  const auto at = message.find("Content-Length: ");
  return std::stoul(message.substr(at + 16));
}
std::string body_of(const std::string& message) { return message.substr(message.find("\r\n\r\n") + 4); }

TEST(SipRewrite, InviteWithSdpRewritesViaContactSdpAndLength) {
  Mapper mapper;
  const auto out = rewrite(invite(sdp()), outbound(), mapper.function());
  ASSERT_TRUE(out);
  EXPECT_NE(out->message.find("Via: SIP/2.0/UDP 203.0.113.1:40000;branch=z9hG4bK776asdhds\r\n"), std::string::npos);
  EXPECT_NE(out->message.find("Contact: <sip:alice@203.0.113.1:40000>\r\n"), std::string::npos);
  EXPECT_NE(out->message.find("c=IN IP4 203.0.113.1\r\n"), std::string::npos);
  EXPECT_NE(out->message.find("o=alice 2890844526 2890844526 IN IP4 203.0.113.1\r\n"), std::string::npos);
  EXPECT_NE(out->message.find("m=audio 50000 RTP/AVP 0\r\n"), std::string::npos);
  EXPECT_EQ(out->message.find("10.0.0.10"), std::string::npos);
  EXPECT_EQ(header_length(out->message), body_of(out->message).size());
  EXPECT_EQ(out->media_ports, std::vector<std::uint16_t>{49170});
  EXPECT_EQ(mapper.created.at(49170), 50000);
  // Untouched: the request line and To name the peer.
  EXPECT_TRUE(out->message.starts_with("INVITE sip:bob@198.51.100.10 SIP/2.0\r\n"));
}

TEST(SipRewrite, MutantsGetExactlyOneThingWrong) {
  Mapper a, b;
  const auto wrong_address = rewrite(invite(sdp()), outbound(), a.function(), Mutant::wrong_sdp_address);
  ASSERT_TRUE(wrong_address);
  EXPECT_NE(wrong_address->message.find("c=IN IP4 203.0.113.2\r\n"), std::string::npos);
  const auto stale = rewrite(invite(sdp()), outbound(), b.function(), Mutant::stale_content_length);
  ASSERT_TRUE(stale);
  EXPECT_EQ(header_length(stale->message), sdp().size());
  EXPECT_NE(header_length(stale->message), body_of(stale->message).size());
}

TEST(SipRewrite, ResponseInboundRewritesViaBack) {
  const std::string response = "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 203.0.113.1:40000;branch=z9\r\nl: 0\r\n\r\n";
  const auto out = rewrite(response, {kExternal, 40000, kInside, 5060}, nullptr);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->message, "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 10.0.0.10:5060;branch=z9\r\nl: 0\r\n\r\n");
}

TEST(SipRewrite, DefaultPortAndOtherPorts) {
  // No port means 5060: the mapping's port must then be written out.
  const std::string message = "REGISTER sip:example.invalid SIP/2.0\r\nContact: <sip:a@10.0.0.10>\r\n\r\n";
  const auto out = rewrite(message, outbound(), nullptr);
  ASSERT_TRUE(out);
  EXPECT_NE(out->message.find("<sip:a@203.0.113.1:40000>"), std::string::npos);
  // Another port of the host, or a longer address that starts alike, is not the translated endpoint.
  EXPECT_FALSE(rewrite("REGISTER sip:x SIP/2.0\r\nContact: <sip:a@10.0.0.10:5070>\r\n\r\n", outbound(), nullptr));
  EXPECT_FALSE(rewrite("REGISTER sip:x SIP/2.0\r\nContact: <sip:a@10.0.0.100:5060>\r\n\r\n", outbound(), nullptr));
  EXPECT_FALSE(rewrite("REGISTER sip:x SIP/2.0\r\nContact: <sip:a@110.0.0.10:5060>\r\n\r\n", outbound(), nullptr));
}

TEST(SipRewrite, MalformedInputIsLeftAlone) {
  Mapper mapper;
  const std::string good = invite(sdp());
  const std::vector<std::string> bad = {
      "",
      "\r\n\r\n",
      good.substr(0, good.find("\r\n\r\n")),                     // no end of headers
      good.substr(0, 40),                                          // truncated
      invite(sdp(), "99999999999999999999"),                       // huge length
      invite(sdp(), "-5"),                                         // signed
      invite(sdp(), "12abc"),                                      // not a number
      invite(sdp(), std::to_string(sdp().size() + 1)),            // more than the datagram holds
      "HELLO world\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\n\r\n",    // not a SIP start line
      "INVITE sip:b SIP/2.0\r\nVia SIP/2.0/UDP 10.0.0.10:5060\r\n\r\n",  // header without a colon
      invite(sdp("10.0.0.10", "99999")),                           // media port out of range
      invite(sdp("10.0.0.10", "4x")),                              // media port not a number
      invite("v=0\r\nthis is not sdp\r\n"),                        // SDP line without '='
      invite("v=0\r\nc=IN IP6 ::1\r\nm=audio 4000 RTP/AVP 0\r\n"),  // unsupported connection line
      std::string(70000, 'A'),
      "INVITE sip:b SIP/2.0\r\nContent-Length: 0\r\nl: 0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\n\r\n",  // two lengths
  };
  for (const auto& message : bad) {
    EXPECT_FALSE(rewrite(message, outbound(), mapper.function())) << message.substr(0, 120);
  }
  EXPECT_TRUE(mapper.created.empty() || mapper.created.size() <= 1);
}

TEST(SipRewrite, NoBodyAndNoLengthStillRewriteHeaders) {
  const std::string message = "OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\n\r\n";
  const auto out = rewrite(message, outbound(), nullptr);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->message, "OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1:40000\r\n\r\n");
}

TEST(SipRewrite, MediaOnAnotherAddressIsNotMapped) {
  Mapper mapper;
  const std::string body = "v=0\r\no=a 1 1 IN IP4 10.0.0.10\r\ns=-\r\nc=IN IP4 198.51.100.99\r\nt=0 0\r\n"
                           "m=audio 4000 RTP/AVP 0\r\n";
  const auto out = rewrite(invite(body), outbound(), mapper.function());
  ASSERT_TRUE(out);  // Via, Contact and o= still change
  EXPECT_TRUE(mapper.created.empty());
  EXPECT_NE(out->message.find("m=audio 4000 RTP/AVP 0"), std::string::npos);
  EXPECT_NE(out->message.find("c=IN IP4 198.51.100.99"), std::string::npos);
}

TEST(SipRewrite, MediaLevelConnectionAndDisabledStreams) {
  Mapper mapper;
  const std::string body = "v=0\r\no=a 1 1 IN IP4 10.0.0.10\r\ns=-\r\nt=0 0\r\n"
                           "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.10/127\r\n"
                           "m=video 0 RTP/AVP 31\r\nc=IN IP4 10.0.0.10\r\n";
  const auto out = rewrite(invite(body), outbound(), mapper.function());
  ASSERT_TRUE(out);
  EXPECT_EQ(mapper.created.size(), 1u);
  EXPECT_NE(out->message.find("m=audio 50000 RTP/AVP 0\r\nc=IN IP4 203.0.113.1/127\r\n"), std::string::npos);
  EXPECT_NE(out->message.find("m=video 0 RTP/AVP 31"), std::string::npos);
}

TEST(SipRewrite, FailedMappingLeavesTheMessageAlone) {
  const MediaMapper none = [](std::uint16_t) -> std::optional<std::uint16_t> { return std::nullopt; };
  EXPECT_FALSE(rewrite(invite(sdp()), outbound(), none));
}

TEST(SipParse, Pieces) {
  EXPECT_TRUE(is_sip_start_line("INVITE sip:a@b SIP/2.0"));
  EXPECT_TRUE(is_sip_start_line("SIP/2.0 180 Ringing"));
  EXPECT_FALSE(is_sip_start_line("SIP/2.0 18 Ringing"));
  EXPECT_FALSE(is_sip_start_line("invite sip:a SIP/2.0"));
  EXPECT_FALSE(is_sip_start_line("INVITE sip:a HTTP/1.1"));
  EXPECT_EQ(parse_content_length(" 42 "), 42u);
  EXPECT_FALSE(parse_content_length(""));
  EXPECT_FALSE(parse_content_length("+1"));
  EXPECT_FALSE(parse_content_length("12345678"));
  EXPECT_EQ(canonical_header("V"), "via");
  EXPECT_EQ(canonical_header("Content-LENGTH"), "content-length");
}

}  // namespace
}  // namespace natcert::ref::sip
