#include "rfc5508/common.hpp"

#include <limits>

#include "natcert/reference/checksum.hpp"

namespace natcert::suites::rfc5508 {

std::string to_string(FlowKind kind) {
  switch (kind) {
    case FlowKind::udp: return "UDP";
    case FlowKind::tcp: return "TCP";
    case FlowKind::icmp_query: return "ICMP echo";
  }
  return "?";
}

std::string flow_text(const Flow& flow) {
  return to_string(flow.kind) + " " + harness::to_string(flow.internal) + " -> " + harness::to_string(flow.remote) +
         " as " + harness::to_string(flow.external);
}

std::optional<Observed> send_echo(TestContext& ctx, Endpoint internal, Ipv4Address remote, std::uint16_t sequence,
                                  std::string_view payload) {
  ctx.send(Side::inside, harness::icmp_echo(internal.address, remote, internal.port, sequence, payload),
           "echo request, identifier " + std::to_string(internal.port));
  return ctx.expect(Side::outside, match::icmp_echo_request().to(remote).payload(payload));
}

std::optional<Observed> answer_echo(TestContext& ctx, const Observed& request, Endpoint internal,
                                    harness::Duration window) {
  const ref::PacketView& seen = request.view();
  const std::string payload = request.payload_text();
  ctx.send(Side::outside,
           harness::icmp_echo_reply(seen.ip.destination(), seen.ip.source(), seen.icmp.identifier(),
                                    seen.icmp.sequence(), payload),
           "echo reply to the identifier the outside saw");
  return ctx.expect(Side::inside, match::icmp_echo_reply().to(internal).payload(payload), window);
}

Flow open_flow(TestContext& ctx, FlowKind kind, const harness::IpFields& ip, std::size_t inside_host) {
  Flow flow;
  flow.kind = kind;
  switch (kind) {
    case FlowKind::udp: {
      harness::ReflectorOptions options;
      options.ip = ip;
      const harness::Mapping m = ctx.learn_mapping(ctx.inside_endpoint(inside_host), ctx.outside_endpoint(0), options);
      flow.internal = m.internal;
      flow.remote = m.remote;
      flow.external = m.external;
      flow.outbound = m.probe;
      break;
    }
    case FlowKind::tcp: {
      const harness::TcpMapping m = ctx.learn_tcp_mapping(ctx.inside_endpoint(inside_host), ctx.outside_endpoint(0));
      flow.internal = m.internal;
      flow.remote = m.remote;
      flow.external = m.external;
      flow.outbound = m.syn;
      flow.inside_next_seq = m.inside_next_seq;
      flow.outside_next_seq = m.outside_next_seq;
      break;
    }
    case FlowKind::icmp_query: {
      flow.internal = Endpoint{ctx.inside(inside_host), ctx.fresh_port()};
      // Another inside host takes the identifier first, so the flow's identifier must be translated
      // (a NAT that keeps identifiers would otherwise leave nothing in the quoted header to restore).
      const Endpoint decoy{ctx.inside(inside_host == 0 ? 1 : 0), flow.internal.port};
      send_echo(ctx, decoy, ctx.outside(0), 1, "decoy " + std::to_string(decoy.port));
      const auto request = send_echo(ctx, flow.internal, ctx.outside(0), 1, "flow " + std::to_string(flow.internal.port));
      if (!request) ctx.inconclusive("the DUT did not forward the echo request that opens the ICMP query flow");
      flow.external = request->source();
      flow.remote = Endpoint{ctx.outside(0), flow.internal.port};
      flow.outbound = *request;
      if (!answer_echo(ctx, *request, flow.internal)) {
        ctx.inconclusive("the echo reply that completes the ICMP query flow did not reach the inside host");
      }
      break;
    }
  }
  ctx.bind("X'", flow.external);
  return flow;
}

Observed deliver_inbound(TestContext& ctx, Flow& flow) {
  std::optional<Observed> seen;
  switch (flow.kind) {
    case FlowKind::udp:
      ctx.send(Side::outside, harness::udp(flow.remote, flow.external, "inbound on the flow"), "Y -> X':x'");
      seen = ctx.expect(Side::inside, match::udp().from(flow.remote).to(flow.internal).payload("inbound on the flow"));
      break;
    case FlowKind::tcp: {
      const std::string data = "inbound on the flow";
      ctx.send(Side::outside,
               harness::tcp(flow.remote, flow.external,
                            {.flags = harness::tcp_flag::ack | harness::tcp_flag::psh,
                             .seq = flow.outside_next_seq,
                             .ack = flow.inside_next_seq},
                            data),
               "data segment Y -> X':x'");
      seen = ctx.expect(Side::inside, match::tcp().from(flow.remote).to(flow.internal).payload(data));
      flow.outside_next_seq += static_cast<std::uint32_t>(data.size());
      break;
    }
    case FlowKind::icmp_query: {
      const std::string payload = "second " + std::to_string(flow.internal.port);
      const auto request = send_echo(ctx, flow.internal, flow.remote.address, 2, payload);
      if (request) seen = answer_echo(ctx, *request, flow.internal);
      break;
    }
  }
  if (!seen) ctx.inconclusive("the DUT did not deliver an inbound packet on the " + flow_text(flow) + " flow");
  return *seen;
}

Packet error_quoting(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code, harness::Bytes offending,
                     std::uint16_t next_hop_mtu) {
  harness::IcmpErrorFields fields;
  fields.next_hop_mtu = next_hop_mtu;
  fields.quoted_transport_bytes = std::numeric_limits<std::size_t>::max();
  return harness::icmp_error(from, to, type, code, offending, fields);
}

namespace {

// Verifies the quoted transport checksum over the quoted segment, as long as the whole segment (by the
// quoted IP total length) is present. Bytes past it (RFC 4884 padding and extensions) are not summed.
std::optional<bool> quoted_transport_checksum(const ref::EmbeddedPacket& quoted) {
  const ref::Ipv4View& ip = quoted.ip;
  const std::size_t header = ip.header_length();
  if (ip.total_length() < header) return std::nullopt;
  const std::size_t declared = ip.total_length() - header;
  if (ip.bytes.size() < header + declared) return std::nullopt;
  const harness::Bytes segment = ip.bytes.subspan(header, declared);
  switch (ip.protocol()) {
    case ref::ip_protocol::udp: {
      if (segment.size() < 8) return std::nullopt;
      if (ref::load16(&segment[6]) == 0) return true;  // "no checksum"
      const std::uint32_t pseudo = ref::pseudo_header_sum(ip.source(), ip.destination(), ref::ip_protocol::udp,
                                                          static_cast<std::uint16_t>(segment.size()));
      return ref::fold_checksum(ref::ones_complement_sum(segment, pseudo)) == 0;
    }
    case ref::ip_protocol::tcp: {
      if (segment.size() < 20) return std::nullopt;
      const std::uint32_t pseudo = ref::pseudo_header_sum(ip.source(), ip.destination(), ref::ip_protocol::tcp,
                                                          static_cast<std::uint16_t>(segment.size()));
      return ref::fold_checksum(ref::ones_complement_sum(segment, pseudo)) == 0;
    }
    case ref::ip_protocol::icmp:
      if (segment.size() < 8) return std::nullopt;
      return ref::fold_checksum(ref::ones_complement_sum(segment)) == 0;
    default: return std::nullopt;
  }
}

}  // namespace

Quote read_quote(const Observed& error) {
  Quote quote;
  if (!error.well_formed() || error.kind() != ref::TransportKind::icmp_error) return quote;
  const ref::PacketView& view = error.view();
  quote.type = view.icmp.type();
  quote.code = view.icmp.code();
  quote.outer_source = view.ip.source();
  quote.outer_destination = view.ip.destination();
  quote.rest_of_header = view.icmp.next_hop_mtu();
  const ref::EmbeddedPacket& quoted = view.embedded;
  quote.source = Endpoint{quoted.ip.source(), quoted.has_ports() ? quoted.source_port() : std::uint16_t{0}};
  quote.destination = Endpoint{quoted.ip.destination(), quoted.has_ports() ? quoted.destination_port() : std::uint16_t{0}};
  quote.ip_checksum_ok = ref::internet_checksum(quoted.ip.bytes.first(quoted.ip.header_length())) == 0;
  quote.transport_checksum_ok = quoted_transport_checksum(quoted);
  return quote;
}

std::string Quote::describe() const {
  std::string text = "ICMP " + std::to_string(type) + "/" + std::to_string(code) + " " + ref::format_ipv4(outer_source) +
                     " > " + ref::format_ipv4(outer_destination) + " quoting " + harness::to_string(source) + " > " +
                     harness::to_string(destination);
  text += ip_checksum_ok ? ", quoted IP checksum valid" : ", quoted IP checksum WRONG";
  if (transport_checksum_ok) text += *transport_checksum_ok ? ", quoted transport checksum valid" : ", quoted transport checksum WRONG";
  return text;
}

}  // namespace natcert::suites::rfc5508
