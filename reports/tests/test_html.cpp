// HTML: self-contained, every DUT-provided string and byte escaped, the expected sections present.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::reports::testing::hostile_run;
using natcert::reports::testing::real_run;

namespace {

std::size_t occurrences(const std::string& haystack, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++count;
  return count;
}

}  // namespace

TEST(Html, HostileStringsAreEscaped) {
  const std::string html = to_html(hostile_run());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);  // control characters from the reason
  EXPECT_EQ(html.find('\0'), std::string::npos);
  EXPECT_EQ(html.find("\xff"), std::string::npos);  // invalid UTF-8 replaced
  EXPECT_NE(html.find("host&lt;1&gt;"), std::string::npos);
  // The payload bytes "<script>" show in the hex dump's ASCII column, escaped.
  EXPECT_NE(html.find("|&lt;script&gt;..&amp;|"), std::string::npos);
  EXPECT_NE(html.find("3c 73 63 72 69 70 74 3e"), std::string::npos);
}

TEST(Html, SelfContained) {
  const std::string html = to_html(hostile_run());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_EQ(occurrences(html, "<details"), occurrences(html, "</details>"));
  EXPECT_EQ(occurrences(html, "<table>"), occurrences(html, "</table>"));
  EXPECT_EQ(occurrences(html, "<tr"), occurrences(html, "</tr>"));
}

TEST(Html, Contents) {
  const std::string html = to_html(hostile_run());
  EXPECT_NE(html.find("Summary by level"), std::string::npos);
  EXPECT_NE(html.find("Behaviour profile"), std::string::npos);
  EXPECT_NE(html.find("port-restricted cone"), std::string::npos);
  EXPECT_NE(html.find("<h2>Requirements</h2>"), std::string::npos);
  EXPECT_NE(html.find("RFC4787-REQ-13a"), std::string::npos);
  EXPECT_NE(html.find("DUT configuration (2 settings)"), std::string::npos);
  EXPECT_NE(html.find("class=\"verdict v-FAIL\""), std::string::npos);
  EXPECT_NE(html.find("tr class=\"decisive\""), std::string::npos);
  EXPECT_NE(html.find("0.001500000"), std::string::npos);
  EXPECT_NE(html.find("X1&#39;"), std::string::npos);  // bound value names are escaped too
  EXPECT_NE(html.find("pcap/rfc4787.req1.mapping.udp.inside.pcap"), std::string::npos);
  EXPECT_NE(html.find("INCOMPLETE"), std::string::npos);  // the ERROR makes the run incomplete
  EXPECT_NE(html.find("id=\"test-rfc4787.req1.mapping.udp\""), std::string::npos);
  EXPECT_NE(html.find("href=\"#test-rfc4787.req1.mapping.udp\""), std::string::npos);
}

TEST(Html, RealRunRenders) {
  const std::string html = to_html(real_run());
  EXPECT_EQ(html.find("<script"), std::string::npos);  // the example sends "<script>" as a payload
  EXPECT_NE(html.find("example.req1.eim"), std::string::npos);
  EXPECT_NE(html.find("sanity.begin"), std::string::npos);
}
