// Zero-copy views over raw IPv4 packets: IPv4 (options, fragments), UDP, TCP, ICMP queries and ICMP
// errors with their embedded IPv4 header and leading transport bytes (RFC 5508 §4).
//
// These views decode untrusted bytes, including whatever a real DUT emits, so every accessor is
// bounds-checked once at parse time and never reads outside the span it was given. Parsing never
// allocates and never throws; a rejected packet carries a ParseError that says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "natcert/reference/checksum.hpp"

namespace natcert::ref {

using Ipv4Address = std::uint32_t;  // host byte order

std::string format_ipv4(Ipv4Address address);
std::optional<Ipv4Address> parse_ipv4_address(std::string_view text);

namespace ip_protocol {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t esp = 50;
inline constexpr std::uint8_t ah = 51;
}  // namespace ip_protocol

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
}  // namespace tcp_flag

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t destination_unreachable = 3;
inline constexpr std::uint8_t source_quench = 4;
inline constexpr std::uint8_t redirect = 5;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t router_advertisement = 9;
inline constexpr std::uint8_t router_solicitation = 10;
inline constexpr std::uint8_t time_exceeded = 11;
inline constexpr std::uint8_t parameter_problem = 12;
inline constexpr std::uint8_t timestamp_request = 13;
inline constexpr std::uint8_t timestamp_reply = 14;
inline constexpr std::uint8_t information_request = 15;
inline constexpr std::uint8_t information_reply = 16;
inline constexpr std::uint8_t address_mask_request = 17;
inline constexpr std::uint8_t address_mask_reply = 18;
}  // namespace icmp_type

// ICMP messages in the three classes RFC 5508 distinguishes.
enum class IcmpClass : std::uint8_t { query, error, other };
IcmpClass classify_icmp(std::uint8_t type);
// The query types whose reply is matched by identifier (echo, timestamp, information, address mask).
bool is_icmp_query_request(std::uint8_t type);
bool is_icmp_query_reply(std::uint8_t type);

enum class ParseError : std::uint8_t {
  none,
  truncated,                 // fewer bytes than a header needs
  bad_version,               // IP version is not 4
  bad_ihl,                   // IHL below 5 or beyond the data
  bad_total_length,          // total length below the header length or beyond the data
  bad_ip_checksum,           // IPv4 header checksum does not verify
  bad_ip_option,             // an option's length runs past the header or is below 2
  bad_fragment_offset,       // offset + payload exceeds 65535, or MF with a payload not a multiple of 8
  bad_udp_length,            // UDP length below 8 or beyond the IP payload
  bad_udp_checksum,          // UDP checksum present and wrong (checked only when asked)
  bad_tcp_data_offset,       // TCP data offset below 5 or beyond the segment
  bad_tcp_option,            // a TCP option's length runs past the header or is below 2
  bad_tcp_checksum,          // checked only when asked
  bad_icmp_checksum,         // checked only when asked
  bad_embedded_header,       // ICMP error whose quoted IPv4 header is not a usable IPv4 header
  bad_embedded_ip_checksum,  // quoted IPv4 header checksum does not verify (checked only when asked)
};
std::string_view describe(ParseError error);

struct ParseOptions {
  bool verify_ip_checksum = true;
  bool verify_transport_checksum = false;  // UDP/TCP/ICMP; only on complete, unfragmented datagrams
  bool verify_embedded_ip_checksum = false;
};

// IPv4 header view. `bytes` spans exactly `total_length` bytes (the link may pad beyond that).
struct Ipv4View {
  Bytes bytes;

  std::uint8_t header_length() const { return static_cast<std::uint8_t>((bytes[0] & 0x0f) * 4); }
  std::uint8_t tos() const { return bytes[1]; }
  std::uint8_t dscp() const { return bytes[1] >> 2; }
  std::uint16_t total_length() const { return load16(&bytes[2]); }
  std::uint16_t identification() const { return load16(&bytes[4]); }
  bool dont_fragment() const { return (bytes[6] & 0x40) != 0; }
  bool more_fragments() const { return (bytes[6] & 0x20) != 0; }
  std::uint16_t fragment_offset_bytes() const {
    return static_cast<std::uint16_t>((load16(&bytes[6]) & 0x1fff) * 8);
  }
  bool is_fragment() const { return more_fragments() || fragment_offset_bytes() != 0; }
  bool is_first_fragment_or_whole() const { return fragment_offset_bytes() == 0; }
  std::uint8_t ttl() const { return bytes[8]; }
  std::uint8_t protocol() const { return bytes[9]; }
  std::uint16_t header_checksum() const { return load16(&bytes[10]); }
  Ipv4Address source() const { return load32(&bytes[12]); }
  Ipv4Address destination() const { return load32(&bytes[16]); }
  Bytes options() const { return bytes.subspan(20, header_length() - 20u); }
  Bytes payload() const { return bytes.subspan(header_length()); }
};

struct UdpView {
  Bytes bytes;  // header and payload, `length()` bytes (or fewer when quoted inside an ICMP error)
  std::uint16_t source_port() const { return load16(&bytes[0]); }
  std::uint16_t destination_port() const { return load16(&bytes[2]); }
  std::uint16_t length() const { return load16(&bytes[4]); }
  std::uint16_t checksum() const { return load16(&bytes[6]); }
  Bytes payload() const { return bytes.subspan(8); }
};

struct TcpView {
  Bytes bytes;
  std::uint16_t source_port() const { return load16(&bytes[0]); }
  std::uint16_t destination_port() const { return load16(&bytes[2]); }
  std::uint32_t sequence() const { return load32(&bytes[4]); }
  std::uint32_t acknowledgement() const { return load32(&bytes[8]); }
  std::uint8_t header_length() const { return static_cast<std::uint8_t>((bytes[12] >> 4) * 4); }
  std::uint8_t flags() const { return bytes[13]; }
  bool has(std::uint8_t flag) const { return (bytes[13] & flag) != 0; }
  std::uint16_t window() const { return load16(&bytes[14]); }
  std::uint16_t checksum() const { return load16(&bytes[16]); }
  Bytes options() const { return bytes.subspan(20, header_length() - 20u); }
  Bytes payload() const { return bytes.subspan(header_length()); }
};

struct IcmpView {
  Bytes bytes;  // the whole ICMP message
  std::uint8_t type() const { return bytes[0]; }
  std::uint8_t code() const { return bytes[1]; }
  std::uint16_t checksum() const { return load16(&bytes[2]); }
  // Query messages: identifier and sequence number. Errors: the "rest of header" word.
  std::uint16_t identifier() const { return load16(&bytes[4]); }
  std::uint16_t sequence() const { return load16(&bytes[6]); }
  std::uint16_t next_hop_mtu() const { return load16(&bytes[6]); }  // type 3 code 4 (RFC 1191)
  Bytes body() const { return bytes.subspan(8); }
  IcmpClass icmp_class() const { return classify_icmp(type()); }
};

// The packet quoted by an ICMP error: its IPv4 header (complete, options included) and however many
// leading transport bytes the error carried. The quoted total length may exceed what is present.
struct EmbeddedPacket {
  Ipv4View ip;             // ip.bytes covers the quoted header and the quoted bytes after it
  Bytes transport;         // quoted transport bytes (may be fewer than 8)
  std::size_t offset = 0;  // offset of the quoted IPv4 header from the start of the outer packet
  bool has_ports() const { return transport.size() >= 4; }
  // UDP/TCP ports, or for a quoted ICMP query, its identifier in both.
  std::uint16_t source_port() const;
  std::uint16_t destination_port() const;
};

enum class TransportKind : std::uint8_t {
  none,        // non-first fragment, or a protocol the views do not decode
  udp,
  tcp,
  icmp_query,
  icmp_error,
  icmp_other,
};

// A parsed packet. Only the view named by `kind` is meaningful (and `embedded` for icmp_error).
struct PacketView {
  Ipv4View ip;
  TransportKind kind = TransportKind::none;
  std::size_t transport_offset = 0;  // offset of the transport header in the outer packet
  UdpView udp;
  TcpView tcp;
  IcmpView icmp;
  EmbeddedPacket embedded;
};

struct ParseResult {
  PacketView packet;
  ParseError error = ParseError::none;
  bool ok() const { return error == ParseError::none; }
};

// Parses an IPv4 packet. A first fragment whose transport header is incomplete, a non-first fragment
// and any unknown protocol parse with kind == none; they are valid IP.
ParseResult parse_packet(Bytes bytes, const ParseOptions& options = {});

// Validates a TCP option list or IPv4 option list (kind/length walk with EOL and NOP).
bool tcp_options_well_formed(Bytes options);
bool ipv4_options_well_formed(Bytes options);

// Recomputes and stores every checksum of a packet from scratch: IPv4 header, and for complete,
// unfragmented datagrams the transport checksum (UDP checksum 0 stays 0 when `keep_zero_udp`).
// Used by packet builders and as the independent oracle for incremental updates.
void recompute_checksums(MutableBytes packet, bool keep_zero_udp = true);

}  // namespace natcert::ref
