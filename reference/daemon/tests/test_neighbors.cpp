// Next hops, the ARP cache and the bounded queues of packets waiting for ARP.
#include <gtest/gtest.h>

#include <vector>

#include "neighbors.hpp"

namespace natcert::ref::daemon {
namespace {

using namespace std::chrono_literals;

const MacAddress kMacA{0x02, 0, 0, 0, 0, 0xa};
const MacAddress kMacB{0x02, 0, 0, 0, 0, 0xb};
const Subnet kOutside{0xcb007101, 24};      // 203.0.113.1/24
constexpr Ipv4Address kGateway = 0xcb0071fe;  // 203.0.113.254
constexpr Ipv4Address kOnLink = 0xcb007105;   // 203.0.113.5
constexpr Ipv4Address kRemote = 0xc6336410;   // 198.51.100.16

TEST(NextHop, OnLinkDestinationIsItsOwnNextHop) {
  EXPECT_EQ(next_hop(kOnLink, kOutside, kGateway), kOnLink);
}

TEST(NextHop, OffLinkDestinationGoesToTheGateway) {
  EXPECT_EQ(next_hop(kRemote, kOutside, kGateway), kGateway);
}

TEST(NextHop, WithoutGatewayEveryHostIsOnLink) {
  EXPECT_EQ(next_hop(kRemote, kOutside, 0), kRemote);
}

TEST(Subnet, PrefixLengthsZeroAndThirtyTwo) {
  EXPECT_TRUE((Subnet{0, 0}.contains(kRemote)));
  EXPECT_TRUE((Subnet{kOnLink, 32}.contains(kOnLink)));
  EXPECT_FALSE((Subnet{kOnLink, 32}.contains(kOnLink + 1)));
}

TEST(ArpCache, LearnsAndUpdates) {
  ArpCache cache;
  EXPECT_EQ(cache.find(kGateway), nullptr);
  EXPECT_TRUE(cache.learn(kGateway, kMacA));
  ASSERT_NE(cache.find(kGateway), nullptr);
  EXPECT_EQ(*cache.find(kGateway), kMacA);
  EXPECT_FALSE(cache.learn(kGateway, kMacA));
  EXPECT_TRUE(cache.learn(kGateway, kMacB));
  EXPECT_EQ(*cache.find(kGateway), kMacB);
  EXPECT_FALSE(cache.learn(0, kMacA));  // 0.0.0.0 (ARP probes) is nobody
  cache.clear();
  EXPECT_EQ(cache.find(kGateway), nullptr);
}

TEST(ArpCache, IsBounded) {
  ArpCache cache(4);
  for (Ipv4Address a = 1; a <= 10; ++a) cache.learn(a, kMacA);
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_NE(cache.find(10), nullptr);  // the newest is always kept
}

std::vector<std::uint8_t> packet(std::uint8_t tag) { return std::vector<std::uint8_t>(20, tag); }

TEST(PendingResolutions, FirstPacketAsksAndLaterOnesWait) {
  PendingResolutions pending;
  EXPECT_EQ(pending.enqueue(kGateway, packet(1), TimePoint{}), PendingResolutions::Queued::first);
  EXPECT_EQ(pending.enqueue(kGateway, packet(2), TimePoint{}), PendingResolutions::Queued::queued);
  EXPECT_EQ(pending.packets(kGateway), 2u);
  const auto released = pending.resolve(kGateway);
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(released[0][0], 1);
  EXPECT_EQ(released[1][0], 2);
  EXPECT_EQ(pending.hops(), 0u);
  EXPECT_TRUE(pending.resolve(kGateway).empty());
}

TEST(PendingResolutions, QueueKeepsTheNewestPackets) {
  PendingResolutions pending(PendingResolutions::Limits{3, 8, 3, 1s});
  for (std::uint8_t i = 1; i <= 3; ++i) pending.enqueue(kGateway, packet(i), TimePoint{});
  EXPECT_EQ(pending.enqueue(kGateway, packet(4), TimePoint{}), PendingResolutions::Queued::dropped_oldest);
  const auto released = pending.resolve(kGateway);
  ASSERT_EQ(released.size(), 3u);
  EXPECT_EQ(released.front()[0], 2);
  EXPECT_EQ(released.back()[0], 4);
}

TEST(PendingResolutions, NumberOfUnresolvedHopsIsBounded) {
  PendingResolutions pending(PendingResolutions::Limits{4, 2, 3, 1s});
  EXPECT_EQ(pending.enqueue(1, packet(1), TimePoint{}), PendingResolutions::Queued::first);
  EXPECT_EQ(pending.enqueue(2, packet(1), TimePoint{}), PendingResolutions::Queued::first);
  EXPECT_EQ(pending.enqueue(3, packet(1), TimePoint{}), PendingResolutions::Queued::no_room);
  EXPECT_EQ(pending.hops(), 2u);
}

TEST(PendingResolutions, RetriesThreeTimesOneSecondApartThenDrops) {
  PendingResolutions pending;
  pending.enqueue(kGateway, packet(1), TimePoint{});  // request 1 at t=0
  pending.enqueue(kGateway, packet(2), TimePoint{});
  std::vector<Ipv4Address> retry;
  EXPECT_EQ(pending.tick(TimePoint{500ms}, retry), 0u);
  EXPECT_TRUE(retry.empty());
  EXPECT_EQ(pending.tick(TimePoint{1s}, retry), 0u);  // request 2
  EXPECT_EQ(retry, std::vector<Ipv4Address>{kGateway});
  retry.clear();
  EXPECT_EQ(pending.tick(TimePoint{2s}, retry), 0u);  // request 3
  EXPECT_EQ(retry.size(), 1u);
  retry.clear();
  EXPECT_EQ(pending.tick(TimePoint{3s}, retry), 2u);  // no answer: both packets dropped
  EXPECT_TRUE(retry.empty());
  EXPECT_EQ(pending.hops(), 0u);
}

}  // namespace
}  // namespace natcert::ref::daemon
