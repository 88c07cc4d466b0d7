// The self-contained HTML report: inline CSS, no script, no external resource. Every string and byte
// from the run goes through html_escape() (or is hex); the Content-Security-Policy forbids scripts and
// fetches even if something slipped through.
#include <algorithm>
#include <cstdio>

#include "common.hpp"
#include "html_algs.hpp"
#include "html_timers.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

using detail::html_escape;
using harness::Level;

constexpr std::string_view style = R"css(
:root { --pass:#1a7f37; --fail:#cf222e; --warn:#bc4c00; --info:#0969da; --skip:#6e7781; --inconclusive:#8250df; --error:#86181d; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #1f2328; line-height: 1.4; }
h1 { margin-bottom: .2em; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 1.6em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .92em; }
th, td { border: 1px solid #d0d7de; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #afb8c1; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; margin: .3em 0; white-space: pre-wrap; word-break: break-all; }
.verdict { display: inline-block; min-width: 6.5em; text-align: center; font-weight: 600; color: #fff; border-radius: 3px; padding: 0 .4em; font-size: .85em; }
.v-PASS { background: var(--pass); } .v-FAIL { background: var(--fail); } .v-WARN { background: var(--warn); }
.v-INFO { background: var(--info); } .v-SKIP { background: var(--skip); } .v-INCONCLUSIVE { background: var(--inconclusive); }
.v-ERROR { background: var(--error); }
.outcome { font-size: 1.15em; font-weight: 600; padding: .4em .7em; border-left: 6px solid; background: #f6f8fa; }
.outcome.o0 { border-color: var(--pass); } .outcome.o1 { border-color: var(--fail); } .outcome.o3 { border-color: var(--inconclusive); }
details.test { border: 1px solid #d0d7de; border-radius: 4px; margin: .4em 0; padding: .3em .6em; }
details.test > summary { cursor: pointer; }
details.test[open] > summary { border-bottom: 1px solid #d0d7de; padding-bottom: .3em; margin-bottom: .4em; }
.title { color: #57606a; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; margin: .4em 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
tr.decisive td { background: #fff8c5; } tr.decisive td:first-child { border-left: 4px solid #d4a72c; }
.mark { font-weight: 600; color: #9a6700; }
.muted { color: #57606a; }
footer { margin-top: 2em; color: #57606a; font-size: .85em; }
)css";

std::string verdict_badge(Verdict verdict) {
  const std::string name(harness::to_string(verdict));
  return "<span class=\"verdict v-" + name + "\">" + name + "</span>";
}

std::string level_text(Level level) { return std::string(harness::to_string(level)); }

std::string anchor(std::string_view test_id) { return "test-" + detail::safe_name(test_id); }

std::string test_link(std::string_view test_id) {
  return "<a href=\"#" + html_escape(anchor(test_id)) + "\"><code>" + html_escape(test_id) + "</code></a>";
}

// Classic hex dump: offset, 16 bytes in hex, printable ASCII.
std::string hex_dump(const std::vector<std::uint8_t>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t offset = 0; offset < bytes.size(); offset += 16) {
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%04zx  ", offset);
    out += prefix;
    std::string ascii;
    for (std::size_t i = 0; i < 16; ++i) {
      if (offset + i < bytes.size()) {
        const std::uint8_t b = bytes[offset + i];
        out += digits[b >> 4];
        out += digits[b & 0x0F];
        out += ' ';
        ascii += (b >= 0x20 && b < 0x7F) ? static_cast<char>(b) : '.';
      } else {
        out += "   ";
      }
      if (i == 7) out += ' ';
    }
    out += " |" + html_escape(ascii) + "|\n";
  }
  return out;
}

std::string outcome_line(const RunResult& run) {
  const int code = harness::exit_code(run, false);
  const auto counts = harness::tally(run);
  std::string text;
  if (code == 3) {
    text = "INCOMPLETE: " + std::to_string(counts[Verdict::inconclusive]) + " INCONCLUSIVE and " +
           std::to_string(counts[Verdict::error]) + " ERROR";
    if (run.sanity_begin && run.sanity_begin->verdict != Verdict::pass && run.sanity_begin->verdict != Verdict::info) {
      text += " (the sanity probe at the start failed)";
    }
    text += "; fix the setup before reading the verdicts";
  } else if (code == 1) {
    text = "NOT CONFORMANT: " + std::to_string(counts[Verdict::fail]) + " test(s) FAIL a MUST or MUST NOT";
  } else if (counts[Verdict::warn] > 0) {
    text = "CONFORMANT to every MUST; " + std::to_string(counts[Verdict::warn]) +
           " test(s) WARN (a SHOULD or RECOMMENDED not met)";
  } else {
    text = "CONFORMANT: every test that applies passes";
  }
  return "<p class=\"outcome o" + std::to_string(code) + "\">" + html_escape(text) + " &mdash; exit code " +
         std::to_string(code) + " (" + std::to_string(harness::exit_code(run, true)) + " with --strict)</p>\n";
}

std::string fact_value(const std::optional<std::string>& value) {
  return value ? html_escape(*value) : std::string("<span class=\"muted\">(not established)</span>");
}

void departures_section(std::string& out, const Differential& differential) {
  out += "<section id=\"departures\">\n<h2>Departures from the reference</h2>\n";
  const std::string counts = std::to_string(differential.tests.size()) + " test(s) and " +
                             std::to_string(differential.profile.size()) + " behaviour fact(s) differ";
  std::string verdict;
  if (differential.incomplete) {
    verdict = "INCOMPLETE: a run has INCONCLUSIVE or ERROR results, so the comparison is partial; among the "
              "compared, " + counts;
  } else if (differential.departs()) {
    verdict = "DEPARTS from " + differential.against + ": " + counts;
  } else {
    verdict = "AGREES with " + differential.against + " on every compared test and behaviour fact";
  }
  const int code = differential.exit_code();
  out += "<p class=\"outcome o" + std::to_string(code) + "\">" + html_escape(verdict) + " &mdash; exit code " +
         std::to_string(code) + "</p>\n";
  out += "<p>The same tests with the same seed ran on the reference <strong>" + html_escape(differential.against) +
         "</strong>";
  if (!differential.reference_dut.empty()) out += " (" + html_escape(differential.reference_dut) + ")";
  out += ": " + std::to_string(differential.agreeing_tests) + " test(s) and " +
         std::to_string(differential.agreeing_facts) + " behaviour fact(s) agree, " +
         std::to_string(differential.not_compared.size()) + " test(s) not compared.";
  if (!differential.reference_report.empty()) {
    out += " Reference report: <a href=\"" + html_escape(differential.reference_report) + "/report.html\"><code>" +
           html_escape(differential.reference_report) + "/report.html</code></a>.";
  }
  out += "</p>\n";
  if (!differential.tests.empty()) {
    out += "<h3>Tests</h3>\n<table>\n<tr><th>Test</th><th>DUT</th><th>Reference</th><th>DUT reason</th><th>Reference reason</th></tr>\n";
    for (const auto& departure : differential.tests) {
      out += "<tr><td>" + test_link(departure.test_id) + "</td><td>" + verdict_badge(departure.dut) + "</td><td>" +
             verdict_badge(departure.reference) + "</td><td>" + html_escape(departure.dut_reason) + "</td><td>" +
             html_escape(departure.reference_reason) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  if (!differential.profile.empty()) {
    out += "<h3>Behaviour facts</h3>\n<table>\n<tr><th>Behaviour</th><th>DUT</th><th>Reference</th></tr>\n";
    for (const auto& departure : differential.profile) {
      out += "<tr><td><code>" + html_escape(departure.key) + "</code></td><td>" + fact_value(departure.dut) +
             "</td><td>" + fact_value(departure.reference) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  if (!differential.not_compared.empty()) {
    out += "<details>\n<summary>Not compared (" + std::to_string(differential.not_compared.size()) +
           " test(s): SKIP, INCONCLUSIVE or ERROR on a side)</summary>\n<table>\n<tr><th>Test</th><th>Why</th></tr>\n";
    for (const auto& item : differential.not_compared) {
      out += "<tr><td>" + test_link(item.test_id) + "</td><td>" + html_escape(item.reason) + "</td></tr>\n";
    }
    out += "</table>\n</details>\n";
  }
  out += "</section>\n";
}

void summary_section(std::string& out, const RunResult& run) {
  out += "<section id=\"summary\">\n<h2>Summary by level</h2>\n";
  out += "<p class=\"muted\">Each row counts the (test, requirement) pairs at that level by the requirement's "
         "verdict. MUST includes MUST NOT; SHOULD includes SHOULD NOT and RECOMMENDED.</p>\n";
  out += "<table>\n<tr><th>Level</th>";
  for (Verdict verdict : detail::all_verdicts) out += "<th>" + verdict_badge(verdict) + "</th>";
  out += "<th>Total</th></tr>\n";
  const auto levels = detail::summarize_levels(run);
  auto row = [&](std::string_view label, const std::array<std::size_t, detail::verdict_count>& counts) {
    out += "<tr><th>" + html_escape(label) + "</th>";
    std::size_t total = 0;
    for (Verdict verdict : detail::all_verdicts) {
      const auto n = counts[static_cast<std::size_t>(verdict)];
      total += n;
      out += std::string("<td class=\"num") + (n == 0 ? " zero" : "") + "\">" + std::to_string(n) + "</td>";
    }
    out += "<td class=\"num\">" + std::to_string(total) + "</td></tr>\n";
  };
  for (std::size_t g = 0; g < levels.counts.size(); ++g) row(detail::level_group_names[g], levels.counts[g]);
  row("Tests", harness::tally(run).counts);
  out += "</table>\n</section>\n";
}

void profile_section(std::string& out, const RunResult& run) {
  out += "<section id=\"profile\">\n<h2>Behaviour profile</h2>\n";
  if (const auto legacy = detail::legacy_nat_type(run.profile)) {
    out += "<p>Legacy RFC 3489 classification: <strong>" + html_escape(*legacy) +
           "</strong> <span class=\"muted\">(from udp.mapping and udp.filtering; RFC 4787 replaces these "
           "terms)</span></p>\n";
  }
  if (run.profile.empty()) {
    out += "<p class=\"muted\">No test recorded a behaviour fact.</p>\n</section>\n";
    return;
  }
  out += "<table>\n<tr><th>Behaviour</th><th>Value</th><th>Established by</th></tr>\n";
  for (const auto& entry : run.profile) {
    out += "<tr><td><code>" + html_escape(entry.key) + "</code></td><td>" + html_escape(entry.value) + "</td><td>" +
           (entry.test_id.empty() ? std::string() : test_link(entry.test_id)) + "</td></tr>\n";
  }
  out += "</table>\n</section>\n";
}

void requirements_section(std::string& out, const RunResult& run) {
  struct Row {
    const harness::Requirement* requirement;
    const TestResult* test;
  };
  std::vector<Row> rows;
  for (const auto& test : run.tests) {
    for (const auto& requirement : test.requirements) rows.push_back({&requirement, &test});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.requirement->id != b.requirement->id) return detail::natural_less(a.requirement->id, b.requirement->id);
    return false;  // keep test order within one requirement
  });
  out += "<section id=\"requirements\">\n<h2>Requirements</h2>\n";
  if (rows.empty()) {
    out += "<p class=\"muted\">No tests ran.</p>\n</section>\n";
    return;
  }
  out += "<table>\n<tr><th>Requirement</th><th>Level</th><th>Test</th><th>Verdict</th></tr>\n";
  for (const auto& row : rows) {
    out += "<tr><td>" + html_escape(row.requirement->id) + "</td><td>" + level_text(row.requirement->level) +
           "</td><td>" + test_link(row.test->id) + "</td><td>" +
           verdict_badge(detail::requirement_verdict(*row.test, *row.requirement)) + "</td></tr>\n";
  }
  out += "</table>\n</section>\n";
}

void test_block(std::string& out, const TestResult& test) {
  const bool open = test.verdict != Verdict::pass && test.verdict != Verdict::info && test.verdict != Verdict::skip;
  out += "<details class=\"test\" id=\"" + html_escape(anchor(test.id)) + "\"" + (open ? " open" : "") + ">\n";
  out += "<summary>" + verdict_badge(test.verdict) + " <code>" + html_escape(test.id) + "</code> <span class=\"title\">" +
         html_escape(test.title) + "</span></summary>\n";

  out += "<dl class=\"facts\">\n";
  if (!test.reason.empty()) out += "<dt>Reason</dt><dd>" + html_escape(test.reason) + "</dd>\n";
  out += "<dt>Requirements</dt><dd>";
  if (test.requirements.empty()) out += "<span class=\"muted\">none</span>";
  for (std::size_t i = 0; i < test.requirements.size(); ++i) {
    const auto& requirement = test.requirements[i];
    out += (i ? "<br>" : "") + html_escape(requirement.id) + " (" + level_text(requirement.level) + ") " +
           verdict_badge(detail::requirement_verdict(test, requirement));
  }
  out += "</dd>\n<dt>Suite</dt><dd>" + html_escape(test.suite) + "</dd>\n";
  out += "<dt>Time</dt><dd>" + detail::seconds_short(test.wall) + " s wall, " +
         detail::seconds_short(test.virtual_elapsed) + " s on the testbed clock</dd>\n";
  out += "<dt>Seed</dt><dd class=\"mono\">" + std::to_string(test.seed) + "</dd>\n</dl>\n";

  if (!test.checks.empty()) {
    out += "<h4>Checks</h4>\n<table>\n<tr><th>Verdict</th><th>Requirement</th><th>Level</th><th>Expected</th>"
           "<th>Observed</th></tr>\n";
    for (const auto& check : test.checks) {
      out += "<tr><td>" + verdict_badge(check.verdict) + "</td><td>" +
             (check.requirement.empty() ? std::string("<span class=\"muted\">(characterisation)</span>")
                                        : html_escape(check.requirement)) +
             "</td><td>" + level_text(check.level) + "</td><td>" + html_escape(check.expected) + "</td><td>" +
             html_escape(check.observed) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  if (!test.bound.empty()) {
    out += "<h4>Bound values</h4>\n<table>\n<tr><th>Name</th><th>Value</th></tr>\n";
    for (const auto& bound : test.bound) {
      out += "<tr><td><code>" + html_escape(bound.name) + "</code></td><td><code>" + html_escape(bound.value) +
             "</code></td></tr>\n";
    }
    out += "</table>\n";
  }
  if (!test.evidence.empty()) {
    out += "<h4>Evidence</h4>\n<p class=\"muted\">pcap: <code>pcap/" +
           html_escape(pcap_file_name(test.id, Side::inside)) + "</code>, <code>pcap/" +
           html_escape(pcap_file_name(test.id, Side::outside)) + "</code></p>\n";
    out += "<table>\n<tr><th>Time (s)</th><th>Side</th><th>Direction</th><th>Summary</th><th>Note</th><th>Bytes</th></tr>\n";
    for (const auto& packet : test.evidence) {
      out += std::string("<tr") + (packet.decisive ? " class=\"decisive\"" : "") + "><td class=\"num mono\">" +
             detail::seconds_text(packet.at) + "</td><td>" + std::string(detail::side_name(packet.side)) + "</td><td>" +
             std::string(harness::to_string(packet.direction)) + "</td><td class=\"mono\">" +
             html_escape(packet.summary) + "</td><td>" + (packet.decisive ? "<span class=\"mark\">decisive</span> " : "") +
             html_escape(packet.note) + "</td><td><details><summary>" + std::to_string(packet.bytes.size()) +
             " bytes</summary><pre>" + hex_dump(packet.bytes) + "</pre></details></td></tr>\n";
    }
    out += "</table>\n";
  }
  if (!test.profile.empty()) {
    out += "<h4>Behaviour facts</h4>\n<table>\n<tr><th>Behaviour</th><th>Value</th></tr>\n";
    for (const auto& entry : test.profile) {
      out += "<tr><td><code>" + html_escape(entry.key) + "</code></td><td>" + html_escape(entry.value) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  if (!test.log.empty()) {
    out += "<h4>Log</h4>\n<pre>";
    for (const auto& line : test.log) out += "[" + detail::seconds_text(line.at) + "] " + html_escape(line.text) + "\n";
    out += "</pre>\n";
  }
  out += "</details>\n";
}

void tests_section(std::string& out, const RunResult& run) {
  out += "<section id=\"tests\">\n<h2>Tests</h2>\n";
  if (run.tests.empty()) out += "<p class=\"muted\">No tests ran.</p>\n";
  std::string current_suite;
  bool first = true;
  for (const auto& test : run.tests) {
    if (first || test.suite != current_suite) {
      out += "<h3>" + html_escape(test.suite.empty() ? std::string("(no suite)") : test.suite) + "</h3>\n";
      current_suite = test.suite;
      first = false;
    }
    test_block(out, test);
  }
  out += "</section>\n";
}

void run_section(std::string& out, const RunResult& run) {
  out += "<section id=\"run\">\n<h2>Run</h2>\n<table>\n";
  auto row = [&](std::string_view label, const std::string& value) {
    out += "<tr><th>" + html_escape(label) + "</th><td>" + value + "</td></tr>\n";
  };
  row("natcert", html_escape(run.natcert_version) + " (git " + html_escape(run.git_revision) + ")");
  row("DUT", html_escape(run.dut));
  row("Testbed", html_escape(run.testbed));
  row("Seed", "<span class=\"mono\">" + std::to_string(run.seed) + "</span>");
  row("Started", html_escape(run.started));
  row("Finished", html_escape(run.finished));
  row("Wall time", detail::seconds_short(run.wall) + " s");
  row("Host", html_escape(run.host));
  row("Jobs", std::to_string(run.jobs));
  out += "</table>\n";

  out += "<h3>Sanity probes</h3>\n";
  if (!run.sanity_begin && !run.sanity_end) out += "<p class=\"muted\">Not run.</p>\n";
  if (run.sanity_begin) test_block(out, *run.sanity_begin);
  if (run.sanity_end) test_block(out, *run.sanity_end);

  out += "<details>\n<summary>DUT configuration (" + std::to_string(run.dut_config.size()) + " settings)</summary>\n";
  if (run.dut_config.empty()) {
    out += "<p class=\"muted\">The testbed did not report a configuration.</p>\n";
  } else {
    out += "<table>\n<tr><th>Setting</th><th>Value</th></tr>\n";
    for (const auto& [key, value] : run.dut_config) {
      out += "<tr><td><code>" + html_escape(key) + "</code></td><td><code>" + html_escape(value) + "</code></td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "</details>\n</section>\n";
}

}  // namespace

std::string to_html(const RunResult& run, const std::optional<Differential>& differential) {
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"natcert " + html_escape(run.natcert_version) + " (" +
         std::string(schema_name) + " v" + std::to_string(schema_version) + ")\">\n";
  out += "<title>natcert report: " + html_escape(run.dut) + "</title>\n";
  out += "<style>" + std::string(style) + "</style>\n</head>\n<body>\n";
  out += "<header>\n<h1>natcert conformance report</h1>\n<p>DUT: <strong>" + html_escape(run.dut) +
         "</strong> on the " + html_escape(run.testbed) + " testbed, " + html_escape(run.started) + "</p>\n";
  out += outcome_line(run);
  out += "<nav>";
  if (differential) out += "<a href=\"#departures\">Departures</a>";
  out += "<a href=\"#summary\">Summary</a><a href=\"#profile\">Behaviour profile</a>"
         "<a href=\"#requirements\">Requirements</a><a href=\"#tests\">Tests</a><a href=\"#run\">Run</a></nav>\n";
  out += "</header>\n<main>\n";
  if (differential) departures_section(out, *differential);
  summary_section(out, run);
  profile_section(out, run);
  detail::html_algs_section(out, run);
  detail::html_timers_section(out, run);
  requirements_section(out, run);
  tests_section(out, run);
  run_section(out, run);
  out += "</main>\n<footer>Generated by natcert " + html_escape(run.natcert_version) + " from a " +
         std::string(schema_name) + " v" + std::to_string(schema_version) +
         " result; re-render with <code>natcert report DIR</code>.</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace natcert::reports
