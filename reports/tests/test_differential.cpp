// Differential runs: the departures of a DUT from a reference, their JSON round trip and HTML section.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::harness::ProfileEntry;
using natcert::reports::testing::hostile;
using natcert::reports::testing::hostile_run;
using natcert::reports::testing::TempDir;
using Json = nlohmann::json;

namespace {

struct Spec {
  std::string id;
  Verdict verdict;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> facts{};
};

RunResult run_of(const std::vector<Spec>& specs, std::string dut = "reference rfc-strict") {
  RunResult run;
  run.dut = std::move(dut);
  TestResult probe;
  probe.id = "sanity.begin";
  probe.verdict = Verdict::pass;
  run.sanity_begin = probe;
  for (const auto& spec : specs) {
    TestResult test;
    test.id = spec.id;
    test.verdict = spec.verdict;
    test.reason = spec.reason;
    for (const auto& [key, value] : spec.facts) test.profile.push_back(ProfileEntry{key, value, spec.id});
    run.profile.insert(run.profile.end(), test.profile.begin(), test.profile.end());
    run.tests.push_back(std::move(test));
  }
  return run;
}

RunResult symmetric_dut() {
  return run_of({{"rfc4787.req1.mapping.udp", Verdict::fail, "RFC4787-REQ-1 (MUST) not met",
                  {{"udp.mapping", "address-and-port-dependent"}}},
                 {"rfc4787.req8.filtering.udp", Verdict::pass, "", {{"udp.filtering", "address-dependent"}}},
                 {"rfc4787.req9.hairpinning", Verdict::pass, "", {{"hairpinning.source", "other: 10.0.0.10:40123"}}},
                 {"rfc4787.req5.timer", Verdict::skip, "needs virtual time"},
                 {"rfc4787.req12.icmp", Verdict::inconclusive, "no answer", {{"icmp.seen", "no"}}}},
                "symmetric");
}

RunResult strict_reference() {
  return run_of({{"rfc4787.req1.mapping.udp", Verdict::pass, "", {{"udp.mapping", "endpoint-independent"}}},
                 {"rfc4787.req8.filtering.udp", Verdict::pass, "", {{"udp.filtering", "address-dependent"},
                                                                     {"udp.filtering.extra", "yes"}}},
                 {"rfc4787.req9.hairpinning", Verdict::pass, "", {{"hairpinning.source", "other: 10.0.0.10:40555"}}},
                 {"rfc4787.req5.timer", Verdict::pass, "", {{"udp.mapping-lifetime", "alive at 5 min"}}},
                 {"rfc4787.req12.icmp", Verdict::pass, "", {{"icmp.seen", "yes"}}}});
}

}  // namespace

TEST(Differential, IdenticalRunsAgree) {
  const RunResult run = strict_reference();
  const Differential d = compare_runs(run, run, "reference:rfc-strict");
  EXPECT_FALSE(d.departs());
  EXPECT_FALSE(d.incomplete);
  EXPECT_EQ(d.exit_code(), 0);
  EXPECT_EQ(d.agreeing_tests, 5u);
  EXPECT_EQ(d.agreeing_facts, 6u);
  EXPECT_TRUE(d.not_compared.empty());
  EXPECT_EQ(d.against, "reference:rfc-strict");
  EXPECT_EQ(d.reference_dut, "reference rfc-strict");
}

TEST(Differential, VerdictAndFactDepartures) {
  RunResult dut = symmetric_dut();
  dut.tests[4].verdict = Verdict::pass;  // complete, so the exit code says "departs"
  dut.tests[4].profile.clear();
  dut.profile.pop_back();
  const Differential d = compare_runs(dut, strict_reference(), "reference:rfc-strict");

  ASSERT_EQ(d.tests.size(), 1u);
  EXPECT_EQ(d.tests[0].test_id, "rfc4787.req1.mapping.udp");
  EXPECT_EQ(d.tests[0].dut, Verdict::fail);
  EXPECT_EQ(d.tests[0].reference, Verdict::pass);
  EXPECT_EQ(format_departure(d.tests[0]),
            "rfc4787.req1.mapping.udp: DUT FAIL, reference PASS (DUT: RFC4787-REQ-1 (MUST) not met)");

  // By key: the DUT's facts, then the reference's alone. Ports and addresses are masked, so the
  // two hairpinning sources agree; the SKIPped timer test's fact is not compared.
  ASSERT_EQ(d.profile.size(), 3u);
  EXPECT_EQ(d.profile[0].key, "udp.mapping");
  EXPECT_EQ(d.profile[0].dut, "address-and-port-dependent");
  EXPECT_EQ(d.profile[0].reference, "endpoint-independent");
  EXPECT_EQ(format_departure(d.profile[0]),
            "profile udp.mapping: DUT address-and-port-dependent, reference endpoint-independent");
  EXPECT_EQ(d.profile[1].key, "icmp.seen");  // the DUT's PASS established nothing
  EXPECT_FALSE(d.profile[1].dut.has_value());
  EXPECT_EQ(format_departure(d.profile[1]), "profile icmp.seen: DUT (not established), reference yes");
  EXPECT_EQ(d.profile[2].key, "udp.filtering.extra");
  EXPECT_EQ(d.agreeing_facts, 2u);  // udp.filtering, hairpinning.source

  EXPECT_EQ(d.agreeing_tests, 3u);
  ASSERT_EQ(d.not_compared.size(), 1u);
  EXPECT_EQ(d.not_compared[0].test_id, "rfc4787.req5.timer");
  EXPECT_EQ(d.not_compared[0].reason, "DUT: SKIP (needs virtual time)");
  EXPECT_FALSE(d.not_compared[0].incomplete);
  EXPECT_FALSE(d.incomplete);
  EXPECT_EQ(d.exit_code(), 1);
}

TEST(Differential, IncompleteResultsAreNotComparedAndMakeTheRunIncomplete) {
  const Differential d = compare_runs(symmetric_dut(), strict_reference(), "reference:rfc-strict");
  ASSERT_EQ(d.not_compared.size(), 2u);
  EXPECT_EQ(d.not_compared[1].test_id, "rfc4787.req12.icmp");
  EXPECT_EQ(d.not_compared[1].reason, "DUT: INCONCLUSIVE (no answer)");
  EXPECT_TRUE(d.not_compared[1].incomplete);
  for (const auto& departure : d.profile) EXPECT_NE(departure.key, "icmp.seen");  // its test is left out
  EXPECT_TRUE(d.incomplete);
  EXPECT_EQ(d.exit_code(), 3);  // even though it departs too

  RunResult gated = strict_reference();
  gated.sanity_begin->verdict = Verdict::inconclusive;
  EXPECT_EQ(compare_runs(gated, strict_reference(), "r").exit_code(), 3);
  RunResult broken_reference = strict_reference();
  broken_reference.tests[0].verdict = Verdict::error;
  const Differential both = compare_runs(strict_reference(), broken_reference, "r");
  EXPECT_EQ(both.exit_code(), 3);
  EXPECT_EQ(both.not_compared[0].reason, "reference: ERROR");
}

TEST(Differential, TestsInOneRunOnlyAreNotCompared) {
  RunResult dut = strict_reference();
  dut.tests.erase(dut.tests.begin());
  dut.tests.push_back(TestResult{});
  dut.tests.back().id = "rfc9999.new";
  dut.tests.back().verdict = Verdict::pass;
  const Differential d = compare_runs(dut, strict_reference(), "r");
  ASSERT_EQ(d.not_compared.size(), 2u);
  EXPECT_EQ(d.not_compared[0].test_id, "rfc9999.new");
  EXPECT_EQ(d.not_compared[0].reason, "only in the DUT's run");
  EXPECT_EQ(d.not_compared[1].test_id, "rfc4787.req1.mapping.udp");
  EXPECT_EQ(d.not_compared[1].reason, "only in the reference's run");
  EXPECT_FALSE(d.incomplete);  // the runs themselves are complete
  EXPECT_TRUE(d.profile.empty()) << format_departure(d.profile[0]);  // udp.mapping's test is left out
}

TEST(Differential, DepartureLinesAreOneLine) {
  RunResult dut = strict_reference();
  dut.tests[0].verdict = Verdict::fail;
  dut.tests[0].reason = "line\nbreak \x1b[31m";
  const Differential d = compare_runs(dut, strict_reference(), "r");
  ASSERT_EQ(d.tests.size(), 1u);
  const std::string line = format_departure(d.tests[0]);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
}

TEST(Differential, JsonRoundTrip) {
  Differential d = compare_runs(symmetric_dut(), strict_reference(), std::string("reference:") + hostile);
  d.reference_report = "against";
  d.tests.push_back({hostile, Verdict::warn, Verdict::info, hostile, "bad \xff utf-8"});
  const RunResult run = hostile_run();
  const std::string text = to_json(run, d);

  const Json j = Json::parse(text);
  ASSERT_TRUE(j.contains("differential"));
  const Json& dj = j["differential"];
  EXPECT_EQ(dj["exit_code"], 3);
  EXPECT_EQ(dj["reference_report"], "against");
  EXPECT_EQ(dj["tests"][0]["test"], "rfc4787.req1.mapping.udp");
  EXPECT_EQ(dj["tests"][0]["dut_verdict"], "FAIL");
  EXPECT_EQ(dj["tests"][0]["reference_verdict"], "PASS");
  EXPECT_EQ(dj["profile"][0]["key"], "udp.mapping");
  EXPECT_EQ(dj["profile"][0]["reference_value"], "endpoint-independent");
  EXPECT_TRUE(dj["profile"][1]["dut_value"].is_null());  // udp.filtering.extra: the reference's alone

  std::optional<Differential> read;
  const RunResult back = from_json(text, &read);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(to_json(back, read), text);
  EXPECT_EQ(read->tests.size(), d.tests.size());
  EXPECT_EQ(read->not_compared.size(), d.not_compared.size());

  // Without a differential, the report is as before and reads back as none.
  EXPECT_EQ(to_json(run).find("\"differential\""), std::string::npos);
  std::optional<Differential> none = d;
  (void)from_json(to_json(run), &none);
  EXPECT_FALSE(none.has_value());
}

TEST(Differential, JsonReaderValidatesTheDifferential) {
  Json j = Json::parse(to_json(hostile_run(), compare_runs(symmetric_dut(), strict_reference(), "r")));
  j["differential"]["tests"][0]["dut_verdict"] = "MAYBE";
  try {
    (void)from_json(j.dump());
    FAIL() << "accepted an unknown verdict";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("$.differential.tests[0].dut_verdict"), std::string::npos) << e.what();
  }
  j["differential"] = 3;
  EXPECT_THROW((void)from_json(j.dump()), ReportError);
}

TEST(Differential, HtmlSectionAndReRendering) {
  Differential d = compare_runs(symmetric_dut(), strict_reference(), std::string("reference:") + hostile);
  d.reference_report = "against";
  const std::string html = to_html(hostile_run(), d);
  EXPECT_NE(html.find("<h2>Departures from the reference</h2>"), std::string::npos);
  EXPECT_NE(html.find("href=\"against/report.html\""), std::string::npos);
  EXPECT_NE(html.find("address-and-port-dependent"), std::string::npos);
  EXPECT_NE(html.find("(not established)"), std::string::npos);
  EXPECT_EQ(html.find(hostile), std::string::npos);  // escaped
  EXPECT_LT(html.find("id=\"departures\""), html.find("id=\"summary\""));
  EXPECT_EQ(to_html(hostile_run()).find("id=\"departures\""), std::string::npos);

  // The report directory carries it, and reading it back re-renders the same page.
  TempDir dir;
  write_report(hostile_run(), dir.path(), Formats{true, false, true, false}, {}, d);
  std::optional<Differential> read;
  const RunResult back = read_report(dir.path(), &read);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(to_html(back, read), read_text_file(dir.path() / "report.html"));
}
