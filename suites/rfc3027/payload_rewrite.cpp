// RFC 5382 REQ-6 (with RFC 3027 §2 on why payload rewriting hurts): TCP payloads that carry the inside
// address and port, on ports that commonly carry ALGs, must leave the NAT byte for byte unless the DUT
// runs an ALG for that protocol. RFC 4787 REQ-10 has the UDP side (suites/rfc4787/alg.cpp).
#include "rfc3027/common.hpp"

namespace natcert::suites::rfc3027 {
namespace {

struct AlgPort {
  std::uint16_t port;
  const char* protocol;
  // Text the protocol would carry: an address an ALG for it might rewrite. On port 21 it is no FTP
  // command (PORT/EPRT) and no 227/229 reply, so even the FTP ALG REQ-6 allows has nothing to rewrite.
  std::string (*text)(const std::string& address, std::uint16_t port);
  bool raw_address = true;  // also append the address and port as six raw bytes
};

std::string ftp_text(const std::string& address, std::uint16_t port) {
  std::string commas = address;
  for (char& c : commas) c = c == '.' ? ',' : c;
  return "SITE HELP " + commas + "," + std::to_string(port / 256) + "," + std::to_string(port % 256) + " " +
         address + "\r\n";
}
// A real PORT command: the FTP ALG REQ-6 allows rewrites it, so only a DUT that declares "ftp" may.
std::string ftp_port_text(const std::string& address, std::uint16_t port) {
  std::string commas = address;
  for (char& c : commas) c = c == '.' ? ',' : c;
  return "PORT " + commas + "," + std::to_string(port / 256) + "," + std::to_string(port % 256) + "\r\n";
}
std::string rtsp_text(const std::string& address, std::uint16_t port) {
  return "SETUP rtsp://" + address + "/media RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;destination=" +
         address + ";client_port=" + std::to_string(port) + "-" + std::to_string(port + 1) + "\r\n\r\n";
}
std::string h323_text(const std::string& address, std::uint16_t port) {
  return "Q.931 SETUP h245Address " + address + ":" + std::to_string(port) + "\r\n";
}
std::string sip_text(const std::string& address, std::uint16_t port) {
  return "OPTIONS sip:peer@example.invalid SIP/2.0\r\nVia: SIP/2.0/TCP " + address + ":" + std::to_string(port) +
         "\r\nContact: <sip:me@" + address + ":" + std::to_string(port) + ";transport=tcp>\r\nContent-Length: 0\r\n\r\n";
}

const AlgPort kPorts[] = {
    {21, "ftp", ftp_text},         {21, "ftp", ftp_port_text, false}, {554, "rtsp", rtsp_text},
    {1720, "h323", h323_text}, {5060, "sip", sip_text}};

std::string changed_bytes(harness::Bytes sent, harness::Bytes received) {
  std::string out;
  if (sent.size() != received.size()) {
    out = "length " + std::to_string(sent.size()) + " -> " + std::to_string(received.size()) + "; ";
  }
  std::size_t first = 0;
  while (first < sent.size() && first < received.size() && sent[first] == received[first]) ++first;
  out += "first difference at byte " + std::to_string(first);
  std::string was, now;
  for (std::size_t i = first; i < std::min(first + 24, sent.size()); ++i) was += static_cast<char>(sent[i]);
  for (std::size_t i = first; i < std::min(first + 24, received.size()); ++i) now += static_cast<char>(received[i]);
  const auto printable = [](std::string text) {
    for (char& c : text) c = (c >= 0x20 && c < 0x7f) ? c : '.';
    return text;
  };
  return out + " (\"" + printable(was) + "\" became \"" + printable(now) + "\")";
}

void tcp_payloads_untouched(TestContext& ctx) {
  std::string rewritten;  // by a DUT that declares no ALG for the protocol
  std::string by_declared_alg;
  std::size_t carried = 0;
  for (const AlgPort& alg : kPorts) {
    const Endpoint x = ctx.inside_endpoint(0);
    // Outside host 1: the FTP tests hold Y:21 on host 0, and a SYN to the same fixed endpoint from a
    // test running beside this one on a shared wire DUT could be taken for this one's.
    const Endpoint y{ctx.outside(1), alg.port};
    const harness::TcpMapping m = ctx.learn_tcp_mapping(x, y);
    const std::string text = alg.text(ref::format_ipv4(x.address), x.port);
    Packet payload(text.begin(), text.end());
    if (alg.raw_address) {
      std::uint8_t binary[6];
      ref::store32(binary, x.address);
      ref::store16(binary + 4, x.port);
      payload.insert(payload.end(), binary, binary + 6);
    }
    ctx.send(Side::inside,
             harness::tcp(x, y, {.flags = ref::tcp_flag::psh | ref::tcp_flag::ack, .seq = m.inside_next_seq,
                                 .ack = m.outside_next_seq},
                          payload),
             std::string(alg.protocol) + "-like payload with the inside address");
    const auto got = ctx.expect(Side::outside,
                                match::tcp().from(m.external).to(y).where("carrying data",
                                                                          [](const ref::PacketView& p) {
                                                                            return !p.tcp.payload().empty();
                                                                          }),
                                harness::reply_window, std::string("the ") + alg.protocol + " data at Y");
    if (!got) continue;
    ++carried;
    const harness::Bytes received = got->payload();
    if (std::equal(payload.begin(), payload.end(), received.begin(), received.end())) continue;
    std::string& list = ctx.addressing().declares_alg(alg.protocol) ? by_declared_alg : rewritten;
    list += (list.empty() ? "" : "; ") + std::string("port ") + std::to_string(alg.port) + " (" + alg.protocol +
            "): " + changed_bytes(payload, received);
  }
  if (!by_declared_alg.empty()) {
    ctx.info("RFC5382-REQ-6", "rewritten by an ALG the DUT declares: " + by_declared_alg);
  }
  if (carried == 0) ctx.inconclusive("the DUT carried no data segment on any ALG port, so there is no payload to compare");
  ctx.check("RFC5382-REQ-6", rewritten.empty(),
            "the payloads on TCP ports 21, 554, 1720 and 5060 arrive byte for byte as sent, unless an ALG the DUT "
            "declares rewrites them",
            rewritten.empty() ? std::to_string(carried) + " payload(s) unchanged or rewritten by a declared ALG"
                              : "rewritten without a declared ALG: " + rewritten);
}

}  // namespace

void register_payload_rewrite(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc3027.unrequested-rewrite.tcp",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-6", Level::recommended}},
      .title = "TCP payloads carrying the inside address on common ALG ports pass unmodified",
      .procedure =
          "For each of TCP ports 21, 554 (RTSP), 1720 (H.323) and 5060 (SIP), X opens a connection to Y on that "
          "port and sends a payload in that protocol's style that names X's address and port as text and as raw "
          "bytes (on port 21 once as a non-command, once as a PORT command). Y must receive every payload byte "
          "for byte unless the DUT declares an ALG for that protocol (declares.algs): a rewrite by a declared ALG "
          "is INFO naming it; any other rewrite is a WARN that shows the bytes the DUT changed.",
      .rfc_quote = "REQ-6: If a NAT includes ALGs that affect TCP, it is RECOMMENDED that all of those ALGs "
                   "(except for FTP [RFC0959]) be disabled by default.",
      .run = tcp_payloads_untouched,
      // With its FTP ALG off the reference declares none, so any rewrite at all would be a WARN.
      .compliant_config = "rfc-strict,alg.ftp=false",
      .mutants = {{"payload-rewrite", "rfc-strict,alg.generic-payload-rewrite=true", Verdict::warn,
                   "rewrites the inside address wherever it appears in a payload"},
                  {"rewrite-while-disabled", "rfc-strict,alg.ftp=false,alg.ftp-mutant=rewrite-while-disabled",
                   Verdict::warn, "rewrites FTP PORT commands although its FTP ALG is off (declares none)"}},
  });
}

}  // namespace natcert::suites::rfc3027
