// JUnit XML: well formed, one testsuite per suite, FAIL/ERROR/SKIP mapping, counts, escaping.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "mini_xml.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::reports::testing::hostile_run;
using natcert::reports::testing::MiniXml;
using natcert::reports::testing::XmlNode;

namespace {

const XmlNode* find_case(const XmlNode& root, const std::string& id) {
  for (const auto* suite : root.all("testsuite")) {
    for (const auto* test : suite->all("testcase")) {
      if (test->attr("name") == id) return test;
    }
  }
  return nullptr;
}

}  // namespace

TEST(Junit, WellFormedWithOneSuitePerRfc) {
  const std::string xml = to_junit(hostile_run());
  std::unique_ptr<XmlNode> root;
  ASSERT_NO_THROW(root = MiniXml::parse(xml)) << xml;
  EXPECT_EQ(root->name, "testsuites");
  const auto suites = root->all("testsuite");
  ASSERT_EQ(suites.size(), 3u);
  EXPECT_EQ(suites[0]->attr("name"), "rfc4787");
  EXPECT_EQ(suites[1]->attr("name"), "rfc5382");
  EXPECT_EQ(suites[2]->attr("name"), "sanity");
  EXPECT_EQ(suites[0]->attr("tests"), "3");
  EXPECT_EQ(suites[0]->attr("failures"), "1");
  EXPECT_EQ(suites[0]->attr("skipped"), "1");
  EXPECT_EQ(suites[0]->attr("errors"), "0");
  EXPECT_EQ(suites[1]->attr("tests"), "3");
  EXPECT_EQ(suites[1]->attr("errors"), "1");
  EXPECT_EQ(suites[1]->attr("failures"), "0");  // WARN passes unless strict
  EXPECT_EQ(root->attr("tests"), "8");
  EXPECT_EQ(root->attr("failures"), "1");
  EXPECT_EQ(root->attr("errors"), "1");
  EXPECT_EQ(root->attr("skipped"), "1");
  ASSERT_NE(suites[0]->first("properties"), nullptr);
}

TEST(Junit, VerdictMapping) {
  const auto root = MiniXml::parse(to_junit(hostile_run()));
  const auto* fail = find_case(*root, "rfc4787.req8.filtering.udp");
  ASSERT_NE(fail, nullptr);
  ASSERT_NE(fail->first("failure"), nullptr);
  EXPECT_EQ(fail->first("failure")->attr("type"), "FAIL");
  EXPECT_EQ(fail->attr("classname"), "rfc4787");
  const auto* error = find_case(*root, "rfc5382.req1.mapping.tcp");
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->first("error"), nullptr);
  const auto* skip = find_case(*root, "rfc4787.req2.pooling");
  ASSERT_NE(skip, nullptr);
  EXPECT_NE(skip->first("skipped"), nullptr);
  const auto* pass = find_case(*root, "rfc4787.req1.mapping.udp");
  ASSERT_NE(pass, nullptr);
  EXPECT_EQ(pass->first("failure"), nullptr);
  EXPECT_EQ(pass->attr("time"), "0.012");
  EXPECT_NE(pass->first("system-out"), nullptr);
  const auto* warn = find_case(*root, "rfc5382.req3.filtering.tcp");
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->first("failure"), nullptr);
}

TEST(Junit, StrictTurnsWarnIntoFailure) {
  const auto root = MiniXml::parse(to_junit(hostile_run(), JunitOptions{true}));
  const auto* warn = find_case(*root, "rfc5382.req3.filtering.tcp");
  ASSERT_NE(warn, nullptr);
  ASSERT_NE(warn->first("failure"), nullptr);
  EXPECT_EQ(warn->first("failure")->attr("type"), "WARN");
  EXPECT_EQ(root->attr("failures"), "2");
}

TEST(Junit, InconclusiveIsAnError) {
  auto run = hostile_run();
  run.tests[0].verdict = natcert::harness::Verdict::inconclusive;
  const auto root = MiniXml::parse(to_junit(run));
  const auto* test = find_case(*root, "rfc4787.req1.mapping.udp");
  ASSERT_NE(test, nullptr);
  ASSERT_NE(test->first("error"), nullptr);
  EXPECT_EQ(test->first("error")->attr("type"), "INCONCLUSIVE");
}

TEST(Junit, HostileTextIsEscaped) {
  const std::string xml = to_junit(hostile_run());
  EXPECT_EQ(xml.find("<script>"), std::string::npos);
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  const auto root = MiniXml::parse(xml);
  const auto* fail = find_case(*root, "rfc4787.req8.filtering.udp");
  ASSERT_NE(fail, nullptr);
  EXPECT_NE(fail->first("failure")->attr("message").find("<script>alert(1)</script>&\"'"), std::string::npos);
}

TEST(Junit, EmptyRunIsWellFormed) {
  natcert::harness::RunResult run;
  const auto root = MiniXml::parse(to_junit(run));
  EXPECT_EQ(root->attr("tests"), "0");
  EXPECT_TRUE(root->all("testsuite").empty());
}
