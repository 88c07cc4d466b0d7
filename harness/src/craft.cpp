#include "natcert/harness/craft.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <tins/ip.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include "natcert/reference/checksum.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::harness {
namespace {

Tins::IPv4Address tins_address(Ipv4Address address) {
  // Tins::IPv4Address(uint32_t) takes the address in network byte order.
  return Tins::IPv4Address(Tins::Endian::host_to_be(address));
}

Tins::IP ip_header(Ipv4Address from, Ipv4Address to, const IpFields& fields) {
  Tins::IP ip(tins_address(to), tins_address(from));
  ip.ttl(fields.ttl);
  ip.tos(fields.tos);
  ip.id(0);
  ip.flags(fields.dont_fragment ? Tins::IP::DONT_FRAGMENT : Tins::IP::Flags(0));
  return ip;
}

void fix_ip_checksum(Packet& packet) {
  const std::size_t header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  ref::store16(&packet[10], 0);
  ref::store16(&packet[10], ref::internet_checksum(Bytes(packet.data(), header)));
}

Packet pad4(const Packet& bytes) {
  Packet out = bytes;
  while (out.size() % 4 != 0) out.push_back(0);
  return out;
}

// Inserts raw IPv4 options after the fixed header and sets the identification field, then fixes
// lengths and the header checksum. Transport checksums do not cover IP options, so they stay valid.
Packet finish_ip(Packet packet, const IpFields& fields) {
  if (!fields.options.empty()) {
    const Packet options = pad4(fields.options);
    if (options.size() > 40) throw std::invalid_argument("IPv4 options longer than 40 bytes");
    packet.insert(packet.begin() + 20, options.begin(), options.end());
    packet[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
    ref::store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  }
  std::uint16_t id = 0;
  if (fields.id) {
    id = *fields.id;
  } else {
    // FNV-1a over the packet: deterministic, and distinct packets get distinct ids in practice.
    std::uint32_t hash = 2166136261u;
    for (auto byte : packet) hash = (hash ^ byte) * 16777619u;
    id = static_cast<std::uint16_t>(hash ^ (hash >> 16));
  }
  ref::store16(&packet[4], id);
  fix_ip_checksum(packet);
  return packet;
}

Packet serialize(Tins::PDU& pdu) {
  const auto bytes = pdu.serialize();
  return Packet(bytes.begin(), bytes.end());
}

// ICMP messages are laid out by hand: libtins gives some types (timestamps, address masks) extra
// fixed fields and may fill RFC 4884 length fields, while tests need the exact 8-byte header + body.
Packet icmp_with_word(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code,
                      std::uint32_t word, Bytes body, const IpFields& fields) {
  Packet icmp(8);
  icmp[0] = type;
  icmp[1] = code;
  ref::store32(&icmp[4], word);
  icmp.insert(icmp.end(), body.begin(), body.end());
  ref::store16(&icmp[2], ref::internet_checksum(icmp));
  return raw_ip(from, to, ref::ip_protocol::icmp, Payload(std::move(icmp)), fields);
}

struct RawIp {
  std::size_t header = 0;
  std::size_t total = 0;
};

RawIp check_ipv4(Bytes packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) throw std::invalid_argument("not an IPv4 packet");
  RawIp out;
  out.header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  out.total = ref::load16(&packet[2]);
  if (out.header < 20 || out.header > packet.size() || out.total < out.header || out.total > packet.size()) {
    throw std::invalid_argument("malformed IPv4 header");
  }
  return out;
}

// Options that RFC 791 copies into every fragment (copied flag set), padded.
Packet copied_options(Bytes options) {
  Packet out;
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t type = options[i];
    if (type == 0) break;
    if (type == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) break;
    const std::size_t length = options[i + 1];
    if (length < 2 || i + length > options.size()) break;
    if ((type & 0x80) != 0) out.insert(out.end(), options.begin() + static_cast<long>(i), options.begin() + static_cast<long>(i + length));
    i += length;
  }
  return pad4(out);
}

}  // namespace

Packet udp(Endpoint from, Endpoint to, const Payload& payload, const IpFields& ip) {
  Tins::IP whole = ip_header(from.address, to.address, ip) / Tins::UDP(to.port, from.port);
  if (!payload.bytes.empty()) whole /= Tins::RawPDU(payload.bytes.begin(), payload.bytes.end());
  return finish_ip(serialize(whole), ip);
}

Packet tcp(Endpoint from, Endpoint to, const TcpFields& fields, const Payload& payload, const IpFields& ip) {
  Tins::TCP segment(to.port, from.port);
  segment.flags(fields.flags);
  segment.seq(fields.seq);
  segment.ack_seq(fields.ack);
  segment.window(fields.window);
  Tins::IP whole = ip_header(from.address, to.address, ip) / segment;
  if (!payload.bytes.empty()) whole /= Tins::RawPDU(payload.bytes.begin(), payload.bytes.end());
  Packet packet = serialize(whole);
  if (!fields.options.empty()) {
    const Packet options = pad4(fields.options);
    if (options.size() > 40) throw std::invalid_argument("TCP options longer than 40 bytes");
    const std::size_t tcp_start = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
    packet.insert(packet.begin() + static_cast<long>(tcp_start + 20), options.begin(), options.end());
    packet[tcp_start + 12] = static_cast<std::uint8_t>(((20 + options.size()) / 4) << 4);
    ref::store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
    ref::recompute_checksums(packet);
  }
  return finish_ip(std::move(packet), ip);
}

Packet icmp_echo(Ipv4Address from, Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                 const Payload& payload, const IpFields& ip) {
  return icmp_message(from, to, icmp_type::echo_request, 0, identifier, sequence, payload, ip);
}

Packet icmp_echo_reply(Ipv4Address from, Ipv4Address to, std::uint16_t identifier, std::uint16_t sequence,
                       const Payload& payload, const IpFields& ip) {
  return icmp_message(from, to, icmp_type::echo_reply, 0, identifier, sequence, payload, ip);
}

Packet icmp_message(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code,
                    std::uint16_t identifier, std::uint16_t sequence, const Payload& payload,
                    const IpFields& ip) {
  const std::uint32_t word = (std::uint32_t{identifier} << 16) | sequence;
  return icmp_with_word(from, to, type, code, word, Bytes(payload.bytes.data(), payload.bytes.size()), ip);
}

Packet icmp_error(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code, Bytes offending,
                  const IcmpErrorFields& fields, const IpFields& ip) {
  Bytes quoted = offending;
  if (offending.size() >= 20 && (offending[0] >> 4) == 4) {
    const std::size_t header = static_cast<std::size_t>(offending[0] & 0x0f) * 4;
    std::size_t total = ref::load16(&offending[2]);
    total = std::min(total, offending.size());
    if (header <= total) {
      const std::size_t transport = total - header;
      const std::size_t keep = std::min(transport, fields.quoted_transport_bytes);
      quoted = offending.first(header + keep);
    }
  }
  const std::uint32_t word = fields.next_hop_mtu != 0 ? fields.next_hop_mtu : fields.rest_of_header;
  return icmp_with_word(from, to, type, code, word, quoted, ip);
}

Packet raw_ip(Ipv4Address from, Ipv4Address to, std::uint8_t protocol, const Payload& payload,
              const IpFields& ip) {
  Tins::IP whole = ip_header(from, to, ip);
  if (!payload.bytes.empty()) whole /= Tins::RawPDU(payload.bytes.begin(), payload.bytes.end());
  whole.protocol(protocol);
  Packet packet = serialize(whole);
  packet[9] = protocol;  // libtins may derive the protocol from the inner PDU; a raw payload has none
  fix_ip_checksum(packet);
  return finish_ip(std::move(packet), ip);
}

std::vector<Packet> fragment(Bytes packet, std::size_t max_fragment_payload) {
  const RawIp ip = check_ipv4(packet);
  const std::size_t chunk = std::max<std::size_t>(8, max_fragment_payload / 8 * 8);
  const Bytes header = packet.first(ip.header);
  const Bytes payload = packet.subspan(ip.header, ip.total - ip.header);
  if (payload.size() <= max_fragment_payload) return {Packet(packet.begin(), packet.begin() + static_cast<long>(ip.total))};

  const std::uint16_t flags_word = ref::load16(&packet[6]);
  const std::size_t base_offset = static_cast<std::size_t>(flags_word & 0x1fff) * 8;
  const bool original_more = (flags_word & 0x2000) != 0;
  const bool dont_fragment = (flags_word & 0x4000) != 0;
  const Packet later_options = copied_options(header.subspan(20));

  std::vector<Packet> out;
  for (std::size_t offset = 0; offset < payload.size(); offset += chunk) {
    const std::size_t size = std::min(chunk, payload.size() - offset);
    const bool first = offset == 0;
    Packet fragment_bytes(header.begin(), header.begin() + 20);
    if (first) {
      fragment_bytes.assign(header.begin(), header.end());
    } else {
      fragment_bytes.insert(fragment_bytes.end(), later_options.begin(), later_options.end());
    }
    const std::size_t header_size = fragment_bytes.size();
    fragment_bytes[0] = static_cast<std::uint8_t>(0x40 | (header_size / 4));
    fragment_bytes.insert(fragment_bytes.end(), payload.begin() + static_cast<long>(offset),
                          payload.begin() + static_cast<long>(offset + size));
    const bool more = offset + size < payload.size() || original_more;
    const std::uint16_t word = static_cast<std::uint16_t>((dont_fragment ? 0x4000 : 0) | (more ? 0x2000 : 0) |
                                                          ((base_offset + offset) / 8));
    ref::store16(&fragment_bytes[6], word);
    ref::store16(&fragment_bytes[2], static_cast<std::uint16_t>(fragment_bytes.size()));
    fix_ip_checksum(fragment_bytes);
    out.push_back(std::move(fragment_bytes));
  }
  return out;
}

std::optional<Packet> reassemble(const std::vector<Packet>& fragments) {
  if (fragments.empty()) return std::nullopt;
  struct Piece {
    std::size_t offset;
    bool more;
    Bytes header;
    Bytes data;
  };
  std::vector<Piece> pieces;
  std::optional<std::uint64_t> key;
  for (const auto& bytes : fragments) {
    RawIp ip;
    try {
      ip = check_ipv4(bytes);
    } catch (const std::invalid_argument&) {
      return std::nullopt;
    }
    const std::uint64_t this_key = (std::uint64_t{ref::load32(&bytes[12])} << 32) ^ ref::load32(&bytes[16]) ^
                                   (std::uint64_t{ref::load16(&bytes[4])} << 8) ^ bytes[9];
    if (key && *key != this_key) return std::nullopt;
    key = this_key;
    const std::uint16_t word = ref::load16(&bytes[6]);
    pieces.push_back(Piece{static_cast<std::size_t>(word & 0x1fff) * 8, (word & 0x2000) != 0,
                           Bytes(bytes.data(), ip.header), Bytes(bytes.data() + ip.header, ip.total - ip.header)});
  }
  std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.offset < b.offset; });
  if (pieces.front().offset != 0) return std::nullopt;
  std::optional<std::size_t> end;
  for (const auto& piece : pieces) {
    if (!piece.more) end = piece.offset + piece.data.size();
  }
  if (!end || *end + pieces.front().header.size() > 65535) return std::nullopt;
  Packet data(*end);
  std::vector<bool> filled(*end, false);
  for (const auto& piece : pieces) {
    if (piece.offset + piece.data.size() > *end) return std::nullopt;
    for (std::size_t i = 0; i < piece.data.size(); ++i) {
      const std::size_t at = piece.offset + i;
      if (filled[at] && data[at] != piece.data[i]) return std::nullopt;
      data[at] = piece.data[i];
      filled[at] = true;
    }
  }
  if (std::find(filled.begin(), filled.end(), false) != filled.end()) return std::nullopt;
  Packet out(pieces.front().header.begin(), pieces.front().header.end());
  out.insert(out.end(), data.begin(), data.end());
  ref::store16(&out[2], static_cast<std::uint16_t>(out.size()));
  ref::store16(&out[6], static_cast<std::uint16_t>(ref::load16(&out[6]) & 0x4000));
  fix_ip_checksum(out);
  return out;
}

}  // namespace natcert::harness
