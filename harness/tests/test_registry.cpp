#include <gtest/gtest.h>

#include "natcert/harness/context.hpp"
#include "natcert/harness/testcase.hpp"

using namespace natcert::harness;

namespace {

TestCase make(std::string id, std::string requirement = "RFC4787-REQ-1", Level level = Level::must) {
  TestCase t;
  t.id = std::move(id);
  t.suite = t.id.substr(0, t.id.find('.'));
  t.requirements = {{std::move(requirement), level}};
  t.title = "title";
  t.procedure = "procedure";
  t.run = [](TestContext& ctx) { ctx.info("nothing"); };
  t.mutants = {{"m", "rfc-strict,udp.mapping=address-dependent", Verdict::fail, "why"}};
  return t;
}

}  // namespace

TEST(Glob, MatchesShellStyle) {
  EXPECT_TRUE(glob_match("rfc4787.req1.*", "rfc4787.req1.mapping.udp"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("rfc????.*", "rfc4787.x"));
  EXPECT_TRUE(glob_match("*.udp", "rfc4787.req1.mapping.udp"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_FALSE(glob_match("rfc4787.req1.*", "rfc4787.req10"));
  EXPECT_TRUE(glob_match("rfc4787.req1*", "rfc4787.req10"));
  EXPECT_FALSE(glob_match("", "x"));
}

TEST(Registry, AddsFindsAndSelects) {
  Registry registry;
  registry.add(make("rfc4787.req1.mapping.udp"));
  registry.add(make("rfc4787.req8.filtering", "RFC4787-REQ-8", Level::recommended));
  registry.add(make("rfc5382.req1.mapping.tcp", "RFC5382-REQ-1"));
  EXPECT_EQ(registry.size(), 3u);
  ASSERT_NE(registry.find("rfc4787.req8.filtering"), nullptr);
  EXPECT_EQ(registry.find("nope"), nullptr);
  EXPECT_THROW(registry.add(make("rfc4787.req1.mapping.udp")), std::invalid_argument);

  EXPECT_EQ(registry.suite("rfc4787").size(), 2u);
  EXPECT_EQ(registry.suites(), (std::vector<std::string>{"rfc4787", "rfc5382"}));
  EXPECT_EQ(registry.select("rfc4787.req1.*").size(), 1u);
  EXPECT_EQ(registry.select("rfc4787.*, rfc5382.*").size(), 3u);
  EXPECT_EQ(registry.select("RFC5382-REQ-*").size(), 1u);
  EXPECT_EQ(registry.select("*").size(), 3u);
  const auto all = registry.all();
  EXPECT_EQ(all.front()->id, "rfc4787.req1.mapping.udp");
}

TEST(Validate, AcceptsACompleteTest) { EXPECT_TRUE(validate(make("rfc4787.req1.mapping.udp")).empty()); }

TEST(Validate, ATestWithoutMutantIsRejected) {
  TestCase t = make("rfc4787.req1.mapping.udp");
  t.mutants.clear();
  const auto problems = validate(t);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("declares no mutant"), std::string::npos);
}

TEST(Validate, MayOnlyTestsNeedNoMutant) {
  TestCase t = make("rfc4787.req6a.inbound-refresh", "RFC4787-REQ-6a", Level::may);
  t.mutants.clear();
  EXPECT_TRUE(validate(t).empty());
}

TEST(Validate, ReportsEachProblem) {
  TestCase t;
  t.id = "Bad ID";
  t.mutants = {{"", "", Verdict::pass, ""}};
  const auto problems = validate(t);
  EXPECT_GE(problems.size(), 8u);
  TestCase wrong_suite = make("rfc4787.x");
  wrong_suite.suite = "rfc5382";
  EXPECT_EQ(validate(wrong_suite).size(), 1u);
}
