// RFC 3027 §3.1 (IPsec and IKE) with RFC 3947/3948 (NAT traversal). AH and transport-mode ESP cannot
// survive NAPT: AH's integrity check covers the IP addresses the NAT changes, and ESP encrypts the
// TCP/UDP checksums the NAT would have to fix; the test says so with what the DUT did to them. What a
// NAT can and must get right is the UDP of IKE (port 500, RFC 3947 lets the NAT translate its source
// port) and of NAT-T (port 4500, RFC 3948 puts ESP in UDP so the NAT has ports to map): two inside hosts
// using the same well-known source port must each keep their own mapping and get their own answers.
#include "rfc3027/common.hpp"

namespace natcert::suites::rfc3027 {
namespace {

constexpr std::uint16_t kIkePort = 500;
constexpr std::uint16_t kNatTPort = 4500;

void put32(Packet& out, std::uint32_t value) {
  std::uint8_t bytes[4];
  ref::store32(bytes, value);
  out.insert(out.end(), bytes, bytes + 4);
}

// AH (RFC 4302 §2) in transport mode over a small UDP datagram: next header 17, a 12-byte ICV.
Packet ah_payload(std::uint32_t spi) {
  Packet out{ref::ip_protocol::udp, 4, 0, 0};  // payload length in 32-bit words minus 2: 6 words of AH
  put32(out, spi);
  put32(out, 1);                               // sequence number
  for (std::uint8_t i = 0; i < 12; ++i) out.push_back(static_cast<std::uint8_t>(0xa0 + i));  // ICV
  const Packet udp{0x30, 0x39, 0x30, 0x39, 0x00, 0x0c, 0x00, 0x00, 'p', 'i', 'n', 'g'};
  out.insert(out.end(), udp.begin(), udp.end());
  return out;
}

// ESP (RFC 4303 §2): SPI, sequence number, then ciphertext (opaque bytes to anyone but the peers).
Packet esp_payload(std::uint32_t spi) {
  Packet out;
  put32(out, spi);
  put32(out, 1);
  for (std::uint8_t i = 0; i < 32; ++i) out.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  return out;
}

// An IKEv2 header (RFC 7296 §3.1): initiator SPI, zero responder SPI, no payload, IKE_SA_INIT.
Packet ike_header(std::uint32_t spi, bool response) {
  Packet out;
  put32(out, spi);
  put32(out, spi ^ 0x5a5a5a5au);
  put32(out, response ? 0x01020304u : 0);
  put32(out, response ? 0x05060708u : 0);
  out.insert(out.end(), {0, 0x20, 34, static_cast<std::uint8_t>(response ? 0x20 : 0x08)});
  put32(out, 0);
  put32(out, 28);
  return out;
}

// What leaves the DUT for an IPsec packet of `protocol` from X to Y: the characterisation, never a verdict.
std::string ipsec_outcome(TestContext& ctx, std::uint8_t protocol, const char* name, const Packet& payload,
                          Endpoint x, Endpoint y, std::uint32_t spi) {
  ctx.send(Side::inside, harness::raw_ip(x.address, y.address, protocol, payload), std::string(name) + " from X to Y");
  const auto matcher = match::protocol(protocol).to(y.address).where(
      "carrying SPI " + std::to_string(spi), [spi, protocol](const ref::PacketView& p) {
        const harness::Bytes body = p.ip.payload();
        const std::size_t at = protocol == ref::ip_protocol::ah ? 4 : 0;
        return body.size() >= at + 4 && ref::load32(body.data() + at) == spi;
      });
  const auto seen = ctx.expect(Side::outside, matcher, harness::reply_window, std::string(name) + " at Y");
  if (!seen) return "dropped by the DUT";
  if (seen->view().ip.source() == x.address) return "forwarded untranslated (it shows the inside address)";
  return "forwarded with its source rewritten to " + ref::format_ipv4(seen->view().ip.source());
}

struct UdpExchange {
  bool delivered = false;
  Endpoint external{};
};

// X:port sends `request` to Y:port; the answer from Y:port to the source seen outside must reach X.
UdpExchange exchange(TestContext& ctx, Endpoint x, Endpoint y, const Packet& request, const Packet& answer,
                     const std::string& what) {
  ctx.send(Side::inside, harness::udp(x, y, request), what + " from " + harness::to_string(x));
  const auto out = ctx.expect(Side::outside, match::udp().to(y).payload(request), harness::reply_window, what + " at Y");
  if (!out) return {};
  UdpExchange result{false, out->source()};
  ctx.send(Side::outside, harness::udp(y, out->source(), answer), what + " answer");
  result.delivered =
      ctx.expect(Side::inside, match::udp().from(y).to(x).payload(answer), harness::reply_window, what + " answer at X")
          .has_value();
  return result;
}

void ipsec_across_napt(TestContext& ctx) {
  const Endpoint y{ctx.outside(0), kIkePort};
  const std::uint32_t spi = ctx.random() | 0x100u;

  // AH and transport ESP: characterised, with the reason they cannot work.
  const std::string ah = ipsec_outcome(ctx, ref::ip_protocol::ah, "AH", ah_payload(spi), {ctx.inside(0), 0}, y, spi);
  ctx.profile("alg.ipsec.ah", "broken");
  ctx.info("RFC3027-3.1", "AH " + ah + ": AH's integrity check covers the IP addresses, so no NAT can rewrite "
                                       "them and keep it valid; AH cannot cross NAPT");
  const std::uint32_t esp_spi = spi + 1;
  const std::string esp =
      ipsec_outcome(ctx, ref::ip_protocol::esp, "ESP", esp_payload(esp_spi), {ctx.inside(0), 0}, y, esp_spi);
  ctx.profile("alg.ipsec.esp-transport", "broken");
  ctx.info("RFC3027-3.1", "transport-mode ESP " + esp +
                              ": the TCP/UDP checksum inside is encrypted and covers the inside address, and ESP has "
                              "no ports to tell two inside peers apart; it needs NAT-T (RFC 3948)");

  // IKE from two inside hosts, both on source port 500, to the same responder.
  const Endpoint x1{ctx.inside(0), kIkePort};
  const Endpoint x2{ctx.inside(1), kIkePort};
  const UdpExchange ike1 = exchange(ctx, x1, y, ike_header(spi, false), ike_header(spi, true), "IKE_SA_INIT");
  const UdpExchange ike2 =
      exchange(ctx, x2, y, ike_header(spi + 2, false), ike_header(spi + 2, true), "IKE_SA_INIT of X2");
  if (ike1.external.port == 0 && ike2.external.port == 0) {
    ctx.inconclusive("the DUT forwarded no IKE datagram from port 500, so there is nothing to decide");
  }
  ctx.bind("X1' (IKE)", ike1.external);
  ctx.bind("X2' (IKE)", ike2.external);
  const bool ike_ok = ike1.delivered && ike2.delivered && ike1.external != ike2.external;
  ctx.profile("alg.ike", ike_ok ? "works directly" : "broken");
  ctx.check("RFC3027-3.1", ike_ok,
            "each host's IKE leaves from its own external endpoint (port 500 may be translated, RFC 3947 §3) and "
            "gets its own answer",
            "X1:500 -> " + harness::to_string(ike1.external) + (ike1.delivered ? " answered" : " not answered") +
                ", X2:500 -> " + harness::to_string(ike2.external) + (ike2.delivered ? " answered" : " not answered"));

  // NAT-T: IKE on 4500 (non-ESP marker), then ESP in UDP and a keepalive from the same port.
  const Endpoint yt{y.address, kNatTPort};
  const Endpoint t1{ctx.inside(0), kNatTPort};
  const Endpoint t2{ctx.inside(1), kNatTPort};
  Packet ike_t1{0, 0, 0, 0};
  const Packet h1 = ike_header(spi + 4, false);
  ike_t1.insert(ike_t1.end(), h1.begin(), h1.end());
  Packet ike_t1_answer{0, 0, 0, 0};
  const Packet a1 = ike_header(spi + 4, true);
  ike_t1_answer.insert(ike_t1_answer.end(), a1.begin(), a1.end());
  const UdpExchange natt1 = exchange(ctx, t1, yt, ike_t1, ike_t1_answer, "IKE on 4500");
  const UdpExchange esp1 = exchange(ctx, t1, yt, esp_payload(spi + 5), esp_payload(spi + 6), "ESP-in-UDP");
  const UdpExchange natt2 = exchange(ctx, t2, yt, esp_payload(spi + 7), esp_payload(spi + 8), "ESP-in-UDP of X2");
  ctx.bind("X1' (NAT-T)", natt1.external);
  ctx.bind("X2' (NAT-T)", natt2.external);
  const bool stable = natt1.external.port != 0 && natt1.external == esp1.external;
  const bool natt_ok = natt1.delivered && esp1.delivered && natt2.delivered && stable && natt1.external != natt2.external;
  ctx.profile("alg.ipsec.nat-t", natt_ok ? "works directly" : "broken");
  ctx.check("RFC3027-3.1", natt_ok,
            "NAT-T (UDP 4500, RFC 3948): IKE and ESP-in-UDP of a host share one stable mapping, and two hosts on port "
            "4500 get distinct mappings and their own answers",
            "X1:4500 IKE via " + harness::to_string(natt1.external) + (natt1.delivered ? " answered" : " not answered") +
                ", its ESP via " + harness::to_string(esp1.external) + (esp1.delivered ? " answered" : " not answered") +
                ", X2:4500 ESP via " + harness::to_string(natt2.external) +
                (natt2.delivered ? " answered" : " not answered"));
}

}  // namespace

void register_ipsec(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc3027.s3-1.ipsec",
      .suite = kSuite,
      .requirements = {{"RFC3027-3.1", Level::should}},
      .title = "IPsec across NAPT: AH and transport ESP break (stated), IKE on 500 and NAT-T on 4500 work",
      .procedure =
          "X1 sends an AH packet and a transport-mode ESP packet to Y; what the DUT does with them is reported "
          "(INFO: neither can work across NAPT, whatever the DUT does). X1 and X2 then both send IKE_SA_INIT from "
          "UDP port 500 to Y:500; each must leave from its own external endpoint (the source port may be "
          "translated, RFC 3947) and Y's answers must reach each host. Last, X1 sends IKE with the non-ESP marker "
          "and then ESP-in-UDP from port 4500 to Y:4500, and X2 ESP-in-UDP from port 4500: X1's two flows must "
          "share one mapping, the two hosts must have distinct mappings, and Y's answers must come back. RFC 3027 "
          "states no requirement level, so a failure is a WARN.",
      .rfc_quote = "The IPsec AH secure packet traversing NAT will simply not reach the target application, as "
                   "a result. [...] As a result, TCP/UDP packets encrypted in transport mode ESP, traversing a NAT "
                   "device will fail the TCP/UDP checksum validation on the receiving end and will simply not reach "
                   "the target application. [...] there is difficulty with retaining the private-to-external "
                   "address mapping on NAT from the time IKE completed negotiation to the time IPsec uses the key "
                   "on an application.",
      .run = ipsec_across_napt,
      .mutants = {{"port-overloading", "rfc-strict,ports.overloading=true", Verdict::warn,
                   "two inside hosts on port 500 (and 4500) share one external endpoint, so one host loses its "
                   "answers"}},
  });
}

}  // namespace natcert::suites::rfc3027
