// Zero-copy IPv4/UDP/TCP/ICMP decoding. Every length is validated here, once, before a view is handed
// out; the views' accessors rely on that and do no checks of their own.
//
// Invariant on the result: `packet.ip` is set once the IPv4 header and total length fit the data, and
// `packet.kind` names a transport view only once that view is structurally valid. A checksum error is
// reported after the structure is known, so views named by `kind` are safe to read even on error.
#include "natcert/reference/packet.hpp"

#include <algorithm>

namespace natcert::ref {

// ---------------------------------------------------------------------------------------------------
// Addresses

std::string format_ipv4(Ipv4Address address) {
  std::string text;
  text.reserve(15);
  for (int shift = 24; shift >= 0; shift -= 8) {
    text += std::to_string((address >> shift) & 0xFF);
    if (shift != 0) {
      text += '.';
    }
  }
  return text;
}

// Strict: exactly four decimal octets of 1-3 digits, no leading zeros (which some parsers read as
// octal), no signs, no whitespace.
std::optional<Ipv4Address> parse_ipv4_address(std::string_view text) {
  Ipv4Address address = 0;
  std::size_t pos = 0;
  for (int octet_index = 0; octet_index < 4; ++octet_index) {
    if (octet_index != 0) {
      if (pos >= text.size() || text[pos] != '.') {
        return std::nullopt;
      }
      ++pos;
    }
    const std::size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) {
      return std::nullopt;
    }
    address = (address << 8) | value;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  return address;
}

// ---------------------------------------------------------------------------------------------------
// ICMP classification

IcmpClass classify_icmp(std::uint8_t type) {
  switch (type) {
    case icmp_type::echo_reply:
    case icmp_type::echo_request:
    case icmp_type::timestamp_request:
    case icmp_type::timestamp_reply:
    case icmp_type::information_request:
    case icmp_type::information_reply:
    case icmp_type::address_mask_request:
    case icmp_type::address_mask_reply:
      return IcmpClass::query;
    case icmp_type::destination_unreachable:
    case icmp_type::source_quench:
    case icmp_type::redirect:
    case icmp_type::time_exceeded:
    case icmp_type::parameter_problem:
      return IcmpClass::error;
    default:
      return IcmpClass::other;  // includes router advertisement/solicitation (9, 10)
  }
}

bool is_icmp_query_request(std::uint8_t type) {
  return type == icmp_type::echo_request || type == icmp_type::timestamp_request ||
         type == icmp_type::information_request || type == icmp_type::address_mask_request;
}

bool is_icmp_query_reply(std::uint8_t type) {
  return type == icmp_type::echo_reply || type == icmp_type::timestamp_reply ||
         type == icmp_type::information_reply || type == icmp_type::address_mask_reply;
}

// ---------------------------------------------------------------------------------------------------
// Errors

std::string_view describe(ParseError error) {
  switch (error) {
    case ParseError::none:
      return "ok";
    case ParseError::truncated:
      return "truncated header";
    case ParseError::bad_version:
      return "IP version is not 4";
    case ParseError::bad_ihl:
      return "bad IPv4 header length";
    case ParseError::bad_total_length:
      return "bad IPv4 total length";
    case ParseError::bad_ip_checksum:
      return "bad IPv4 header checksum";
    case ParseError::bad_ip_option:
      return "malformed IPv4 option";
    case ParseError::bad_fragment_offset:
      return "bad fragment offset or length";
    case ParseError::bad_udp_length:
      return "bad UDP length";
    case ParseError::bad_udp_checksum:
      return "bad UDP checksum";
    case ParseError::bad_tcp_data_offset:
      return "bad TCP data offset";
    case ParseError::bad_tcp_option:
      return "malformed TCP option";
    case ParseError::bad_tcp_checksum:
      return "bad TCP checksum";
    case ParseError::bad_icmp_checksum:
      return "bad ICMP checksum";
    case ParseError::bad_embedded_header:
      return "bad IPv4 header quoted in ICMP error";
    case ParseError::bad_embedded_ip_checksum:
      return "bad checksum of IPv4 header quoted in ICMP error";
  }
  return "unknown parse error";
}

// ---------------------------------------------------------------------------------------------------
// Option lists

namespace {

constexpr std::uint8_t option_end_of_list = 0;
constexpr std::uint8_t option_no_operation = 1;

constexpr std::size_t ipv4_min_header_length = 20;
constexpr std::size_t udp_header_length = 8;
constexpr std::size_t tcp_min_header_length = 20;
constexpr std::size_t icmp_header_length = 8;
constexpr std::size_t max_datagram_length = 65535;

// Header lengths are stored as counts of 32-bit words: IHL in the low nibble of the first IPv4 byte,
// data offset in the high nibble of TCP byte 12.
std::size_t ipv4_header_length(std::uint8_t version_ihl) {
  return static_cast<std::size_t>(version_ihl & 0x0F) * 4;
}
std::size_t tcp_header_length(std::uint8_t data_offset) {
  return static_cast<std::size_t>(data_offset >> 4) * 4;
}

// TCP (RFC 9293 §3.1) and IPv4 (RFC 791) share the option encoding: EOL ends the list (whatever
// follows is padding), NOP is a single byte, every other option is kind, length (>= 2, counting
// both), data.
bool option_list_well_formed(Bytes options) {
  std::size_t pos = 0;
  while (pos < options.size()) {
    const std::uint8_t kind = options[pos];
    if (kind == option_end_of_list) {
      return true;
    }
    if (kind == option_no_operation) {
      ++pos;
      continue;
    }
    if (options.size() - pos < 2) {
      return false;
    }
    const std::uint8_t length = options[pos + 1];
    if (length < 2 || length > options.size() - pos) {
      return false;
    }
    pos += length;
  }
  return true;
}

}  // namespace

bool tcp_options_well_formed(Bytes options) {
  return option_list_well_formed(options);
}
bool ipv4_options_well_formed(Bytes options) {
  return option_list_well_formed(options);
}

// ---------------------------------------------------------------------------------------------------
// Embedded packet

std::uint16_t EmbeddedPacket::source_port() const {
  if (ip.bytes.size() < ipv4_min_header_length) {
    return 0;  // default-constructed: nothing quoted
  }
  switch (ip.protocol()) {
    case ip_protocol::udp:
    case ip_protocol::tcp:
      return transport.size() >= 2 ? load16(&transport[0]) : 0;
    case ip_protocol::icmp:
      if (transport.size() >= 6 && classify_icmp(transport[0]) == IcmpClass::query) {
        return load16(&transport[4]);
      }
      return 0;
    default:
      return 0;
  }
}

std::uint16_t EmbeddedPacket::destination_port() const {
  if (ip.bytes.size() < ipv4_min_header_length) {
    return 0;
  }
  switch (ip.protocol()) {
    case ip_protocol::udp:
    case ip_protocol::tcp:
      return transport.size() >= 4 ? load16(&transport[2]) : 0;
    case ip_protocol::icmp:
      return source_port();  // a query's identifier identifies both directions
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------------
// Parsing

namespace {

// True when `header` (checksum field included) sums to 0xFFFF, i.e. its checksum verifies.
bool checksum_verifies(Bytes data, std::uint32_t initial = 0) {
  return internet_checksum(data, initial) == 0;
}

bool transport_checksum_verifies(const Ipv4View& ip, Bytes segment) {
  const std::uint32_t pseudo = pseudo_header_sum(ip.source(), ip.destination(), ip.protocol(),
                                                 static_cast<std::uint16_t>(segment.size()));
  return checksum_verifies(segment, pseudo);
}

// The transport decoders return an error, or none with `packet.kind` set once the view is decoded.
// A first fragment that ends inside the header returns none and leaves `kind` at none: such tiny
// fragments are legitimate IP (RFC 1858 discusses them), there is just nothing to decode. In a whole
// datagram the same shortfall is a truncated packet.
ParseError short_header(bool fragment) {
  return fragment ? ParseError::none : ParseError::truncated;
}

ParseError decode_udp(Bytes segment, bool fragment, PacketView& packet) {
  if (segment.size() < udp_header_length) {
    return short_header(fragment);
  }
  const std::uint16_t length = load16(&segment[4]);
  // In a first fragment the UDP length describes the reassembled datagram, which is longer.
  if (length < udp_header_length || (!fragment && length > segment.size())) {
    return ParseError::bad_udp_length;
  }
  packet.udp.bytes = segment.first(std::min<std::size_t>(length, segment.size()));
  packet.kind = TransportKind::udp;
  return ParseError::none;
}

ParseError decode_tcp(Bytes segment, bool fragment, PacketView& packet) {
  if (segment.size() < tcp_min_header_length) {
    return short_header(fragment);
  }
  const std::size_t header_length = tcp_header_length(segment[12]);
  if (header_length < tcp_min_header_length) {
    return ParseError::bad_tcp_data_offset;
  }
  if (header_length > segment.size()) {
    return fragment ? ParseError::none : ParseError::bad_tcp_data_offset;  // options cut by fragmenting
  }
  if (!tcp_options_well_formed(
          segment.subspan(tcp_min_header_length, header_length - tcp_min_header_length))) {
    return ParseError::bad_tcp_option;
  }
  packet.tcp.bytes = segment;
  packet.kind = TransportKind::tcp;
  return ParseError::none;
}

// Decodes the IPv4 header an ICMP error quotes (RFC 792: the header plus at least 8 bytes; RFC 1812
// allows more). The quote may be cut anywhere after the header, so the quoted total length is only an
// upper bound on what is present. Leaves `embedded` empty when fragmentation cut the quoted header.
ParseError decode_embedded(const IcmpView& icmp, std::size_t icmp_offset, bool fragment,
                           EmbeddedPacket& embedded) {
  const Bytes quote = icmp.body();
  if (quote.size() < ipv4_min_header_length) {
    return fragment ? ParseError::none : ParseError::bad_embedded_header;
  }
  if ((quote[0] >> 4) != 4) {
    return ParseError::bad_embedded_header;
  }
  const std::size_t header_length = ipv4_header_length(quote[0]);
  if (header_length < ipv4_min_header_length) {
    return ParseError::bad_embedded_header;
  }
  if (header_length > quote.size()) {
    return fragment ? ParseError::none : ParseError::bad_embedded_header;
  }
  const std::size_t quoted_total_length = load16(&quote[2]);
  // A total length shorter than the header cannot describe any packet, and would leave a view whose
  // header accessors run past its bytes.
  if (quoted_total_length < header_length) {
    return ParseError::bad_embedded_header;
  }

  embedded.ip.bytes = quote.first(std::min(quote.size(), quoted_total_length));
  embedded.transport = embedded.ip.bytes.subspan(header_length);
  embedded.offset = icmp_offset + icmp_header_length;
  return ParseError::none;
}

ParseError decode_icmp(Bytes message, std::size_t icmp_offset, bool fragment, PacketView& packet) {
  if (message.size() < icmp_header_length) {
    return short_header(fragment);
  }
  const IcmpView icmp{message};
  switch (icmp.icmp_class()) {
    case IcmpClass::query:
      packet.kind = TransportKind::icmp_query;
      break;
    case IcmpClass::other:
      packet.kind = TransportKind::icmp_other;
      break;
    case IcmpClass::error: {
      const ParseError error = decode_embedded(icmp, icmp_offset, fragment, packet.embedded);
      if (error != ParseError::none || packet.embedded.ip.bytes.empty()) {
        return error;
      }
      packet.kind = TransportKind::icmp_error;
      break;
    }
  }
  packet.icmp = icmp;
  return ParseError::none;
}

// The transport checksum, once the structure is known. Only meaningful for a whole datagram.
ParseError verify_transport_checksum(const PacketView& packet) {
  switch (packet.kind) {
    case TransportKind::udp:
      if (packet.udp.checksum() == 0) {
        return ParseError::none;  // sender did not compute one
      }
      return transport_checksum_verifies(packet.ip, packet.udp.bytes) ? ParseError::none
                                                                      : ParseError::bad_udp_checksum;
    case TransportKind::tcp:
      return transport_checksum_verifies(packet.ip, packet.tcp.bytes) ? ParseError::none
                                                                      : ParseError::bad_tcp_checksum;
    case TransportKind::icmp_query:
    case TransportKind::icmp_error:
    case TransportKind::icmp_other:
      return checksum_verifies(packet.icmp.bytes) ? ParseError::none : ParseError::bad_icmp_checksum;
    case TransportKind::none:
      break;
  }
  return ParseError::none;
}

ParseError validate_ipv4(Bytes bytes, const ParseOptions& options, Ipv4View& ip) {
  if (bytes.size() < ipv4_min_header_length) {
    return ParseError::truncated;
  }
  if ((bytes[0] >> 4) != 4) {
    return ParseError::bad_version;
  }
  const std::size_t header_length = ipv4_header_length(bytes[0]);
  if (header_length < ipv4_min_header_length || header_length > bytes.size()) {
    return ParseError::bad_ihl;
  }
  const std::size_t total_length = load16(&bytes[2]);
  if (total_length < header_length || total_length > bytes.size()) {
    return ParseError::bad_total_length;
  }

  ip.bytes = bytes.first(total_length);  // anything beyond is link-layer padding
  if (options.verify_ip_checksum && !checksum_verifies(ip.bytes.first(header_length))) {
    return ParseError::bad_ip_checksum;
  }
  if (!ipv4_options_well_formed(ip.options())) {
    return ParseError::bad_ip_option;
  }

  const std::size_t payload_length = total_length - header_length;
  if (ip.fragment_offset_bytes() + payload_length > max_datagram_length) {
    return ParseError::bad_fragment_offset;
  }
  // Every fragment but the last carries a non-empty multiple of 8 bytes (RFC 791).
  if (ip.more_fragments() && (payload_length == 0 || payload_length % 8 != 0)) {
    return ParseError::bad_fragment_offset;
  }
  return ParseError::none;
}

}  // namespace

ParseResult parse_packet(Bytes bytes, const ParseOptions& options) {
  ParseResult result;
  PacketView& packet = result.packet;
  result.error = validate_ipv4(bytes, options, packet.ip);
  if (!result.ok()) {
    return result;
  }

  const Ipv4View& ip = packet.ip;
  if (!ip.is_first_fragment_or_whole()) {
    return result;  // no transport header in this fragment
  }

  const bool fragment = ip.is_fragment();
  const Bytes segment = ip.payload();
  packet.transport_offset = ip.header_length();

  switch (ip.protocol()) {
    case ip_protocol::udp:
      result.error = decode_udp(segment, fragment, packet);
      break;
    case ip_protocol::tcp:
      result.error = decode_tcp(segment, fragment, packet);
      break;
    case ip_protocol::icmp:
      result.error = decode_icmp(segment, packet.transport_offset, fragment, packet);
      break;
    default:
      return result;  // a protocol the views do not decode
  }
  if (!result.ok() || packet.kind == TransportKind::none) {
    return result;
  }

  if (options.verify_transport_checksum && !fragment) {
    result.error = verify_transport_checksum(packet);
    if (!result.ok()) {
      return result;
    }
  }
  if (options.verify_embedded_ip_checksum && packet.kind == TransportKind::icmp_error &&
      !checksum_verifies(packet.embedded.ip.bytes.first(packet.embedded.ip.header_length()))) {
    result.error = ParseError::bad_embedded_ip_checksum;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Checksum recomputation

namespace {

// Zeroes the checksum field at `field_offset` of `data`, then stores the checksum of `data`.
std::uint16_t store_checksum(MutableBytes data, std::size_t field_offset, std::uint32_t initial = 0) {
  store16(&data[field_offset], 0);
  const std::uint16_t checksum = internet_checksum(data, initial);
  store16(&data[field_offset], checksum);
  return checksum;
}

}  // namespace

// Works on whatever it is given: anything that does not describe a datagram it can checksum is left
// as it is, without reading or writing outside `packet`.
void recompute_checksums(MutableBytes packet, bool keep_zero_udp) {
  if (packet.size() < ipv4_min_header_length) {
    return;
  }
  const std::size_t header_length = ipv4_header_length(packet[0]);
  if (header_length < ipv4_min_header_length || header_length > packet.size()) {
    return;
  }
  store_checksum(packet.first(header_length), 10);

  const std::size_t total_length = load16(&packet[2]);
  if (total_length < header_length || total_length > packet.size()) {
    return;
  }
  const Ipv4View ip{packet.first(total_length)};
  if (ip.is_fragment()) {
    return;  // the transport checksum covers the reassembled datagram
  }

  MutableBytes segment = packet.subspan(header_length, total_length - header_length);
  const auto pseudo = [&](std::size_t length) {
    return pseudo_header_sum(ip.source(), ip.destination(), ip.protocol(),
                             static_cast<std::uint16_t>(length));
  };
  switch (ip.protocol()) {
    case ip_protocol::udp: {
      if (segment.size() < udp_header_length) {
        return;
      }
      const std::size_t length = load16(&segment[4]);
      if (length < udp_header_length || length > segment.size()) {
        return;
      }
      if (keep_zero_udp && load16(&segment[6]) == 0) {
        return;
      }
      // 0 on the wire means "no checksum", so a computed 0 is sent as its one's complement twin.
      if (store_checksum(segment.first(length), 6, pseudo(length)) == 0) {
        store16(&segment[6], 0xFFFF);
      }
      return;
    }
    case ip_protocol::tcp:
      if (segment.size() < tcp_min_header_length) {
        return;
      }
      store_checksum(segment, 16, pseudo(segment.size()));
      return;
    case ip_protocol::icmp:
      if (segment.size() < 4) {
        return;
      }
      store_checksum(segment, 2);
      return;
    default:
      return;
  }
}

}  // namespace natcert::ref
