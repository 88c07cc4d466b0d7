#include "natcert/harness/decode.hpp"

#include <cstdio>

namespace natcert::harness {
namespace {

std::string hex16(std::uint16_t value) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%04x", value);
  return buffer;
}

std::string hex_prefix(Bytes bytes, std::size_t limit = 16) {
  std::string out;
  char buffer[4];
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    std::snprintf(buffer, sizeof buffer, "%02x", bytes[i]);
    if (!out.empty()) out += ' ';
    out += buffer;
  }
  if (bytes.size() > limit) out += " ...";
  return out;
}

std::string tcp_flags(std::uint8_t flags) {
  static constexpr std::pair<std::uint8_t, char> kNames[] = {
      {ref::tcp_flag::syn, 'S'}, {ref::tcp_flag::fin, 'F'}, {ref::tcp_flag::rst, 'R'},
      {ref::tcp_flag::psh, 'P'}, {ref::tcp_flag::ack, 'A'}, {ref::tcp_flag::urg, 'U'},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((flags & bit) != 0) out += name;
  }
  if ((flags & 0xc0) != 0) out += (flags & 0x40 ? "E" : "") + std::string(flags & 0x80 ? "C" : "");
  return out.empty() ? "." : out;
}

std::string icmp_name(std::uint8_t type, std::uint8_t code) {
  using namespace ref::icmp_type;
  switch (type) {
    case echo_reply: return "echo-reply";
    case echo_request: return "echo-request";
    case destination_unreachable:
      switch (code) {
        case 0: return "net-unreachable";
        case 1: return "host-unreachable";
        case 2: return "protocol-unreachable";
        case 3: return "port-unreachable";
        case 4: return "fragmentation-needed";
        case 13: return "administratively-prohibited";
        default: return "destination-unreachable";
      }
    case source_quench: return "source-quench";
    case redirect: return "redirect";
    case router_advertisement: return "router-advertisement";
    case router_solicitation: return "router-solicitation";
    case time_exceeded: return code == 0 ? "ttl-exceeded" : "reassembly-time-exceeded";
    case parameter_problem: return "parameter-problem";
    case timestamp_request: return "timestamp-request";
    case timestamp_reply: return "timestamp-reply";
    case information_request: return "information-request";
    case information_reply: return "information-reply";
    case address_mask_request: return "address-mask-request";
    case address_mask_reply: return "address-mask-reply";
    default: return "type-" + std::to_string(type);
  }
}

std::string protocol_name(std::uint8_t protocol) {
  switch (protocol) {
    case ref::ip_protocol::udp: return "UDP";
    case ref::ip_protocol::tcp: return "TCP";
    case ref::ip_protocol::icmp: return "ICMP";
    default: return "proto=" + std::to_string(protocol);
  }
}

std::string ip_suffix(const ref::Ipv4View& ip) {
  std::string out = " ttl=" + std::to_string(ip.ttl()) + " id=" + hex16(ip.identification());
  if (ip.dont_fragment()) out += " DF";
  if (ip.tos() != 0) out += " tos=" + std::to_string(ip.tos());
  if (ip.header_length() > 20) out += " ipopts=" + std::to_string(ip.header_length() - 20);
  return out;
}

std::string describe_embedded(const ref::EmbeddedPacket& embedded) {
  const auto& ip = embedded.ip;
  std::string out = protocol_name(ip.protocol());
  out += ' ';
  out += ref::format_ipv4(ip.source());
  if (embedded.has_ports()) {
    out += ':';
    out += std::to_string(embedded.source_port());
  }
  out += " > ";
  out += ref::format_ipv4(ip.destination());
  if (embedded.has_ports()) {
    out += ':';
    out += std::to_string(embedded.destination_port());
  }
  return out;
}

}  // namespace

std::string summarize(Bytes packet) {
  const auto result = ref::parse_packet(packet, ref::ParseOptions{true, false, false});
  if (!result.ok()) {
    return "malformed: " + std::string(ref::describe(result.error)) + " (" + std::to_string(packet.size()) +
           " bytes: " + hex_prefix(packet) + ")";
  }
  const auto& view = result.packet;
  const auto& ip = view.ip;
  const std::string src = ref::format_ipv4(ip.source());
  const std::string dst = ref::format_ipv4(ip.destination());
  std::string out;
  switch (view.kind) {
    case ref::TransportKind::udp:
      out = "UDP " + src + ":" + std::to_string(view.udp.source_port()) + " > " + dst + ":" +
            std::to_string(view.udp.destination_port()) + " len=" + std::to_string(view.udp.payload().size());
      break;
    case ref::TransportKind::tcp:
      out = "TCP " + src + ":" + std::to_string(view.tcp.source_port()) + " > " + dst + ":" +
            std::to_string(view.tcp.destination_port()) + " [" + tcp_flags(view.tcp.flags()) + "]" +
            " seq=" + std::to_string(view.tcp.sequence()) + " ack=" + std::to_string(view.tcp.acknowledgement()) +
            " win=" + std::to_string(view.tcp.window()) + " len=" + std::to_string(view.tcp.payload().size());
      break;
    case ref::TransportKind::icmp_query:
    case ref::TransportKind::icmp_other:
      out = "ICMP " + icmp_name(view.icmp.type(), view.icmp.code()) + " " + src + " > " + dst +
            " id=" + std::to_string(view.icmp.identifier()) + " seq=" + std::to_string(view.icmp.sequence()) +
            " len=" + std::to_string(view.icmp.body().size());
      break;
    case ref::TransportKind::icmp_error:
      out = "ICMP " + std::to_string(view.icmp.type()) + "/" + std::to_string(view.icmp.code()) + " " +
            icmp_name(view.icmp.type(), view.icmp.code()) + " " + src + " > " + dst;
      if (view.icmp.type() == ref::icmp_type::destination_unreachable && view.icmp.code() == 4) {
        out += " mtu=" + std::to_string(view.icmp.next_hop_mtu());
      }
      out += " quoting " + describe_embedded(view.embedded);
      break;
    case ref::TransportKind::none:
      if (ip.is_fragment()) {
        out = "IPv4 fragment " + protocol_name(ip.protocol()) + " " + src + " > " + dst +
              " off=" + std::to_string(ip.fragment_offset_bytes()) + (ip.more_fragments() ? " MF" : "") +
              " len=" + std::to_string(ip.payload().size());
      } else {
        out = "IPv4 " + protocol_name(ip.protocol()) + " " + src + " > " + dst +
              " len=" + std::to_string(ip.payload().size());
      }
      break;
  }
  if (view.kind != ref::TransportKind::none && ip.is_fragment()) {
    out += " (first fragment, MF)";
  }
  out += ip_suffix(ip);
  const auto strict = ref::parse_packet(packet, ref::ParseOptions{true, true, false});
  if (!strict.ok()) out += "; " + std::string(ref::describe(strict.error));
  if (packet.size() > ip.total_length()) out += "; " + std::to_string(packet.size() - ip.total_length()) + " trailing bytes";
  return out;
}

Observed::Observed(Side side, Duration at, Packet bytes)
    : side_(side), at_(at), raw_(std::make_shared<const Packet>(std::move(bytes))) {
  const Bytes view(raw_->data(), raw_->size());
  parsed_ = ref::parse_packet(view, ref::ParseOptions{false, false, false});
  checksums_ok_ = ref::parse_packet(view, ref::ParseOptions{true, true, false}).ok();
}

Endpoint Observed::source() const {
  if (!well_formed()) return {};
  const auto& view = parsed_.packet;
  switch (view.kind) {
    case ref::TransportKind::udp: return {view.ip.source(), view.udp.source_port()};
    case ref::TransportKind::tcp: return {view.ip.source(), view.tcp.source_port()};
    case ref::TransportKind::icmp_query: return {view.ip.source(), view.icmp.identifier()};
    default: return {view.ip.source(), 0};
  }
}

Endpoint Observed::destination() const {
  if (!well_formed()) return {};
  const auto& view = parsed_.packet;
  switch (view.kind) {
    case ref::TransportKind::udp: return {view.ip.destination(), view.udp.destination_port()};
    case ref::TransportKind::tcp: return {view.ip.destination(), view.tcp.destination_port()};
    case ref::TransportKind::icmp_query: return {view.ip.destination(), view.icmp.identifier()};
    default: return {view.ip.destination(), 0};
  }
}

Bytes Observed::payload() const {
  if (!well_formed()) return {};
  const auto& view = parsed_.packet;
  switch (view.kind) {
    case ref::TransportKind::udp: return view.udp.payload();
    case ref::TransportKind::tcp: return view.tcp.payload();
    case ref::TransportKind::icmp_query:
    case ref::TransportKind::icmp_error:
    case ref::TransportKind::icmp_other: return view.icmp.body();
    case ref::TransportKind::none: return view.ip.payload();
  }
  return {};
}

std::string Observed::payload_text() const {
  const Bytes bytes = payload();
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace natcert::harness
