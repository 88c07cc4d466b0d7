// IPv4 and transport parsing (reference/src/packet.cpp) on arbitrary bytes, with and without checksum
// verification, plus the harness's one-line decode. Invariants: every view lies inside the input;
// the fields agree with the raw bytes; a packet that parses leniently verifies strictly once
// recompute_checksums() has rewritten its checksums.
#include <cstring>

#include "fuzz_support.hpp"
#include "natcert/harness/decode.hpp"

using namespace natcert;
using fuzz::check;

namespace {

bool inside(ref::Bytes view, ref::Bytes whole) {
  if (view.empty()) return true;
  return view.data() >= whole.data() && view.data() + view.size() <= whole.data() + whole.size();
}

void check_views(const ref::PacketView& packet, ref::Bytes input) {
  const ref::Ipv4View& ip = packet.ip;
  check(inside(ip.bytes, input), "IPv4 view outside the input");
  check(ip.bytes.size() == ip.total_length(), "IPv4 view does not span total_length");
  check(ip.header_length() >= 20 && ip.header_length() <= ip.bytes.size(), "IHL outside the view");
  check(inside(ip.options(), ip.bytes) && inside(ip.payload(), ip.bytes), "IPv4 options/payload outside");
  switch (packet.kind) {
    case ref::TransportKind::udp:
      check(inside(packet.udp.bytes, ip.payload()), "UDP view outside the IP payload");
      check(packet.udp.bytes.size() >= 8, "UDP view shorter than its header");
      check(packet.transport_offset == ip.header_length(), "UDP transport offset");
      if (!ip.is_fragment()) check(packet.udp.length() == packet.udp.bytes.size(), "UDP view does not span its length");
      break;
    case ref::TransportKind::tcp:
      check(inside(packet.tcp.bytes, ip.payload()), "TCP view outside the IP payload");
      check(packet.tcp.header_length() >= 20 && packet.tcp.header_length() <= packet.tcp.bytes.size(),
            "TCP data offset outside the view");
      check(ref::tcp_options_well_formed(packet.tcp.options()), "accepted TCP options are not well formed");
      break;
    case ref::TransportKind::icmp_query:
    case ref::TransportKind::icmp_other:
      check(inside(packet.icmp.bytes, ip.payload()) && packet.icmp.bytes.size() >= 8, "ICMP view");
      break;
    case ref::TransportKind::icmp_error: {
      check(inside(packet.icmp.bytes, ip.payload()) && packet.icmp.bytes.size() >= 8, "ICMP error view");
      const ref::EmbeddedPacket& quoted = packet.embedded;
      check(inside(quoted.ip.bytes, packet.icmp.bytes), "quoted IPv4 header outside the ICMP message");
      check(quoted.ip.bytes.size() >= 20 && quoted.ip.header_length() >= 20 &&
                quoted.ip.header_length() <= quoted.ip.bytes.size(),
            "quoted IPv4 header shorter than its IHL");
      check(inside(quoted.transport, quoted.ip.bytes), "quoted transport bytes outside the quote");
      check(quoted.offset + quoted.ip.bytes.size() <= input.size(), "quoted offset beyond the packet");
      check(quoted.ip.bytes.data() == input.data() + quoted.offset, "quoted offset does not locate the quote");
      if (quoted.has_ports()) {
        (void)quoted.source_port();
        (void)quoted.destination_port();
      }
      break;
    }
    case ref::TransportKind::none:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ref::Bytes input{data, size};

  ref::ParseOptions lenient;
  lenient.verify_ip_checksum = false;
  const ref::ParseResult result = ref::parse_packet(input, lenient);
  check(!ref::describe(result.error).empty(), "a parse error without a description");
  if (result.ok()) check_views(result.packet, input);

  ref::ParseOptions strict;
  strict.verify_transport_checksum = true;
  strict.verify_embedded_ip_checksum = true;
  const ref::ParseResult strict_result = ref::parse_packet(input, strict);
  if (strict_result.ok()) {
    check(result.ok(), "strict parse accepts what the lenient parse rejects");
    check_views(strict_result.packet, input);
  }

  // Checksums rewritten from scratch must verify; the structure must not change.
  if (result.ok()) {
    fuzz::Packet fixed(input.begin(), input.end());
    ref::recompute_checksums(fixed, /*keep_zero_udp=*/true);
    ref::ParseOptions transport_only;
    transport_only.verify_transport_checksum = true;
    const ref::ParseResult again = ref::parse_packet(fixed, transport_only);
    check(again.ok(), "a packet with recomputed checksums does not verify");
    check(again.packet.kind == result.packet.kind, "recomputing checksums changed the transport kind");
  }

  const std::string summary = harness::summarize(input);
  check(!summary.empty() && summary.find('\n') == std::string::npos, "summarize() is not one line");
  return 0;
}
