// The HTML report's ALG table: one row per alg.* fact, with the test and what it observed, escaped.
#include <gtest/gtest.h>

#include "natcert/reports/reports.hpp"

using namespace natcert;

namespace {

harness::RunResult run_with_algs() {
  harness::RunResult run;
  run.dut = "reference:rfc-strict";
  harness::TestResult sip;
  sip.id = "rfc3027.s4-5.sip-invite-sdp";
  sip.verdict = harness::Verdict::warn;
  sip.checks.push_back({.requirement = "RFC3027-4.5", .observed = "c=IN IP4 203.0.113.2 <not the mapping>"});
  run.tests.push_back(sip);
  run.profile.push_back({"udp.mapping", "endpoint-independent", "rfc4787.req1.mapping.udp"});
  run.profile.push_back({"alg.sip", "works through ALG", sip.id});
  run.profile.push_back({"alg.ipsec.ah", "broken", "missing.test"});
  return run;
}

}  // namespace

TEST(HtmlAlgs, TableListsEveryAlgFactWithEvidence) {
  const std::string html = reports::to_html(run_with_algs());
  const auto section = html.find("<section id=\"algs\">");
  ASSERT_NE(section, std::string::npos);
  const std::string table = html.substr(section, html.find("</section>", section) - section);
  EXPECT_NE(table.find("<code>sip</code>"), std::string::npos);
  EXPECT_NE(table.find("v-INFO\">works through ALG"), std::string::npos);
  EXPECT_NE(table.find("href=\"#test-rfc3027.s4-5.sip-invite-sdp\""), std::string::npos);
  EXPECT_NE(table.find("WARN: c=IN IP4 203.0.113.2 &lt;not the mapping&gt;"), std::string::npos);
  EXPECT_NE(table.find("<code>ipsec.ah</code>"), std::string::npos);
  EXPECT_NE(table.find("v-FAIL\">broken"), std::string::npos);
  EXPECT_EQ(table.find("udp.mapping"), std::string::npos);
}

TEST(HtmlAlgs, NoAlgFactsNoSection) {
  harness::RunResult run;
  run.profile.push_back({"udp.mapping", "endpoint-independent", "x"});
  EXPECT_EQ(reports::to_html(run).find("id=\"algs\""), std::string::npos);
}
