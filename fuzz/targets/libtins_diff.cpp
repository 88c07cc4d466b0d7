// Differential parsing: the reference parser against libtins (the library the harness crafts with).
// When the reference accepts a packet (IPv4 checksum not required), libtins must parse it too and
// agree on every header field both decode: the IPv4 header, UDP/TCP ports and fields, ICMP type and
// code and a query's identifier and sequence. The reverse is not checked: libtins is lenient by design
// (bad lengths, bad options), the reference is the strict one.
//
// Allowlist, libtins's known gaps (each checked by the fuzzer before it was listed):
//   - Fragments: libtins does not decode the transport header of any fragment (first ones included),
//     so only the IPv4 header is compared.
//   - IPv4 options: libtins's option parser rejects lists the reference (kind/length walk, RFC 791)
//     accepts: bytes after End-of-Option-List (RFC 791 pads with zeros there), options whose number
//     (low 5 bits) is 0 or 1 taken for EOL/NOP (0x80, 0x41...), option-specific length rules. A
//     rejected packet with any IPv4 option byte other than NOP is skipped. When libtins accepts such a
//     list it may misplace the transport header (an ICMP checksum read from option bytes), so the
//     transport fields are compared only for NOP-only option lists.
//   - TCP options with bytes after their End-of-Option-List: libtins throws. Skipped.
//   - ICMP timestamp (13/14) and address mask (17/18) messages shorter than their fixed body (12 and
//     4 bytes after the first 8): libtins throws, the reference decodes the 8-byte header it needs.
//   - Protocols the reference does not decode (AH, ESP, GRE, IPv6 in IPv4, ...): libtins parses their
//     headers and throws on malformed ones; the reference forwards them as opaque payload, which is
//     right for a NAT. Rejections of such packets are skipped.
#include <tins/tins.h>

#include <algorithm>

#include "fuzz_support.hpp"

using namespace natcert;
using fuzz::check;

namespace {

// The transport protocols both parsers decode; libtins also decodes others (AH, ESP, GRE, IPv6 in
// IPv4...) that the reference passes as opaque payload, and throws on their malformed headers.
bool decoded_by_both(std::uint8_t protocol) {
  return protocol == ref::ip_protocol::udp || protocol == ref::ip_protocol::tcp || protocol == ref::ip_protocol::icmp;
}

// Whether an option list (kind/length walk, EOL = 0, NOP = 1) has bytes after its EOL.
bool bytes_after_end_of_options(ref::Bytes options) {
  for (std::size_t i = 0; i < options.size();) {
    if (options[i] == 0) return i + 1 < options.size();
    if (options[i] == 1 || i + 1 >= options.size() || options[i + 1] < 2) {
      ++i;
    } else {
      i += options[i + 1];
    }
  }
  return false;
}

bool known_libtins_gap(const ref::PacketView& packet) {
  if (!decoded_by_both(packet.ip.protocol())) return true;
  const ref::Bytes ip_options = packet.ip.options();
  if (std::any_of(ip_options.begin(), ip_options.end(), [](std::uint8_t byte) { return byte != 1; })) return true;
  if (packet.ip.is_fragment()) return false;
  if (packet.kind == ref::TransportKind::tcp) return bytes_after_end_of_options(packet.tcp.options());
  if (packet.kind == ref::TransportKind::icmp_query || packet.kind == ref::TransportKind::icmp_other) {
    const std::uint8_t type = packet.icmp.type();
    const std::size_t body = packet.icmp.body().size();
    return ((type == 13 || type == 14) && body < 12) || ((type == 17 || type == 18) && body < 4);
  }
  return false;
}

std::uint32_t host_order(Tins::IPv4Address address) {
  return Tins::Endian::be_to_host(static_cast<std::uint32_t>(address));
}

void compare_ip(const ref::Ipv4View& ours, const Tins::IP& theirs) {
  check(theirs.head_len() * 4u == ours.header_length(), "IHL differs");
  check(theirs.tos() == ours.tos(), "TOS differs");
  check(theirs.tot_len() == ours.total_length(), "total length differs");
  check(theirs.id() == ours.identification(), "identification differs");
  check(theirs.fragment_offset() * 8u == ours.fragment_offset_bytes(), "fragment offset differs");
  check(((theirs.flags() & Tins::IP::MORE_FRAGMENTS) != 0) == ours.more_fragments(), "MF differs");
  check(((theirs.flags() & Tins::IP::DONT_FRAGMENT) != 0) == ours.dont_fragment(), "DF differs");
  check(theirs.ttl() == ours.ttl(), "TTL differs");
  check(theirs.protocol() == ours.protocol(), "protocol differs");
  check(theirs.checksum() == ours.header_checksum(), "header checksum differs");
  check(host_order(theirs.src_addr()) == ours.source(), "source address differs");
  check(host_order(theirs.dst_addr()) == ours.destination(), "destination address differs");
}

void compare_transport(const ref::PacketView& ours, const Tins::IP& theirs) {
  switch (ours.kind) {
    case ref::TransportKind::udp: {
      const auto* udp = theirs.find_pdu<Tins::UDP>();
      check(udp != nullptr, "libtins found no UDP header");
      check(udp->sport() == ours.udp.source_port() && udp->dport() == ours.udp.destination_port(), "UDP ports differ");
      check(udp->length() == ours.udp.length() && udp->checksum() == ours.udp.checksum(), "UDP length/checksum differ");
      break;
    }
    case ref::TransportKind::tcp: {
      const auto* tcp = theirs.find_pdu<Tins::TCP>();
      check(tcp != nullptr, "libtins found no TCP header");
      check(tcp->sport() == ours.tcp.source_port() && tcp->dport() == ours.tcp.destination_port(), "TCP ports differ");
      check(tcp->seq() == ours.tcp.sequence() && tcp->ack_seq() == ours.tcp.acknowledgement(), "TCP seq/ack differ");
      check(tcp->data_offset() * 4u == ours.tcp.header_length(), "TCP data offset differs");
      check((tcp->flags() & 0xff) == ours.tcp.flags(), "TCP flags differ");
      check(tcp->window() == ours.tcp.window() && tcp->checksum() == ours.tcp.checksum(), "TCP window/checksum differ");
      break;
    }
    case ref::TransportKind::icmp_query:
    case ref::TransportKind::icmp_error:
    case ref::TransportKind::icmp_other: {
      const auto* icmp = theirs.find_pdu<Tins::ICMP>();
      check(icmp != nullptr, "libtins found no ICMP header");
      check(icmp->type() == ours.icmp.type() && icmp->code() == ours.icmp.code(), "ICMP type/code differ");
      check(icmp->checksum() == ours.icmp.checksum(), "ICMP checksum differs");
      if (ours.kind == ref::TransportKind::icmp_query && (ours.icmp.type() == 0 || ours.icmp.type() == 8)) {
        check(icmp->id() == ours.icmp.identifier() && icmp->sequence() == ours.icmp.sequence(),
              "ICMP echo identifier/sequence differ");
      }
      break;
    }
    case ref::TransportKind::none:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ref::ParseOptions lenient;
  lenient.verify_ip_checksum = false;
  const ref::ParseResult ours = ref::parse_packet({data, size}, lenient);
  if (!ours.ok()) return 0;
  // libtins reads the whole buffer; hand it exactly the datagram, as a capture would.
  const std::size_t length = ours.packet.ip.total_length();
  try {
    const Tins::IP theirs(data, static_cast<std::uint32_t>(length));
    compare_ip(ours.packet.ip, theirs);
    // libtins misreads some IPv4 option lists (see the allowlist) and then the transport header with
    // them; transport fields are compared when the options are NOP-only.
    const ref::Bytes options = ours.packet.ip.options();
    const bool plain_options = std::all_of(options.begin(), options.end(), [](std::uint8_t b) { return b == 1; });
    if (!ours.packet.ip.is_fragment() && plain_options) compare_transport(ours.packet, theirs);
  } catch (const Tins::malformed_packet&) {
    if (known_libtins_gap(ours.packet)) return 0;  // allowlisted: see the header comment
    fuzz::fail("libtins rejects a packet the reference parser accepts");
  } catch (const Tins::option_not_found&) {
    fuzz::fail("libtins option error on a packet the reference parser accepts");
  }
  return 0;
}
