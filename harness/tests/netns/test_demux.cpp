// The namespace testbed's demultiplexer, without the wire (runs unprivileged): disjoint port slices,
// routing by destination port, by the quoted packet of an ICMP error, by ICMP identifier, fragments
// following their first fragment, the shared pool for packets no session owns, and receive timeouts.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "natcert/harness/craft.hpp"
#include "netns/demux.hpp"

using namespace natcert::harness;
using natcert::harness::netns::Clock;
using natcert::harness::netns::Demux;
using namespace std::chrono_literals;

namespace {

const Ipv4Address kInside = 0x0A00000Au;    // 10.0.0.10
const Ipv4Address kOutside = 0xC633640Au;   // 198.51.100.10
const Ipv4Address kExternal = 0xCB007101u;  // 203.0.113.1

TEST(NetnsDemux, SlicesAreDisjointAndInsideTheFullRanges) {
  Demux demux(32);
  std::set<unsigned> seen;
  for (std::size_t s = 0; s < demux.slices(); ++s) {
    const PortRanges r = demux.ports(s);
    EXPECT_LE(r.high_first, r.high_last);
    EXPECT_LE(r.low_first, r.low_last);
    EXPECT_GE(r.high_first, PortRanges{}.high_first);
    EXPECT_LE(r.high_last, PortRanges{}.high_last);
    EXPECT_GE(r.low_first, PortRanges{}.low_first);
    EXPECT_LE(r.low_last, PortRanges{}.low_last);
    for (unsigned p = r.high_first; p <= r.high_last; ++p) EXPECT_TRUE(seen.insert(p).second) << p;
    for (unsigned p = r.low_first; p <= r.low_last; ++p) EXPECT_TRUE(seen.insert(p).second) << p;
  }
}

TEST(NetnsDemux, RoutesToTheSessionOwningThePort) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  const std::uint16_t pa = demux.ports(a).high_first + 5;
  const std::uint16_t pb = demux.ports(b).high_first + 7;
  // Inbound to the inside hosts (destination port), outbound to outside hosts (destination port).
  demux.deliver(Side::inside, Clock::now(), udp({kOutside, 3478}, {kInside, pa}, "to a"));
  demux.deliver(Side::outside, Clock::now(), udp({kExternal, 40000}, {kOutside, pb}, "to b"));
  EXPECT_FALSE(demux.receive(b, Side::inside, Matcher(), Clock::now()));
  EXPECT_FALSE(demux.receive(a, Side::outside, Matcher(), Clock::now()));
  EXPECT_TRUE(demux.receive(a, Side::inside, Matcher(), Clock::now()));
  EXPECT_TRUE(demux.receive(b, Side::outside, Matcher(), Clock::now()));
  EXPECT_EQ(demux.unclaimed(), 0u);
}

TEST(NetnsDemux, IcmpErrorsGoToTheSessionThatSentTheQuotedPacket) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  const std::uint16_t pb = demux.ports(b).high_first + 1;
  // The DUT tells the inside host of session b that its datagram X:x -> Y:y could not be delivered.
  const Packet quoted = udp({kInside, pb}, {kOutside, 9999}, "probe");
  demux.deliver(Side::inside, Clock::now(), icmp_error(kExternal, kInside, 3, 3, quoted));
  EXPECT_FALSE(demux.receive(a, Side::inside, Matcher(), Clock::now()));
  EXPECT_TRUE(demux.receive(b, Side::inside, Matcher(), Clock::now()));
}

TEST(NetnsDemux, InsideEchoByIdentifierSliceOrByWhoSentIt) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  demux.deliver(Side::inside, Clock::now(), icmp_echo_reply(kOutside, kInside, demux.ports(a).high_first, 1));
  EXPECT_FALSE(demux.receive(b, Side::inside, Matcher(), Clock::now()));
  EXPECT_TRUE(demux.receive(a, Side::inside, Matcher(), Clock::now()));
  demux.note_sent(b, icmp_echo(kInside, kOutside, 7, 1));  // identifier outside every slice
  demux.deliver(Side::inside, Clock::now(), icmp_echo_reply(kOutside, kInside, 7, 1));
  EXPECT_FALSE(demux.receive(a, Side::inside, Matcher(), Clock::now()));
  EXPECT_TRUE(demux.receive(b, Side::inside, Matcher(), Clock::now()));
}

// A DUT that translates identifiers at random may pick one inside another session's slice: on the
// outside such an echo request waits in the shared pool for the session whose matcher knows it.
TEST(NetnsDemux, OutsideEchoRequestWithAnUnknownIdentifierWaitsForTheSessionThatRecognisesIt) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  demux.note_sent(b, icmp_echo(kInside, kOutside, demux.ports(b).high_first, 1));
  demux.deliver(Side::outside, Clock::now(), icmp_echo(kExternal, kOutside, demux.ports(a).high_first + 1, 1));
  const Matcher not_mine = match::icmp_echo_request().payload("a's probe");
  EXPECT_FALSE(demux.receive(a, Side::outside, not_mine, Clock::now()));
  EXPECT_TRUE(demux.receive(b, Side::outside, match::icmp_echo_request(), Clock::now()));
  // A reply on the outside carries the identifier the emulated outside host chose: its slice owns it.
  demux.deliver(Side::outside, Clock::now(), icmp_echo_reply(kExternal, kOutside, demux.ports(a).high_first, 1));
  EXPECT_FALSE(demux.receive(b, Side::outside, Matcher(), Clock::now()));
  EXPECT_TRUE(demux.receive(a, Side::outside, Matcher(), Clock::now()));
}

// An error about a translated echo quotes the identifier the DUT chose: it is no session's by slice.
TEST(NetnsDemux, OutsideErrorQuotingAnEchoWaitsInTheSharedPool) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  const Packet quoted = icmp_echo_reply(kOutside, kExternal, demux.ports(a).high_first, 1);
  demux.deliver(Side::outside, Clock::now(), icmp_error(kExternal, kOutside, 3, 3, quoted));
  EXPECT_TRUE(demux.receive(b, Side::outside, match::icmp_error(), Clock::now()));  // b can see it: pooled
  EXPECT_FALSE(demux.receive(a, Side::outside, Matcher(), Clock::now()));
}

TEST(NetnsDemux, FragmentsFollowTheirFirstFragment) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  IpFields ip;
  ip.id = 0x1234;
  const Packet whole = udp({kExternal, 40000}, {kOutside, demux.ports(b).high_first}, std::string(1200, 'x'), ip);
  const auto pieces = fragment(whole, 512);
  ASSERT_GE(pieces.size(), 3u);
  for (const auto& piece : pieces) demux.deliver(Side::outside, Clock::now(), piece);
  EXPECT_FALSE(demux.receive(a, Side::outside, Matcher(), Clock::now()));
  EXPECT_EQ(demux.drain(b, Side::outside).size(), pieces.size());
}

TEST(NetnsDemux, UnownedPacketsWaitInTheSharedPool) {
  Demux demux(4);
  const auto a = *demux.open(Clock::now());
  demux.deliver(Side::outside, Clock::now(), udp({kExternal, 5}, {kOutside, 6}, "nobody's"));
  EXPECT_EQ(demux.unclaimed(), 1u);
  EXPECT_TRUE(demux.drain(a, Side::outside).empty());  // drain returns only the session's own packets
  EXPECT_FALSE(demux.receive(a, Side::outside, match::udp().payload("other"), Clock::now()));
  EXPECT_TRUE(demux.receive(a, Side::outside, match::udp().payload("nobody's"), Clock::now()));
  // A session opened later does not see packets captured before it started.
  demux.deliver(Side::outside, Clock::now(), udp({kExternal, 5}, {kOutside, 6}, "old"));
  std::this_thread::sleep_for(2ms);
  const auto c = *demux.open(Clock::now());
  EXPECT_FALSE(demux.receive(c, Side::outside, Matcher(), Clock::now()));
}

TEST(NetnsDemux, ReceiveWaitsForALateArrivalAndTimesOut) {
  Demux demux(2);
  const auto a = *demux.open(Clock::now());
  const std::uint16_t pa = demux.ports(a).high_first;
  std::thread late([&] {
    std::this_thread::sleep_for(50ms);
    demux.deliver(Side::inside, Clock::now(), udp({kOutside, 1}, {kInside, pa}, "late"));
  });
  const auto start = Clock::now();
  const auto got = demux.receive(a, Side::inside, Matcher(), start + 2s);
  late.join();
  ASSERT_TRUE(got);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_GE(got->at, 40ms);
  const auto before = Clock::now();
  EXPECT_FALSE(demux.receive(a, Side::inside, Matcher(), before + 100ms));
  EXPECT_GE(Clock::now() - before, 100ms);
}

TEST(NetnsDemux, SlicesAreReusedLeastRecentlyUsedFirst) {
  Demux demux(3);
  const auto a = *demux.open(Clock::now());
  const auto b = *demux.open(Clock::now());
  const auto c = *demux.open(Clock::now());
  EXPECT_FALSE(demux.open(Clock::now()));
  demux.close(b);
  demux.close(a);
  EXPECT_EQ(*demux.open(Clock::now()), b);
  EXPECT_EQ(*demux.open(Clock::now()), a);
  (void)c;
}

}  // namespace
