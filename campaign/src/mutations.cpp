// Packet surgery and the mutation operators. Operators change header fields, options, fragment layout
// and payloads; they never invent addresses: every address in a mutated packet is one the seed packet
// or the testbed's addressing already carried (the campaign also checks this before sending).
#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine.hpp"
#include "natcert/harness/craft.hpp"
#include "natcert/reference/checksum.hpp"

namespace natcert::campaign::detail {

using ref::load16;
using ref::store16;
using ref::store32;

std::size_t header_length(const Packet& packet) {
  if (packet.empty()) return 0;
  const std::size_t declared = static_cast<std::size_t>(packet[0] & 0x0F) * 4;
  return std::min(std::max<std::size_t>(declared, 20), packet.size());
}

std::uint8_t protocol_of(const Packet& packet) { return packet.size() >= 20 ? packet[9] : 0; }

Ipv4Address source_of(const Packet& packet) { return packet.size() >= 20 ? ref::load32(&packet[12]) : 0; }
Ipv4Address destination_of(const Packet& packet) { return packet.size() >= 20 ? ref::load32(&packet[16]) : 0; }

void fix_ip_checksum(Packet& packet) {
  if (packet.size() < 20) return;
  const std::size_t length = header_length(packet);
  store16(&packet[10], 0);
  store16(&packet[10], ref::internet_checksum(Bytes(packet.data(), length)));
}

void set_total_length(Packet& packet) {
  if (packet.size() >= 20) store16(&packet[2], static_cast<std::uint16_t>(std::min<std::size_t>(packet.size(), 0xFFFF)));
}

void fix_transport_checksum(Packet& packet) {
  if (packet.size() < 20) return;
  if ((load16(&packet[6]) & 0x3FFF) != 0) return;  // a fragment: the checksum covers the whole datagram
  const std::size_t offset = header_length(packet);
  const std::uint8_t protocol = protocol_of(packet);
  std::size_t field = 0;
  if (protocol == 17) field = 6;
  else if (protocol == 6) field = 16;
  else if (protocol == 1) field = 2;
  else return;
  if (packet.size() < offset + field + 2) return;
  const std::size_t length = packet.size() - offset;
  if (protocol == 17 && load16(&packet[offset + 6]) == 0) return;  // "no checksum" stays so
  store16(&packet[offset + field], 0);
  const Bytes segment(packet.data() + offset, length);
  std::uint16_t sum = 0;
  if (protocol == 1) {
    sum = ref::internet_checksum(segment);
  } else {
    sum = ref::internet_checksum(segment, ref::pseudo_header_sum(source_of(packet), destination_of(packet), protocol,
                                                                 static_cast<std::uint16_t>(length)));
    if (protocol == 17 && sum == 0) sum = 0xFFFF;
  }
  store16(&packet[offset + field], sum);
}

namespace {

Packet& pick_packet(std::vector<Packet>& packets, Rng& rng) { return packets[rng.below(packets.size())]; }

bool has_transport(const Packet& packet, std::uint8_t protocol, std::size_t bytes) {
  return packet.size() >= 20 && protocol_of(packet) == protocol && (load16(&packet[6]) & 0x1FFF) == 0 &&
         packet.size() >= header_length(packet) + bytes;
}

std::size_t transport_header_size(const Packet& packet) {
  const std::size_t offset = header_length(packet);
  switch (protocol_of(packet)) {
    case 6:
      return packet.size() >= offset + 13 ? std::clamp<std::size_t>((packet[offset + 12] >> 4) * 4u, 20, 60) : 20;
    case 17:
    case 1:
      return 8;
    default:
      return 0;
  }
}

// The addresses an ICMP error quotes (bytes 12..19 of the quoted header): byte-level operators leave
// them alone so every address a packet carries stays one of the testbed's.
bool quoted_address_byte(const Packet& packet, std::size_t at) {
  if (protocol_of(packet) != 1 || (load16(&packet[6]) & 0x1FFF) != 0) return false;
  const std::size_t quoted = header_length(packet) + 8;
  return at >= quoted + 12 && at < quoted + 20;
}

void update_udp_length(Packet& packet) {
  const std::size_t offset = header_length(packet);
  if (has_transport(packet, 17, 8)) store16(&packet[offset + 4], static_cast<std::uint16_t>(packet.size() - offset));
}

std::uint8_t random_byte(Rng& rng) { return static_cast<std::uint8_t>(rng.next()); }

bool mutate_ttl(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  static const std::vector<std::uint8_t> values{0, 1, 2, 255, 64};
  p[8] = rng.one_in(5) ? random_byte(rng) : rng.pick(values);
  fix_ip_checksum(p);
  return true;
}

bool mutate_ip_checksum(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  p[10 + rng.below(2)] ^= static_cast<std::uint8_t>(1 + rng.below(255));
  return true;
}

bool mutate_total_length(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  const auto size = static_cast<std::uint16_t>(p.size());
  const std::vector<std::uint16_t> values{0, 19, 20, static_cast<std::uint16_t>(size - 1),
                                          static_cast<std::uint16_t>(size + 1), static_cast<std::uint16_t>(size + 200),
                                          0xFFFF};
  store16(&p[2], rng.one_in(4) ? static_cast<std::uint16_t>(rng.next()) : rng.pick(values));
  fix_ip_checksum(p);
  return true;
}

bool mutate_ihl(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  std::uint8_t ihl = static_cast<std::uint8_t>(rng.below(16));
  if (ihl == 5) ihl = 6;
  p[0] = static_cast<std::uint8_t>(0x40 | ihl);
  if (rng.one_in(4)) p[0] = static_cast<std::uint8_t>((random_byte(rng) & 0xF0) | 5);  // the version nibble
  fix_ip_checksum(p);
  return true;
}

// Inserts IPv4 options right after the fixed header.
bool mutate_ip_options(std::vector<Packet>& packets, Rng& rng, const MutationInput& input) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  std::vector<std::uint8_t> options;
  const Ipv4Address hop = input.scope && !input.scope->addressing.outside.empty() ? input.scope->addressing.outside[0]
                                                                                  : 0xC633640Au;
  switch (rng.below(8)) {
    case 0: options = {1, 1, 1, 1}; break;                                    // NOPs
    case 1: options = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}; break;          // record route, two slots
    case 2: options = {68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}; break;         // timestamp
    case 3: options = {148, 4, 0, 0}; break;                                  // router alert
    case 4:                                                                   // loose source route via an outside host
      options = {131, 7, 4, static_cast<std::uint8_t>(hop >> 24), static_cast<std::uint8_t>(hop >> 16),
                 static_cast<std::uint8_t>(hop >> 8), static_cast<std::uint8_t>(hop), 0};
      break;
    case 5: options = {7, 0, 4, 0}; break;                                    // length 0
    case 6: options = {68, 255, 5, 0}; break;                                 // length beyond the header
    default:
      options.resize(4 * (1 + rng.below(10)));
      // No byte may read as an option that carries addresses (record route, timestamp, source routes):
      // random bytes there would be addresses outside the testbed's plan.
      for (auto& b : options) {
        b = random_byte(rng);
        if (b == 7 || b == 68 || b == 131 || b == 137) b = 1;
      }
  }
  while (options.size() % 4 != 0) options.push_back(0);
  const std::size_t ihl = header_length(p);
  if (ihl + options.size() > 60) return false;
  p.insert(p.begin() + static_cast<std::ptrdiff_t>(ihl), options.begin(), options.end());
  p[0] = static_cast<std::uint8_t>((p[0] & 0xF0) | ((ihl + options.size()) / 4));
  set_total_length(p);
  fix_checksums(p);
  return true;
}

bool mutate_ip_flags(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  static const std::vector<std::uint8_t> bits{0x80, 0x40, 0x20, 0x60, 0xE0};
  p[6] ^= rng.pick(bits);
  fix_ip_checksum(p);
  return true;
}

bool mutate_fragment_offset(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  static const std::vector<std::uint16_t> offsets{1, 2, 185, 0x1FFF, 0x1FFE, 8191 - 1};
  const std::uint16_t offset = rng.one_in(3) ? static_cast<std::uint16_t>(rng.below(0x2000)) : rng.pick(offsets);
  const std::uint16_t flags = static_cast<std::uint16_t>(load16(&p[6]) & 0xE000) | (rng.one_in(2) ? 0x2000 : 0);
  store16(&p[6], static_cast<std::uint16_t>(flags | offset));
  fix_ip_checksum(p);
  return true;
}

// Splits a whole packet into fragments, in order, reversed, shuffled or with one duplicated.
bool mutate_fragment_split(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  const std::size_t index = rng.below(packets.size());
  const Packet& p = packets[index];
  if (p.size() < 36 || (load16(&p[6]) & 0x3FFF) != 0) return false;
  std::vector<Packet> pieces;
  try {
    pieces = harness::fragment(p, 8 * (1 + rng.below(24)));
  } catch (const std::invalid_argument&) {
    return false;
  }
  if (pieces.size() < 2) return false;
  switch (rng.below(4)) {
    case 0: std::reverse(pieces.begin(), pieces.end()); break;
    case 1:
      for (std::size_t i = pieces.size() - 1; i > 0; --i) std::swap(pieces[i], pieces[rng.below(i + 1)]);
      break;
    case 2: pieces.push_back(pieces[rng.below(pieces.size())]); break;
    default: break;
  }
  packets.erase(packets.begin() + static_cast<std::ptrdiff_t>(index));
  packets.insert(packets.begin() + static_cast<std::ptrdiff_t>(index), pieces.begin(), pieces.end());
  return true;
}

// Splits a packet and adds a fragment overlapping another one with different bytes (or a shifted offset).
bool mutate_fragment_overlap(std::vector<Packet>& packets, Rng& rng, const MutationInput& input) {
  if (!mutate_fragment_split(packets, rng, input)) return false;
  std::vector<std::size_t> fragments;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (packets[i].size() >= 28 && (load16(&packets[i][6]) & 0x3FFF) != 0) fragments.push_back(i);
  }
  if (fragments.empty()) return false;
  Packet extra = packets[rng.pick(fragments)];
  const std::size_t ihl = header_length(extra);
  for (std::size_t i = ihl; i < extra.size(); ++i) {
    if (!quoted_address_byte(extra, i)) extra[i] = static_cast<std::uint8_t>(extra[i] ^ 0x5A);
  }
  const std::uint16_t field = load16(&extra[6]);
  std::uint16_t offset = field & 0x1FFF;
  if (rng.one_in(2) && offset > 0) --offset;  // shifted 8 bytes back: a partial overlap
  store16(&extra[6], static_cast<std::uint16_t>((field & 0xE000) | offset));
  fix_ip_checksum(extra);
  packets.insert(packets.begin() + static_cast<std::ptrdiff_t>(rng.below(packets.size() + 1)), std::move(extra));
  return true;
}

bool mutate_tcp_flags(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (!has_transport(p, 6, 14)) return false;
  static const std::vector<std::uint8_t> values{0x00, 0x01, 0x03, 0x04, 0x06, 0x11, 0x29, 0x3F, 0xFF, 0xC2, 0x14};
  p[header_length(p) + 13] = rng.one_in(3) ? random_byte(rng) : rng.pick(values);
  fix_checksums(p);
  return true;
}

bool mutate_tcp_options(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (!has_transport(p, 6, 20)) return false;
  std::vector<std::uint8_t> options;
  switch (rng.below(9)) {
    case 0: options = {2, 4, 0x05, 0xB4}; break;              // MSS 1460
    case 1: options = {2, 4, 0x00, 0x00}; break;              // MSS 0
    case 2: options = {3, 3, 14, 1}; break;                   // window scale 14
    case 3: options = {3, 3, 255, 1}; break;                  // window scale beyond 14
    case 4: options = {4, 2, 1, 1}; break;                    // SACK permitted
    case 5: options = {8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1}; break;  // timestamps
    case 6: options = {5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1}; break;  // SACK block
    case 7: options = {2, 0, 1, 1}; break;                    // length 0
    default:
      options.resize(4 * (1 + rng.below(10)));
      for (auto& b : options) b = random_byte(rng);
  }
  while (options.size() % 4 != 0) options.push_back(0);
  const std::size_t offset = header_length(p);
  const std::size_t tcp_header = transport_header_size(p);
  if (tcp_header + options.size() > 60 || p.size() < offset + tcp_header) return false;
  p.insert(p.begin() + static_cast<std::ptrdiff_t>(offset + tcp_header), options.begin(), options.end());
  p[offset + 12] = static_cast<std::uint8_t>(((tcp_header + options.size()) / 4) << 4 | (p[offset + 12] & 0x0F));
  set_total_length(p);
  fix_checksums(p);
  return true;
}

bool mutate_tcp_data_offset(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (!has_transport(p, 6, 13)) return false;
  const std::size_t at = header_length(p) + 12;
  p[at] = static_cast<std::uint8_t>((rng.below(16) << 4) | (p[at] & 0x0F));
  fix_checksums(p);
  return true;
}

bool mutate_udp_length(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (!has_transport(p, 17, 8)) return false;
  const std::size_t offset = header_length(p);
  const auto real = static_cast<std::uint16_t>(p.size() - offset);
  const std::vector<std::uint16_t> values{0, 1, 7, 8, static_cast<std::uint16_t>(real - 1),
                                          static_cast<std::uint16_t>(real + 1), 0xFFFF};
  store16(&p[offset + 4], rng.one_in(4) ? static_cast<std::uint16_t>(rng.next()) : rng.pick(values));
  fix_checksums(p);
  return true;
}

bool mutate_transport_checksum(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  const std::uint8_t protocol = protocol_of(p);
  const std::size_t field = protocol == 6 ? 16 : protocol == 17 ? 6 : protocol == 1 ? 2 : 0;
  if (field == 0 || !has_transport(p, protocol, field + 2)) return false;
  const std::size_t at = header_length(p) + field;
  if (protocol == 17 && rng.one_in(3)) {
    store16(&p[at], 0);  // "no checksum"
  } else {
    p[at + rng.below(2)] ^= static_cast<std::uint8_t>(1 + rng.below(255));
  }
  return true;
}

bool mutate_truncate(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() <= 21) return false;  // keep the addresses: a runt without them is not sent anywhere
  p.resize(20 + rng.below(p.size() - 20));
  if (rng.one_in(2)) {
    set_total_length(p);
    fix_ip_checksum(p);
  }
  return true;
}

bool mutate_payload_bytes(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 20) return false;
  const std::size_t start = header_length(p) + transport_header_size(p);
  if (p.size() <= start || rng.one_in(4)) {
    const std::size_t extra = 1 + rng.below(64);
    for (std::size_t i = 0; i < extra; ++i) p.push_back(random_byte(rng));
    set_total_length(p);
    update_udp_length(p);
  } else {
    const std::size_t flips = 1 + rng.below(8);
    for (std::size_t i = 0; i < flips; ++i) {
      const std::size_t at = start + rng.below(p.size() - start);
      if (!quoted_address_byte(p, at)) p[at] ^= static_cast<std::uint8_t>(1u << rng.below(8));
    }
  }
  fix_checksums(p);
  return true;
}

bool mutate_icmp_type_code(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (!has_transport(p, 1, 4)) return false;
  static const std::vector<std::uint8_t> types{0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 30, 40, 255};
  const std::size_t offset = header_length(p);
  p[offset] = rng.pick(types);
  p[offset + 1] = rng.one_in(2) ? static_cast<std::uint8_t>(rng.below(16)) : random_byte(rng);
  fix_checksums(p);
  return true;
}

// Replaces a packet by an ICMP error, from the same host, quoting an ICMP error about that packet:
// an error quoting an error (RFC 1812 §4.3.2.7 says never to answer one; a NAT must still translate it
// or drop it, never leak or wedge on it).
bool mutate_icmp_nested_error(std::vector<Packet>& packets, Rng& rng, const MutationInput&) {
  Packet& p = pick_packet(packets, rng);
  if (p.size() < 28) return false;
  const Ipv4Address from = source_of(p);
  const Ipv4Address to = destination_of(p);
  try {
    harness::IcmpErrorFields inner_fields;
    inner_fields.quoted_transport_bytes = rng.one_in(2) ? 8 : SIZE_MAX;
    const Packet inner = harness::icmp_error(to, from, rng.one_in(2) ? 11 : 3, rng.one_in(2) ? 0 : 3, p, inner_fields);
    harness::IcmpErrorFields outer_fields;
    outer_fields.quoted_transport_bytes = rng.one_in(2) ? 8 : SIZE_MAX;
    p = harness::icmp_error(from, to, 3, static_cast<std::uint8_t>(rng.below(4)), inner, outer_fields);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// Replaces the payload of a UDP or TCP packet with application text of the kind ALGs parse (FTP
// PORT/EPRT/227, SIP with SDP), carrying the packet's own inside address, odd numbers or long lines.
bool mutate_alg_payload(std::vector<Packet>& packets, Rng& rng, const MutationInput& input) {
  Packet& p = pick_packet(packets, rng);
  const std::uint8_t protocol = protocol_of(p);
  if (!(has_transport(p, 6, 20) || has_transport(p, 17, 8))) return false;
  Ipv4Address inside = source_of(p);
  if (input.scope && !input.scope->addressing.inside.empty() && !input.scope->is_inside(inside)) {
    inside = input.scope->addressing.inside[0];
  }
  const std::string dotted = ref::format_ipv4(inside);
  std::string commas = dotted;
  std::replace(commas.begin(), commas.end(), '.', ',');
  const std::string port = std::to_string(1024 + rng.below(60000));
  std::string text;
  switch (rng.below(9)) {
    case 0: text = std::string("PORT ") + commas + ",156,64\r\n"; break;
    case 1: text = std::string("EPRT |1|") + dotted + "|" + port + "|\r\n"; break;
    case 2: text = std::string("227 Entering Passive Mode (") + commas + ",4,1).\r\n"; break;
    case 3: text = std::string("PORT 999,0,0,1,1,1\r\nPORT ") + commas + "\r\n"; break;
    case 4: text = std::string("PORT ") + commas + "," + std::string(300, '9') + "\r\n"; break;
    case 5:
    case 6: {
      const std::string sdp = std::string("v=0\r\no=- 1 1 IN IP4 ") + dotted + "\r\nc=IN IP4 " + dotted + "\r\nm=audio " + port +
                              " RTP/AVP 0\r\n";
      text = std::string("INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP ") + dotted + ":5060\r\nContact: <sip:a@" + dotted +
             ":5060>\r\nContent-Type: application/sdp\r\nContent-Length: " +
             std::to_string(rng.one_in(3) ? 99999 : sdp.size()) + "\r\n\r\n" + sdp;
      break;
    }
    case 7: text = std::string("SIP/2.0 200 OK\r\nContact: <sip:a@") + dotted + ":" + std::string(200, '7') + ">\r\n\r\n"; break;
    default: text = std::string(1 + rng.below(1000), 'P'); break;
  }
  const std::size_t start = header_length(p) + transport_header_size(p);
  if (start > p.size()) return false;
  p.resize(start);
  p.insert(p.end(), text.begin(), text.end());
  set_total_length(p);
  if (protocol == 17) update_udp_length(p);
  fix_checksums(p);
  return true;
}

}  // namespace

const std::vector<Operator>& operators() {
  static const std::vector<Operator> all{
      {"ttl", mutate_ttl},
      {"ip-checksum", mutate_ip_checksum},
      {"ip-total-length", mutate_total_length},
      {"ip-ihl", mutate_ihl},
      {"ip-options", mutate_ip_options},
      {"ip-flags", mutate_ip_flags},
      {"fragment-offset", mutate_fragment_offset},
      {"fragment-split", mutate_fragment_split},
      {"fragment-overlap", mutate_fragment_overlap},
      {"tcp-flags", mutate_tcp_flags},
      {"tcp-options", mutate_tcp_options},
      {"tcp-data-offset", mutate_tcp_data_offset},
      {"udp-length", mutate_udp_length},
      {"transport-checksum", mutate_transport_checksum},
      {"truncate", mutate_truncate},
      {"payload-bytes", mutate_payload_bytes},
      {"icmp-type-code", mutate_icmp_type_code},
      {"icmp-nested-error", mutate_icmp_nested_error},
      {"alg-payload", mutate_alg_payload},
  };
  return all;
}

}  // namespace natcert::campaign::detail
