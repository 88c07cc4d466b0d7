// ICMP in the reference NAT: query mappings (RFC 5508 §3), translation of ICMP errors in both
// directions with their embedded headers and every checksum (§4, §5), hairpinned errors (§6) and
// the ICMP the NAT originates itself (§7, RFC 1812 §4.3.2.7 and §4.3.2.8).
#include <algorithm>

#include "engine.hpp"

namespace natcert::ref {

namespace detail {
void rewrite_address(std::uint8_t* ip, std::size_t field, Ipv4Address value, std::uint8_t* transport,
                     std::uint8_t protocol);
void rewrite_port(std::uint8_t* field, std::uint16_t value, std::uint8_t* checksum, ChecksumKind kind);
std::size_t transport_checksum_offset(std::uint8_t protocol);
}  // namespace detail

using namespace detail;

namespace {

constexpr std::size_t kIcmpChecksum = 2;
constexpr std::size_t kIcmpIdentifier = 4;
constexpr std::size_t kMaxGeneratedLength = 576;  // RFC 1812 §4.3.2.3

// Writes 16-bit words inside an ICMP message and keeps the message's own checksum right (RFC 1624),
// so that nested rewrites (quoted addresses, quoted checksums) never need a full recomputation.
class IcmpBodyWriter {
 public:
  IcmpBodyWriter(std::vector<std::uint8_t>& packet, std::size_t icmp_offset)
      : packet_(packet), icmp_checksum_(icmp_offset + kIcmpChecksum) {}

  void write16(std::size_t offset, std::uint16_t value) {
    const std::uint16_t old = load16(&packet_[offset]);
    if (old == value) return;
    store16(&packet_[offset], value);
    patch_checksum16(&packet_[icmp_checksum_], old, value);
  }
  void write32(std::size_t offset, std::uint32_t value) {
    write16(offset, static_cast<std::uint16_t>(value >> 16));
    write16(offset + 2, static_cast<std::uint16_t>(value));
  }
  // Adjusts a checksum stored in the body for a change elsewhere, keeping the ICMP checksum right too.
  void adjust_checksum16(std::size_t checksum_offset, std::uint16_t old_word, std::uint16_t new_word,
                         ChecksumKind kind) {
    std::uint8_t patched[2];
    store16(patched, load16(&packet_[checksum_offset]));
    patch_checksum16(patched, old_word, new_word, kind);
    write16(checksum_offset, load16(patched));
  }
  void adjust_checksum32(std::size_t checksum_offset, std::uint32_t old_value, std::uint32_t new_value,
                         ChecksumKind kind) {
    adjust_checksum16(checksum_offset, static_cast<std::uint16_t>(old_value >> 16),
                      static_cast<std::uint16_t>(new_value >> 16), kind);
    adjust_checksum16(checksum_offset, static_cast<std::uint16_t>(old_value), static_cast<std::uint16_t>(new_value),
                      kind);
  }

 private:
  std::vector<std::uint8_t>& packet_;
  std::size_t icmp_checksum_;
};

struct QuotedFlow {
  Protocol protocol = Protocol::udp;
  std::size_t ip_offset = 0;         // quoted IPv4 header, in the outer packet
  std::size_t transport_offset = 0;  // quoted transport header, in the outer packet
  std::size_t transport_bytes = 0;   // how many quoted transport bytes are present
  Endpoint source;
  Endpoint destination;
};

// Extracts the flow an ICMP error quotes. `skip_options` false reproduces the RFC 5508 REQ-3b violation
// of assuming a 20-byte quoted header.
std::optional<QuotedFlow> quoted_flow(const PacketView& view, bool skip_options) {
  const EmbeddedPacket& quoted = view.embedded;
  QuotedFlow flow;
  switch (quoted.ip.protocol()) {
    case ip_protocol::udp: flow.protocol = Protocol::udp; break;
    case ip_protocol::tcp: flow.protocol = Protocol::tcp; break;
    case ip_protocol::icmp: flow.protocol = Protocol::icmp; break;
    default: return std::nullopt;
  }
  if (!quoted.ip.is_first_fragment_or_whole()) return std::nullopt;
  const std::size_t header = skip_options ? quoted.ip.header_length() : 20;
  flow.ip_offset = quoted.offset;
  flow.transport_offset = quoted.offset + header;
  const std::size_t end = quoted.offset + quoted.ip.bytes.size();
  if (flow.transport_offset + 4 > end) return std::nullopt;
  flow.transport_bytes = end - flow.transport_offset;
  const std::uint8_t* transport = view.ip.bytes.data() + flow.transport_offset;
  if (flow.protocol == Protocol::icmp) {
    if (flow.transport_bytes < 6 || (!is_icmp_query_request(transport[0]) && !is_icmp_query_reply(transport[0]))) {
      return std::nullopt;
    }
    const std::uint16_t identifier = load16(transport + kIcmpIdentifier);
    flow.source = Endpoint{quoted.ip.source(), identifier};
    flow.destination = Endpoint{quoted.ip.destination(), identifier};
  } else {
    flow.source = Endpoint{quoted.ip.source(), load16(transport)};
    flow.destination = Endpoint{quoted.ip.destination(), load16(transport + 2)};
  }
  return flow;
}

// Rewrites one endpoint (source when `source_side`, else destination) of the quoted packet: the quoted
// IP header checksum, the quoted transport checksum (as far as it was quoted) and the ICMP checksum.
void rewrite_quoted_endpoint(std::vector<std::uint8_t>& packet, std::size_t icmp_offset, const QuotedFlow& flow,
                             bool source_side, Endpoint value, EmbeddedChecksumUpdate update) {
  IcmpBodyWriter body(packet, icmp_offset);
  const std::size_t address_offset = flow.ip_offset + (source_side ? 12 : 16);
  const Ipv4Address old_address = load32(&packet[address_offset]);
  const std::size_t port_offset =
      flow.protocol == Protocol::icmp ? flow.transport_offset + kIcmpIdentifier
                                      : flow.transport_offset + (source_side ? 0 : 2);
  const std::uint16_t old_port = load16(&packet[port_offset]);

  body.write32(address_offset, value.address);
  body.adjust_checksum32(flow.ip_offset + 10, old_address, value.address, ChecksumKind::standard);
  body.write16(port_offset, value.port);
  if (update != EmbeddedChecksumUpdate::incremental) return;  // the violating modes are handled by the caller

  const std::size_t checksum_at =
      flow.transport_offset + transport_checksum_offset(flow.protocol == Protocol::udp   ? ip_protocol::udp
                                                        : flow.protocol == Protocol::tcp ? ip_protocol::tcp
                                                                                         : ip_protocol::icmp);
  if (checksum_at + 2 > flow.transport_offset + flow.transport_bytes) return;  // not quoted
  if (flow.protocol == Protocol::udp && load16(&packet[checksum_at]) == 0) return;  // "no checksum"
  const ChecksumKind kind = flow.protocol == Protocol::udp ? ChecksumKind::udp : ChecksumKind::standard;
  if (flow.protocol != Protocol::icmp) body.adjust_checksum32(checksum_at, old_address, value.address, kind);
  body.adjust_checksum16(checksum_at, old_port, value.port, kind);
}

// RFC 5508 REQ-3d violation: recompute the quoted UDP/TCP checksum over everything after the quoted
// transport header start, ICMP extensions and padding included; then fix the ICMP checksum from scratch.
void recompute_quoted_checksum_over_body(std::vector<std::uint8_t>& packet, std::size_t icmp_offset,
                                         const QuotedFlow& flow) {
  if (flow.protocol != Protocol::icmp) {
    const std::uint8_t protocol = flow.protocol == Protocol::udp ? ip_protocol::udp : ip_protocol::tcp;
    const std::size_t checksum_at = flow.transport_offset + transport_checksum_offset(protocol);
    if (checksum_at + 2 <= packet.size()) {
      store16(&packet[checksum_at], 0);
      const Bytes region(packet.data() + flow.transport_offset, packet.size() - flow.transport_offset);
      const std::uint32_t pseudo = pseudo_header_sum(load32(&packet[flow.ip_offset + 12]),
                                                     load32(&packet[flow.ip_offset + 16]), protocol,
                                                     static_cast<std::uint16_t>(region.size()));
      store16(&packet[checksum_at], internet_checksum(region, pseudo));
    }
  }
  store16(&packet[icmp_offset + kIcmpChecksum], 0);
  store16(&packet[icmp_offset + kIcmpChecksum],
          internet_checksum(Bytes(packet.data() + icmp_offset, packet.size() - icmp_offset)));
}

bool quoted_transport_checksum_ok(const PacketView& view, const QuotedFlow& flow) {
  if (flow.protocol == Protocol::icmp) return true;
  const EmbeddedPacket& quoted = view.embedded;
  const std::size_t declared = quoted.ip.total_length() - quoted.ip.header_length();
  if (quoted.ip.total_length() < quoted.ip.header_length() || flow.transport_bytes < declared) {
    return false;  // a checker cannot verify a truncated quote, so it refuses it
  }
  const Bytes transport(view.ip.bytes.data() + flow.transport_offset, declared);
  if (flow.protocol == Protocol::udp && declared >= 8 && load16(&transport[6]) == 0) return true;
  const std::uint8_t protocol = flow.protocol == Protocol::udp ? ip_protocol::udp : ip_protocol::tcp;
  const std::uint32_t pseudo = pseudo_header_sum(quoted.ip.source(), quoted.ip.destination(), protocol,
                                                 static_cast<std::uint16_t>(declared));
  return fold_checksum(ones_complement_sum(transport, pseudo)) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Queries

void ReferenceNat::Impl::outbound_icmp_query(const PacketView& view, Output& out) {
  const IcmpView& icmp = view.icmp;
  const std::uint8_t type = icmp.type();
  if (!config_.icmp_behavior.pass_queries) {
    out.drop(DropReason::icmp_filtered);
    return;
  }
  if ((type == icmp_type::information_request || type == icmp_type::information_reply) &&
      !config_.icmp_behavior.answer_information_request) {
    out.drop(DropReason::icmp_filtered);  // RFC 5508 REQ-10c: obsolete, not supported
    return;
  }
  if (!is_icmp_query_request(type)) {
    out.drop(DropReason::icmp_unsupported);  // replies to inbound requests: inbound requests never pass
    return;
  }
  if (is_external_address(view.ip.destination())) {
    out.drop(DropReason::not_for_nat);  // NAPT: no hairpinning of query sessions (RFC 5508 REQ-7)
    return;
  }
  const Endpoint internal{view.ip.source(), icmp.identifier()};
  const Endpoint remote{view.ip.destination(), 0};
  const std::uint32_t mapping_id = obtain_mapping(Protocol::icmp, internal, remote);
  if (mapping_id == kNone) {
    if (config_.icmp_behavior.unreachable_on_session_failure && may_generate_icmp_about(view)) {
      generate_icmp_error(view, icmp_type::destination_unreachable, 13, 0, config_.inside_address, Side::inside,
                          out);
    }
    out.drop(DropReason::resources_exhausted);
    return;
  }
  const Endpoint external = mappings_[mapping_id].external;
  std::uint32_t session_id = find_session(Protocol::icmp, external, remote);
  if (session_id == kNone) session_id = create_session(Protocol::icmp, mapping_id, remote);
  refresh(session_id);

  std::vector<std::uint8_t>& packet = begin_emit(out, Side::outside, EmitKind::translated, view.ip.bytes);
  decrement_ttl(packet);
  std::uint8_t* ip = packet.data();
  std::uint8_t* message = ip + view.transport_offset;
  rewrite_address(ip, 12, external.address, nullptr, ip_protocol::icmp);
  rewrite_port(message + kIcmpIdentifier, external.port, message + kIcmpChecksum, ChecksumKind::standard);
  if (view.ip.is_fragment()) assign_outbound_fragment_id(view, packet);
  enforce_outside_mtu(view, out);
  // Last: flushing buffered fragments emits more packets, which invalidates `packet`.
  if (view.ip.is_fragment()) {
    remember_fragment_translation(view, external.address, remote.address, Side::outside, EmitKind::translated, out);
  }
}

void ReferenceNat::Impl::inbound_icmp_query(const PacketView& view, Output& out) {
  const IcmpView& icmp = view.icmp;
  const std::uint8_t type = icmp.type();
  if (type == icmp_type::information_request) {
    if (!config_.icmp_behavior.answer_information_request) {
      out.drop(DropReason::icmp_filtered);  // RFC 5508 REQ-10c
      return;
    }
    // Violating behaviour: answer the obsolete Information Request from the external address.
    std::vector<std::uint8_t>& reply = begin_emit(out, Side::outside, EmitKind::generated_icmp, view.ip.bytes);
    store32(&reply[12], view.ip.destination());
    store32(&reply[16], view.ip.source());
    reply[8] = 64;
    reply[view.transport_offset] = icmp_type::information_reply;
    recompute_checksums(reply);
    ++stats_.icmp_generated;
    return;
  }
  if (!is_icmp_query_reply(type)) {
    out.drop(DropReason::not_for_nat);  // requests addressed to the NAT's external address
    return;
  }
  if (!config_.icmp_behavior.pass_queries) {
    out.drop(DropReason::icmp_filtered);
    return;
  }
  const Endpoint external{view.ip.destination(), icmp.identifier()};
  const Endpoint remote{view.ip.source(), 0};
  std::uint32_t session_id = find_session(Protocol::icmp, external, remote);
  std::uint32_t mapping_id = session_id != kNone ? sessions_[session_id].mapping : kNone;
  if (session_id == kNone) {
    mapping_id = find_mapping_by_external(Protocol::icmp, external);
    if (mapping_id == kNone || !filter_allows(mapping_id, Protocol::icmp, remote)) {
      out.drop(mapping_id == kNone ? DropReason::no_mapping : DropReason::filtered);
      return;
    }
    session_id = create_session(Protocol::icmp, mapping_id, remote);
  }
  refresh(session_id);
  const Endpoint internal = mappings_[mapping_id].internal;
  std::vector<std::uint8_t>& packet = begin_emit(out, Side::inside, EmitKind::translated, view.ip.bytes);
  decrement_ttl(packet);
  std::uint8_t* ip = packet.data();
  std::uint8_t* message = ip + view.transport_offset;
  rewrite_address(ip, 16, internal.address, nullptr, ip_protocol::icmp);
  rewrite_port(message + kIcmpIdentifier, internal.port, message + kIcmpChecksum, ChecksumKind::standard);
  if (view.ip.is_fragment()) {
    remember_fragment_translation(view, remote.address, internal.address, Side::inside, EmitKind::translated, out);
  }
}

void ReferenceNat::Impl::inbound_icmp_other(const PacketView& view, Output& out) {
  (void)view;
  out.drop(DropReason::icmp_unsupported);  // RFC 5508 REQ-11: non-query, non-error ICMP may be dropped
}

// ---------------------------------------------------------------------------------------------------
// Errors

void ReferenceNat::Impl::inbound_icmp_error(const PacketView& view, Output& out, bool hairpin_pass) {
  const IcmpBehavior& policy = config_.icmp_behavior;
  const std::uint8_t type = view.icmp.type();
  if (type == icmp_type::source_quench && !policy.forward_source_quench) {
    out.drop(DropReason::icmp_filtered);  // RFC 5508 REQ-10c
    return;
  }
  if (type == icmp_type::redirect) {
    out.drop(DropReason::icmp_unsupported);
    return;
  }
  if (!policy.translate_inbound_errors) {
    out.drop(DropReason::icmp_filtered);
    return;
  }
  if (policy.drop_bad_icmp_checksum && !view.ip.is_fragment() && internet_checksum(view.icmp.bytes) != 0) {
    out.drop(DropReason::icmp_bad_checksum);  // RFC 5508 REQ-3
    return;
  }
  const EmbeddedPacket& quoted = view.embedded;
  if (policy.drop_bad_embedded_ip_checksum &&
      internet_checksum(quoted.ip.bytes.first(quoted.ip.header_length())) != 0) {
    out.drop(DropReason::icmp_bad_embedded);  // RFC 5508 REQ-3a
    return;
  }
  const auto flow = quoted_flow(view, policy.skip_embedded_ip_options);
  if (!flow) {
    out.drop(DropReason::icmp_bad_embedded);
    return;
  }
  // The quoted packet is one the NAT sent out: its source is the external endpoint.
  const Endpoint external = flow->source;
  const Endpoint remote = flow->protocol == Protocol::icmp ? Endpoint{flow->destination.address, 0}
                                                           : flow->destination;
  std::uint32_t session_id = find_session(flow->protocol, external, remote);
  std::uint32_t mapping_id =
      session_id != kNone ? sessions_[session_id].mapping : find_mapping_by_external(protocol_class(flow->protocol), external);
  if (mapping_id == kNone && policy.match_errors_by_address_only) {
    // Violates RFC 5508 REQ-4: any mapping on the quoted address will do (a scan: violating mode only).
    const Protocol cls = protocol_class(flow->protocol);
    for (std::uint32_t id = 0; id < mappings_.size() && mapping_id == kNone; ++id) {
      if (mappings_[id].in_use && mappings_[id].protocol == cls && mappings_[id].external.address == external.address) {
        mapping_id = id;
      }
    }
  }
  if (mapping_id == kNone) {
    out.drop(DropReason::icmp_no_mapping);  // RFC 5508 REQ-4
    return;
  }
  if (policy.filter_errors_by_source && view.ip.source() != remote.address) {
    out.drop(DropReason::icmp_filtered);  // violates RFC 4787 REQ-12a
    return;
  }
  if (policy.verify_embedded_transport_checksum && !quoted_transport_checksum_ok(view, *flow)) {
    out.drop(DropReason::icmp_bad_embedded);  // violates RFC 5508 REQ-3c
    return;
  }

  const Endpoint internal = mappings_[mapping_id].internal;
  std::vector<std::uint8_t>& packet =
      begin_emit(out, Side::inside, hairpin_pass ? EmitKind::hairpinned : EmitKind::translated, view.ip.bytes);
  if (!hairpin_pass) decrement_ttl(packet);
  const std::size_t icmp_offset = view.transport_offset;
  if (policy.restore_embedded_headers) {
    rewrite_quoted_endpoint(packet, icmp_offset, *flow, true, internal, policy.embedded_checksum);
    if (policy.embedded_checksum == EmbeddedChecksumUpdate::recompute_over_icmp_body) {
      recompute_quoted_checksum_over_body(packet, icmp_offset, *flow);
    }
  }
  if (!policy.keep_error_type_code) {
    // Violates RFC 5508 REQ-4b: every error becomes "host unreachable" (or "port unreachable" if it was).
    IcmpBodyWriter body(packet, icmp_offset);
    const bool was_host_unreachable = type == icmp_type::destination_unreachable && view.icmp.code() == 1;
    body.write16(icmp_offset, static_cast<std::uint16_t>((icmp_type::destination_unreachable << 8) |
                                                         (was_host_unreachable ? 3 : 1)));
  }
  if (policy.rewrite_outer_destination) rewrite_address(packet.data(), 16, internal.address, nullptr, ip_protocol::icmp);

  if (session_id != kNone && policy.errors_refresh_query_session && flow->protocol == Protocol::icmp) {
    refresh(session_id);  // violates RFC 5508 REQ-6
  }
  if (policy.errors_destroy_mappings) remove_mapping(mapping_id);  // violates RFC 4787 REQ-12, RFC 5382 REQ-10
}

void ReferenceNat::Impl::outbound_icmp_error(const PacketView& view, Output& out) {
  const IcmpBehavior& policy = config_.icmp_behavior;
  const std::uint8_t type = view.icmp.type();
  if (!policy.translate_outbound_errors) {
    out.drop(DropReason::icmp_filtered);
    return;
  }
  if ((type == icmp_type::source_quench && !policy.forward_source_quench) || type == icmp_type::redirect) {
    out.drop(DropReason::icmp_filtered);
    return;
  }
  const auto flow = quoted_flow(view, policy.skip_embedded_ip_options);
  if (!flow) {
    out.drop(DropReason::icmp_bad_embedded);
    return;
  }
  // The quoted packet is one the NAT delivered inside: its destination is the internal endpoint.
  const Endpoint internal = flow->destination;
  const Endpoint remote = flow->protocol == Protocol::icmp ? Endpoint{flow->source.address, 0} : flow->source;
  const std::uint32_t mapping_id = find_mapping(flow->protocol, internal, remote);
  if (mapping_id == kNone) {
    if (policy.forward_unmapped_errors && !is_external_address(view.ip.destination())) {
      // Violates RFC 5508 REQ-5: the error leaves with only its outer source translated.
      std::vector<std::uint8_t>& leaked = begin_emit(out, Side::outside, EmitKind::translated, view.ip.bytes);
      decrement_ttl(leaked);
      rewrite_address(leaked.data(), 12, config_.external_addresses.front(), nullptr, ip_protocol::icmp);
      return;
    }
    out.drop(DropReason::icmp_no_mapping);  // RFC 5508 REQ-5
    return;
  }
  const Endpoint external = mappings_[mapping_id].external;
  if (policy.outbound_errors_refresh) {
    const std::uint32_t session_id = find_session(flow->protocol, external, remote);
    if (session_id != kNone) refresh(session_id);  // violates RFC 7857 §7.1
  }
  const bool to_self = is_external_address(view.ip.destination());
  if (to_self && !(config_.hairpin.enabled && policy.hairpin_errors)) {
    out.drop(DropReason::hairpin_disabled);  // violates RFC 5508 REQ-7 when the NAT hairpins otherwise
    return;
  }

  std::vector<std::uint8_t>& packet =
      begin_emit(out, to_self ? Side::inside : Side::outside, EmitKind::translated, view.ip.bytes);
  decrement_ttl(packet);
  const std::size_t icmp_offset = view.transport_offset;
  if (policy.restore_embedded_headers) {
    rewrite_quoted_endpoint(packet, icmp_offset, *flow, false, external, policy.embedded_checksum);
    if (policy.embedded_checksum == EmbeddedChecksumUpdate::recompute_over_icmp_body) {
      recompute_quoted_checksum_over_body(packet, icmp_offset, *flow);
    }
  }
  if (!policy.keep_error_type_code) {
    IcmpBodyWriter body(packet, icmp_offset);
    body.write16(icmp_offset, static_cast<std::uint16_t>((icmp_type::destination_unreachable << 8) | 1));
  }
  // RFC 5508 REQ-5c: the outer source becomes the NAT's external address (the inside one must not leak).
  if (policy.rewrite_outer_source) rewrite_address(packet.data(), 12, external.address, nullptr, ip_protocol::icmp);

  if (!to_self) {
    enforce_outside_mtu(view, out);
    return;
  }
  // Hairpinned error (RFC 5508 REQ-7): the translated error re-enters from outside.
  std::vector<std::uint8_t> once_translated = std::move(packet);
  out.discard_last();
  const ParseResult again = parse_packet(once_translated, ParseOptions{});
  if (!again.ok() || again.packet.kind != TransportKind::icmp_error) {
    out.drop(DropReason::malformed, again.error);
    return;
  }
  inbound_icmp_error(again.packet, out, true);
}

// ---------------------------------------------------------------------------------------------------
// ICMP the NAT originates

bool ReferenceNat::Impl::may_generate_icmp_about(const PacketView& trigger) {
  const Ipv4View& ip = trigger.ip;
  // RFC 1812 §4.3.2.7: never about an ICMP error (unless the violating knob says so), a non-first
  // fragment, or a packet to or from a broadcast, multicast, loopback or unspecified address.
  if (trigger.kind == TransportKind::icmp_error && !config_.icmp_behavior.errors_about_errors) return false;
  if (ip.fragment_offset_bytes() != 0) return false;
  const Ipv4Address destination = ip.destination();
  const Ipv4Address source = ip.source();
  const auto special = [](Ipv4Address a) {
    return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe || (a >> 24) == 127 || (a >> 28) == 0xf;
  };
  if (special(source) || destination == 0xffffffffu || (destination >> 28) == 0xe) return false;

  // RFC 1812 §4.3.2.8: rate-limit (token bucket with one second of burst).
  const std::uint32_t rate = config_.icmp_behavior.generated_per_second;
  if (rate == 0) return true;
  const double elapsed = std::chrono::duration<double>(now_ - icmp_tokens_at_).count();
  icmp_tokens_ = std::min<double>(rate, icmp_tokens_ + elapsed * rate);
  icmp_tokens_at_ = now_;
  if (icmp_tokens_ < 1.0) return false;
  icmp_tokens_ -= 1.0;
  return true;
}

void ReferenceNat::Impl::generate_icmp_error(const PacketView& trigger, std::uint8_t type, std::uint8_t code,
                                             std::uint32_t rest_of_header, Ipv4Address source, Side to,
                                             Output& out) {
  const Bytes original = trigger.ip.bytes;
  const std::size_t quote = std::min(original.size(), kMaxGeneratedLength - 28);
  std::vector<std::uint8_t>& packet = out.emit(to, EmitKind::generated_icmp);
  packet.assign(28 + quote, 0);
  packet[0] = 0x45;
  // RFC 5508 REQ-10d: copy the DS field of the packet that triggered the error.
  packet[1] = config_.icmp_behavior.copy_dscp ? static_cast<std::uint8_t>(trigger.ip.tos() & 0xfc) : 0;
  store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  packet[8] = 64;
  packet[9] = ip_protocol::icmp;
  store32(&packet[12], source);
  store32(&packet[16], trigger.ip.source());
  packet[20] = type;
  packet[21] = code;
  store32(&packet[24], rest_of_header);
  std::copy_n(original.begin(), quote, packet.begin() + 28);
  recompute_checksums(packet);
  ++stats_.packets_out;
  ++stats_.icmp_generated;
}

}  // namespace natcert::ref
