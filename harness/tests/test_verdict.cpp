#include <gtest/gtest.h>

#include "natcert/harness/types.hpp"
#include "natcert/harness/verdict.hpp"

using namespace natcert::harness;

TEST(Level, RoundTripsThroughText) {
  for (Level level : {Level::must, Level::must_not, Level::should, Level::should_not, Level::recommended, Level::may}) {
    EXPECT_EQ(parse_level(to_string(level)), level) << to_string(level);
  }
  EXPECT_EQ(to_string(Level::must_not), "MUST NOT");
  EXPECT_EQ(parse_level("must_not"), Level::must_not);
  EXPECT_EQ(parse_level("Should-Not"), Level::should_not);
  EXPECT_EQ(parse_level(" recommended "), Level::recommended);
  EXPECT_FALSE(parse_level("OPTIONAL").has_value());
}

TEST(Verdict, RoundTripsThroughText) {
  for (Verdict verdict : {Verdict::pass, Verdict::fail, Verdict::warn, Verdict::info, Verdict::skip,
                          Verdict::inconclusive, Verdict::error}) {
    EXPECT_EQ(parse_verdict(to_string(verdict)), verdict);
  }
  EXPECT_EQ(to_string(Verdict::inconclusive), "INCONCLUSIVE");
  EXPECT_EQ(parse_verdict("fail"), Verdict::fail);
  EXPECT_FALSE(parse_verdict("maybe").has_value());
}

TEST(Verdict, NotMetFollowsTheLevel) {
  EXPECT_EQ(verdict_when_not_met(Level::must), Verdict::fail);
  EXPECT_EQ(verdict_when_not_met(Level::must_not), Verdict::fail);
  EXPECT_EQ(verdict_when_not_met(Level::should), Verdict::warn);
  EXPECT_EQ(verdict_when_not_met(Level::should_not), Verdict::warn);
  EXPECT_EQ(verdict_when_not_met(Level::recommended), Verdict::warn);
  EXPECT_EQ(verdict_when_not_met(Level::may), Verdict::info);
  EXPECT_EQ(verdict_for(Level::must, true), Verdict::pass);
}

TEST(Verdict, WorstCombinesBySeverity) {
  EXPECT_EQ(worst(Verdict::pass, Verdict::info), Verdict::pass);
  EXPECT_EQ(worst(Verdict::info, Verdict::pass), Verdict::pass);
  EXPECT_EQ(worst(Verdict::pass, Verdict::warn), Verdict::warn);
  EXPECT_EQ(worst(Verdict::fail, Verdict::warn), Verdict::fail);
  EXPECT_EQ(worst(Verdict::fail, Verdict::inconclusive), Verdict::inconclusive);
  EXPECT_EQ(worst(Verdict::inconclusive, Verdict::error), Verdict::error);
  EXPECT_EQ(worst(Verdict::skip, Verdict::pass), Verdict::skip);
  EXPECT_EQ(worst(Verdict::skip, Verdict::fail), Verdict::fail);
}

TEST(Verdict, TestAbortedOnlyCarriesSkipOrInconclusive) {
  EXPECT_EQ(TestAborted(Verdict::skip, "x").verdict(), Verdict::skip);
  EXPECT_EQ(TestAborted(Verdict::inconclusive, "x").verdict(), Verdict::inconclusive);
  EXPECT_EQ(TestAborted(Verdict::fail, "x").verdict(), Verdict::error);
}

TEST(Types, EndpointsFormatAndParse) {
  const Endpoint endpoint{ipv4("203.0.113.1"), 40000};
  EXPECT_EQ(to_string(endpoint), "203.0.113.1:40000");
  EXPECT_EQ(parse_endpoint("203.0.113.1:40000"), endpoint);
  EXPECT_FALSE(parse_endpoint("203.0.113.1").has_value());
  EXPECT_FALSE(parse_endpoint("203.0.113.1:70000").has_value());
  EXPECT_FALSE(parse_endpoint("203.0.113:1").has_value());
  EXPECT_FALSE(parse_endpoint("203.0.113.1:").has_value());
  EXPECT_THROW(ipv4("nonsense"), std::invalid_argument);
}

TEST(Types, DurationsReadWell) {
  using namespace std::chrono;
  EXPECT_EQ(format_duration(milliseconds(150)), "150 ms");
  EXPECT_EQ(format_duration(seconds(2)), "2 s");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5 s");
  EXPECT_EQ(format_duration(seconds(125)), "2 min 5 s");
  EXPECT_EQ(format_duration(hours(2) + minutes(4)), "2 h 4 min");
  EXPECT_EQ(format_duration(Duration::zero()), "0 s");
}
