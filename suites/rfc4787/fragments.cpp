// RFC 4787 §11: DF handling against a smaller outside MTU (REQ-13, 13a) and inbound fragments in and
// out of order (REQ-14) under a fragment flood (REQ-14a).
#include <algorithm>

#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kFullSizePayload = 1472;  // a 1500-byte datagram: the inside link's usual MTU
const std::string kNoSmallerMtu =
    "the outside link carried the 1500-byte datagram whole; the requirement applies only when the outside MTU "
    "is smaller than the inside one";

std::string text_of(std::size_t length, char seed) {
  std::string text(length, seed);
  for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>('a' + (i + static_cast<std::size_t>(seed)) % 26);
  return text;
}

void df_set_gets_fragmentation_needed(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  harness::IpFields ip;
  ip.dont_fragment = true;
  ctx.send(Side::inside, harness::udp(x, y, text_of(kFullSizePayload, 'd'), ip), "1500-byte datagram, DF=1");
  if (ctx.expect(Side::outside, match::udp().to(y).whole(), harness::reply_window, "the datagram, whole")) {
    ctx.skip(kNoSmallerMtu);
  }
  const auto icmp = ctx.expect(Side::inside, match::icmp_error(ref::icmp_type::destination_unreachable, 4).to(x.address),
                               harness::reply_window, "fragmentation needed and DF set");
  const auto fragments = ctx.collect(Side::outside, match::fragment().to(y.address), harness::reply_window);
  std::string observed = "nothing came back";
  if (icmp) observed = "ICMP 3/4 with next-hop MTU " + std::to_string(icmp->view().icmp.next_hop_mtu());
  if (!fragments.empty()) observed += "; the DF=1 datagram was fragmented into " + std::to_string(fragments.size());
  ctx.check("RFC4787-REQ-13", icmp.has_value() && fragments.empty(),
            "ICMP \"fragmentation needed and DF set\" back to the inside host", observed);
}

void df_clear_is_fragmented(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  const std::string payload = text_of(kFullSizePayload, 'f');
  ctx.send(Side::inside, harness::udp(x, y, payload), "1500-byte datagram, DF=0");
  if (ctx.expect(Side::outside, match::udp().to(y).whole(), harness::reply_window, "the datagram, whole")) {
    ctx.skip(kNoSmallerMtu);
  }
  const auto fragments = ctx.collect(Side::outside, match::fragment().to(y.address), harness::reply_window);
  std::vector<Packet> pieces;
  for (const auto& f : fragments) pieces.push_back(f.copy());
  const auto datagram = harness::reassemble(pieces);
  bool intact = false;
  if (datagram) {
    const harness::Observed whole(Side::outside, Duration{}, *datagram);
    intact = whole.checksums_ok() && whole.payload_text() == payload;
  }
  ctx.check("RFC4787-REQ-13a", Level::must, intact, "fragments that reassemble into the translated datagram",
            fragments.empty() ? "nothing arrived"
                              : std::to_string(fragments.size()) + " fragments, " +
                                    (intact ? "reassembled intact" : "not reassembling into the datagram"));
  if (!intact) return;
  std::vector<std::size_t> offsets;
  for (const auto& f : fragments) offsets.push_back(f.view().ip.fragment_offset_bytes());
  std::string order;
  for (const std::size_t o : offsets) order += (order.empty() ? "" : ", ") + std::to_string(o);
  ctx.check("RFC4787-REQ-13a", Level::should, std::is_sorted(offsets.begin(), offsets.end()),
            "fragments sent in order", "fragment offsets in arrival order: " + order);
}

// What reached `internal` within the window: a whole datagram, or fragments reassembled by the harness.
std::optional<harness::Observed> datagram_at(TestContext& ctx, Endpoint internal) {
  const auto arrived = ctx.collect(Side::inside, match::fragment().to(internal.address) || match::udp().to(internal).whole(),
                                   harness::reply_window);
  std::vector<Packet> pieces;
  for (const auto& packet : arrived) {
    if (!packet.view().ip.is_fragment()) return packet;
    pieces.push_back(packet.copy());
  }
  const auto datagram = harness::reassemble(pieces);
  if (!datagram) return std::nullopt;
  return harness::Observed(Side::inside, ctx.now(), *datagram);
}

// Sends a fragmented datagram from the mapping's peer to X' and reports whether X received it intact.
bool fragmented_datagram_arrives(TestContext& ctx, const Mapping& mapping, bool reversed, std::uint16_t id,
                                 std::string_view note) {
  const std::string payload = text_of(1200, static_cast<char>(id & 0x7f));
  harness::IpFields ip;
  ip.id = id;
  auto pieces = harness::fragment(harness::udp(mapping.remote, mapping.external, payload, ip), 400);
  if (reversed) std::reverse(pieces.begin(), pieces.end());
  for (const Packet& piece : pieces) ctx.send(Side::outside, piece, note);
  const auto datagram = datagram_at(ctx, mapping.internal);
  return datagram && datagram->checksums_ok() && datagram->payload_text() == payload;
}

void inbound_fragments_any_order(TestContext& ctx) {
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  const bool in_order = fragmented_datagram_arrives(ctx, mapping, false, 0x1111, "fragment, in order");
  ctx.check("RFC4787-REQ-14", in_order, "an in-order fragmented datagram reaches X intact",
            in_order ? "delivered intact" : "not delivered intact");
  const bool out_of_order = fragmented_datagram_arrives(ctx, mapping, true, 0x2222, "fragment, reversed order");
  ctx.check("RFC4787-REQ-14", out_of_order, "a datagram whose header fragment arrives last reaches X intact",
            out_of_order ? "delivered intact" : "not delivered intact");
}

void fragment_flood_resistance(TestContext& ctx) {
  constexpr int kFloodDatagrams = 200;  // incomplete sets: one trailing fragment each, never completed
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  for (int i = 0; i < kFloodDatagrams; ++i) {
    harness::IpFields ip;
    ip.id = static_cast<std::uint16_t>(0x4000 + i);
    const auto pieces = harness::fragment(harness::udp(mapping.remote, mapping.external, text_of(64, 'z'), ip), 32);
    ctx.send(Side::outside, pieces.back(), "flood: a trailing fragment whose set never completes");
  }
  ctx.drain(Side::inside);
  const bool unfragmented =
      reaches_inside(ctx, mapping.remote, mapping.external, mapping.internal, "unfragmented, after the flood");
  const bool in_order = fragmented_datagram_arrives(ctx, mapping, false, 0x3333, "in-order fragment, after the flood");
  ctx.check("RFC4787-REQ-14a", unfragmented && in_order,
            "after a flood of 200 incomplete fragment sets, unfragmented and in-order fragmented datagrams arrive",
            std::string("unfragmented ") + (unfragmented ? "delivered" : "lost") + ", in-order fragmented " +
                (in_order ? "delivered" : "lost"));
}

const std::string kSmallMtu = "rfc-strict,fragments.outside-mtu=1280";

}  // namespace

void register_fragments(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req13.df-fragmentation-needed",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-13", Level::must}},
      .title = "DF=1 datagram too big for the outside link gets ICMP fragmentation needed",
      .procedure = "Send a 1500-byte UDP datagram with DF=1 from inside. If it leaves whole, the outside MTU is not "
                   "smaller and the test is SKIP. Otherwise the inside host must get ICMP 3/4 and nothing may "
                   "leave fragmented.",
      .rfc_quote = "REQ-13 If the packet received on an internal IP address has DF=1, the NAT MUST send back an "
                   "ICMP message \"Fragmentation needed and DF set\" to the host, as described in [RFC0792].",
      .run = df_set_gets_fragmentation_needed,
      .compliant_config = kSmallMtu,
      .mutants = {{"silent-drop", kSmallMtu + ",icmp.generate-fragmentation-needed=false", Verdict::fail,
                   "drops the datagram without telling the host"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req13a.df-clear-fragmented",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-13a", Level::must}, {"RFC4787-REQ-13a", Level::should}},
      .title = "DF=0 datagram too big for the outside link is fragmented, in order",
      .procedure = "Send a 1500-byte UDP datagram with DF=0 from inside (SKIP if it leaves whole). The fragments "
                   "seen outside must reassemble into the translated datagram (MUST) and arrive in order (SHOULD).",
      .rfc_quote = "a) If the packet has DF=0, the NAT MUST fragment the packet and SHOULD send the fragments in "
                   "order.",
      .run = df_clear_is_fragmented,
      .compliant_config = kSmallMtu,
      .mutants = {{"drop-oversize", kSmallMtu + ",fragments.oversize=drop", Verdict::fail, "drops instead of fragmenting"},
                  {"reversed-fragments", kSmallMtu + ",fragments.oversize=fragment-reversed", Verdict::warn,
                   "sends the fragments last first"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req14.fragments-any-order",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-14", Level::must}},
      .title = "Inbound fragments are accepted in order and out of order",
      .procedure = "Establish X:x -> Y:y. Y sends a 1200-byte datagram to X':x' in four fragments, first in order, "
                   "then another one in reverse order (header fragment last). X must receive both intact.",
      .rfc_quote = "REQ-14: A NAT MUST support receiving in-order and out-of-order fragments, so it MUST have "
                   "\"Received Fragment Out of Order\" behavior.",
      .run = inbound_fragments_any_order,
      .mutants = {{"in-order-only", "rfc-strict,fragments.inbound=in-order-only", Verdict::fail,
                   "drops fragments that arrive before the header fragment"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req14a.fragment-flood",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-14a", Level::must}},
      .title = "A fragment flood does not stop in-order and unfragmented traffic",
      .procedure = "Establish X:x -> Y:y, then send 200 trailing fragments of datagrams that never complete. An "
                   "unfragmented datagram and an in-order fragmented datagram from Y must still reach X.",
      .rfc_quote = "a) A NAT's out-of-order fragment processing mechanism MUST be designed so that "
                   "fragmentation-based DoS attacks do not compromise the NAT's ability to process in-order and "
                   "unfragmented IP packets.",
      .run = fragment_flood_resistance,
      .mutants = {{"no-eviction", "rfc-strict,fragments.evict-oldest-when-full=false", Verdict::fail,
                   "a full fragment table refuses new datagrams until it times out"}},
  });
}

}  // namespace natcert::suites::rfc4787
