// Report directories end to end on a real harness run: write, read back, re-render.
#include <gtest/gtest.h>

#include <filesystem>

#include "fixtures.hpp"
#include "mini_xml.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::reports::testing::real_run;
using natcert::reports::testing::TempDir;

TEST(Files, RealRunHasTheExpectedVerdicts) {
  const auto run = real_run();
  ASSERT_EQ(run.tests.size(), 4u);
  EXPECT_EQ(run.tests[0].verdict, Verdict::pass);
  EXPECT_EQ(run.tests[1].verdict, Verdict::warn);  // port-restricted cone filters by port
  EXPECT_EQ(run.tests[2].verdict, Verdict::skip);
  EXPECT_EQ(run.tests[3].verdict, Verdict::error);
  EXPECT_FALSE(run.tests[0].evidence.empty());
}

TEST(Files, WriteReadRerender) {
  TempDir dir;
  const auto run = real_run();
  const auto written = write_report(run, dir.path());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "report.json"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "junit.xml"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "report.html"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "pcap" / "example.req1.eim.inside.pcap"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "pcap" / "example.req1.eim.outside.pcap"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "pcap" / "sanity.begin.outside.pcap"));

  const auto back = read_report(dir.path());
  EXPECT_EQ(to_json(back), read_text_file(dir.path() / "report.json"));
  // Re-rendering from the JSON alone gives the same JUnit and HTML (and pcaps).
  EXPECT_EQ(to_junit(back), read_text_file(dir.path() / "junit.xml"));
  EXPECT_EQ(to_html(back), read_text_file(dir.path() / "report.html"));
  const auto pcap = read_text_file(dir.path() / "pcap" / "example.req1.eim.outside.pcap");
  const auto again = pcap_bytes(back.tests[0].evidence, Side::outside);
  EXPECT_EQ(std::string(again.begin(), again.end()), pcap);
  EXPECT_NO_THROW(natcert::reports::testing::MiniXml::parse(read_text_file(dir.path() / "junit.xml")));
  EXPECT_EQ(natcert::harness::exit_code(back), natcert::harness::exit_code(run));
}

TEST(Files, SelectedFormatsOnly) {
  TempDir dir;
  write_report(real_run(), dir.path(), parse_formats("json,html"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "report.json"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "report.html"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "junit.xml"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "pcap"));
}

TEST(Files, ParseFormats) {
  const auto all = parse_formats("all");
  EXPECT_TRUE(all.json && all.junit && all.html && all.pcap);
  const auto some = parse_formats(" junit , pcap ");
  EXPECT_FALSE(some.json);
  EXPECT_TRUE(some.junit);
  EXPECT_TRUE(some.pcap);
  EXPECT_THROW(parse_formats("json,pdf"), ReportError);
  EXPECT_THROW(parse_formats(","), ReportError);
}

TEST(Files, ReadErrorsAreOneLine) {
  TempDir dir;
  try {
    (void)read_report(dir.path());
    FAIL();
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("report.json: no such file"), std::string::npos) << e.what();
  }
  write_text_file(dir.path() / "report.json", "{not json");
  try {
    (void)read_report(dir.path());
    FAIL();
  } catch (const ReportError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("report.json: malformed JSON"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(Files, UnwritableDirectoryIsAnError) {
  TempDir dir;
  write_text_file(dir.path() / "file", "x");
  EXPECT_THROW(write_report(real_run(), dir.path() / "file" / "sub"), ReportError);
}

TEST(Files, OneLine) {
  EXPECT_EQ(one_line("a\nb\x1b[0m\xff"), "a\\x0ab\\x1b[0m\xEF\xBF\xBD");
}
