// The reference FTP ALG: the control-line parser (malformed input included) and the engine plumbing
// (rewrite, sequence/acknowledgement corrections, checksums, expectations, mutants).
#include <gtest/gtest.h>

#include <string>

#include "nat_test_support.hpp"
#include "natcert/reference/alg_ftp.hpp"

namespace natcert::ref {
namespace {

using namespace testing;
using ftp::Message;
using ftp::parse_line;

NatConfig config_with() { return defaults(); }

// ---- Parser

TEST(FtpParse, PortCommand) {
  const auto found = parse_line("PORT 10,0,0,10,4,1", true);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->message, Message::port);
  EXPECT_EQ(found->address, addr("10.0.0.10"));
  EXPECT_EQ(found->port, 1025);
  EXPECT_EQ(found->begin, 5u);
  EXPECT_EQ(found->end, 18u);
  EXPECT_TRUE(parse_line("port 10,0,0,10,4,1", true));  // commands are case-insensitive (RFC 959 §5.3)
  EXPECT_TRUE(parse_line("PORT 10,0,0,10,4,1  ", true));
}

TEST(FtpParse, EprtCommand) {
  const auto found = parse_line("EPRT |1|10.0.0.10|6275|", true);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->message, Message::eprt);
  EXPECT_EQ(found->address, addr("10.0.0.10"));
  EXPECT_EQ(found->port, 6275);
  const auto other = parse_line("EPRT !1!10.0.0.10!6275!", true);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->delimiter, '!');
  EXPECT_EQ(ftp::format_endpoint(Message::eprt, addr("203.0.113.1"), 40000, '!'), "!1!203.0.113.1!40000!");
}

TEST(FtpParse, PassiveReplies) {
  const auto pasv = parse_line("227 Entering Passive Mode (10,0,0,10,156,64).", false);
  ASSERT_TRUE(pasv);
  EXPECT_EQ(pasv->message, Message::passive_reply);
  EXPECT_EQ(pasv->port, 40000);
  EXPECT_TRUE(parse_line("227 =10,0,0,10,156,64", false));  // RFC 1123: scan for the first digit
  const auto epsv = parse_line("229 Entering Extended Passive Mode (|||40000|)", false);
  ASSERT_TRUE(epsv);
  EXPECT_EQ(epsv->message, Message::extended_passive_reply);
  EXPECT_EQ(epsv->port, 40000);
  EXPECT_EQ(epsv->address, 0u);
  // Client commands are not server replies and vice versa.
  EXPECT_FALSE(parse_line("PORT 10,0,0,10,4,1", false));
  EXPECT_FALSE(parse_line("227 Entering Passive Mode (10,0,0,10,156,64)", true));
}

TEST(FtpParse, MalformedLinesAreRejected) {
  for (const char* line : {
           "PORT", "PORT ", "PORT 10,0,0,10,4", "PORT 10,0,0,10,4,", "PORT 10,0,0,256,4,1", "PORT 10,0,0,10,4,256",
           "PORT 10,0,0,10,0,0", "PORT 10,0,0,10,4,1x", "PORT a,b,c,d,e,f", "PORT 0010,0,0,10,4,1",
           "PORT 10,0,0,10,4,1,7", "PORT 99999999999999999999,0,0,1,1,1", "PORT -1,0,0,10,4,1", "PORTX 10,0,0,10,4,1",
           "EPRT |2|::1|6275|", "EPRT |1|10.0.0.10|65536|", "EPRT |1|10.0.0.10|0|", "EPRT |1|10.0.0.300|80|",
           "EPRT |1|10.0.0|80|", "EPRT |1|10.0.0.10|80", "EPRT 1|10.0.0.10|80|", "EPRT |1|10.0.0.10|999999|",
           "EPRT ", "EPRT |1|", "EPRT |1|10.0.0.10|80|junk",
       }) {
    EXPECT_FALSE(parse_line(line, true)) << line;
  }
  for (const char* line : {
           "227", "227 ", "227 Entering Passive Mode", "227 Entering Passive Mode (10,0,0,10,156)",
           "227 Entering Passive Mode (10,0,0,10,156,640)", "229 Entering Extended Passive Mode (|||99999|)",
           "229 Entering Extended Passive Mode (|||40000)", "229 Entering Extended Passive Mode (||40000|)",
           "229 (|||", "229 (", "229 Entering Extended Passive Mode |||40000|", "2270 (10,0,0,10,1,1)",
       }) {
    EXPECT_FALSE(parse_line(line, false)) << line;
  }
}

TEST(FtpParse, EpsvAll) {
  EXPECT_TRUE(ftp::is_epsv_all("EPSV ALL"));
  EXPECT_TRUE(ftp::is_epsv_all("epsv all"));
  EXPECT_FALSE(ftp::is_epsv_all("EPSV"));
  EXPECT_FALSE(ftp::is_epsv_all("EPSV 1"));
  EXPECT_FALSE(ftp::is_epsv_all("EPSV ALLX"));
}

TEST(FtpParse, ArbitraryBytesNeverCrash) {
  std::string line;
  std::uint32_t state = 12345;
  for (int round = 0; round < 2000; ++round) {
    state = state * 1103515245u + 12345u;
    line.assign(state % 40, '\0');
    for (char& c : line) {
      state = state * 1103515245u + 12345u;
      c = "PORTEPRT227229 (|,.0123456789\r\n"[state % 31];
    }
    (void)parse_line(line, true);
    (void)parse_line(line, false);
    (void)ftp::is_epsv_all(line);
  }
}

// ---- Engine

constexpr std::uint16_t kClientPort = 40000;
constexpr std::uint32_t kClientIsn = 1000;
constexpr std::uint32_t kServerIsn = 5000;

struct Segment {
  std::uint32_t seq;
  std::uint32_t ack;
  std::string payload;
};

Segment segment_of(const Emitted& emitted) {
  const ParseResult parsed = parse_packet(emitted.bytes);
  EXPECT_TRUE(parsed.ok());
  const TcpView& tcp = parsed.packet.tcp;
  const Bytes payload = tcp.payload();
  return {tcp.sequence(), tcp.acknowledgement(), std::string(payload.begin(), payload.end())};
}

// An inside client with an open control connection to the outside server's port 21.
class FtpControl {
 public:
  explicit FtpControl(NatConfig config) : nat(std::move(config)) {
    external = nat.external_of(nat.outbound(tcp(kInside1, kClientPort, kOutside1, 21, Tins::TCP::SYN, kClientIsn)));
    nat.inbound(tcp(kOutside1, 21, kExternal, external.port, Tins::TCP::SYN | Tins::TCP::ACK, kServerIsn,
                    kClientIsn + 1));
    nat.outbound(tcp(kInside1, kClientPort, kOutside1, 21, Tins::TCP::ACK, kClientIsn + 1, kServerIsn + 1));
    client_seq = kClientIsn + 1;
    server_seq = kServerIsn + 1;
  }
  // The client sends `text`; returns what left outside.
  std::vector<Emitted> client_says(const std::string& text) {
    auto out = nat.outbound(tcp(kInside1, kClientPort, kOutside1, 21, Tins::TCP::PSH | Tins::TCP::ACK, client_seq,
                                server_seq, text));
    client_seq += static_cast<std::uint32_t>(text.size());
    return out;
  }
  // The server sends `text`, acknowledging `ack` (in its own view of the client's numbering).
  std::vector<Emitted> server_says(const std::string& text, std::uint32_t ack) {
    auto out = nat.inbound(tcp(kOutside1, 21, kExternal, external.port, Tins::TCP::PSH | Tins::TCP::ACK, server_seq,
                               ack, text));
    server_seq += static_cast<std::uint32_t>(text.size());
    return out;
  }
  NatDriver nat;
  Endpoint external;
  std::uint32_t client_seq = 0;
  std::uint32_t server_seq = 0;
};

NatConfig ftp_config(const char* mutant = "none") {
  NatConfig config = config_with();
  EXPECT_EQ(apply_override(config, "alg.ftp-mutant", mutant), "");
  return config;
}

TEST(FtpAlg, PortIsRewrittenAndSequenceNumbersFollow) {
  FtpControl c(ftp_config());
  const auto out = c.client_says("PORT 10,0,0,10,156,65\r\n");
  ASSERT_EQ(out.size(), 1u);
  const Segment port = segment_of(out[0]);
  const std::string expected_prefix = "PORT 203,0,113,1,";
  ASSERT_EQ(port.payload.substr(0, expected_prefix.size()), expected_prefix) << port.payload;
  EXPECT_EQ(port.seq, kClientIsn + 1);
  const std::int32_t delta = static_cast<std::int32_t>(port.payload.size()) - 23;
  EXPECT_NE(delta, 0);

  // The server acknowledges the rewritten length; the client must see its own numbering.
  const std::uint32_t server_ack = port.seq + static_cast<std::uint32_t>(port.payload.size());
  const auto reply = c.server_says("200 PORT command successful\r\n", server_ack);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(segment_of(reply[0]).ack, c.client_seq);

  // The next client segment continues where the rewritten one ended.
  const auto next = c.client_says("RETR file\r\n");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(segment_of(next[0]).seq, server_ack);

  // The data connection from the server's port 20 reaches the client's announced port.
  unsigned p1 = 0, p2 = 0;
  ASSERT_EQ(std::sscanf(port.payload.c_str(), "PORT 203,0,113,1,%u,%u", &p1, &p2), 2);
  const auto data_port = static_cast<std::uint16_t>(p1 * 256 + p2);
  const auto syn = c.nat.inbound(tcp(kOutside1, 20, kExternal, data_port, Tins::TCP::SYN, 777));
  ASSERT_EQ(syn.size(), 1u);
  const PacketView v = parse_packet(syn[0].bytes).packet;
  EXPECT_EQ(v.ip.destination(), addr(kInside1));
  EXPECT_EQ(v.tcp.destination_port(), 40001);
}

TEST(FtpAlg, EprtSplitLineAndRetransmission) {
  FtpControl c(ftp_config());
  // A command split across segments is left alone (documented limitation); the next whole one is rewritten.
  EXPECT_EQ(segment_of(c.client_says("EPRT |1|10.0.0.10|")[0]).payload, "EPRT |1|10.0.0.10|");
  EXPECT_EQ(segment_of(c.client_says("40001|\r\n")[0]).payload, "40001|\r\n");
  const std::uint32_t before = c.client_seq;
  const auto out = c.client_says("EPRT |1|10.0.0.10|40002|\r\n");
  const Segment first = segment_of(out[0]);
  EXPECT_EQ(first.payload.rfind("EPRT |1|203.0.113.1|", 0), 0u) << first.payload;
  // A retransmission is rewritten the same way and keeps its sequence number.
  const auto again = c.nat.outbound(tcp(kInside1, kClientPort, kOutside1, 21, Tins::TCP::PSH | Tins::TCP::ACK, before,
                                        c.server_seq, "EPRT |1|10.0.0.10|40002|\r\n"));
  const Segment second = segment_of(again[0]);
  EXPECT_EQ(second.payload, first.payload);
  EXPECT_EQ(second.seq, first.seq);
}

TEST(FtpAlg, MalformedAndForeignCommandsPassUnchanged) {
  FtpControl c(ftp_config());
  for (const char* text : {"PORT 10,0,0,10,999,1\r\n", "PORT 10,0,0,10,4,1", "PORT 192,0,2,7,4,1\r\n",
                           "EPSV ALL\r\n", "EPRT |2|::1|5000|\r\n", "\r\n\r\n\n", "PORT 10,0,0,10,4,1 junk\r\n"}) {
    const auto out = c.client_says(text);
    ASSERT_EQ(out.size(), 1u) << text;
    EXPECT_EQ(segment_of(out[0]).payload, text);
  }
}

TEST(FtpAlg, DisabledLeavesPayloadAlone) {
  NatConfig config = config_with();
  ASSERT_EQ(apply_override(config, "alg.ftp", "false"), "");
  FtpControl c(config);
  EXPECT_EQ(segment_of(c.client_says("PORT 10,0,0,10,156,65\r\n")[0]).payload, "PORT 10,0,0,10,156,65\r\n");
  ASSERT_EQ(apply_override(config, "alg.ftp-mutant", "rewrite-while-disabled"), "");
  FtpControl mutant(config);
  EXPECT_NE(segment_of(mutant.client_says("PORT 10,0,0,10,156,65\r\n")[0]).payload, "PORT 10,0,0,10,156,65\r\n");
}

TEST(FtpAlg, InsideServerPassiveReplyIsRewritten) {
  NatConfig config = config_with();
  // The server's mapping exists (it talked out first), and filtering is endpoint-independent here.
  ASSERT_EQ(apply_override(config, "tcp.filtering", "endpoint-independent"), "");
  NatDriver open(config);
  const Endpoint server = open.external_of(open.outbound(tcp(kInside1, 21, kOutside2, 9, Tins::TCP::SYN, 1)));
  ASSERT_EQ(open.inbound(tcp(kOutside1, 50000, kExternal, server.port, Tins::TCP::SYN, 100)).size(), 1u);
  open.outbound(tcp(kInside1, 21, kOutside1, 50000, Tins::TCP::SYN | Tins::TCP::ACK, 10, 101));
  const auto out = open.outbound(tcp(kInside1, 21, kOutside1, 50000, Tins::TCP::PSH | Tins::TCP::ACK, 11, 101,
                                     "227 Entering Passive Mode (10,0,0,10,156,64).\r\n"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(segment_of(out[0]).payload.rfind("227 Entering Passive Mode (203,0,113,1,", 0), 0u)
      << segment_of(out[0]).payload;
}

TEST(FtpAlg, WrongSequenceDeltaMutant) {
  FtpControl c(ftp_config("wrong-seq-delta"));
  const Segment port = segment_of(c.client_says("PORT 10,0,0,10,156,65\r\n")[0]);
  const auto next = c.client_says("RETR file\r\n");
  EXPECT_NE(segment_of(next[0]).seq, port.seq + port.payload.size());
}

TEST(FtpAlg, FirstSegmentOnlyMutant) {
  FtpControl c(ftp_config("first-segment-only"));
  EXPECT_NE(segment_of(c.client_says("PORT 10,0,0,10,156,65\r\n")[0]).payload, "PORT 10,0,0,10,156,65\r\n");
  EXPECT_EQ(segment_of(c.client_says("PORT 10,0,0,10,156,66\r\n")[0]).payload, "PORT 10,0,0,10,156,66\r\n");
}

TEST(FtpAlg, NoExpectationMutant) {
  FtpControl c(ftp_config("no-expectation"));
  const Segment port = segment_of(c.client_says("PORT 10,0,0,10,156,65\r\n")[0]);
  EXPECT_EQ(port.payload, "PORT 203,0,113,1,156,65\r\n");
  EXPECT_TRUE(c.nat.inbound(tcp(kOutside1, 20, kExternal, 40001, Tins::TCP::SYN, 777)).empty());
}

TEST(FtpAlg, PassiveRepliesFromOutsidePassUnlessMangled) {
  const std::string reply = "227 Entering Passive Mode (198,51,100,10,156,64).\r\n";
  FtpControl good(ftp_config());
  EXPECT_EQ(segment_of(good.server_says(reply, good.client_seq)[0]).payload, reply);
  FtpControl mutant(ftp_config("mangle-passive-replies"));
  EXPECT_EQ(segment_of(mutant.server_says(reply, mutant.client_seq)[0]).payload.rfind("227 Entering Passive Mode (203,0,113,1,", 0),
            0u);
}

TEST(FtpAlg, StaleChecksumMutant) {
  NatConfig config = ftp_config("stale-checksum");
  ReferenceNat nat(config);
  Output out;
  nat.process(tcp(kInside1, kClientPort, kOutside1, 21, Tins::TCP::SYN, kClientIsn), Side::inside, TimePoint{}, out);
  ASSERT_EQ(out.packets().size(), 1u);
  const std::uint16_t port = parse_packet(out.packets()[0].bytes).packet.tcp.source_port();
  nat.process(tcp(kOutside1, 21, kExternal, port, Tins::TCP::SYN | Tins::TCP::ACK, kServerIsn, kClientIsn + 1),
              Side::outside, TimePoint{}, out);
  nat.process(tcp(kInside1, kClientPort, kOutside1, 21, Tins::TCP::PSH | Tins::TCP::ACK, kClientIsn + 1,
                  kServerIsn + 1, "PORT 10,0,0,10,156,65\r\n"),
              Side::inside, TimePoint{}, out);
  ASSERT_EQ(out.packets().size(), 1u);
  EXPECT_FALSE(checksums_valid(out.packets()[0].bytes));
}

}  // namespace
}  // namespace natcert::ref
