// RFC 4787 §10-11: DF handling against a smaller outside MTU (REQ-13, 13a), fragments in and out of
// order in both directions (REQ-14), a fragment flood (REQ-14a), and how overlapping and tiny first
// fragments are handled (characterised; the RFCs leave it open).
#include <algorithm>

#include "natcert/reference/checksum.hpp"
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kFullSizePayload = 1472;  // a 1500-byte datagram: the inside link's usual MTU
constexpr std::size_t kFragmentedPayload = 1200;
constexpr std::size_t kFragmentPayload = 400;  // 1208 bytes of UDP: four fragments
const std::string kNoSmallerMtu =
    "the outside link carried the 1500-byte datagram whole; the requirement applies only when the outside MTU "
    "is smaller than the inside one";

std::string text_of(std::size_t length, char seed) {
  std::string text(length, seed);
  for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>('a' + (i + static_cast<std::size_t>(seed)) % 26);
  return text;
}

harness::IpFields with_id(std::uint16_t id) {
  harness::IpFields ip;
  ip.id = id;
  return ip;
}

enum class Direction { outbound, inbound };
enum class Order { in_order, out_of_order };
enum class Carrier { udp, icmp_echo };

std::string to_string(Direction direction) { return direction == Direction::outbound ? "outbound" : "inbound"; }
std::string to_string(Order order) { return order == Order::in_order ? "in-order" : "out-of-order"; }

// One datagram's path through an existing mapping: who sends it to whom, and how it must arrive.
struct Path {
  Side from_side;
  Endpoint sender;
  Endpoint destination;
  Side to_side;
  Endpoint arriving_source;
  Endpoint arriving_destination;
};

Path path_through(const Mapping& mapping, Direction direction) {
  if (direction == Direction::outbound) {
    return {Side::inside, mapping.internal, mapping.remote, Side::outside, mapping.external, mapping.remote};
  }
  return {Side::outside, mapping.remote, mapping.external, Side::inside, mapping.remote, mapping.internal};
}

// What arrived of one datagram on the far side: the datagram (whole, or reassembled by the harness from
// the fragments that came) and how it came.
struct Arrival {
  std::optional<harness::Observed> datagram;
  std::size_t fragments = 0;  // 0: it came whole (or not at all)

  bool intact(const Path& path, const std::string& payload) const {
    return datagram && datagram->checksums_ok() && datagram->payload_text() == payload &&
           datagram->source() == path.arriving_source && datagram->destination() == path.arriving_destination;
  }
  // A behaviour-profile value.
  std::string handling() const {
    if (fragments > 0) return "forwarded-as-fragments";
    return datagram ? "reassembled" : "dropped";
  }
  std::string describe(const Path& path, const std::string& payload) const {
    const std::string how = fragments == 1   ? std::string("1 fragment")
                            : fragments > 1  ? std::to_string(fragments) + " fragments"
                                             : "one whole datagram";
    if (!datagram) return fragments > 0 ? how + (fragments == 1 ? " that does" : " that do") + " not form a complete datagram" : "nothing arrived";
    if (intact(path, payload)) return how + ", intact from " + harness::to_string(path.arriving_source);
    return how + " forming a datagram " + harness::to_string(datagram->source()) + " -> " +
           harness::to_string(datagram->destination()) + " that differs from the one sent" +
           (datagram->checksums_ok() ? "" : " (checksum does not verify)");
  }
};

Arrival arrival_at(TestContext& ctx, Side side, Endpoint source, Endpoint destination,
                   const harness::Matcher& transport = match::udp()) {
  const auto arrived = ctx.collect(
      side, match::fragment().from(source.address).to(destination.address) || transport.from(source).to(destination).whole(),
      harness::reply_window, "the datagram, whole or in fragments");
  Arrival arrival;
  std::vector<Packet> pieces;
  for (const auto& packet : arrived) {
    if (!packet.view().ip.is_fragment()) {
      arrival.datagram = packet;
      arrival.fragments = 0;
      return arrival;
    }
    pieces.push_back(packet.copy());
  }
  arrival.fragments = pieces.size();
  if (const auto datagram = harness::reassemble(pieces)) arrival.datagram = harness::Observed(side, ctx.now(), *datagram);
  return arrival;
}

// ---- REQ-13: a DF=1 datagram over the outside MTU --------------------------------------------------

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
  if (!ctx.check("RFC4787-REQ-13", icmp.has_value() && fragments.empty(),
                 "ICMP \"fragmentation needed and DF set\" back to the inside host", observed)) {
    return;
  }
  // RFC 792 quotes the datagram as the host sent it, so the host can tell which flow it concerns.
  const bool quote_ok = match::icmp_error(ref::icmp_type::destination_unreachable, 4).quoting(x, y).matches(icmp->bytes());
  ctx.check("RFC4787-REQ-13", quote_ok, "the ICMP quotes the datagram as X sent it (" + harness::to_string(x) + " -> " +
                                            harness::to_string(y) + ")",
            quote_ok ? "quoted as sent" : "the quote does not name " + harness::to_string(x) + " -> " + harness::to_string(y));
  // RFC 1191: the next-hop MTU is what fits. A DF=1 datagram of exactly that size must leave whole.
  const std::size_t mtu = icmp->view().icmp.next_hop_mtu();
  if (mtu < 68 || mtu >= kFullSizePayload + 28) {
    ctx.check("RFC4787-REQ-13", false, "a next-hop MTU between 68 and 1499 bytes",
              "next-hop MTU " + std::to_string(mtu));
    return;
  }
  ctx.send(Side::inside, harness::udp(x, y, text_of(mtu - 28, 'm'), ip), "DF=1 datagram of the reported MTU");
  const bool fits = ctx.expect(Side::outside, match::udp().to(y).whole(), harness::reply_window).has_value();
  ctx.check("RFC4787-REQ-13", fits, "a DF=1 datagram of the reported next-hop MTU (" + std::to_string(mtu) + " bytes) leaves whole",
            fits ? "it left whole" : "it did not leave whole");
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

// ---- REQ-14: fragments in and out of order, both directions ----------------------------------------

// ICMP echo (the identifier plays the port): X pings Y once, Y answers, so X':id' is known.
Path echo_path(TestContext& ctx, Direction direction) {
  const Endpoint x{ctx.inside(0), ctx.fresh_port()};
  const harness::Ipv4Address y = ctx.outside(0);
  // A payload of its own: the DUT may translate the identifier, and tests running alongside on a
  // wire DUT ping Y too.
  const std::string probe = "probe " + std::to_string(x.port);
  ctx.send(Side::inside, harness::icmp_echo(x.address, y, x.port, 1, probe), "echo request, to learn X':id'");
  const auto seen = ctx.expect(Side::outside, match::icmp_echo_request().to(y).payload(probe), harness::reply_window);
  if (!seen) ctx.inconclusive("the echo request that sets up the ICMP mapping did not come through");
  const Endpoint external = seen->source();
  ctx.bind("X'", external);
  ctx.send(Side::outside, harness::icmp_echo_reply(y, external.address, external.port, 1, probe), "echo reply");
  if (!ctx.expect(Side::inside, match::icmp_echo_reply().to(x), harness::reply_window)) {
    ctx.inconclusive("the echo reply that completes the ICMP mapping did not come through");
  }
  if (direction == Direction::outbound) return {Side::inside, x, {y, x.port}, Side::outside, external, {y, external.port}};
  return {Side::outside, {y, external.port}, external, Side::inside, {y, x.port}, x};
}

void fragments_through_mapping(TestContext& ctx, Carrier carrier, Direction direction, Order order) {
  const bool echo = carrier == Carrier::icmp_echo;
  Path path{};
  if (echo) {
    path = echo_path(ctx, direction);
  } else {
    const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
    ctx.bind("X'", mapping.external);
    path = path_through(mapping, direction);
  }
  const std::string payload = text_of(kFragmentedPayload, 'k');
  const auto ip = with_id(static_cast<std::uint16_t>(ctx.random()));
  Packet datagram;
  if (!echo) {
    datagram = harness::udp(path.sender, path.destination, payload, ip);
  } else if (direction == Direction::outbound) {
    datagram = harness::icmp_echo(path.sender.address, path.destination.address, path.sender.port, 2, payload, ip);
  } else {
    datagram = harness::icmp_echo_reply(path.sender.address, path.destination.address, path.sender.port, 2, payload, ip);
  }
  auto pieces = harness::fragment(datagram, kFragmentPayload);
  if (order == Order::out_of_order) std::reverse(pieces.begin(), pieces.end());
  for (const Packet& piece : pieces) ctx.send(path.from_side, piece, "fragment, " + to_string(order));
  const harness::Matcher whole = !echo ? match::udp()
                                 : direction == Direction::outbound ? match::icmp_echo_request()
                                                                    : match::icmp_echo_reply();
  const Arrival arrival = arrival_at(ctx, path.to_side, path.arriving_source, path.arriving_destination, whole);
  ctx.profile("fragments." + std::string(echo ? "icmp-echo." : "") + to_string(direction) + "." + to_string(order),
              arrival.handling());
  ctx.check("RFC4787-REQ-14", arrival.intact(path, payload),
            "the " + std::to_string(pieces.size()) + "-fragment " + (echo ? "echo message" : "datagram") + " (" +
                (order == Order::in_order ? "header fragment first" : "header fragment last") + ") arrives intact at " +
                harness::to_string(path.arriving_destination),
            arrival.describe(path, payload));
}

// ---- REQ-14a: floods and overlaps -------------------------------------------------------------------

// Sends a fragmented datagram from the mapping's peer to X' and reports whether X received it intact.
bool fragmented_datagram_arrives(TestContext& ctx, const Mapping& mapping, std::string_view note) {
  const Path path = path_through(mapping, Direction::inbound);
  const std::string payload = text_of(kFragmentedPayload, 'n');
  const auto pieces = harness::fragment(
      harness::udp(path.sender, path.destination, payload, with_id(static_cast<std::uint16_t>(ctx.random()))),
      kFragmentPayload);
  for (const Packet& piece : pieces) ctx.send(Side::outside, piece, note);
  return arrival_at(ctx, Side::inside, path.arriving_source, path.arriving_destination).intact(path, payload);
}

// After an attack on the fragment handling: the mapping must still carry unfragmented and in-order
// fragmented datagrams.
void check_still_working(TestContext& ctx, const Mapping& mapping, const std::string& attack) {
  // On a wire DUT the attack's last packets may still be on their way: let them land and set them
  // aside, or their fragments would be mixed into the datagram that checks the NAT still works.
  ctx.collect(Side::inside, match::any(), harness::silence_window);
  ctx.drain(Side::inside);
  const bool unfragmented =
      reaches_inside(ctx, mapping.remote, mapping.external, mapping.internal, "unfragmented, after the attack");
  const bool in_order = fragmented_datagram_arrives(ctx, mapping, "in-order fragment, after the attack");
  ctx.check("RFC4787-REQ-14a", unfragmented && in_order,
            "after " + attack + ", unfragmented and in-order fragmented datagrams arrive",
            std::string("unfragmented ") + (unfragmented ? "delivered" : "lost") + ", in-order fragmented " +
                (in_order ? "delivered" : "lost"));
}

void fragment_flood_resistance(TestContext& ctx) {
  constexpr int kFloodDatagrams = 200;  // incomplete sets: one trailing fragment each, never completed
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  for (int i = 0; i < kFloodDatagrams; ++i) {
    const auto pieces = harness::fragment(
        harness::udp(mapping.remote, mapping.external, text_of(64, 'z'), with_id(static_cast<std::uint16_t>(0x4000 + i))),
        32);
    ctx.send(Side::outside, pieces.back(), "flood: a trailing fragment whose set never completes");
  }
  check_still_working(ctx, mapping, "a flood of 200 incomplete fragment sets");
}

// Overlapping fragments (RFC 791 allows them; RFC 1858 and RFC 3128 describe overlap attacks): Y sends
// a datagram whose second fragment is followed by a conflicting rewrite of the same bytes. What X gets
// is characterised; the NAT must keep working afterwards.
void overlapping_fragments(TestContext& ctx) {
  constexpr int kOverlappingDatagrams = 8;
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  const Path path = path_through(mapping, Direction::inbound);
  const std::string original = text_of(kFragmentedPayload, 'o');
  std::string rewritten = original;
  std::fill(rewritten.begin() + kFragmentPayload, rewritten.begin() + 2 * kFragmentPayload, '#');
  std::string outcome;
  for (int i = 0; i < kOverlappingDatagrams; ++i) {
    const auto id = with_id(static_cast<std::uint16_t>(ctx.random()));
    auto pieces = harness::fragment(harness::udp(path.sender, path.destination, original, id), kFragmentPayload);
    const auto conflicting =
        harness::fragment(harness::udp(path.sender, path.destination, rewritten, id), kFragmentPayload);
    pieces.insert(pieces.begin() + 2, conflicting[1]);  // the same offset again, other bytes
    for (const Packet& piece : pieces) ctx.send(Side::outside, piece, "overlapping fragment set");
    if (i > 0) continue;
    // The first set is looked at; the others only load the NAT.
    const Arrival arrival = arrival_at(ctx, Side::inside, path.arriving_source, path.arriving_destination);
    if (!arrival.datagram) {
      outcome = arrival.fragments > 0 ? "forwarded the " + std::to_string(arrival.fragments) +
                                            " fragments, the conflict left to the host"
                                      : "dropped the overlapping set";
    } else if (arrival.intact(path, original)) {
      outcome = "delivered the datagram with the first copy of the overlapping bytes";
    } else if (arrival.intact(path, rewritten)) {
      outcome = "delivered the datagram with the last copy of the overlapping bytes";
    } else {
      outcome = "delivered something else: " + arrival.describe(path, original);
    }
    ctx.profile("fragments.inbound.overlapping", arrival.handling());
  }
  ctx.info("overlapping fragments: the NAT " + outcome);
  check_still_working(ctx, mapping, std::to_string(kOverlappingDatagrams) + " overlapping fragment sets");
}

// Splits an IPv4 packet without options in two: a first fragment of `first_bytes` (a multiple of 8) and
// the rest.
std::vector<Packet> split_after(const Packet& packet, std::size_t first_bytes) {
  constexpr std::size_t kHeader = 20;
  std::vector<Packet> pieces{harness::fragment(packet, first_bytes).front()};
  Packet rest(packet.begin(), packet.begin() + kHeader);
  rest.insert(rest.end(), packet.begin() + static_cast<std::ptrdiff_t>(kHeader + first_bytes), packet.end());
  rest[2] = static_cast<std::uint8_t>(rest.size() >> 8);
  rest[3] = static_cast<std::uint8_t>(rest.size() & 0xff);
  rest[6] = static_cast<std::uint8_t>((packet[6] & 0x40) | ((first_bytes / 8) >> 8));  // DF kept, MF clear
  rest[7] = static_cast<std::uint8_t>((first_bytes / 8) & 0xff);
  rest[10] = rest[11] = 0;
  const std::uint16_t sum = ref::internet_checksum(ref::Bytes(rest.data(), kHeader));
  rest[10] = static_cast<std::uint8_t>(sum >> 8);
  rest[11] = static_cast<std::uint8_t>(sum & 0xff);
  pieces.push_back(std::move(rest));
  return pieces;
}

// A first fragment of 8 bytes (RFC 1858's tiny fragment): a UDP header fits whole, a TCP one does not
// (its flags and checksum fall in the second fragment), so a NAT may not see what it must rewrite.
// What leaves is characterised; whatever reaches Y must be the datagram correctly translated, and the
// NAT must keep carrying traffic afterwards.
void tiny_first_fragment(TestContext& ctx, ref::TransportKind protocol) {
  const bool tcp = protocol == ref::TransportKind::tcp;
  const Mapping inbound = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  const std::string payload = text_of(200, 't');
  const auto id = with_id(static_cast<std::uint16_t>(ctx.random()));
  Path path{};
  Packet datagram;
  if (tcp) {
    const harness::TcpMapping connection = ctx.learn_tcp_mapping(ctx.inside_endpoint(1), ctx.outside_endpoint(1));
    path = {Side::inside, connection.internal, connection.remote, Side::outside, connection.external, connection.remote};
    datagram = harness::tcp(connection.internal, connection.remote,
                            {.flags = harness::tcp_flag::ack | harness::tcp_flag::psh,
                             .seq = connection.inside_next_seq,
                             .ack = connection.outside_next_seq},
                            payload, id);
  } else {
    const Mapping outbound = ctx.learn_mapping(ctx.inside_endpoint(1), ctx.outside_endpoint(1));
    path = path_through(outbound, Direction::outbound);
    datagram = harness::udp(path.sender, path.destination, payload, id);
  }
  for (const Packet& piece : split_after(datagram, 8)) ctx.send(Side::inside, piece, "8-byte first fragment, then the rest");
  const Arrival arrival = arrival_at(ctx, Side::outside, path.arriving_source, path.arriving_destination,
                                     tcp ? match::tcp() : match::udp());
  const std::string name = tcp ? "TCP" : "UDP";
  ctx.profile(std::string("fragments.tiny-first.") + (tcp ? "tcp" : "udp"), arrival.handling());
  ctx.info(name + " datagram with an 8-byte first fragment: " +
           (arrival.datagram || arrival.fragments > 0 ? arrival.describe(path, payload) : "dropped"));
  const bool clean = (!arrival.datagram && arrival.fragments == 0) || arrival.intact(path, payload);
  ctx.check("RFC4787-REQ-14", clean, "nothing, or the datagram correctly translated from " + harness::to_string(path.arriving_source),
            arrival.datagram || arrival.fragments > 0 ? arrival.describe(path, payload) : "nothing arrived");
  check_still_working(ctx, inbound, "a " + name + " datagram with an 8-byte first fragment");
}

const std::string kSmallMtu = "rfc-strict,fragments.outside-mtu=1280";
const std::string kReq14Quote =
    "REQ-14: A NAT MUST support receiving in-order and out-of-order fragments, so it MUST have \"Received Fragment "
    "Out of Order\" behavior.";
const std::string kReq14aQuote =
    "a) A NAT's out-of-order fragment processing mechanism MUST be designed so that fragmentation-based DoS attacks "
    "do not compromise the NAT's ability to process in-order and unfragmented IP packets.";

void register_tiny_first_fragment(Registry& registry) {
  for (const ref::TransportKind protocol : {ref::TransportKind::udp, ref::TransportKind::tcp}) {
    const bool tcp = protocol == ref::TransportKind::tcp;
    const std::string name = tcp ? "tcp" : "udp";
    registry.add(TestCase{
        .id = "rfc4787.req14a.tiny-first-fragment." + name,
        .suite = kSuite,
        .requirements = {{"RFC4787-REQ-14", Level::must}, {"RFC4787-REQ-14a", Level::must}},
        .title = std::string(tcp ? "TCP" : "UDP") + " datagram whose first fragment holds only 8 bytes: characterised, "
                 "never half translated",
        .procedure = std::string("X sends Y, through an established ") + (tcp ? "TCP connection, a 200-byte data segment" : "UDP mapping, a 200-byte datagram") +
                     " in two fragments, the first carrying only 8 bytes of " + (tcp ? "the 20-byte TCP header (ports and sequence number; flags and checksum in the second)" : "payload (just the UDP header)") +
                     ". What Y receives is INFO (dropped, reassembled, forwarded as fragments); if anything arrives it "
                     "must be the datagram correctly translated from X' (REQ-14). Then an unfragmented and an in-order "
                     "fragmented datagram from outside must still reach X (REQ-14a).",
        .rfc_quote = kReq14aQuote,
        .run = [protocol](TestContext& ctx) { tiny_first_fragment(ctx, protocol); },
        .mutants = {{"table-wedged", "rfc-strict,fragments.max-pending-datagrams=1,fragments.evict-oldest-when-full=false",
                     Verdict::fail, "the fragment state the tiny datagram leaves behind fills a table that is never evicted"}},
    });
  }
}

void register_fragments_any_order(Registry& registry) {
  struct Variant {
    Carrier carrier;
    Order order;
  };
  // ICMP echo adds the identifier as the port and the ICMP checksum over every fragment; its
  // out-of-order case covers it.
  for (const Variant variant : {Variant{Carrier::udp, Order::in_order}, Variant{Carrier::udp, Order::out_of_order},
                                Variant{Carrier::icmp_echo, Order::out_of_order}}) {
    for (const Direction direction : {Direction::outbound, Direction::inbound}) {
      const Order order = variant.order;
      const Carrier carrier = variant.carrier;
      const bool echo = carrier == Carrier::icmp_echo;
      const bool outbound = direction == Direction::outbound;
      const std::string knob = "rfc-strict,fragments." + to_string(direction) + "=";
      std::vector<Mutant> mutants{{"receive-none", knob + "none", Verdict::fail, "drops every fragment"}};
      if (order == Order::out_of_order) {
        mutants.push_back({"in-order-only", knob + "in-order-only", Verdict::fail,
                           "drops fragments that arrive before the header fragment"});
      }
      const std::string message = echo ? (outbound ? "an echo request" : "an echo reply") : "a UDP datagram";
      registry.add(TestCase{
          .id = "rfc4787.req14.fragments." + std::string(echo ? "icmp-echo-" : "") + to_string(direction) + "-" +
                to_string(order),
          .suite = kSuite,
          .requirements = {{"RFC4787-REQ-14", Level::must}},
          .title = std::string(outbound ? "Outbound" : "Inbound") + (echo ? " ICMP echo" : " UDP") + " fragments " +
                   (order == Order::in_order ? "in order" : "out of order (header fragment last)") + " pass intact",
          .procedure = std::string(echo ? "X pings Y once and Y answers, so X':id' is known. "
                                        : "Establish X:x -> Y:y and learn X':x'. ") +
                       (outbound ? "X sends Y " : "Y sends X' ") + message + " of 1200 bytes in four fragments, " +
                       (order == Order::in_order ? "in order" : "in reverse order, so the header fragment comes last") +
                       ". " + (outbound ? "Y must receive it from X'" : "X must receive it from Y") +
                       (echo ? " with the identifier translated" : "") +
                       ", intact: whole or as fragments the harness reassembles, with valid checksums.",
          .rfc_quote = kReq14Quote,
          .run = [carrier, direction, order](TestContext& ctx) { fragments_through_mapping(ctx, carrier, direction, order); },
          .mutants = mutants,
      });
    }
  }
}

}  // namespace

void register_fragments(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req13.df-fragmentation-needed",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-13", Level::must}},
      .title = "DF=1 datagram too big for the outside link gets ICMP fragmentation needed",
      .procedure = "Send a 1500-byte UDP datagram with DF=1 from inside. If it leaves whole, the outside MTU is not "
                   "smaller and the test is SKIP. Otherwise the inside host must get ICMP 3/4, nothing may leave "
                   "fragmented, the ICMP must quote the datagram as X sent it (X:x -> Y:y), and its next-hop MTU must "
                   "be right: a DF=1 datagram of exactly that size must then leave whole.",
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
  register_fragments_any_order(registry);
  registry.add(TestCase{
      .id = "rfc4787.req14a.fragment-flood",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-14a", Level::must}},
      .title = "A fragment flood does not stop in-order and unfragmented traffic",
      .procedure = "Establish X:x -> Y:y, then send 200 trailing fragments of datagrams that never complete. An "
                   "unfragmented datagram and an in-order fragmented datagram from Y must still reach X.",
      .rfc_quote = kReq14aQuote,
      .run = fragment_flood_resistance,
      .mutants = {{"no-eviction", "rfc-strict,fragments.evict-oldest-when-full=false", Verdict::fail,
                   "a full fragment table refuses new datagrams until it times out"}},
  });
  register_tiny_first_fragment(registry);
  registry.add(TestCase{
      .id = "rfc4787.req14a.overlapping-fragments",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-14a", Level::must}},
      .title = "Overlapping inbound fragments: characterised, and the NAT keeps working",
      .procedure = "Establish X:x -> Y:y. Y sends X':x' eight 1200-byte datagrams in four fragments each, with a "
                   "conflicting copy of the second fragment (same offset, other bytes) right after it. What X "
                   "receives of the first is INFO (dropped, forwarded as fragments, first or last copy kept; the "
                   "RFCs leave it open). Then an unfragmented and an in-order fragmented datagram from Y must still "
                   "reach X.",
      .rfc_quote = kReq14aQuote,
      .run = overlapping_fragments,
      .mutants = {{"table-wedged", "rfc-strict,fragments.max-pending-datagrams=1,fragments.evict-oldest-when-full=false",
                   Verdict::fail, "a fragment table that fills up and is never evicted refuses later datagrams"}},
  });
}

}  // namespace natcert::suites::rfc4787
