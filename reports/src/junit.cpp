// JUnit XML for CI systems: one <testsuite> per suite (RFC), "sanity" for the sanity probes.
#include <map>
#include <string>

#include "common.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

using detail::xml_escape;

struct Counts {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  harness::Duration time{};
};

enum class Outcome { passed, failure, error, skipped };

Outcome outcome_of(Verdict verdict, bool strict) {
  switch (verdict) {
    case Verdict::fail: return Outcome::failure;
    case Verdict::warn: return strict ? Outcome::failure : Outcome::passed;
    case Verdict::error:
    case Verdict::inconclusive: return Outcome::error;
    case Verdict::skip: return Outcome::skipped;
    case Verdict::pass:
    case Verdict::info: return Outcome::passed;
  }
  return Outcome::error;
}

void count(Counts& counts, const TestResult& test, bool strict) {
  ++counts.tests;
  counts.time += test.wall;
  switch (outcome_of(test.verdict, strict)) {
    case Outcome::failure: ++counts.failures; break;
    case Outcome::error: ++counts.errors; break;
    case Outcome::skipped: ++counts.skipped; break;
    case Outcome::passed: break;
  }
}

std::string counts_attributes(const Counts& counts) {
  return "tests=\"" + std::to_string(counts.tests) + "\" failures=\"" + std::to_string(counts.failures) +
         "\" errors=\"" + std::to_string(counts.errors) + "\" skipped=\"" + std::to_string(counts.skipped) +
         "\" time=\"" + detail::seconds_short(counts.time) + "\"";
}

// The plain-text account of a test, for <failure>/<error> bodies and <system-out>.
std::string details(const TestResult& test) {
  std::string out = "Verdict: " + std::string(harness::to_string(test.verdict));
  if (!test.reason.empty()) out += " - " + test.reason;
  out += "\n";
  if (!test.title.empty()) out += "Title: " + test.title + "\n";
  for (const auto& requirement : test.requirements) {
    out += "Requirement: " + requirement.id + " (" + std::string(harness::to_string(requirement.level)) + ") -> " +
           std::string(harness::to_string(detail::requirement_verdict(test, requirement))) + "\n";
  }
  for (const auto& check : test.checks) {
    out += "Check " + std::string(harness::to_string(check.verdict)) + " " +
           (check.requirement.empty() ? std::string("(info)") : check.requirement) + " " +
           std::string(harness::to_string(check.level)) + ": expected " + check.expected + "; observed " +
           check.observed + "\n";
  }
  for (const auto& bound : test.bound) out += "Bound " + bound.name + " = " + bound.value + "\n";
  for (const auto& packet : test.evidence) {
    out += "Evidence " + detail::seconds_text(packet.at) + " " + std::string(detail::side_name(packet.side)) + " " +
           std::string(harness::to_string(packet.direction)) + (packet.decisive ? " DECISIVE" : "") + " " +
           packet.summary + (packet.note.empty() ? "" : " (" + packet.note + ")") + "\n";
  }
  for (const auto& line : test.log) out += "Log " + detail::seconds_text(line.at) + " " + line.text + "\n";
  out += "Seed: " + std::to_string(test.seed) + "\n";
  return out;
}

void testcase(std::string& out, const TestResult& test, const std::string& classname, bool strict) {
  out += "    <testcase classname=\"" + xml_escape(classname) + "\" name=\"" + xml_escape(test.id) + "\" time=\"" +
         detail::seconds_short(test.wall) + "\">\n";
  const std::string verdict(harness::to_string(test.verdict));
  const std::string message = verdict + (test.reason.empty() ? "" : ": " + test.reason);
  switch (outcome_of(test.verdict, strict)) {
    case Outcome::failure:
      out += "      <failure type=\"" + verdict + "\" message=\"" + xml_escape(message) + "\">" +
             xml_escape(details(test)) + "</failure>\n";
      break;
    case Outcome::error:
      out += "      <error type=\"" + verdict + "\" message=\"" + xml_escape(message) + "\">" +
             xml_escape(details(test)) + "</error>\n";
      break;
    case Outcome::skipped:
      out += "      <skipped message=\"" + xml_escape(message) + "\"/>\n";
      break;
    case Outcome::passed: break;
  }
  out += "      <system-out>" + xml_escape(details(test)) + "</system-out>\n";
  out += "    </testcase>\n";
}

void property(std::string& out, std::string_view name, std::string_view value) {
  out += "      <property name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) + "\"/>\n";
}

}  // namespace

std::string to_junit(const RunResult& run, const JunitOptions& options) {
  // Group by suite, in first-appearance order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const TestResult*>> groups;
  auto add = [&](const TestResult& test, const std::string& suite) {
    if (!groups.contains(suite)) order.push_back(suite);
    groups[suite].push_back(&test);
  };
  for (const auto& test : run.tests) add(test, test.suite.empty() ? std::string("unknown") : test.suite);
  if (run.sanity_begin) add(*run.sanity_begin, "sanity");
  if (run.sanity_end) add(*run.sanity_end, "sanity");

  Counts total;
  std::map<std::string, Counts> suite_counts;
  for (const auto& suite : order) {
    for (const TestResult* test : groups[suite]) {
      count(suite_counts[suite], *test, options.strict);
      count(total, *test, options.strict);
    }
  }

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"natcert\" " + counts_attributes(total) + ">\n";
  std::size_t index = 0;
  for (const auto& suite : order) {
    out += "  <testsuite name=\"" + xml_escape(suite) + "\" id=\"" + std::to_string(index++) + "\" " +
           counts_attributes(suite_counts[suite]) + " timestamp=\"" + xml_escape(run.started) + "\" hostname=\"" +
           xml_escape(run.host.empty() ? "unknown" : run.host) + "\">\n";
    out += "    <properties>\n";
    property(out, "natcert.version", run.natcert_version);
    property(out, "natcert.git_revision", run.git_revision);
    property(out, "testbed", run.testbed);
    property(out, "dut", run.dut);
    property(out, "seed", std::to_string(run.seed));
    property(out, "strict", options.strict ? "true" : "false");
    out += "    </properties>\n";
    for (const TestResult* test : groups[suite]) testcase(out, *test, suite, options.strict);
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace natcert::reports
