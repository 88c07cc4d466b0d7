// The RFC 4814 port pairs and the RFC 9693 binary search, without a network.
#include <gtest/gtest.h>

#include <set>

#include "natcert/wirebench/search.hpp"

namespace natcert::wirebench {
namespace {

TEST(PortPairs, DistinctInRangeAndDeterministic) {
  const auto pairs = unique_port_pairs(20000, 42);
  ASSERT_EQ(pairs.size(), 20000u);
  std::set<std::pair<int, int>> seen;
  for (const auto& p : pairs) {
    EXPECT_GE(p.source, 1024);
    EXPECT_GE(p.destination, 1);
    EXPECT_LE(p.destination, 49151);
    EXPECT_TRUE(seen.emplace(p.source, p.destination).second);
  }
  EXPECT_EQ(unique_port_pairs(20000, 42), pairs);
  EXPECT_NE(unique_port_pairs(20000, 43), pairs);
}

TEST(PortPairs, UniformOverTheRange) {
  // 16 equal buckets of each range: every bucket within 15 % of its share.
  const std::size_t n = 64000;
  const auto pairs = unique_port_pairs(n, 7);
  std::vector<std::size_t> sources(16), destinations(16);
  for (const auto& p : pairs) {
    ++sources[(p.source - 1024u) * 16 / (65535u - 1024u + 1)];
    ++destinations[(p.destination - 1u) * 16 / 49151u];
  }
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_NEAR(static_cast<double>(sources[i]), n / 16.0, n / 16.0 * 0.15) << "source bucket " << i;
    EXPECT_NEAR(static_cast<double>(destinations[i]), n / 16.0, n / 16.0 * 0.15) << "destination bucket " << i;
  }
}

TEST(PortPairs, SmallRangesAreFilledOrRejected) {
  PortRanges tiny{5000, 5003, 80, 81};  // 8 pairs
  const auto all = unique_port_pairs(8, 1, tiny);
  std::set<std::pair<int, int>> seen;
  for (const auto& p : all) seen.emplace(p.source, p.destination);
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_THROW(unique_port_pairs(9, 1, tiny), std::invalid_argument);
  EXPECT_THROW(unique_port_pairs(1, 1, PortRanges{10, 9, 1, 1}), std::invalid_argument);
}

TEST(BinarySearch, FindsTheThresholdWithinPrecision) {
  for (double threshold : {1234.0, 50000.0, 99000.0}) {
    std::size_t calls = 0;
    const auto result = binary_search_rate(1000, 100000, 0.01, 30, [&](double rate) {
      ++calls;
      return rate <= threshold;
    });
    EXPECT_LE(result.rate, threshold);
    EXPECT_GE(result.rate, threshold * 0.99);
    EXPECT_GT(result.lowest_failure, threshold);
    EXPECT_LE(result.lowest_failure - result.rate, 0.01 * result.lowest_failure);
    EXPECT_FALSE(result.at_ceiling);
    EXPECT_EQ(result.trials, calls);
  }
}

TEST(BinarySearch, CeilingPassesAtOnce) {
  const auto result = binary_search_rate(10, 1000, 0.05, 10, [](double) { return true; });
  EXPECT_EQ(result.rate, 1000);
  EXPECT_TRUE(result.at_ceiling);
  EXPECT_EQ(result.trials, 1u);
}

TEST(BinarySearch, NothingPassesEndsQuickly) {
  const auto result = binary_search_rate(10, 1000, 0.05, 10, [](double) { return false; });
  EXPECT_EQ(result.rate, 0);
  EXPECT_EQ(result.trials, 3u);  // high, low, low/8
}

TEST(BinarySearch, BelowTheLowBoundTriesAnEighth) {
  const auto result = binary_search_rate(100, 1000, 0.05, 20, [](double rate) { return rate <= 50; });
  EXPECT_GT(result.rate, 0);
  EXPECT_LE(result.rate, 50);
}

TEST(BinarySearch, BoundedByMaxTrials) {
  std::size_t calls = 0;
  binary_search_rate(1, 1e9, 1e-9, 7, [&](double rate) {
    ++calls;
    return rate < 12345;
  });
  EXPECT_EQ(calls, 7u);
}

}  // namespace
}  // namespace natcert::wirebench
