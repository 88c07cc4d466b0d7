// RFC 4787 §7: ALGs for UDP should be off (REQ-10).
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

// A well-formed SIP request (a SIP ALG that cannot parse a message may drop it, which would leave
// nothing to judge) carrying the inside address in text, and in its 6-byte body as four raw bytes
// and the port as two.
Packet payload_with_inside_address(Endpoint inside) {
  const std::string address = ref::format_ipv4(inside.address) + ":" + std::to_string(inside.port);
  const std::string text = "OPTIONS sip:peer@example.invalid SIP/2.0\r\nVia: SIP/2.0/UDP " + address +
                           ";branch=z9hG4bKnatcert\r\nFrom: <sip:me@example.invalid>;tag=1\r\n"
                           "To: <sip:peer@example.invalid>\r\nCall-ID: natcert-req10@example.invalid\r\n"
                           "CSeq: 1 OPTIONS\r\nContact: <sip:me@" +
                           address + ">\r\nContent-Length: 6\r\n\r\n";
  Packet payload(text.begin(), text.end());
  std::uint8_t binary[6];
  ref::store32(binary, inside.address);
  ref::store16(binary + 4, inside.port);
  payload.insert(payload.end(), binary, binary + 6);
  return payload;
}

std::string changed_bytes(harness::Bytes sent, harness::Bytes received) {
  if (sent.size() != received.size()) {
    return "length changed from " + std::to_string(sent.size()) + " to " + std::to_string(received.size());
  }
  std::string offsets;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (sent[i] != received[i]) offsets += (offsets.empty() ? "" : ",") + std::to_string(i);
  }
  return "bytes changed at offsets " + offsets;
}

void udp_alg_off(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint sip{ctx.outside(0), 5060};
  const Packet payload = payload_with_inside_address(x);
  ctx.send(Side::inside, harness::udp(x, sip, payload), "SIP-like payload with the inside address");
  // The Call-ID names this test's request: other tests may send to Y:5060 on a shared wire DUT.
  const auto received = ctx.expect(Side::outside, match::udp().to(sip).payload_contains("natcert-req10"));
  if (!received) ctx.inconclusive("the DUT did not forward UDP to port 5060, so its payload handling is unknown");
  const harness::Bytes got = received->payload();
  const bool intact = std::equal(payload.begin(), payload.end(), got.begin(), got.end());
  if (!intact && ctx.addressing().declares_alg("sip")) {
    // REQ-10 is a SHOULD; a SIP ALG the operator declares is a deliberate choice, reported, not warned.
    ctx.info("RFC4787-REQ-10", "rewritten by the SIP ALG the DUT declares: " + changed_bytes(payload, got));
    return;
  }
  ctx.check("RFC4787-REQ-10", intact, "the payload arrives byte for byte as sent",
            intact ? "unchanged" : changed_bytes(payload, got));
}

}  // namespace

void register_alg(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req10.no-udp-alg",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-10", Level::should}},
      .title = "UDP payloads are not rewritten (ALGs off)",
      .procedure =
          "An inside host sends a well-formed SIP OPTIONS request to port 5060 that carries its own address "
          "in Via and Contact and as raw bytes in its body. The outside host must receive the payload "
          "unmodified; if the DUT declares a SIP ALG (declares.algs), a rewrite is INFO naming it, not a WARN.",
      .rfc_quote =
          "REQ-10: To eliminate interference with UNSAF NAT traversal mechanisms and allow integrity "
          "protection of UDP communications, NAT ALGs for UDP-based protocols SHOULD be turned off.",
      .run = udp_alg_off,
      .mutants = {{"payload-rewrite", "rfc-strict,alg.generic-payload-rewrite=true", Verdict::warn,
                   "rewrites the inside address found in payloads"}},
  });
}

}  // namespace natcert::suites::rfc4787
