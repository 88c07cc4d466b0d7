// The invariant oracles: no inside address outside, nothing unsolicited inside, valid checksums on
// what the DUT emits; and the per-step comparison with the reference.
#include <string>

#include "engine.hpp"
#include "natcert/harness/decode.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::campaign::detail {

namespace {

ref::ParseResult lenient_parse(const Packet& packet) {
  ref::ParseOptions options;
  options.verify_ip_checksum = false;
  return ref::parse_packet(packet, options);
}

std::uint16_t raw_port(const Packet& packet, std::size_t at) {
  const std::size_t offset = header_length(packet) + at;
  return packet.size() >= offset + 2 ? ref::load16(&packet[offset]) : 0;
}

bool is_icmp_error_type(std::uint8_t type) { return type == 3 || type == 4 || type == 5 || type == 11 || type == 12; }

std::string side_text(Side side) { return side == Side::inside ? "inside" : "outside"; }

}  // namespace

void OutboundLedger::record(const Packet& packet) {
  if (packet.size() < 20) return;
  const std::uint8_t protocol = protocol_of(packet);
  hosts_.insert(source_of(packet));
  if (packet.size() < ref::load16(&packet[2]) || packet.size() < header_length(packet) + 8) {
    any_port_.insert({protocol, source_of(packet)});
  }
  // Raw ports too: the DUT may accept (and map) what natcert's parser calls malformed.
  if (protocol == 6 || protocol == 17) endpoints_.insert({protocol, source_of(packet), raw_port(packet, 0)});
  if (protocol == 1) endpoints_.insert({protocol, source_of(packet), raw_port(packet, 4)});
  const auto parsed = lenient_parse(packet);
  if (!parsed.ok()) return;
  const auto& view = parsed.packet;
  if (view.kind == ref::TransportKind::udp) endpoints_.insert({17, view.ip.source(), view.udp.source_port()});
  if (view.kind == ref::TransportKind::tcp) endpoints_.insert({6, view.ip.source(), view.tcp.source_port()});
  if (view.kind == ref::TransportKind::icmp_query) endpoints_.insert({1, view.ip.source(), view.icmp.identifier()});
}

bool OutboundLedger::endpoint_known(std::uint8_t protocol, Ipv4Address address, std::uint16_t port) const {
  return endpoints_.count({protocol, address, port}) != 0 || any_port_.count({protocol, address}) != 0;
}

bool OutboundLedger::host_known(Ipv4Address address) const { return hosts_.count(address) != 0; }

namespace {

std::optional<std::string> leak(const Captured& captured, const Scope& scope) {
  const Packet& p = captured.bytes;
  if (p.size() < 20) return std::nullopt;
  if (scope.is_inside(source_of(p))) return std::string("inside source address ") + ref::format_ipv4(source_of(p));
  const auto parsed = lenient_parse(p);
  if (parsed.ok() && parsed.packet.kind == ref::TransportKind::icmp_error) {
    const auto& quoted = parsed.packet.embedded.ip;
    if (scope.is_inside(quoted.source())) return std::string("inside address ") + ref::format_ipv4(quoted.source()) + " quoted as source";
    if (scope.is_inside(quoted.destination())) {
      return std::string("inside address ") + ref::format_ipv4(quoted.destination()) + " quoted as destination";
    }
  }
  return std::nullopt;
}

std::optional<std::string> unsolicited(const Captured& captured, const OutboundLedger& ledger) {
  const Packet& p = captured.bytes;
  if (p.size() < 20) return std::nullopt;  // nothing to attribute (and no address to deliver to)
  const Ipv4Address destination = destination_of(p);
  const auto parsed = lenient_parse(p);
  if (!parsed.ok() || parsed.packet.kind == ref::TransportKind::none || parsed.packet.kind == ref::TransportKind::icmp_other) {
    if (ledger.host_known(destination)) return std::nullopt;
    return std::string("delivered to ") + ref::format_ipv4(destination) + ", which never sent anything out";
  }
  const auto& view = parsed.packet;
  auto endpoint_text = [](std::uint8_t protocol, Ipv4Address address, std::uint16_t port) {
    const char* name = protocol == 6 ? "TCP" : protocol == 17 ? "UDP" : "ICMP id";
    return std::string(name) + " " + ref::format_ipv4(address) + ":" + std::to_string(port);
  };
  std::uint8_t protocol = 0;
  std::uint16_t port = 0;
  switch (view.kind) {
    case ref::TransportKind::udp: protocol = 17; port = view.udp.destination_port(); break;
    case ref::TransportKind::tcp: protocol = 6; port = view.tcp.destination_port(); break;
    case ref::TransportKind::icmp_query: protocol = 1; port = view.icmp.identifier(); break;
    case ref::TransportKind::icmp_error: {
      const auto& quoted = view.embedded;
      const std::uint8_t quoted_protocol = quoted.ip.protocol();
      const bool quoted_error = quoted_protocol == 1 && !quoted.transport.empty() && is_icmp_error_type(quoted.transport[0]);
      if (!quoted.has_ports() || quoted_error || (quoted_protocol != 6 && quoted_protocol != 17 && quoted_protocol != 1)) {
        if (ledger.host_known(quoted.ip.source())) return std::nullopt;
        return std::string("ICMP error quoting a packet from ") + ref::format_ipv4(quoted.ip.source()) + ", which never sent anything out";
      }
      if (ledger.endpoint_known(quoted_protocol, quoted.ip.source(), quoted.source_port())) return std::nullopt;
      return std::string("ICMP error about ") + endpoint_text(quoted_protocol, quoted.ip.source(), quoted.source_port()) +
             ", which never sent anything out";
    }
    default: return std::nullopt;
  }
  if (ledger.endpoint_known(protocol, destination, port)) return std::nullopt;
  return std::string("delivered to ") + endpoint_text(protocol, destination, port) + ", which never sent anything out";
}

bool input_flawed(const Trace& trace) {
  ref::ParseOptions strict;
  strict.verify_transport_checksum = true;
  for (const auto& step : trace) {
    for (const auto& packet : step.sent) {
      if (!ref::parse_packet(packet, strict).ok()) return true;
    }
  }
  return false;
}

std::optional<std::string> bad_checksum(const Captured& captured, bool flawed_input) {
  ref::ParseOptions strict;
  strict.verify_transport_checksum = true;
  const auto parsed = ref::parse_packet(captured.bytes, strict);
  switch (parsed.error) {
    case ref::ParseError::bad_ip_checksum: return std::string("bad IPv4 header checksum");
    case ref::ParseError::bad_udp_checksum:
    case ref::ParseError::bad_tcp_checksum:
    case ref::ParseError::bad_icmp_checksum:
      if (flawed_input) return std::nullopt;  // a NAT must not fix what it was given broken
      return std::string(ref::describe(parsed.error)) + " after translating well-formed input";
    default: return std::nullopt;
  }
}

}  // namespace

std::vector<Violation> check_invariants(const Trace& trace, const Scope& scope, const OutboundLedger& ledger) {
  std::vector<Violation> found;
  const bool flawed = input_flawed(trace);
  for (const auto& step : trace) {
    for (const auto& captured : step.captured) {
      const std::string where = std::string(" (captured ") + side_text(captured.side) + ": " + harness::summarize(captured.bytes) + ")";
      if (captured.side == Side::outside) {
        if (auto why = leak(captured, scope)) found.push_back({Oracle::inside_leak, *why + where});
      } else {
        if (auto why = unsolicited(captured, ledger)) found.push_back({Oracle::unsolicited, *why + where});
      }
      if (auto why = bad_checksum(captured, flawed)) found.push_back({Oracle::bad_checksum, *why + where});
    }
  }
  return found;
}

std::optional<Violation> compare_with_reference(const Trace& dut, const Trace& reference) {
  const std::size_t steps = std::min(dut.size(), reference.size());
  for (std::size_t i = 0; i < steps; ++i) {
    auto crossed = [](const StepRecord& step) {
      for (const auto& c : step.captured) {
        if (c.side != step.side) return true;
      }
      return false;
    };
    const bool dut_crossed = crossed(dut[i]);
    const bool reference_crossed = crossed(reference[i]);
    if (dut_crossed == reference_crossed) continue;
    std::string detail = std::string("step ") + std::to_string(i + 1) + " (" + summarize_step(dut[i]) + "): the DUT " +
                         (dut_crossed ? "forwarded it" : "forwarded nothing") + ", the reference " +
                         (reference_crossed ? "forwarded it" : "forwarded nothing");
    if (!reference[i].notes.empty()) detail += std::string(" (reference: ") + reference[i].notes.front() + ")";
    return Violation{Oracle::reference_difference, detail};
  }
  return std::nullopt;
}

std::string summarize_step(const StepRecord& step) {
  if (step.sent.empty()) return "nothing sent";
  std::string text = side_text(step.side) + " sent " + harness::summarize(step.sent.front());
  if (step.sent.size() > 1) text += std::string(" and ") + std::to_string(step.sent.size() - 1) + " more";
  return text;
}

}  // namespace natcert::campaign::detail
