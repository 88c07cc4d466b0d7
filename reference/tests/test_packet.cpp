// Packet views: packets built with libtins parse with the right fields, every rule parse_packet
// enforces has a test that breaks it, and no input -- truncated, mutated or random -- makes a view
// reach outside its buffer (CI runs this under ASan + UBSan).
#include <gtest/gtest.h>
#include <tins/tins.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "natcert/reference/checksum.hpp"
#include "natcert/reference/packet.hpp"

// ---------------------------------------------------------------------------------------------------
// Allocation counting, to prove parse_packet never allocates. The replacements must cover every form
// the program could pair (new/delete, array, nothrow, sized) so that ASan sees malloc/free throughout.
namespace {
thread_local long allocations = 0;

void* counted_allocate(std::size_t size) {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
// Out of line: once inlined into a delete-expression, GCC's -Wmismatched-new-delete sees free() on a
// pointer from operator new, not knowing that our operator new is malloc.
[[gnu::noinline]] void release(void* p) noexcept {
  std::free(p);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_allocate(size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted_allocate(size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_allocate(size);
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete[](void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p);
}

namespace natcert::ref {
namespace {

using ByteVector = std::vector<std::uint8_t>;

constexpr ParseOptions verify_all{
    .verify_ip_checksum = true, .verify_transport_checksum = true, .verify_embedded_ip_checksum = true};
constexpr ParseOptions verify_nothing{
    .verify_ip_checksum = false, .verify_transport_checksum = false, .verify_embedded_ip_checksum = false};

Bytes view(const ByteVector& data) {
  return {data.data(), data.size()};
}
MutableBytes mutable_view(ByteVector& data) {
  return {data.data(), data.size()};
}
ByteVector to_vector(Bytes bytes) {
  return {bytes.begin(), bytes.end()};
}
ByteVector to_vector(const std::string& text) {
  return {text.begin(), text.end()};
}

ParseResult parse(const ByteVector& packet, const ParseOptions& options = verify_all) {
  return parse_packet(view(packet), options);
}
// The views point into the packet, so parsing a temporary would leave them dangling.
ParseResult parse(ByteVector&& packet, const ParseOptions& options = verify_all) = delete;
ParseError verdict(const ByteVector& packet, const ParseOptions& options = verify_all) {
  return parse(packet, options).error;
}

// libtins constructors take the destination first; these helpers read in wire order.
Tins::IP ip_from_to(const std::string& source, const std::string& destination) {
  return Tins::IP(destination, source);
}
Tins::UDP udp_ports(std::uint16_t source, std::uint16_t destination) {
  return Tins::UDP(destination, source);
}
Tins::TCP tcp_ports(std::uint16_t source, std::uint16_t destination) {
  return Tins::TCP(destination, source);
}

ByteVector serialize(Tins::PDU&& pdu) {
  return pdu.serialize();
}

Tins::ICMP icmp_echo(Tins::ICMP::Flags type, std::uint16_t id, std::uint16_t sequence) {
  Tins::ICMP icmp(type);
  icmp.id(id);
  icmp.sequence(sequence);
  return icmp;
}

Tins::TCP syn_with_options(std::uint16_t source, std::uint16_t destination) {
  Tins::TCP tcp = tcp_ports(source, destination);
  tcp.seq(0x01020304);
  tcp.flags(Tins::TCP::SYN);
  tcp.window(64240);
  tcp.mss(1460);
  tcp.sack_permitted();
  tcp.winscale(7);
  tcp.timestamp(0x11111111, 0);
  return tcp;
}

// Sets the IPv4 total length to the packet's size and fixes the header checksum.
void fix_ip_length(ByteVector& packet) {
  store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  store16(&packet[10], 0);
  store16(&packet[10], internet_checksum(view(packet).first(static_cast<std::size_t>(packet[0] & 0x0F) * 4)));
}

// Appends `options` (a multiple of 4 bytes) to the IPv4 header of an option-less packet. Done by hand
// because libtins 4.0 zeroes the first payload byte when it pads, e.g., a record route option.
ByteVector with_ip_options(ByteVector packet, const ByteVector& options) {
  packet.insert(packet.begin() + 20, options.begin(), options.end());
  packet[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
  fix_ip_length(packet);
  return packet;
}

// The packets an ICMP error typically quotes, as their sender put them on the wire.
ByteVector quoted_udp(bool with_options) {
  ByteVector packet = serialize(ip_from_to("192.168.1.10", "8.8.8.8") / udp_ports(40000, 53) /
                                Tins::RawPDU("a DNS query, more or less"));
  if (!with_options) {
    return packet;
  }
  return with_ip_options(packet, {7, 7, 4, 10, 9, 8, 7, 0});  // record route with one slot, EOL
}
ByteVector quoted_tcp(bool with_options) {
  Tins::IP ip = ip_from_to("192.168.1.10", "93.184.216.34");
  if (with_options) {
    ip.add_option(Tins::IP::option(Tins::IP::NOOP));
    ip.eol();
  }
  return serialize(ip / syn_with_options(50123, 443));
}
ByteVector quoted_echo(bool with_options) {
  ByteVector packet = serialize(ip_from_to("192.168.1.10", "1.1.1.1") /
                                icmp_echo(Tins::ICMP::ECHO_REQUEST, 0xBEEF, 7) / Tins::RawPDU("ping"));
  if (!with_options) {
    return packet;
  }
  return with_ip_options(packet, {68, 4, 5, 0});  // an empty timestamp option
}

// An ICMP error from a router quoting the first `quote_length` bytes of `quoted`.
ByteVector icmp_error(Tins::ICMP::Flags type, std::uint8_t code, const ByteVector& quoted,
                      std::size_t quote_length, bool outer_options = false) {
  Tins::IP outer = ip_from_to("203.0.113.1", "192.168.1.10");
  if (outer_options) {
    outer.add_option(Tins::IP::option(Tins::IP::NOOP));
  }
  Tins::ICMP icmp(type);
  icmp.code(code);
  const auto end = quoted.begin() + static_cast<std::ptrdiff_t>(std::min(quote_length, quoted.size()));
  return serialize(outer / icmp / Tins::RawPDU(quoted.begin(), end));
}

// Splits the payload of `whole` at [begin, end) into one fragment (RFC 791 §3.2).
ByteVector make_fragment(const ByteVector& whole, std::size_t begin, std::size_t end, bool more_fragments) {
  const std::size_t header_length = static_cast<std::size_t>(whole[0] & 0x0F) * 4;
  ByteVector fragment(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(header_length));
  fragment.insert(fragment.end(), whole.begin() + static_cast<std::ptrdiff_t>(header_length + begin),
                  whole.begin() + static_cast<std::ptrdiff_t>(header_length + end));
  store16(&fragment[2], static_cast<std::uint16_t>(fragment.size()));
  store16(&fragment[6], static_cast<std::uint16_t>((more_fragments ? 0x2000 : 0) | (begin / 8)));
  recompute_checksums(mutable_view(fragment));  // only the IP header checksum, as it is a fragment
  return fragment;
}

// ---------------------------------------------------------------------------------------------------
// Bounds checking of a parse result.

bool inside(Bytes span, Bytes buffer) {
  if (span.empty()) {
    return true;
  }
  const std::less_equal<const std::uint8_t*> not_after;
  return not_after(buffer.data(), span.data()) &&
         not_after(span.data() + span.size(), buffer.data() + buffer.size());
}

std::uint64_t sum_bytes(Bytes bytes) {
  std::uint64_t sum = 0;
  for (std::uint8_t b : bytes) {
    sum += b;
  }
  return sum;
}

// Calls every accessor of every view the result names and checks that each span lies inside the
// parsed buffer. The buffer is an exact-size heap copy, so ASan also catches any stray read.
void expect_views_within(const ParseResult& result, Bytes buffer) {
  const PacketView& packet = result.packet;
  std::uint64_t sink = 0;
  if (!packet.ip.bytes.empty()) {
    const Ipv4View& ip = packet.ip;
    ASSERT_TRUE(inside(ip.bytes, buffer));
    ASSERT_GE(ip.bytes.size(), 20u);
    ASSERT_GE(ip.bytes.size(), ip.header_length());
    ASSERT_EQ(ip.bytes.size(), ip.total_length());
    ASSERT_EQ(ip.bytes.data(), buffer.data());
    sink += ip.tos() + ip.dscp() + ip.identification() + ip.dont_fragment() + ip.more_fragments() +
            ip.fragment_offset_bytes() + ip.is_fragment() + ip.is_first_fragment_or_whole() + ip.ttl() +
            ip.protocol() + ip.header_checksum() + ip.source() + ip.destination() + sum_bytes(ip.options()) +
            sum_bytes(ip.payload());
  } else {
    ASSERT_FALSE(result.ok());
  }
  const std::uint8_t* transport = buffer.data() + packet.transport_offset;
  switch (packet.kind) {
    case TransportKind::none:
      break;
    case TransportKind::udp: {
      const UdpView& udp = packet.udp;
      ASSERT_TRUE(inside(udp.bytes, packet.ip.payload()));
      ASSERT_EQ(udp.bytes.data(), transport);
      ASSERT_GE(udp.bytes.size(), 8u);
      ASSERT_LE(udp.bytes.size(), udp.length());
      sink += udp.source_port() + udp.destination_port() + udp.checksum() + sum_bytes(udp.payload());
      break;
    }
    case TransportKind::tcp: {
      const TcpView& tcp = packet.tcp;
      ASSERT_TRUE(inside(tcp.bytes, packet.ip.payload()));
      ASSERT_EQ(tcp.bytes.data(), transport);
      ASSERT_GE(tcp.header_length(), 20u);
      ASSERT_GE(tcp.bytes.size(), tcp.header_length());
      ASSERT_TRUE(tcp_options_well_formed(tcp.options()));
      sink += tcp.source_port() + tcp.destination_port() + tcp.sequence() + tcp.acknowledgement() +
              tcp.flags() + tcp.has(tcp_flag::syn) + tcp.window() + tcp.checksum() +
              sum_bytes(tcp.options()) + sum_bytes(tcp.payload());
      break;
    }
    case TransportKind::icmp_query:
    case TransportKind::icmp_error:
    case TransportKind::icmp_other: {
      const IcmpView& icmp = packet.icmp;
      ASSERT_TRUE(inside(icmp.bytes, packet.ip.payload()));
      ASSERT_EQ(icmp.bytes.data(), transport);
      ASSERT_GE(icmp.bytes.size(), 8u);
      sink += icmp.type() + icmp.code() + icmp.checksum() + icmp.identifier() + icmp.sequence() +
              icmp.next_hop_mtu() + sum_bytes(icmp.body()) + static_cast<std::uint64_t>(icmp.icmp_class());
      break;
    }
  }
  if (packet.kind == TransportKind::icmp_error) {
    const EmbeddedPacket& embedded = packet.embedded;
    const Ipv4View& quoted = embedded.ip;
    ASSERT_TRUE(inside(quoted.bytes, packet.icmp.body()));
    ASSERT_EQ(quoted.bytes.data(), buffer.data() + embedded.offset);
    ASSERT_GE(quoted.bytes.size(), 20u);
    ASSERT_GE(quoted.bytes.size(), quoted.header_length());
    ASSERT_LE(quoted.bytes.size(), quoted.total_length());
    ASSERT_TRUE(inside(embedded.transport, quoted.bytes));
    ASSERT_EQ(embedded.transport.size(), quoted.bytes.size() - quoted.header_length());
    sink += quoted.tos() + quoted.identification() + quoted.fragment_offset_bytes() + quoted.ttl() +
            quoted.protocol() + quoted.header_checksum() + quoted.source() + quoted.destination() +
            sum_bytes(quoted.options()) + sum_bytes(quoted.payload()) + embedded.has_ports() +
            embedded.source_port() + embedded.destination_port();
  }
  volatile std::uint64_t keep = sink;
  (void)keep;
}

// Parses an exact-size heap copy of `bytes` and checks the result's bounds.
ParseResult parse_checked(Bytes bytes, const ParseOptions& options) {
  auto copy = std::make_unique<std::uint8_t[]>(bytes.size());  // not a vector: no spare capacity
  std::copy(bytes.begin(), bytes.end(), copy.get());
  const Bytes exact{copy.get(), bytes.size()};
  ParseResult result = parse_packet(exact, options);
  expect_views_within(result, exact);
  // The views die with `copy`; callers only look at the verdict and kind.
  const TransportKind kind = result.packet.kind;
  result.packet = {};
  result.packet.kind = kind;
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Well-formed packets parse with the right fields.

TEST(ParseUdp, FieldsFromLibtins) {
  Tins::IP ip = ip_from_to("192.168.1.10", "10.0.0.2");
  ip.ttl(17);
  ip.id(0x1234);
  ip.tos(0xB8);  // DSCP EF
  ip.flags(Tins::IP::DONT_FRAGMENT);
  const ByteVector packet = serialize(ip / udp_ports(4000, 53) / Tins::RawPDU("hello"));

  const ParseResult result = parse(packet);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  const PacketView& p = result.packet;
  EXPECT_EQ(p.ip.source(), *parse_ipv4_address("192.168.1.10"));
  EXPECT_EQ(p.ip.destination(), *parse_ipv4_address("10.0.0.2"));
  EXPECT_EQ(p.ip.ttl(), 17);
  EXPECT_EQ(p.ip.identification(), 0x1234);
  EXPECT_EQ(p.ip.tos(), 0xB8);
  EXPECT_EQ(p.ip.dscp(), 46);
  EXPECT_TRUE(p.ip.dont_fragment());
  EXPECT_FALSE(p.ip.is_fragment());
  EXPECT_EQ(p.ip.protocol(), ip_protocol::udp);
  EXPECT_EQ(p.ip.header_length(), 20);
  EXPECT_EQ(p.ip.total_length(), packet.size());
  EXPECT_TRUE(p.ip.options().empty());
  ASSERT_EQ(p.kind, TransportKind::udp);
  EXPECT_EQ(p.transport_offset, 20u);
  EXPECT_EQ(p.udp.source_port(), 4000);
  EXPECT_EQ(p.udp.destination_port(), 53);
  EXPECT_EQ(p.udp.length(), 13);
  EXPECT_NE(p.udp.checksum(), 0);
  EXPECT_EQ(to_vector(p.udp.payload()), to_vector(std::string("hello")));
}

TEST(ParseTcp, FieldsAndOptionsFromLibtins) {
  Tins::TCP tcp = syn_with_options(5555, 80);
  tcp.flags(Tins::TCP::SYN | Tins::TCP::ACK);
  tcp.ack_seq(0xA0B0C0D0);
  const ByteVector packet = serialize(ip_from_to("5.6.7.8", "1.2.3.4") / tcp / Tins::RawPDU("GET /"));

  const ParseResult result = parse(packet);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  ASSERT_EQ(result.packet.kind, TransportKind::tcp);
  const TcpView& t = result.packet.tcp;
  EXPECT_EQ(t.source_port(), 5555);
  EXPECT_EQ(t.destination_port(), 80);
  EXPECT_EQ(t.sequence(), 0x01020304u);
  EXPECT_EQ(t.acknowledgement(), 0xA0B0C0D0u);
  EXPECT_EQ(t.flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_TRUE(t.has(tcp_flag::syn));
  EXPECT_FALSE(t.has(tcp_flag::fin));
  EXPECT_EQ(t.window(), 64240);
  EXPECT_EQ(t.header_length(), 40);  // 20 + MSS 4 + SACK-permitted 2 + wscale 3 + timestamps 10 + pad 1
  EXPECT_EQ(t.options().size(), 20u);
  EXPECT_EQ(t.options()[0], 2);  // MSS first
  EXPECT_EQ(load16(&t.options()[2]), 1460);
  EXPECT_EQ(to_vector(t.payload()), to_vector(std::string("GET /")));
}

TEST(ParseIcmp, QueriesFromLibtins) {
  const std::pair<Tins::ICMP::Flags, std::uint8_t> queries[] = {
      {Tins::ICMP::ECHO_REQUEST, icmp_type::echo_request},
      {Tins::ICMP::ECHO_REPLY, icmp_type::echo_reply},
      {Tins::ICMP::TIMESTAMP_REQUEST, icmp_type::timestamp_request},
      {Tins::ICMP::ADDRESS_MASK_REPLY, icmp_type::address_mask_reply},
  };
  for (const auto& [tins_type, type] : queries) {
    const ByteVector packet = serialize(ip_from_to("10.1.1.1", "10.2.2.2") /
                                        icmp_echo(tins_type, 0xBEEF, 42) / Tins::RawPDU("data"));
    const ParseResult result = parse(packet);
    ASSERT_TRUE(result.ok()) << describe(result.error) << " type " << int{type};
    ASSERT_EQ(result.packet.kind, TransportKind::icmp_query);
    const IcmpView& icmp = result.packet.icmp;
    EXPECT_EQ(icmp.type(), type);
    EXPECT_EQ(icmp.code(), 0);
    EXPECT_EQ(icmp.identifier(), 0xBEEF);
    EXPECT_EQ(icmp.sequence(), 42);
    EXPECT_EQ(icmp.icmp_class(), IcmpClass::query);
    EXPECT_EQ(icmp.bytes.size(), packet.size() - 20);
  }
}

TEST(ParseIcmp, RouterMessagesAndUnknownTypesAreOther) {
  for (std::uint8_t type :
       {icmp_type::router_advertisement, icmp_type::router_solicitation, std::uint8_t{42}}) {
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    const ByteVector packet = serialize(ip_from_to("10.1.1.1", "224.0.0.2") / icmp);
    const ParseResult result = parse(packet);
    ASSERT_TRUE(result.ok()) << describe(result.error);
    EXPECT_EQ(result.packet.kind, TransportKind::icmp_other) << int{type};
  }
}

TEST(ParseIcmp, NextHopMtu) {
  Tins::ICMP icmp(Tins::ICMP::DEST_UNREACHABLE);
  icmp.code(4);  // fragmentation needed
  icmp.mtu(1400);
  const ByteVector quoted = quoted_udp(false);
  const ByteVector packet = serialize(ip_from_to("203.0.113.1", "192.168.1.10") / icmp /
                                      Tins::RawPDU(quoted.begin(), quoted.end()));
  const ParseResult result = parse(packet);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  EXPECT_EQ(result.packet.kind, TransportKind::icmp_error);
  EXPECT_EQ(result.packet.icmp.code(), 4);
  EXPECT_EQ(result.packet.icmp.next_hop_mtu(), 1400);
}

TEST(ParseIp, UnknownProtocolsAreValidIpWithoutTransport) {
  for (std::uint8_t protocol : {ip_protocol::esp, ip_protocol::ah, std::uint8_t{47}, std::uint8_t{132}}) {
    Tins::IP ip = ip_from_to("10.0.0.1", "10.0.0.2");
    ip.protocol(protocol);
    const ByteVector packet = serialize(ip / Tins::RawPDU("opaque payload"));
    const ParseResult result = parse(packet);
    ASSERT_TRUE(result.ok()) << describe(result.error);
    EXPECT_EQ(result.packet.kind, TransportKind::none);
    EXPECT_EQ(result.packet.ip.protocol(), protocol);
    EXPECT_EQ(result.packet.ip.payload().size(), 14u);
  }
}

TEST(ParseIp, PaddingBeyondTotalLengthIsIgnored) {
  ByteVector packet = serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU("x"));
  const std::size_t total_length = packet.size();
  packet.resize(46, 0xA5);  // Ethernet minimum payload, padded with junk
  const ParseResult result = parse(packet);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  EXPECT_EQ(result.packet.ip.bytes.size(), total_length);
  EXPECT_EQ(result.packet.udp.bytes.size(), 9u);
  EXPECT_EQ(result.packet.udp.payload().size(), 1u);
}

TEST(ParseIp, HeaderErrors) {
  const ByteVector good =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU("abcd"));
  struct Case {
    const char* name;
    std::function<void(ByteVector&)> mutate;
    ParseError expected;
  };
  const Case cases[] = {
      {"empty", [](ByteVector& p) { p.clear(); }, ParseError::truncated},
      {"19 bytes", [](ByteVector& p) { p.resize(19); }, ParseError::truncated},
      {"version 6", [](ByteVector& p) { p[0] = 0x65; }, ParseError::bad_version},
      {"version 0", [](ByteVector& p) { p[0] = 0x05; }, ParseError::bad_version},
      {"IHL 4", [](ByteVector& p) { p[0] = 0x44; }, ParseError::bad_ihl},
      {"IHL 0", [](ByteVector& p) { p[0] = 0x40; }, ParseError::bad_ihl},
      {"IHL beyond data", [](ByteVector& p) { p[0] = 0x4F; }, ParseError::bad_ihl},
      {"total below IHL", [](ByteVector& p) { store16(&p[2], 19); }, ParseError::bad_total_length},
      {"total zero", [](ByteVector& p) { store16(&p[2], 0); }, ParseError::bad_total_length},
      {"total beyond data", [](ByteVector& p) { store16(&p[2], static_cast<std::uint16_t>(p.size() + 1)); },
       ParseError::bad_total_length},
  };
  for (const Case& c : cases) {
    ByteVector packet = good;
    c.mutate(packet);
    EXPECT_EQ(parse(packet).error, c.expected) << c.name;
    EXPECT_EQ(parse(packet, verify_nothing).error, c.expected) << c.name;
  }
  // A datagram that is only a header is valid IP.
  ByteVector header_only(good.begin(), good.begin() + 20);
  header_only[9] = 47;
  fix_ip_length(header_only);
  EXPECT_TRUE(parse(header_only).ok());
}

TEST(ParseIp, HeaderChecksumVerifiedOnlyWhenAsked) {
  ByteVector packet = serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2));
  ++packet[8];  // TTL changed without fixing the checksum
  EXPECT_EQ(parse(packet).error, ParseError::bad_ip_checksum);
  EXPECT_TRUE(parse(packet, verify_nothing).ok());
  ParseOptions ip_only;
  ip_only.verify_ip_checksum = true;
  EXPECT_EQ(parse(packet, ip_only).error, ParseError::bad_ip_checksum);
}

// ---------------------------------------------------------------------------------------------------
// Checksums

TEST(TransportChecksum, CorruptionDetectedOnlyWhenAsked) {
  const ByteVector packets[] = {
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1000, 2000) / Tins::RawPDU("payload!")),
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / tcp_ports(1000, 2000) / Tins::RawPDU("payload!")),
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / icmp_echo(Tins::ICMP::ECHO_REQUEST, 1, 2) /
                Tins::RawPDU("payload!")),
      icmp_error(Tins::ICMP::TIME_EXCEEDED, 0, quoted_udp(false), 28),
  };
  const ParseError expected[] = {ParseError::bad_udp_checksum, ParseError::bad_tcp_checksum,
                                 ParseError::bad_icmp_checksum, ParseError::bad_icmp_checksum};
  for (std::size_t i = 0; i < std::size(packets); ++i) {
    ASSERT_TRUE(parse(packets[i]).ok()) << i;
    std::size_t checked = 0;
    for (std::size_t at = 20; at < packets[i].size(); ++at) {  // any transport byte, header or data
      ByteVector corrupt = packets[i];
      corrupt[at] ^= 0x10;
      // Flips that break the structure (a length, an offset) are another test's business.
      if (!parse(corrupt, verify_nothing).ok()) {
        continue;
      }
      ++checked;
      EXPECT_EQ(parse(corrupt).error, expected[i]) << i << " byte " << at;
      ParseOptions no_transport = verify_all;
      no_transport.verify_transport_checksum = false;
      no_transport.verify_embedded_ip_checksum = false;  // the quoted header may have been hit
      EXPECT_TRUE(parse(corrupt, no_transport).ok()) << i << " byte " << at;
    }
    EXPECT_GE(checked, packets[i].size() - 20 - 4) << i;
  }
}

TEST(TransportChecksum, PseudoHeaderCoversAddresses) {
  ByteVector packet =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1000, 2000) / Tins::RawPDU("x"));
  store32(&packet[12], *parse_ipv4_address("10.0.0.3"));
  fix_ip_length(packet);  // IP header valid again, UDP checksum now stale
  EXPECT_EQ(parse(packet).error, ParseError::bad_udp_checksum);
}

TEST(TransportChecksum, ZeroUdpChecksumMeansNone) {
  ByteVector packet =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1000, 2000) / Tins::RawPDU("x"));
  store16(&packet[26], 0);
  EXPECT_TRUE(parse(packet).ok());
}

TEST(TransportChecksum, RecomputeMatchesLibtins) {
  std::mt19937 rng(4);
  for (int round = 0; round < 300; ++round) {
    std::string payload(rng() % 100, '\0');
    for (char& c : payload) {
      c = static_cast<char>(rng());
    }
    const std::string source = "10.0.0." + std::to_string(rng() % 256);
    const std::string destination = "172.16." + std::to_string(rng() % 256) + ".9";
    ByteVector packet;
    std::size_t checksum_at = 0;
    switch (round % 3) {
      case 0:
        packet = serialize(ip_from_to(source, destination) /
                           udp_ports(static_cast<std::uint16_t>(rng()), 53) / Tins::RawPDU(payload));
        checksum_at = 26;
        break;
      case 1:
        packet = serialize(ip_from_to(source, destination) /
                           syn_with_options(static_cast<std::uint16_t>(rng()), 80) / Tins::RawPDU(payload));
        checksum_at = 36;
        break;
      default:
        packet = serialize(ip_from_to(source, destination) /
                           icmp_echo(Tins::ICMP::ECHO_REPLY, static_cast<std::uint16_t>(rng()), 1) /
                           Tins::RawPDU(payload));
        checksum_at = 22;
        break;
    }
    // libtins computed both checksums; recompute from zeroed fields and compare.
    ByteVector ours = packet;
    store16(&ours[10], 0);
    store16(&ours[checksum_at], 0x5A5A);
    recompute_checksums(mutable_view(ours));
    ASSERT_EQ(ours, packet) << "round " << round;
    ASSERT_TRUE(parse(packet).ok()) << "round " << round;
  }
}

TEST(RecomputeChecksums, UdpZeroKeptOnlyWhenAsked) {
  ByteVector packet =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1000, 2000) / Tins::RawPDU("x"));
  const std::uint16_t libtins_checksum = load16(&packet[26]);
  store16(&packet[26], 0);
  recompute_checksums(mutable_view(packet), /*keep_zero_udp=*/true);
  EXPECT_EQ(load16(&packet[26]), 0);
  recompute_checksums(mutable_view(packet), /*keep_zero_udp=*/false);
  EXPECT_EQ(load16(&packet[26]), libtins_checksum);
}

TEST(RecomputeChecksums, UdpComputedZeroIsStoredAsFfff) {
  ByteVector packet =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1000, 2000) / Tins::RawPDU("xx"));
  // Make the data sum to all ones: put the current checksum into the payload word (which was "xx").
  store16(&packet[28], 0);
  recompute_checksums(mutable_view(packet), false);
  store16(&packet[28], load16(&packet[26]));
  recompute_checksums(mutable_view(packet), false);
  EXPECT_EQ(load16(&packet[26]), 0xFFFF);
  EXPECT_TRUE(parse(packet).ok());
}

TEST(RecomputeChecksums, FragmentsGetOnlyTheIpHeaderChecksum) {
  const ByteVector whole =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU(std::string(40, 'z')));
  ByteVector first = make_fragment(whole, 0, 24, true);
  const ByteVector before = first;
  store16(&first[10], 0);
  recompute_checksums(mutable_view(first));
  EXPECT_EQ(first, before);  // UDP checksum (of the whole datagram) left alone
  EXPECT_EQ(load16(&first[26]), load16(&whole[26]));
}

// ---------------------------------------------------------------------------------------------------
// IPv4 options

TEST(Ipv4Options, FromLibtinsIncludingEndOfList) {
  Tins::IP ip = ip_from_to("10.0.0.1", "10.0.0.2");
  ip.add_option(Tins::IP::option(Tins::IP::NOOP));
  ip.eol();
  const ByteVector with_eol = serialize(ip / udp_ports(1, 2));
  ASSERT_EQ(with_eol[0], 0x46);
  EXPECT_EQ(with_eol[20], 1);  // NOP
  EXPECT_EQ(with_eol[21], 0);  // EOL: valid, ends the list (libtins 4.0 itself rejects this on parse)
  const ParseResult result = parse(with_eol);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  EXPECT_EQ(result.packet.ip.options().size(), 4u);
  EXPECT_EQ(result.packet.transport_offset, 24u);
  EXPECT_EQ(result.packet.udp.source_port(), 1);
}

// A UDP packet whose header carries exactly `options` (a multiple of 4 bytes).
ByteVector udp_with_ip_options(const ByteVector& options) {
  return with_ip_options(serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU("x")),
                         options);
}

TEST(Ipv4Options, WalkRules) {
  const std::pair<ByteVector, bool> lists[] = {
      {{}, true},
      {{0, 0, 0, 0}, true},
      {{0, 0xFF, 0xFF, 0xFF}, true},  // anything after EOL is padding, even non-zero junk
      {{1, 1, 1, 1}, true},
      {{1, 1, 1, 0}, true},
      {{7, 3, 4, 0}, true},  // record route with no room for addresses
      {{7, 4, 4, 0}, true},
      {{1, 7, 3, 4, 1, 1, 1, 0}, true},
      {{130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, true},  // security option, then NOP
      {{7, 1, 0, 0}, false},                            // length below 2
      {{7, 0, 0, 0}, false},                            // length 0 would loop forever
      {{7, 5, 4, 0}, false},                            // runs past the header
      {{1, 1, 1, 7}, false},                            // kind without a length byte
      {{7, 2, 1, 44, 6, 0, 0, 0}, false},               // second option runs past
  };
  for (const auto& [options, valid] : lists) {
    EXPECT_EQ(ipv4_options_well_formed(view(options)), valid) << ::testing::PrintToString(options);
    if (options.empty() || options.size() % 4 != 0) {
      continue;
    }
    const ByteVector packet = udp_with_ip_options(options);
    const ParseResult result = parse(packet);
    EXPECT_EQ(result.error, valid ? ParseError::none : ParseError::bad_ip_option)
        << ::testing::PrintToString(options);
    if (valid) {
      EXPECT_EQ(result.packet.kind, TransportKind::udp);
    }
  }
  // The same walk for TCP, with its own option kinds.
  EXPECT_TRUE(tcp_options_well_formed(view(ByteVector{2, 4, 5, 0xB4, 1, 3, 3, 7, 4, 2, 0, 0})));
  EXPECT_TRUE(tcp_options_well_formed(view(ByteVector{0, 9, 9})));
  EXPECT_FALSE(tcp_options_well_formed(view(ByteVector{2, 4, 5})));
  EXPECT_FALSE(tcp_options_well_formed(view(ByteVector{1, 1, 1, 8})));
  EXPECT_FALSE(tcp_options_well_formed(view(ByteVector{4, 1, 1, 1})));
}

// ---------------------------------------------------------------------------------------------------
// UDP and TCP structure

TEST(ParseUdp, LengthRules) {
  const ByteVector good =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU("abcdefgh"));
  for (std::uint16_t length : {0, 1, 7}) {
    ByteVector packet = good;
    store16(&packet[24], length);
    EXPECT_EQ(parse(packet, verify_nothing).error, ParseError::bad_udp_length) << length;
  }
  ByteVector too_long = good;
  store16(&too_long[24], 17);
  EXPECT_EQ(parse(too_long, verify_nothing).error, ParseError::bad_udp_length);

  // Shorter than the IP payload: the rest is not UDP's, and the checksum covers `length` bytes only.
  ByteVector shorter = good;
  store16(&shorter[24], 12);
  recompute_checksums(mutable_view(shorter));
  const ParseResult result = parse(shorter);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  EXPECT_EQ(result.packet.udp.bytes.size(), 12u);
  EXPECT_EQ(to_vector(result.packet.udp.payload()), to_vector(std::string("abcd")));
  shorter.back() ^= 0xFF;  // outside the UDP datagram: not covered by its checksum
  EXPECT_TRUE(parse(shorter).ok());

  ByteVector header_only(good.begin(), good.begin() + 27);  // 7 bytes of UDP
  fix_ip_length(header_only);
  EXPECT_EQ(parse(header_only, verify_nothing).error, ParseError::truncated);
}

TEST(ParseTcp, DataOffsetAndOptionRules) {
  const ByteVector good = serialize(ip_from_to("10.0.0.1", "10.0.0.2") / syn_with_options(1, 2));
  ASSERT_EQ(good[32], 0xA0);  // data offset 10
  for (std::uint8_t offset : {0, 4}) {
    ByteVector packet = good;
    packet[32] = static_cast<std::uint8_t>(offset << 4);
    EXPECT_EQ(parse(packet, verify_nothing).error, ParseError::bad_tcp_data_offset) << int{offset};
  }
  ByteVector beyond = good;
  beyond[32] = 0xB0;  // 44 bytes of header in a 40-byte segment
  EXPECT_EQ(parse(beyond, verify_nothing).error, ParseError::bad_tcp_data_offset);

  ByteVector bad_option = good;
  bad_option[41] = 1;  // MSS option with length 1
  EXPECT_EQ(parse(bad_option, verify_nothing).error, ParseError::bad_tcp_option);
  ByteVector runs_past = good;
  runs_past[41] = 30;
  EXPECT_EQ(parse(runs_past, verify_nothing).error, ParseError::bad_tcp_option);

  ByteVector short_segment(good.begin(), good.begin() + 39);  // 19 bytes of TCP
  fix_ip_length(short_segment);
  EXPECT_EQ(parse(short_segment, verify_nothing).error, ParseError::truncated);
}

// ---------------------------------------------------------------------------------------------------
// Fragments

TEST(Fragments, FirstMiddleAndLast) {
  const ByteVector whole = serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(4000, 53) /
                                     Tins::RawPDU(std::string(100, 'f')));
  const std::size_t payload = whole.size() - 20;  // 108
  const ByteVector first = make_fragment(whole, 0, 48, true);
  const ByteVector middle = make_fragment(whole, 48, 96, true);
  const ByteVector last = make_fragment(whole, 96, payload, false);

  const ParseResult first_result = parse(first);  // transport checksum asked for but not applicable
  ASSERT_TRUE(first_result.ok()) << describe(first_result.error);
  EXPECT_TRUE(first_result.packet.ip.is_fragment());
  EXPECT_TRUE(first_result.packet.ip.is_first_fragment_or_whole());
  ASSERT_EQ(first_result.packet.kind, TransportKind::udp);
  EXPECT_EQ(first_result.packet.udp.source_port(), 4000);
  EXPECT_EQ(first_result.packet.udp.length(), payload);  // describes the reassembled datagram
  EXPECT_EQ(first_result.packet.udp.bytes.size(), 48u);

  for (const ByteVector* later : {&middle, &last}) {
    const ParseResult result = parse(*later);
    ASSERT_TRUE(result.ok()) << describe(result.error);
    EXPECT_EQ(result.packet.kind, TransportKind::none);
    EXPECT_TRUE(result.packet.ip.is_fragment());
    EXPECT_FALSE(result.packet.ip.is_first_fragment_or_whole());
  }
  EXPECT_EQ(parse(middle).packet.ip.fragment_offset_bytes(), 48);
  EXPECT_FALSE(parse(last).packet.ip.more_fragments());
}

TEST(Fragments, OffsetAndLengthRules) {
  const ByteVector whole =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU(std::string(100, 'f')));
  // More fragments follow, but this one's payload is not a multiple of 8.
  EXPECT_EQ(verdict(make_fragment(whole, 0, 44, true)), ParseError::bad_fragment_offset);
  EXPECT_EQ(verdict(make_fragment(whole, 8, 13, true)), ParseError::bad_fragment_offset);
  EXPECT_EQ(verdict(make_fragment(whole, 16, 16, true)), ParseError::bad_fragment_offset);  // empty
  EXPECT_EQ(verdict(make_fragment(whole, 16, 16, false)),
            ParseError::none);  // an empty last fragment: odd, not bad

  // Offset + payload beyond the 65535-byte maximum datagram.
  ByteVector end = make_fragment(whole, 0, 7, false);
  store16(&end[6], 8191);  // offset 65528, 7 bytes: ends exactly at 65535
  fix_ip_length(end);
  EXPECT_TRUE(parse(end).ok());
  ByteVector past_end = make_fragment(whole, 0, 8, false);
  store16(&past_end[6], 8191);
  fix_ip_length(past_end);
  EXPECT_EQ(parse(past_end).error, ParseError::bad_fragment_offset);
  ByteVector more_past_end = make_fragment(whole, 0, 16, true);
  store16(&more_past_end[6], 0x2000 | 8190);
  fix_ip_length(more_past_end);
  EXPECT_EQ(parse(more_past_end).error, ParseError::bad_fragment_offset);
}

TEST(Fragments, FirstFragmentWithIncompleteTransportHeaderIsValidWithoutTransport) {
  // RFC 1858 "tiny fragments": the first fragment cuts the TCP header.
  const ByteVector tcp = serialize(ip_from_to("10.0.0.1", "10.0.0.2") / syn_with_options(1, 2));
  const ByteVector tiny_fragment = make_fragment(tcp, 0, 8, true);
  const ParseResult tiny = parse(tiny_fragment);
  ASSERT_TRUE(tiny.ok()) << describe(tiny.error);
  EXPECT_EQ(tiny.packet.kind, TransportKind::none);
  // Fixed 20 bytes present, options (data offset 10) cut.
  const ByteVector cut_fragment = make_fragment(tcp, 0, 24, true);
  const ParseResult cut_options = parse(cut_fragment);
  ASSERT_TRUE(cut_options.ok()) << describe(cut_options.error);
  EXPECT_EQ(cut_options.packet.kind, TransportKind::none);

  // An ICMP error whose quoted header is cut by fragmentation.
  const ByteVector quoted = quoted_udp(true);
  const std::size_t quoted_header_length = static_cast<std::size_t>(quoted[0] & 0x0F) * 4;  // 28
  const ByteVector error = icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, quoted, 200);
  for (std::size_t cut : {8u, 16u, 24u, 32u}) {  // the quote (after 8 bytes of ICMP) is 0..24 bytes
    const ByteVector fragment = make_fragment(error, 0, cut, true);
    const ParseResult result = parse(fragment);
    ASSERT_TRUE(result.ok()) << describe(result.error) << " cut " << cut;
    EXPECT_EQ(result.packet.kind, TransportKind::none);
  }
  const ByteVector enough_fragment = make_fragment(error, 0, 48, true);
  const ParseResult enough = parse(enough_fragment);
  ASSERT_TRUE(enough.ok()) << describe(enough.error);
  ASSERT_EQ(enough.packet.kind, TransportKind::icmp_error);
  EXPECT_EQ(enough.packet.embedded.transport.size(), 48u - 8 - quoted_header_length);
}

// ---------------------------------------------------------------------------------------------------
// ICMP errors and the packets they quote

struct Quoted {
  const char* name;
  ByteVector packet;
  std::uint8_t protocol;
  std::uint16_t source_port;
  std::uint16_t destination_port;
};

std::vector<Quoted> quoted_packets() {
  std::vector<Quoted> all;
  for (bool options : {false, true}) {
    all.push_back({options ? "udp+options" : "udp", quoted_udp(options), ip_protocol::udp, 40000, 53});
    all.push_back({options ? "tcp+options" : "tcp", quoted_tcp(options), ip_protocol::tcp, 50123, 443});
    all.push_back(
        {options ? "echo+options" : "echo", quoted_echo(options), ip_protocol::icmp, 0xBEEF, 0xBEEF});
  }
  return all;
}

TEST(IcmpError, QuotesUdpTcpAndEchoWithAndWithoutOptions) {
  for (const Quoted& q : quoted_packets()) {
    for (bool outer_options : {false, true}) {
      const ByteVector packet =
          icmp_error(Tins::ICMP::DEST_UNREACHABLE, 1, q.packet, q.packet.size(), outer_options);
      const ParseResult result = parse(packet);
      ASSERT_TRUE(result.ok()) << q.name << ": " << describe(result.error);
      ASSERT_EQ(result.packet.kind, TransportKind::icmp_error) << q.name;
      const EmbeddedPacket& e = result.packet.embedded;
      const std::size_t quoted_header_length = static_cast<std::size_t>(q.packet[0] & 0x0F) * 4;
      EXPECT_EQ(e.offset, (outer_options ? 24u : 20u) + 8) << q.name;
      EXPECT_EQ(to_vector(e.ip.bytes), q.packet) << q.name;
      EXPECT_EQ(e.ip.header_length(), quoted_header_length) << q.name;
      EXPECT_EQ(e.ip.protocol(), q.protocol) << q.name;
      EXPECT_EQ(e.ip.source(), *parse_ipv4_address("192.168.1.10")) << q.name;
      EXPECT_EQ(e.transport.size(), q.packet.size() - quoted_header_length) << q.name;
      EXPECT_TRUE(e.has_ports());
      EXPECT_EQ(e.source_port(), q.source_port) << q.name;
      EXPECT_EQ(e.destination_port(), q.destination_port) << q.name;
    }
  }
}

TEST(IcmpError, TruncatedQuoteAtEveryLength) {
  for (const Quoted& q : quoted_packets()) {
    const std::size_t quoted_header_length = static_cast<std::size_t>(q.packet[0] & 0x0F) * 4;
    for (std::size_t quote = 0; quote <= q.packet.size(); ++quote) {
      const ByteVector packet = icmp_error(Tins::ICMP::TIME_EXCEEDED, 0, q.packet, quote);
      const ParseResult result = parse_checked(view(packet), verify_all);
      if (quote < quoted_header_length) {
        EXPECT_EQ(result.error, ParseError::bad_embedded_header) << q.name << " quote " << quote;
        continue;
      }
      ASSERT_TRUE(result.ok()) << q.name << " quote " << quote << ": " << describe(result.error);
      const ParseResult kept = parse(packet);
      const EmbeddedPacket& e = kept.packet.embedded;
      const std::size_t transport = quote - quoted_header_length;
      EXPECT_EQ(e.ip.bytes.size(), quote);
      EXPECT_EQ(e.ip.total_length(), q.packet.size());  // the original length, not what is quoted
      EXPECT_EQ(e.transport.size(), transport);
      EXPECT_EQ(e.has_ports(), transport >= 4);
      const std::size_t bytes_for_source = q.protocol == ip_protocol::icmp ? 6 : 2;
      const std::size_t bytes_for_destination = q.protocol == ip_protocol::icmp ? 6 : 4;
      EXPECT_EQ(e.source_port(), transport >= bytes_for_source ? q.source_port : 0) << q.name << " " << quote;
      EXPECT_EQ(e.destination_port(), transport >= bytes_for_destination ? q.destination_port : 0)
          << q.name << " " << quote;
    }
  }
}

TEST(IcmpError, QuoteLongerThanQuotedTotalLengthIsCapped) {
  ByteVector quoted = quoted_udp(false);
  const std::size_t original_size = quoted.size();
  quoted.resize(quoted.size() + 12, 0);  // e.g. zero padding, or RFC 4884 extensions
  const ByteVector packet = icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, quoted, quoted.size());
  const ParseResult result = parse(packet);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  EXPECT_EQ(result.packet.embedded.ip.bytes.size(), original_size);
  EXPECT_EQ(result.packet.embedded.transport.size(), original_size - 20);
  EXPECT_EQ(result.packet.icmp.body().size(), original_size + 12);
}

TEST(IcmpError, AllErrorTypesCarryAnEmbeddedPacket) {
  const Tins::ICMP::Flags errors[] = {Tins::ICMP::DEST_UNREACHABLE, Tins::ICMP::SOURCE_QUENCH,
                                      Tins::ICMP::REDIRECT, Tins::ICMP::TIME_EXCEEDED,
                                      Tins::ICMP::PARAM_PROBLEM};
  for (Tins::ICMP::Flags type : errors) {
    const ByteVector packet = icmp_error(type, 0, quoted_tcp(false), 28);
    const ParseResult result = parse(packet);
    ASSERT_TRUE(result.ok()) << describe(result.error);
    EXPECT_EQ(result.packet.kind, TransportKind::icmp_error) << static_cast<int>(type);
    EXPECT_EQ(result.packet.embedded.source_port(), 50123);
  }
}

TEST(IcmpError, EmbeddedChecksumVerifiedOnlyWhenAsked) {
  ByteVector packet = icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, quoted_udp(true), 40);
  ASSERT_TRUE(parse(packet).ok());
  const std::uint8_t original_ttl = packet[28 + 8];
  ++packet[28 + 8];                           // quoted TTL, quoted checksum not fixed
  recompute_checksums(mutable_view(packet));  // outer ICMP checksum consistent again
  EXPECT_EQ(parse(packet).error, ParseError::bad_embedded_ip_checksum);
  ParseOptions no_embedded = verify_all;
  no_embedded.verify_embedded_ip_checksum = false;
  const ParseResult result = parse(packet, no_embedded);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.packet.embedded.ip.ttl(), original_ttl + 1);
}

TEST(IcmpError, UnusableQuotedHeaders) {
  const ByteVector quoted = quoted_udp(true);  // IHL 7
  struct Case {
    const char* name;
    std::function<void(ByteVector&)> mutate;
  };
  const Case cases[] = {
      {"IPv6", [](ByteVector& q) { q[0] = 0x66; }},
      {"IHL 4", [](ByteVector& q) { q[0] = 0x44; }},
      {"IHL beyond quote", [](ByteVector& q) { q[0] = 0x4F; }},
      {"total length below IHL", [](ByteVector& q) { store16(&q[2], 23); }},
      {"19 bytes", [](ByteVector& q) { q.resize(19); }},
      {"no quote", [](ByteVector& q) { q.clear(); }},
  };
  for (const Case& c : cases) {
    ByteVector q = quoted;
    q.resize(32);
    c.mutate(q);
    const ByteVector packet = icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, q, q.size());
    EXPECT_EQ(parse(packet, verify_nothing).error, ParseError::bad_embedded_header) << c.name;
  }
}

TEST(IcmpError, QuotedPortsOfOtherProtocolsAreZero) {
  Tins::IP ip = ip_from_to("192.168.1.10", "8.8.8.8");
  ip.protocol(ip_protocol::esp);
  const ByteVector esp = serialize(ip / Tins::RawPDU("SPI!seq!"));
  const ByteVector packet = icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, esp, esp.size());
  const ParseResult result = parse(packet);
  ASSERT_TRUE(result.ok()) << describe(result.error);
  EXPECT_EQ(result.packet.embedded.source_port(), 0);
  EXPECT_EQ(result.packet.embedded.destination_port(), 0);

  // A quoted ICMP error (which nobody should send) has no identifier either.
  const ByteVector inner_error = icmp_error(Tins::ICMP::TIME_EXCEEDED, 0, quoted_udp(false), 28);
  const ByteVector nested_packet =
      icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, inner_error, inner_error.size());
  const ParseResult nested = parse(nested_packet);
  ASSERT_TRUE(nested.ok()) << describe(nested.error);
  EXPECT_EQ(nested.packet.embedded.source_port(), 0);

  EXPECT_EQ(EmbeddedPacket{}.source_port(), 0);  // default-constructed: nothing to read
  EXPECT_EQ(EmbeddedPacket{}.destination_port(), 0);
}

// ---------------------------------------------------------------------------------------------------
// Classification, descriptions, addresses

TEST(IcmpClassify, EveryType) {
  const std::set<int> queries = {0, 8, 13, 14, 15, 16, 17, 18};
  const std::set<int> errors = {3, 4, 5, 11, 12};
  const std::set<int> requests = {8, 13, 15, 17};
  for (int type = 0; type < 256; ++type) {
    const auto t = static_cast<std::uint8_t>(type);
    const IcmpClass expected = queries.count(type)  ? IcmpClass::query
                               : errors.count(type) ? IcmpClass::error
                                                    : IcmpClass::other;
    EXPECT_EQ(classify_icmp(t), expected) << type;
    EXPECT_EQ(is_icmp_query_request(t), requests.count(type) == 1) << type;
    EXPECT_EQ(is_icmp_query_reply(t), queries.count(type) == 1 && requests.count(type) == 0) << type;
  }
}

TEST(Describe, EveryErrorHasDistinctText) {
  std::set<std::string_view> seen;
  for (int e = 0; e <= static_cast<int>(ParseError::bad_embedded_ip_checksum); ++e) {
    const std::string_view text = describe(static_cast<ParseError>(e));
    EXPECT_FALSE(text.empty()) << e;
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
}

TEST(Ipv4Address, FormatAndParse) {
  EXPECT_EQ(format_ipv4(0), "0.0.0.0");
  EXPECT_EQ(format_ipv4(0xC0A8010A), "192.168.1.10");
  EXPECT_EQ(format_ipv4(0xFFFFFFFF), "255.255.255.255");
  EXPECT_EQ(parse_ipv4_address("10.0.0.1"), 0x0A000001u);
  EXPECT_EQ(parse_ipv4_address("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4_address("255.255.255.255"), 0xFFFFFFFFu);
  std::mt19937 rng(791);
  for (int i = 0; i < 1000; ++i) {
    const Ipv4Address address = rng();
    ASSERT_EQ(parse_ipv4_address(format_ipv4(address)), address);
  }
  for (const char* bad :
       {"",          "1",        "1.2.3",     "1.2.3.4.",   ".1.2.3.4",   "1.2.3.4.5", "256.0.0.1",
        "1.2.3.999", "01.2.3.4", "1.2.3.00",  "1..3.4",     " 1.2.3.4",   "1.2.3.4 ",  "+1.2.3.4",
        "-1.2.3.4",  "1.2.3.a",  "0x1.2.3.4", "1.2.3.4/24", "1234.1.1.1", "1.2.3.0004"}) {
    EXPECT_FALSE(parse_ipv4_address(bad).has_value()) << '"' << bad << '"';
  }
}

// ---------------------------------------------------------------------------------------------------
// Robustness: truncation, mutation and garbage. Every result is bounds-checked by parse_checked.

std::vector<std::pair<std::string, ByteVector>> valid_corpus() {
  std::vector<std::pair<std::string, ByteVector>> corpus;
  const ByteVector udp = quoted_udp(false);
  corpus.emplace_back("udp", udp);
  corpus.emplace_back("udp+options", quoted_udp(true));
  corpus.emplace_back("tcp", quoted_tcp(false));
  corpus.emplace_back("tcp+options", quoted_tcp(true));
  corpus.emplace_back("echo", quoted_echo(false));
  corpus.emplace_back("echo+options", quoted_echo(true));
  corpus.emplace_back("router-solicitation", serialize(ip_from_to("10.1.1.1", "224.0.0.2") /
                                                       Tins::ICMP(static_cast<Tins::ICMP::Flags>(10))));
  for (const Quoted& q : quoted_packets()) {
    corpus.emplace_back(std::string("error-quoting-") + q.name,
                        icmp_error(Tins::ICMP::DEST_UNREACHABLE, 3, q.packet, q.packet.size(), true));
    corpus.emplace_back(std::string("short-error-quoting-") + q.name,
                        icmp_error(Tins::ICMP::TIME_EXCEEDED, 0, q.packet, 28));
  }
  const ByteVector big =
      serialize(ip_from_to("10.0.0.1", "10.0.0.2") / udp_ports(1, 2) / Tins::RawPDU(std::string(60, 'f')));
  corpus.emplace_back("first-fragment", make_fragment(big, 0, 32, true));
  corpus.emplace_back("middle-fragment", make_fragment(big, 32, 48, true));
  corpus.emplace_back("last-fragment", make_fragment(big, 48, big.size() - 20, false));
  Tins::IP esp = ip_from_to("10.0.0.1", "10.0.0.2");
  esp.protocol(ip_protocol::esp);
  corpus.emplace_back("esp", serialize(esp / Tins::RawPDU("SPI!seq!payload")));
  ByteVector padded = udp;
  padded.resize(padded.size() + 7, 0);
  corpus.emplace_back("padded-udp", padded);
  return corpus;
}

TEST(Robustness, CorpusIsValid) {
  for (const auto& [name, packet] : valid_corpus()) {
    const ParseResult result = parse_checked(view(packet), verify_all);
    EXPECT_TRUE(result.ok()) << name << ": " << describe(result.error);
  }
}

TEST(Robustness, EveryPrefixOfEveryValidPacketIsRejectedCleanly) {
  for (const auto& [name, packet] : valid_corpus()) {
    const std::size_t total_length = load16(&packet[2]);
    for (std::size_t size = 0; size < packet.size(); ++size) {
      for (const ParseOptions& options : {verify_all, verify_nothing}) {
        const ParseResult result = parse_checked(view(packet).first(size), options);
        // Cut inside the datagram: the IPv4 header or total length no longer fits. Cut inside the
        // link padding: still the same valid packet.
        EXPECT_EQ(result.ok(), size >= total_length) << name << " cut at " << size;
      }
    }
  }
}

TEST(Robustness, EveryTruncationWithConsistentIpLengthStaysInBounds) {
  // Shorten the datagram itself (total length and IP checksum fixed), so the transport parsers see
  // every possible cut. When the structure survives, recomputed checksums must all verify.
  for (const auto& [name, packet] : valid_corpus()) {
    const std::size_t header_length = static_cast<std::size_t>(packet[0] & 0x0F) * 4;
    for (std::size_t size = header_length; size <= load16(&packet[2]); ++size) {
      ByteVector cut(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(size));
      fix_ip_length(cut);
      const ParseResult structural = parse_checked(view(cut), verify_nothing);
      parse_checked(view(cut), verify_all);
      if (!structural.ok()) {
        continue;
      }
      recompute_checksums(mutable_view(cut));
      const ParseResult verified = parse_checked(view(cut), verify_all);
      EXPECT_TRUE(verified.ok()) << name << " cut at " << size << ": " << describe(verified.error);
    }
  }
}

ParseOptions random_options(std::mt19937& rng) {
  const unsigned bits = rng();
  return {.verify_ip_checksum = (bits & 1) != 0,
          .verify_transport_checksum = (bits & 2) != 0,
          .verify_embedded_ip_checksum = (bits & 4) != 0};
}

TEST(Robustness, RandomMutationsOfValidPackets) {
  std::mt19937 rng(1858);
  const auto corpus = valid_corpus();
  int still_ok = 0;
  std::set<TransportKind> kinds_seen;
  for (int round = 0; round < 40000; ++round) {
    ByteVector packet = corpus[rng() % corpus.size()].second;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Favour the headers, where the interesting lengths live.
      const std::size_t at = rng() % std::min(packet.size(), (rng() % 2) ? std::size_t{64} : packet.size());
      packet[at] = (rng() % 3 == 0) ? static_cast<std::uint8_t>(rng()) : packet[at] ^ (1u << (rng() % 8));
    }
    if (rng() % 2 == 0) {
      recompute_checksums(mutable_view(packet), rng() % 2 == 0);
    }
    if (rng() % 4 == 0) {
      packet.resize(rng() % (packet.size() + 1));
    }
    const ParseResult result = parse_checked(view(packet), random_options(rng));
    if (result.ok()) {
      ++still_ok;
    }
    kinds_seen.insert(result.packet.kind);
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
  }
  // The mutations reach every transport parser, not just the IP checks.
  EXPECT_GT(still_ok, 1000);
  EXPECT_EQ(kinds_seen.size(), 6u);
}

TEST(Robustness, RandomGarbage) {
  std::mt19937 rng(791);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::uint8_t protocols[] = {ip_protocol::icmp, ip_protocol::tcp, ip_protocol::udp, 0, 47};
  std::set<TransportKind> kinds_seen;
  for (int round = 0; round < 40000; ++round) {
    ByteVector packet(rng() % 130);
    for (auto& b : packet) {
      b = static_cast<std::uint8_t>(byte(rng));
    }
    if (packet.size() >= 20 && rng() % 4 != 0) {
      // A plausible IPv4 header over random contents, to get past the first checks.
      const std::size_t header_length = 4 * (rng() % 2 ? 5 : 5 + rng() % 11);
      packet[0] = static_cast<std::uint8_t>(0x40 | (header_length / 4));
      store16(&packet[2], static_cast<std::uint16_t>(packet.size() - (rng() % 3 == 0 ? rng() % 8 : 0)));
      store16(&packet[6], rng() % 2 ? 0 : static_cast<std::uint16_t>(rng()));
      packet[9] = protocols[rng() % std::size(protocols)];
      const std::size_t option_end = std::min(packet.size(), header_length);
      if (rng() % 2) {  // NOPs and an EOL, so that the options walk passes
        for (std::size_t i = 20; i < option_end; ++i) {
          packet[i] = (i + 1 == option_end) ? 0 : 1;
        }
      }
      if (packet[9] == ip_protocol::icmp && packet.size() >= header_length + 9 && rng() % 2) {
        packet[header_length] = rng() % 2 ? icmp_type::destination_unreachable : icmp_type::time_exceeded;
        packet[header_length + 8] =
            static_cast<std::uint8_t>(0x40 | (5 + rng() % 3));  // quote looks like IPv4
      }
      if (packet[9] == ip_protocol::udp && packet.size() >= header_length + 8 && rng() % 2) {
        const std::size_t segment =
            load16(&packet[2]) - std::min<std::size_t>(load16(&packet[2]), header_length);
        store16(&packet[header_length + 4],
                static_cast<std::uint16_t>(segment - std::min<std::size_t>(segment, rng() % 3)));
      }
      recompute_checksums(mutable_view(packet), rng() % 2 == 0);
    }
    kinds_seen.insert(parse_checked(view(packet), random_options(rng)).packet.kind);
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
  }
  EXPECT_EQ(kinds_seen.size(), 6u);  // random bytes got as far as every transport parser
}

TEST(Robustness, RecomputeChecksumsNeverWritesOutside) {
  std::mt19937 rng(1624);
  for (int round = 0; round < 20000; ++round) {
    const std::size_t size = rng() % 80;
    auto buffer = std::make_unique<std::uint8_t[]>(size);  // exact size: ASan traps any overrun
    for (std::size_t i = 0; i < size; ++i) {
      buffer[i] = static_cast<std::uint8_t>(rng());
    }
    if (size > 0 && rng() % 2) {
      buffer[0] = static_cast<std::uint8_t>(0x40 | (rng() % 16));
    }
    if (size >= 4 && rng() % 2) {
      store16(&buffer[2], static_cast<std::uint16_t>(size - rng() % 4));
    }
    recompute_checksums({buffer.get(), size}, rng() % 2 == 0);
  }
}

// ---------------------------------------------------------------------------------------------------
// Allocation

TEST(ParsePacket, DoesNotAllocate) {
  const auto corpus = valid_corpus();
  const long before = allocations;
  std::size_t parsed = 0;
  for (const auto& [name, packet] : corpus) {
    parsed += parse_packet(view(packet), verify_all).ok();
    for (std::size_t size = 0; size < packet.size(); ++size) {
      parsed += parse_packet(view(packet).first(size), verify_nothing).ok();
    }
  }
  const long during = allocations - before;
  EXPECT_EQ(during, 0);
  EXPECT_GE(parsed, corpus.size());
  auto probe = std::make_unique<int>(1);  // the counter does see allocations
  EXPECT_GT(allocations, before);
}

}  // namespace
}  // namespace natcert::ref
