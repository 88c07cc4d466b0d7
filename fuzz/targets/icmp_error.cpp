// ICMP errors with embedded headers through the reference NAT (reference/src/nat_icmp.cpp). Three
// flows (UDP, TCP, echo) are set up; the input then describes an ICMP error from outside (quoting a
// translated packet) or from inside (quoting a delivered one), with its type, code, quote length and
// byte-level damage to the quote (fixed-up checksums or not), or an error quoting an error. Invariants:
// what leaves is well formed (NatDriver), an error delivered in either direction keeps a valid ICMP
// checksum and quotes the flow with the addresses of the side it is delivered to, and it is never
// sent back to the side it came from untranslated.
#include <algorithm>

#include "nat_driver.hpp"

using namespace natcert;
using fuzz::check;

namespace {

const char* const kConfigs[] = {
    "rfc-strict",
    "symmetric",
    "rfc-strict,icmp.skip-embedded-ip-options=false,icmp.drop-bad-embedded-ip-checksum=false",
    "rfc-strict,icmp.embedded-checksum=recompute-over-icmp-body,icmp.errors-about-errors=true",
    "rfc-strict,icmp.match-errors-by-address-only=true,icmp.forward-unmapped-errors=true",
    "rfc-strict,icmp.verify-embedded-transport-checksum=true,icmp.errors-destroy-mappings=true",
};

const std::uint8_t kErrorTypes[] = {3, 4, 5, 11, 12};

struct Flows {
  fuzz::Packet inside_sent[3];      // as the inside host sent them
  fuzz::Packet outside_seen[3];     // as they left the NAT (what an outside router would quote)
  fuzz::Packet reply_delivered[3];  // a reply as delivered inside (what an inside host would quote)
};

fuzz::Packet first_translated(const ref::Output& out, ref::Side to) {
  for (const auto& emitted : out.packets()) {
    if (emitted.to == to && emitted.kind == ref::EmitKind::translated) return emitted.bytes;
  }
  return {};
}

Flows open_flows(fuzz::NatDriver& driver) {
  Flows flows;
  const fuzz::IpHeader from_inside{fuzz::kInsideHost, fuzz::kOutsideHost};
  flows.inside_sent[0] = fuzz::udp_packet(from_inside, 4000, 53, fuzz::Bytes{});
  flows.inside_sent[1] = fuzz::tcp_packet(from_inside, fuzz::TcpHeader{4001, 80, 1000}, fuzz::Bytes{});
  flows.inside_sent[2] = fuzz::icmp_packet(from_inside, ref::icmp_type::echo_request, 0, 0x0fa20001u, fuzz::Bytes{});
  for (int i = 0; i < 3; ++i) {
    flows.outside_seen[i] = first_translated(driver.send(flows.inside_sent[i], ref::Side::inside), ref::Side::outside);
    const ref::ParseResult seen = ref::parse_packet(flows.outside_seen[i]);
    if (!seen.ok()) continue;
    const fuzz::IpHeader back{fuzz::kOutsideHost, seen.packet.ip.source()};
    fuzz::Packet reply;
    if (i == 0) reply = fuzz::udp_packet(back, 53, seen.packet.udp.source_port(), fuzz::Bytes{});
    if (i == 1) {
      reply = fuzz::tcp_packet(back,
                               fuzz::TcpHeader{80, seen.packet.tcp.source_port(), 7, 1001,
                                               ref::tcp_flag::syn | ref::tcp_flag::ack},
                               fuzz::Bytes{});
    }
    if (i == 2) {
      reply = fuzz::icmp_packet(back, ref::icmp_type::echo_reply, 0,
                                std::uint32_t{seen.packet.icmp.identifier()} << 16 | 1, fuzz::Bytes{});
    }
    flows.reply_delivered[i] = first_translated(driver.send(reply, ref::Side::outside), ref::Side::inside);
  }
  return flows;
}

// Applies up to four byte changes to the quote (offsets are taken modulo its length).
void damage(fuzz::ByteReader& in, fuzz::Packet& quote) {
  const std::size_t changes = in.pick(5);
  for (std::size_t i = 0; i < changes && !quote.empty(); ++i) {
    const std::size_t at = in.u8() % quote.size();
    quote[at] = static_cast<std::uint8_t>(quote[at] ^ in.u8());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  fuzz::NatDriver driver(in.pick_from(kConfigs));
  const Flows flows = open_flows(driver);

  const bool from_outside = in.flag();
  const std::size_t flow = in.pick(3);
  fuzz::Packet quote = from_outside ? flows.outside_seen[flow] : flows.reply_delivered[flow];
  if (quote.empty()) return 0;
  // Quote the header and at least the ports (RFC 792), or more, up to the whole packet.
  const std::size_t header_length = static_cast<std::size_t>(quote[0] & 0x0f) * 4;
  quote.resize(std::min(quote.size(), header_length + 4 + in.pick(quote.size())));
  damage(in, quote);
  if (in.flag()) ref::recompute_checksums(quote);
  const ref::Bytes extension = in.bytes(64);  // RFC 4884 style trailing bytes
  quote.insert(quote.end(), extension.begin(), extension.end());

  const std::uint8_t type = in.pick_from(kErrorTypes);
  const std::uint8_t code = in.u8() % 16;
  fuzz::IpHeader ip;
  ip.ttl = std::max<std::uint8_t>(in.u8(), 2);
  ip.options = in.bytes(12);
  if (from_outside) {
    ip.source = in.flag() ? fuzz::kThirdParty : fuzz::kOutsideHost;
    ip.destination = driver.nat().config().external_addresses.front();
  } else {
    ip.source = fuzz::kInsideHost;
    ip.destination = fuzz::kOutsideHost;
  }
  fuzz::Packet error = fuzz::icmp_packet(ip, type, code, in.u32(), quote);
  if (in.flag()) {
    // An error about this error (RFC 5508 REQ-10e: a NAT must not answer it with another error).
    fuzz::IpHeader outer = ip;
    outer.options = {};
    error.resize(std::min<std::size_t>(error.size(), 28 + 28));
    error = fuzz::icmp_packet(outer, 11, 0, 0, error);
  }
  const ref::Side arrives_on = from_outside ? ref::Side::outside : ref::Side::inside;
  const ref::Output& out = driver.send(error, arrives_on);
  for (const auto& emitted : out.packets()) {
    const ref::ParseResult parsed = ref::parse_packet(emitted.bytes);
    if (emitted.kind != ref::EmitKind::translated || parsed.packet.kind != ref::TransportKind::icmp_error) continue;
    check(emitted.to != arrives_on, "a translated error went back to the side it came from");
    check(ref::internet_checksum(parsed.packet.icmp.bytes) == 0, "translated ICMP error with a bad ICMP checksum");
    const ref::Ipv4View& quoted = parsed.packet.embedded.ip;
    if (emitted.to == ref::Side::inside && driver.nat().config().icmp_behavior.restore_embedded_headers) {
      check(quoted.source() == fuzz::kInsideHost || parsed.packet.ip.destination() == fuzz::kInsideHost ||
                driver.nat().config().icmp_behavior.match_errors_by_address_only,
            "an error delivered inside quotes neither the inside host nor reaches it");
    }
  }
  // The NAT keeps working: a fresh outbound flow still leaves.
  const fuzz::IpHeader probe_ip{fuzz::kInsideHost + 1, fuzz::kOutsideHost + 1};
  const ref::Output& probe = driver.send(fuzz::udp_packet(probe_ip, 5000, 5000, fuzz::Bytes{}), ref::Side::inside);
  check(!probe.packets().empty(), "the NAT stopped translating after an ICMP error");
  return 0;
}
