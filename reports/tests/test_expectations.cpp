// Expectation files: parsing with file:line errors, and evaluation of a run against them.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::reports::testing::hostile_run;

namespace {

std::string error_of(std::string_view text) {
  try {
    (void)parse_expectations(text, "linux.expect");
  } catch (const ReportError& e) {
    return e.what();
  }
  return "(no error)";
}

// Expectations matching hostile_run() exactly (unlisted tests there are PASS or INFO).
constexpr std::string_view matching = R"(# natcert expectations for the hostile fixture
rfc4787.req8.filtering.udp   FAIL   # drops fragments
rfc4787.req2.pooling         SKIP   # a single external address

rfc5382.req1.mapping.tcp     ERROR  # known harness bug
rfc5382.req3.*               WARN   # filters by address and port
)";

}  // namespace

TEST(Expectations, Parses) {
  const auto e = parse_expectations(matching, "x.expect");
  ASSERT_EQ(e.entries.size(), 4u);
  EXPECT_EQ(e.entries[0].pattern, "rfc4787.req8.filtering.udp");
  EXPECT_EQ(e.entries[0].verdict, Verdict::fail);
  EXPECT_EQ(e.entries[0].reason, "drops fragments");
  EXPECT_EQ(e.entries[0].line, 2u);
  EXPECT_EQ(e.entries[2].line, 5u);
  ASSERT_NE(e.find("rfc5382.req3.filtering.tcp"), nullptr);
  EXPECT_EQ(e.find("rfc5382.req3.filtering.tcp")->verdict, Verdict::warn);
  EXPECT_EQ(e.find("rfc4787.req1.mapping.udp"), nullptr);
}

TEST(Expectations, ExactIdWinsOverGlob) {
  const auto e = parse_expectations("rfc4787.* WARN # most\nrfc4787.req1 FAIL # this one\n", "x");
  EXPECT_EQ(e.find("rfc4787.req1")->verdict, Verdict::fail);
  EXPECT_EQ(e.find("rfc4787.req2")->verdict, Verdict::warn);
}

TEST(Expectations, AcceptsCrLfTabsAndLowerCaseVerdicts) {
  const auto e = parse_expectations("a.b\twarn\t# why\r\n\r\n", "x");
  ASSERT_EQ(e.entries.size(), 1u);
  EXPECT_EQ(e.entries[0].verdict, Verdict::warn);
  EXPECT_EQ(e.entries[0].reason, "why");
}

TEST(Expectations, ErrorsCarryFileAndLine) {
  EXPECT_EQ(error_of("# ok\nrfc4787.req1 PASS\n"),
            "linux.expect:2: missing reason for \"rfc4787.req1\": write `# why` after the verdict");
  EXPECT_EQ(error_of("rfc4787.req1 PASS #   \n"),
            "linux.expect:1: missing reason for \"rfc4787.req1\": write `# why` after the verdict");
  EXPECT_EQ(error_of("\n\nrfc4787.req1 MAYBE # x\n"),
            "linux.expect:3: unknown verdict \"MAYBE\" (PASS, FAIL, WARN, INFO, SKIP, INCONCLUSIVE or ERROR)");
  EXPECT_EQ(error_of("rfc4787.req1 # x\n"), "linux.expect:1: expected `TEST-ID VERDICT # reason`, found only \"rfc4787.req1\"");
  EXPECT_EQ(error_of("rfc4787.req1 WARN because # x\n"),
            "linux.expect:1: unexpected \"because\" after the verdict (put the reason after a '#')");
  EXPECT_EQ(error_of("RFC4787/req1 WARN # x\n"),
            "linux.expect:1: bad test id \"RFC4787/req1\": test ids and globs use a-z, 0-9, '.', '_', '-', '*' and '?'");
  EXPECT_EQ(error_of("a WARN # x\nb WARN # y\na FAIL # z\n"), "linux.expect:3: duplicate entry for \"a\" (first at line 1)");
  const auto binary = error_of(std::string("a WARN # x\n\0\x01\x02", 14));
  EXPECT_EQ(binary, "linux.expect:2: NUL byte (not a text file?)");
  const auto escape = error_of("\x1b[31m WARN # x\n");
  EXPECT_EQ(escape.find('\x1b'), std::string::npos) << escape;
  EXPECT_EQ(escape.find('\n'), std::string::npos);
}

TEST(Expectations, MissingFileIsOneLineError) {
  try {
    (void)load_expectations("/nonexistent/dir/x.expect");
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read /nonexistent/dir/x.expect"), std::string::npos);
  }
}

TEST(Expectations, MatchingRunIsClean) {
  auto run = hostile_run();
  const auto outcome = evaluate(parse_expectations(matching, "x"), run);
  EXPECT_TRUE(outcome.unexpected.empty());
  EXPECT_FALSE(outcome.incomplete);  // the ERROR was expected
  EXPECT_EQ(outcome.exit_code(), 0);
  EXPECT_TRUE(outcome.unused.empty());
}

TEST(Expectations, UnexpectedVerdictFails) {
  auto run = hostile_run();
  run.tests[1].verdict = Verdict::warn;  // expected FAIL
  const auto outcome = evaluate(parse_expectations(matching, "x.expect"), run);
  ASSERT_EQ(outcome.unexpected.size(), 1u);
  EXPECT_EQ(outcome.exit_code(), 1);
  EXPECT_FALSE(outcome.unexpected[0].unexpected_pass());
  EXPECT_EQ(format_unexpected(outcome.unexpected[0], "x.expect").rfind(
                "rfc4787.req8.filtering.udp: expected FAIL, got WARN (x.expect:2: drops fragments): observed ", 0),
            0u);
}

TEST(Expectations, UnexpectedPassIsFlagged) {
  auto run = hostile_run();
  run.tests[5].verdict = Verdict::pass;  // rfc5382.req3.filtering.tcp, expected WARN via the glob
  const auto outcome = evaluate(parse_expectations(matching, "x.expect"), run);
  ASSERT_EQ(outcome.unexpected.size(), 1u);
  EXPECT_TRUE(outcome.unexpected[0].unexpected_pass());
  EXPECT_EQ(outcome.exit_code(), 1);
  EXPECT_EQ(format_unexpected(outcome.unexpected[0], "x.expect"),
            "rfc5382.req3.filtering.tcp: expected WARN, got PASS: unexpected PASS (update the expectation file; "
            "x.expect:6: filters by address and port)");
}

TEST(Expectations, UnlistedTestsMustPassOrBeInfo) {
  auto run = hostile_run();
  run.tests[0].verdict = Verdict::fail;  // unlisted, was PASS
  run.tests[0].reason = "two mappings";
  const auto outcome = evaluate(parse_expectations(matching, "x.expect"), run);
  ASSERT_EQ(outcome.unexpected.size(), 1u);
  EXPECT_FALSE(outcome.unexpected[0].listed);
  EXPECT_EQ(format_unexpected(outcome.unexpected[0], "x.expect"),
            "rfc4787.req1.mapping.udp: expected PASS, got FAIL (not listed in x.expect): two mappings");
}

TEST(Expectations, UnexpectedInconclusiveMakesTheRunIncomplete) {
  auto run = hostile_run();
  run.tests[0].verdict = Verdict::inconclusive;
  run.tests[1].verdict = Verdict::pass;
  const auto outcome = evaluate(parse_expectations(matching, "x"), run);
  EXPECT_EQ(outcome.unexpected.size(), 2u);
  EXPECT_TRUE(outcome.incomplete);
  EXPECT_EQ(outcome.exit_code(), 3);
}

TEST(Expectations, FailedSanityProbeMakesTheRunIncomplete) {
  auto run = hostile_run();
  run.sanity_begin->verdict = Verdict::inconclusive;
  EXPECT_EQ(evaluate(parse_expectations(matching, "x"), run).exit_code(), 3);
}

TEST(Expectations, UnusedEntriesAreReported) {
  const auto e = parse_expectations("rfc9999.* WARN # not in this run\n", "x");
  const auto outcome = evaluate(e, hostile_run());
  ASSERT_EQ(outcome.unused.size(), 1u);
  EXPECT_EQ(outcome.unused[0]->pattern, "rfc9999.*");
}
