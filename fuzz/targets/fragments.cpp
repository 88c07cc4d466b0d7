// Fragment handling and reassembly in the reference NAT (reference/src/nat_fragments.cpp). The input
// picks a fragment policy, a direction and a datagram (UDP or echo), then a sequence of fragments cut
// from it (any offset, length, MF bit, IP ID, order, overlap, duplicate, optional byte damage) with
// clock advances between them. Invariants: every emitted packet is well formed (NatDriver); the
// fragment table stays within its bounds; a datagram the NAT forwards whole (reassembled) from
// undamaged fragments carries a valid transport checksum; the NAT still translates afterwards.
#include <algorithm>
#include <chrono>

#include "nat_driver.hpp"

using namespace natcert;
using fuzz::check;

namespace {

const char* const kPolicies[] = {"any-order", "reassemble", "in-order-only"};

std::string make_spec(fuzz::ByteReader& in) {
  std::string spec = "rfc-strict,fragments.max-pending-datagrams=4,fragments.max-fragments-per-datagram=8";
  spec += std::string(",fragments.inbound=") + in.pick_from(kPolicies);
  spec += std::string(",fragments.outbound=") + in.pick_from(kPolicies);
  if (in.flag()) spec += ",fragments.outbound-ids=preserve";
  if (in.flag()) spec += ",fragments.evict-oldest-when-full=false";
  if (in.flag()) spec += ",fragments.outside-mtu=576";
  return spec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  fuzz::NatDriver driver(make_spec(in));
  const ref::NatConfig& config = driver.nat().config();
  const ref::Ipv4Address external = config.external_addresses.front();

  // A mapping for inbound fragments to land on.
  const fuzz::IpHeader opener{fuzz::kInsideHost, fuzz::kOutsideHost};
  driver.send(fuzz::udp_packet(opener, 4000, 5000, fuzz::Bytes{}), ref::Side::inside);
  driver.send(fuzz::icmp_packet(opener, ref::icmp_type::echo_request, 0, 4000u << 16, fuzz::Bytes{}),
              ref::Side::inside);

  const bool inbound = in.flag();
  const bool echo = in.flag();
  fuzz::IpHeader ip;
  ip.source = inbound ? fuzz::kOutsideHost : fuzz::kInsideHost;
  ip.destination = inbound ? external : fuzz::kOutsideHost;
  ip.id = in.u16();
  ip.options = in.bytes(8);
  fuzz::Packet body(8 + in.pick(200) * 8);
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 7 + ip.id);
  // Port 4000 on the external address is the opener's mapping when the port was preserved.
  const fuzz::Packet datagram =
      echo ? fuzz::icmp_packet(ip, inbound ? ref::icmp_type::echo_reply : ref::icmp_type::echo_request, 0,
                               4000u << 16, body)
           : fuzz::udp_packet(ip, inbound ? 5000 : 4000, inbound ? 4000 : 5000, body);
  const std::size_t header_length = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  const ref::Bytes payload = ref::Bytes(datagram).subspan(header_length);
  const ref::Side side = inbound ? ref::Side::outside : ref::Side::inside;

  bool damaged = false;
  const std::size_t fragments = 1 + in.pick(12);
  for (std::size_t i = 0; i < fragments && !in.empty(); ++i) {
    const std::size_t offset = std::min<std::size_t>(in.pick(64) * 8, payload.size() - 8);
    const std::size_t length = std::min<std::size_t>(1 + in.u8() * 4, payload.size() - offset);
    fuzz::IpHeader piece = ip;
    if (offset != 0) piece.options = {};  // options without the copied flag stay in the first fragment
    piece.fragment_offset_bytes = static_cast<std::uint16_t>(offset);
    piece.more_fragments = in.flag();
    if (in.pick(8) == 0) piece.id = static_cast<std::uint16_t>(ip.id + 1);
    fuzz::Packet fragment;
    fragment.reserve(60 + length);
    fuzz::append_ipv4(fragment, piece, length);
    fragment.insert(fragment.end(), payload.begin() + static_cast<std::ptrdiff_t>(offset),
                    payload.begin() + static_cast<std::ptrdiff_t>(offset + length));
    if (in.pick(8) == 0) {
      fragment.back() ^= 0x5a;
      damaged = true;
    }
    ref::recompute_checksums(fragment);  // the IP header checksum; fragments carry no transport checksum
    const ref::Output& out = driver.send(fragment, side);
    for (const auto& emitted : out.packets()) {
      const ref::ParseResult parsed = ref::parse_packet(emitted.bytes);
      const bool whole = !parsed.packet.ip.is_fragment();
      if (!damaged && whole && parsed.packet.ip.payload().size() == payload.size() &&
          parsed.packet.ip.protocol() == datagram[9]) {
        check(fuzz::checksums_valid(emitted.bytes), "a reassembled datagram left with a bad transport checksum");
      }
    }
    check(driver.nat().stats().pending_fragments <= config.fragments.max_pending_datagrams,
          "the fragment table outgrew max-pending-datagrams");
    if (in.flag()) driver.advance(std::chrono::milliseconds(in.u8() * 40));
  }
  driver.advance(config.fragments.reassembly_timeout + std::chrono::seconds(1));
  check(driver.nat().stats().pending_fragments == 0, "fragments outlived the reassembly timeout");

  const fuzz::IpHeader probe{fuzz::kInsideHost + 1, fuzz::kOutsideHost + 1};
  check(!driver.send(fuzz::udp_packet(probe, 6000, 6000, fuzz::Bytes{}), ref::Side::inside).packets().empty(),
        "the NAT stopped translating after a fragment sequence");
  return 0;
}
