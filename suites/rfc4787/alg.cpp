// RFC 4787 §7: ALGs for UDP should be off (REQ-10).
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

// A SIP-like payload carrying the inside address in text and as four raw bytes, and the port as two.
Packet payload_with_inside_address(Endpoint inside) {
  const std::string text = "INVITE sip:peer@example.invalid SIP/2.0\r\nContact: <sip:me@" +
                           ref::format_ipv4(inside.address) + ":" + std::to_string(inside.port) + ">\r\n\r\n";
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
  const auto received = ctx.expect(Side::outside, match::udp().to(sip));
  if (!received) ctx.inconclusive("the DUT did not forward UDP to port 5060, so its payload handling is unknown");
  const harness::Bytes got = received->payload();
  const bool intact = std::equal(payload.begin(), payload.end(), got.begin(), got.end());
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
      .procedure = "An inside host sends a SIP-like UDP payload to port 5060 that carries its own address as text "
                   "and as raw bytes. The outside host must receive the payload unmodified.",
      .rfc_quote = "REQ-10: To eliminate interference with UNSAF NAT traversal mechanisms and allow integrity "
                   "protection of UDP communications, NAT ALGs for UDP-based protocols SHOULD be turned off.",
      .run = udp_alg_off,
      .mutants = {{"payload-rewrite", "rfc-strict,alg.generic-payload-rewrite=true", Verdict::warn,
                   "rewrites the inside address found in payloads"}},
  });
}

}  // namespace natcert::suites::rfc4787
