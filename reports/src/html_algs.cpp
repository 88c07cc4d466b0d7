// Protocol | outcome | evidence, from the behaviour facts the RFC 3027 tests record under `alg.`
// ("works directly", "works through ALG", "broken"). The evidence is the test that established the fact
// and what it observed, so a reader sees why without opening the test.
#include "html_algs.hpp"

#include "common.hpp"

namespace natcert::reports::detail {
namespace {

const harness::TestResult* find_test(const harness::RunResult& run, const std::string& id) {
  for (const auto& test : run.tests) {
    if (test.id == id) return &test;
  }
  return nullptr;
}

// The observation behind a fact: the test's checks and characterisations, else its reason.
std::string observed_text(const harness::TestResult& test) {
  std::string text;
  for (const auto& check : test.checks) {
    if (check.observed.empty()) continue;
    if (!text.empty()) text += "; ";
    text += check.observed;
  }
  return text.empty() ? test.reason : text;
}

std::string outcome_class(const std::string& value) {
  if (value == "broken" || value.starts_with("ALG broken")) return "v-FAIL";
  if (value == "works through ALG") return "v-INFO";
  if (value == "works directly") return "v-PASS";
  return "v-SKIP";
}

}  // namespace

void html_algs_section(std::string& out, const harness::RunResult& run) {
  constexpr std::string_view prefix = "alg.";
  bool any = false;
  for (const auto& entry : run.profile) any = any || entry.key.starts_with(prefix);
  if (!any) return;
  out += "<section id=\"algs\">\n<h2>Protocols and ALGs (RFC 3027)</h2>\n"
         "<p class=\"muted\">Whether each protocol crosses the DUT as it is (<em>works directly</em>), only "
         "because the DUT rewrites its payload or opens its extra flows (<em>works through ALG</em>), or not at "
         "all (<em>broken</em>). docs/algs.md explains each row.</p>\n"
         "<table>\n<tr><th>Protocol</th><th>Outcome</th><th>Evidence</th></tr>\n";
  for (const auto& entry : run.profile) {
    if (!entry.key.starts_with(prefix)) continue;
    std::string evidence;
    if (!entry.test_id.empty()) {
      const std::string anchor = "test-" + safe_name(entry.test_id);
      evidence = "<a href=\"#" + html_escape(anchor) + "\"><code>" + html_escape(entry.test_id) + "</code></a>";
      if (const harness::TestResult* test = find_test(run, entry.test_id)) {
        evidence += " " + std::string(harness::to_string(test->verdict)) + ": " + html_escape(observed_text(*test));
      }
    }
    out += "<tr><td><code>" + html_escape(entry.key.substr(prefix.size())) + "</code></td><td><span class=\"verdict " +
           outcome_class(entry.value) + "\">" + html_escape(entry.value) + "</span></td><td>" + evidence +
           "</td></tr>\n";
  }
  out += "</table>\n</section>\n";
}

}  // namespace natcert::reports::detail
