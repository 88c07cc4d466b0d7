// Seed templates: the valid flows a case starts from (a mapping made from inside and answered from
// outside, TCP handshakes, echo, ICMP errors quoting translated packets in both directions, fragment
// sets, FTP and SIP control traffic, unsolicited inbound), and the testbed scope they stay within.
#include <algorithm>

#include "engine.hpp"
#include "natcert/harness/craft.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::campaign::detail {

namespace {

constexpr Ipv4Address mask_for(unsigned bits) { return bits == 0 ? 0 : ~Ipv4Address{0} << (32 - bits); }

bool in(Ipv4Address address, Ipv4Address network, unsigned bits) {
  return (address & mask_for(bits)) == (network & mask_for(bits));
}

}  // namespace

Scope Scope::from(const harness::Addressing& addressing) {
  Scope scope;
  scope.addressing = addressing;
  // The inside hosts' /24s stand for the inside prefix (the testbed does not publish its length).
  for (Ipv4Address host : addressing.inside) scope.inside_prefixes.emplace_back(host & mask_for(24), mask_for(24));
  if (addressing.nat_inside) scope.inside_prefixes.emplace_back(*addressing.nat_inside & mask_for(24), mask_for(24));
  return scope;
}

bool Scope::is_inside(Ipv4Address address) const {
  return std::any_of(inside_prefixes.begin(), inside_prefixes.end(),
                     [&](const auto& prefix) { return (address & prefix.second) == prefix.first; });
}

bool Scope::allowed(Ipv4Address address) const {
  auto listed = [&](const std::vector<Ipv4Address>& list) {
    return std::find(list.begin(), list.end(), address) != list.end();
  };
  return is_inside(address) || listed(addressing.inside) || listed(addressing.outside) ||
         listed(addressing.nat_external) || addressing.third_party == address || addressing.nat_inside == address ||
         in(address, 0xC0000200u, 24) || in(address, 0xC6336400u, 24) || in(address, 0xCB007100u, 24);
}

void learn(CaseState& state, const std::vector<Captured>& captured) {
  for (const auto& packet : captured) {
    if (packet.side == Side::outside) {
      state.outbound_capture = packet.bytes;
      ref::ParseOptions lenient;
      lenient.verify_ip_checksum = false;
      const auto parsed = ref::parse_packet(packet.bytes, lenient);
      if (!parsed.ok()) continue;
      const auto& view = parsed.packet;
      if (view.ip.destination() != state.outside.address) continue;
      if (view.kind == ref::TransportKind::udp) state.mapped = Endpoint{view.ip.source(), view.udp.source_port()};
      if (view.kind == ref::TransportKind::tcp) state.mapped = Endpoint{view.ip.source(), view.tcp.source_port()};
      if (view.kind == ref::TransportKind::icmp_query) state.mapped = Endpoint{view.ip.source(), view.icmp.identifier()};
    } else {
      state.inbound_capture = packet.bytes;
    }
  }
}

namespace {

using harness::Payload;
namespace flag = ref::tcp_flag;

// Where replies go: the mapping the DUT chose, else (when declared) the external address with the
// inside port (what a port-preserving NAT would have chosen). Nothing: the step is skipped.
std::optional<Endpoint> reply_target(const CaseState& s) {
  if (s.mapped) return s.mapped;
  if (!s.scope->addressing.nat_external.empty()) return Endpoint{s.scope->addressing.nat_external[0], s.inside.port};
  return std::nullopt;
}

std::vector<Packet> one(Packet packet) { return {std::move(packet)}; }

std::vector<Packet> udp_out(CaseState& s) { return one(harness::udp(s.inside, s.outside, "natcert-fuzz udp")); }
std::vector<Packet> udp_reply(CaseState& s) {
  const auto target = reply_target(s);
  if (!target) return {};
  return one(harness::udp(s.outside, *target, "natcert-fuzz reply"));
}

harness::TcpFields tcp_fields(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) {
  harness::TcpFields fields;
  fields.flags = flags;
  fields.seq = seq;
  fields.ack = ack;
  return fields;
}

// From another outside host to the mapping: what the filtering behaviour decides (RFC 4787 REQ-8).
std::vector<Packet> udp_from_other_remote(CaseState& s) {
  const auto target = reply_target(s);
  if (!target) return {};
  const auto& hosts = s.scope->addressing.outside;
  Ipv4Address other = s.scope->addressing.third_party.value_or(s.outside.address);
  for (Ipv4Address host : hosts) {
    if (host != s.outside.address) other = host;
  }
  return one(harness::udp({other, static_cast<std::uint16_t>(s.outside.port ^ 1)}, *target, "natcert-fuzz other remote"));
}

std::vector<Packet> tcp_syn(CaseState& s) { return one(harness::tcp(s.inside, s.outside, tcp_fields(flag::syn, 1000, 0))); }
std::vector<Packet> tcp_syn_ack(CaseState& s) {
  const auto target = reply_target(s);
  if (!target) return {};
  return one(harness::tcp(s.outside, *target, tcp_fields(flag::syn | flag::ack, 5000, 1001)));
}
std::vector<Packet> tcp_ack_data(CaseState& s) {
  return one(harness::tcp(s.inside, s.outside, tcp_fields(flag::psh | flag::ack, 1001, 5001), "GET / HTTP/1.0\r\n\r\n"));
}

std::vector<Packet> echo_request(CaseState& s) {
  return one(harness::icmp_echo(s.inside.address, s.outside.address, s.inside.port, 1, "natcert-fuzz echo"));
}
std::vector<Packet> echo_reply(CaseState& s) {
  const auto target = reply_target(s);
  if (!target) return {};
  return one(harness::icmp_echo_reply(s.outside.address, target->address, target->port, 1, "natcert-fuzz echo"));
}

// From the outside host, about the packet the DUT translated (RFC 5508 REQ-4).
std::vector<Packet> error_about_outbound(CaseState& s) {
  if (!s.outbound_capture) return {};
  const auto target = reply_target(s);
  if (!target) return {};
  return one(harness::icmp_error(s.outside.address, target->address, 3, 3, *s.outbound_capture));
}

// From the inside host, about the reply it received (RFC 5508 REQ-5): the quote holds its own address.
std::vector<Packet> error_about_inbound(CaseState& s) {
  if (!s.inbound_capture) return {};
  return one(harness::icmp_error(s.inside.address, s.outside.address, 3, 3, *s.inbound_capture));
}

std::vector<Packet> fragments_out(CaseState& s) {
  return harness::fragment(harness::udp(s.inside, s.outside, Payload(std::string(1200, 'f'))), 400);
}
std::vector<Packet> fragments_in(CaseState& s) {
  const auto target = reply_target(s);
  if (!target) return {};
  return harness::fragment(harness::udp(s.outside, *target, Payload(std::string(1200, 'r'))), 400);
}

std::vector<Packet> ftp_syn(CaseState& s) {
  s.outside.port = 21;
  return tcp_syn(s);
}
std::vector<Packet> ftp_port(CaseState& s) {
  std::string commas = ref::format_ipv4(s.inside.address);
  std::replace(commas.begin(), commas.end(), '.', ',');
  const std::string line = std::string("PORT ") + commas + "," + std::to_string(s.inside.port >> 8) + "," +
                           std::to_string(s.inside.port & 0xFF) + "\r\n";
  return one(harness::tcp(s.inside, s.outside, tcp_fields(flag::psh | flag::ack, 1001, 5001), line));
}

std::vector<Packet> sip_invite(CaseState& s) {
  s.outside.port = 5060;
  const std::string inside = ref::format_ipv4(s.inside.address);
  const std::string sdp = std::string("v=0\r\no=- 1 1 IN IP4 ") + inside + "\r\nc=IN IP4 " + inside + "\r\nm=audio " +
                          std::to_string(s.inside.port + 2) + " RTP/AVP 0\r\n";
  const std::string invite = std::string("INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP ") + inside + ":" +
                             std::to_string(s.inside.port) + "\r\nContact: <sip:a@" + inside + ":" +
                             std::to_string(s.inside.port) + ">\r\nContent-Type: application/sdp\r\nContent-Length: " +
                             std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
  return one(harness::udp(s.inside, s.outside, invite));
}

// Inbound to an external port no inside endpoint ever used: nothing may reach inside.
std::vector<Packet> unsolicited_in(CaseState& s) {
  if (s.scope->addressing.nat_external.empty()) return {};
  const Endpoint target{s.scope->addressing.nat_external[0], s.spare_port};
  switch (s.spare_port % 3) {
    case 0: return one(harness::udp(s.outside, target, "natcert-fuzz unsolicited"));
    case 1: return one(harness::tcp(s.outside, target, tcp_fields(flag::syn, 77, 0)));
    default: return one(harness::icmp_echo_reply(s.outside.address, target.address, target.port, 1, "unsolicited"));
  }
}

}  // namespace

const std::vector<SeedTemplate>& templates() {
  static const std::vector<SeedTemplate> all{
      {"udp-flow", {{Side::inside, udp_out}, {Side::outside, udp_reply}}},
      {"udp-other-remote", {{Side::inside, udp_out}, {Side::outside, udp_from_other_remote}}},
      {"tcp-handshake", {{Side::inside, tcp_syn}, {Side::outside, tcp_syn_ack}, {Side::inside, tcp_ack_data}}},
      {"icmp-echo", {{Side::inside, echo_request}, {Side::outside, echo_reply}}},
      {"icmp-error-inbound", {{Side::inside, udp_out}, {Side::outside, error_about_outbound}}},
      {"icmp-error-outbound", {{Side::inside, udp_out}, {Side::outside, udp_reply}, {Side::inside, error_about_inbound}}},
      {"fragments-outbound", {{Side::inside, fragments_out}, {Side::outside, udp_reply}}},
      {"fragments-inbound", {{Side::inside, udp_out}, {Side::outside, fragments_in}}},
      {"ftp-control", {{Side::inside, ftp_syn}, {Side::outside, tcp_syn_ack}, {Side::inside, ftp_port}}},
      {"sip-invite", {{Side::inside, sip_invite}, {Side::outside, udp_reply}}},
      {"unsolicited-inbound", {{Side::outside, unsolicited_in}}},
  };
  return all;
}

}  // namespace natcert::campaign::detail
