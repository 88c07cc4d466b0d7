// Verdict changes between two runs.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::reports::testing::hostile_run;

TEST(Diff, IdenticalRunsHaveNoChanges) { EXPECT_TRUE(diff(hostile_run(), hostile_run()).empty()); }

TEST(Diff, ListsChangedNewAndGoneTests) {
  const auto before = hostile_run();
  auto after = hostile_run();
  after.tests[0].verdict = Verdict::fail;
  after.tests[0].reason = "mapping changed";
  after.tests.erase(after.tests.begin() + 2);  // rfc4787.req2.pooling gone
  natcert::harness::TestResult added;
  added.id = "rfc5508.req1.icmp";
  added.verdict = Verdict::pass;
  after.tests.push_back(added);

  const auto changes = diff(before, after);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].test_id, "rfc4787.req1.mapping.udp");
  EXPECT_EQ(changes[0].before, Verdict::pass);
  EXPECT_EQ(changes[0].after, Verdict::fail);
  EXPECT_EQ(format_change(changes[0]), "rfc4787.req1.mapping.udp: PASS -> FAIL (mapping changed)");
  EXPECT_EQ(changes[1].test_id, "rfc5508.req1.icmp");
  EXPECT_FALSE(changes[1].before.has_value());
  EXPECT_EQ(format_change(changes[1]), "rfc5508.req1.icmp: new, PASS");
  EXPECT_EQ(changes[2].test_id, "rfc4787.req2.pooling");
  EXPECT_FALSE(changes[2].after.has_value());
  EXPECT_EQ(format_change(changes[2]), "rfc4787.req2.pooling: gone (was SKIP) (needs 2 NAT external addresses declared)");
}

TEST(Diff, ChangeLinesAreOneLine) {
  auto after = hostile_run();
  after.tests[1].verdict = Verdict::pass;  // reason has a newline and an escape sequence
  const auto changes = diff(hostile_run(), after);
  ASSERT_EQ(changes.size(), 1u);
  const auto line = format_change(changes[0]);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(line.find("\\x0a"), std::string::npos);
}
