// natcert run: runs a selection of tests on a DUT, writes the report directory, prints progress on
// stderr, and exits with the run's code (or the expectation file's verdict with --expect).
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/reference/config.hpp"
#include "natcert/reference/packet.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::cli {
namespace {

struct RunCommandOptions {
  std::string dut = "reference:rfc-strict";
  std::vector<std::string> suites;
  std::vector<std::string> tests;
  bool strict = false;
  std::uint64_t seed = 1;
  std::string out = "natcert-report";
  std::string format = "json,junit,html,pcap";
  std::size_t jobs = 0;
  std::string expect;
  std::vector<std::string> skip;
  std::string against;
  harness::PortInterfaces interfaces;  // --inside-if, --outside-if (kind "ports" profiles)
  bool no_sanity = false;
  std::optional<std::uint32_t> timer_budget;  // seconds; unset: the DUT profile's realtime_budget
  bool quiet = false;
};

std::string tally_text(const harness::RunResult& run) {
  const auto counts = harness::tally(run);
  std::string out = std::to_string(counts.total()) + " test(s)";
  std::string parts;
  for (harness::Verdict verdict : {harness::Verdict::pass, harness::Verdict::fail, harness::Verdict::warn,
                          harness::Verdict::info, harness::Verdict::skip, harness::Verdict::inconclusive,
                          harness::Verdict::error}) {
    if (counts[verdict] == 0) continue;
    parts += (parts.empty() ? "" : ", ") + std::to_string(counts[verdict]) + " " + std::string(harness::to_string(verdict));
  }
  return parts.empty() ? out : out + ": " + parts;
}

// Problems worth a line at the end of the run, whatever scrolled by.
void print_problems(const harness::RunResult& run, bool strict) {
  auto line = [](const harness::TestResult& test) {
    std::fprintf(stderr, "  %s %s: %s\n", std::string(harness::to_string(test.verdict)).c_str(),
                 reports::one_line(test.id).c_str(), reports::one_line(test.reason).c_str());
  };
  if (run.sanity_begin && run.sanity_begin->verdict != harness::Verdict::pass &&
      run.sanity_begin->verdict != harness::Verdict::info) {
    line(*run.sanity_begin);
  }
  for (const auto& test : run.tests) {
    const auto v = test.verdict;
    if (v == harness::Verdict::fail || v == harness::Verdict::error || v == harness::Verdict::inconclusive ||
        (strict && v == harness::Verdict::warn)) {
      line(test);
    }
  }
  if (run.sanity_end && run.sanity_end->verdict != harness::Verdict::pass &&
      run.sanity_end->verdict != harness::Verdict::info) {
    line(*run.sanity_end);
  }
}

void warn_stale_expectations(const reports::ExpectationOutcome& outcome, const reports::Expectations& expectations) {
  for (const auto* entry : outcome.unused) {
    bool known = false;
    for (const auto* test : registry().all()) {
      if (harness::glob_match(entry->pattern, test->id)) {
        known = true;
        break;
      }
    }
    if (!known) {
      std::fprintf(stderr, "natcert run: note: %s:%zu: \"%s\" matches no registered test (stale entry?)\n",
                   expectations.source.c_str(), entry->line, reports::one_line(entry->pattern).c_str());
    }
  }
}

// --against: only the in-process reference, checked before the DUT is set up or run.
std::unique_ptr<harness::Testbed> make_reference_testbed(const std::string& text, const std::filesystem::path& pcaps) {
  const DutSpec spec = parse_dut(text);
  const std::string shown = reports::one_line(text);
  if (spec.kind != "reference" || spec.argument.empty()) {
    throw UsageError("--against \"" + shown + "\": expected reference:PRESET[,key=value...] (presets: " +
                     preset_names() + ")");
  }
  ref::NatConfig config;
  std::string error;
  if (!ref::make_config(spec.argument, config, error)) {
    throw UsageError("--against \"" + shown + "\": " + reports::one_line(error));
  }
  return make_testbed(spec, pcaps.string());
}

// The reference answers "what would this model do with the DUT's addressing plan?": unless the spec
// sets external-addresses itself, it maps onto the external addresses the DUT declares, because the
// pooling test (RFC 4787 REQ-2) and the ports a second host gets depend on how many there are.
std::string reference_spec_for(const std::string& text, const harness::Addressing& dut) {
  if (dut.nat_external.empty() || text.find("external-addresses=") != std::string::npos) return text;
  ref::NatConfig config;
  std::string error;
  const auto colon = text.find(':');
  if (ref::make_config(text.substr(colon + 1), config, error) && config.external_addresses == dut.nat_external) {
    return text;  // already the same plan (e.g. two in-process references)
  }
  std::string spec = text + ",external-addresses=";
  for (std::size_t i = 0; i < dut.nat_external.size(); ++i) {
    if (i != 0) spec += '+';
    spec += ref::format_ipv4(dut.nat_external[i]);
  }
  return spec;
}

harness::RunResult run_tests(harness::Testbed& testbed, const std::vector<const harness::TestCase*>& tests,
                             const RunCommandOptions& options) {
  harness::RunOptions run_options;
  run_options.seed = options.seed;
  run_options.jobs = options.jobs;
  run_options.sanity_probes = !options.no_sanity;
  if (options.timer_budget) run_options.timer_budget = std::chrono::seconds(*options.timer_budget);
  if (!options.quiet) {
    std::fprintf(stderr, "natcert run: %zu test(s) on %s, seed %llu\n", tests.size(),
                 reports::one_line(testbed.describe()).c_str(), static_cast<unsigned long long>(options.seed));
  }
  ProgressPrinter progress(tests.size(), options.quiet);  // its heartbeat stops with the run
  run_options.on_progress = [&progress](const harness::Progress& p) {
    if (p.result) progress.finished(p.done, p.result->id, harness::to_string(p.result->verdict), p.result->wall);
  };
  return harness::run(testbed, tests, run_options);
}

std::string report_location(const std::filesystem::path& directory, const reports::Formats& formats) {
  return formats.html ? (directory / "report.html").string()
         : formats.json ? (directory / "report.json").string()
                        : directory.string();
}

// The question asked is "does the DUT behave like this reference?": departures on stderr, one line
// each, and the exit code says so (0 agrees, 1 departs, 3 incomplete).
int report_differential(const harness::RunResult& dut, const harness::RunResult& reference,
                        const reports::Differential& differential, const std::filesystem::path& out,
                        const reports::Formats& formats) {
  std::fprintf(stderr, "natcert run: DUT: %s in %s; report: %s\n", tally_text(dut).c_str(),
               harness::format_duration(dut.wall).c_str(), report_location(out, formats).c_str());
  std::fprintf(stderr, "natcert run: %s: %s in %s; report: %s\n", reports::one_line(differential.against).c_str(),
               tally_text(reference).c_str(), harness::format_duration(reference.wall).c_str(),
               report_location(out / differential.reference_report, formats).c_str());
  for (const auto& item : differential.not_compared) {
    if (item.incomplete) {
      std::fprintf(stderr, "  not compared: %s: %s\n", reports::one_line(item.test_id).c_str(),
                   reports::one_line(item.reason).c_str());
    }
  }
  if (dut.sanity_begin && dut.sanity_begin->verdict != harness::Verdict::pass &&
      dut.sanity_begin->verdict != harness::Verdict::info) {
    std::fprintf(stderr, "  incomplete: the DUT's sanity probe at the start failed: %s\n",
                 reports::one_line(dut.sanity_begin->reason).c_str());
  }
  for (const auto& departure : differential.tests) {
    std::fprintf(stderr, "  departs: %s\n", reports::format_departure(departure).c_str());
  }
  for (const auto& departure : differential.profile) {
    std::fprintf(stderr, "  departs: %s\n", reports::format_departure(departure).c_str());
  }
  const int code = differential.exit_code();
  const char* verdict = differential.incomplete ? "incomplete comparison"
                        : differential.departs() ? "the DUT departs"
                                                 : "the DUT agrees";
  std::fprintf(stderr,
               "natcert run: against %s: %s: %zu test(s) and %zu behaviour fact(s) depart, %zu test(s) and %zu "
               "fact(s) agree, %zu test(s) not compared; exit %d\n",
               reports::one_line(differential.against).c_str(), verdict, differential.tests.size(),
               differential.profile.size(), differential.agreeing_tests, differential.agreeing_facts,
               differential.not_compared.size(), code);
  return code;
}

int run_command(const RunCommandOptions& options) {
  // Validate everything before running anything.
  const reports::Formats formats = parse_format_option(options.format);
  if (!options.expect.empty() && !options.against.empty()) {
    throw UsageError("--expect and --against answer different questions (expected verdicts, agreement with a "
                     "reference): give one of them");
  }
  std::optional<reports::Expectations> expectations;
  if (!options.expect.empty()) expectations = reports::load_expectations(options.expect);
  auto tests = select_tests(options.suites, options.tests);
  if (!options.skip.empty()) {
    skip_tests(tests, options.skip);
    if (tests.empty()) throw UsageError("--skip leaves no test to run");
  }
  const std::filesystem::path out = options.out;
  {
    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error || !std::filesystem::is_directory(out)) {
      throw UsageError("--out " + out.string() + ": cannot create the directory" +
                       (error ? ": " + error.message() : std::string(" (a file is in the way)")));
    }
  }
  const std::filesystem::path against_out = out / "against";
  std::unique_ptr<harness::Testbed> reference;
  if (!options.against.empty()) make_reference_testbed(options.against, against_out / "pcap");  // validates
  auto testbed = make_testbed(parse_dut(options.dut), (out / "pcap").string(), options.interfaces);
  std::string against = options.against;
  if (!against.empty()) {
    against = reference_spec_for(against, testbed->addressing());
    reference = make_reference_testbed(against, against_out / "pcap");
  }
  if (tests.empty()) std::fprintf(stderr, "natcert run: note: no test is registered; only the sanity probes run\n");

  const harness::RunResult result = run_tests(*testbed, tests, options);
  if (reference) {
    const harness::RunResult reference_result = run_tests(*reference, tests, options);
    reports::Differential differential = reports::compare_runs(result, reference_result, against);
    differential.reference_report = against_out.filename().string();
    reports::write_report(reference_result, against_out, formats, reports::JunitOptions{options.strict});
    reports::write_report(result, out, formats, reports::JunitOptions{options.strict}, differential);
    return report_differential(result, reference_result, differential, out, formats);
  }

  reports::write_report(result, out, formats, reports::JunitOptions{options.strict});
  // With --expect, only the unexpected verdicts matter (listed below).
  if (!expectations) print_problems(result, options.strict);
  const std::string where = report_location(out, formats);
  int code = harness::exit_code(result, options.strict);
  if (expectations) {
    const auto outcome = reports::evaluate(*expectations, result);
    for (const auto& item : outcome.unexpected) {
      std::fprintf(stderr, "  unexpected: %s\n", reports::format_unexpected(item, expectations->source).c_str());
    }
    warn_stale_expectations(outcome, *expectations);
    code = outcome.exit_code();
    std::fprintf(stderr, "natcert run: %s in %s; %zu unexpected verdict(s) against %s; exit %d; report: %s\n",
                 tally_text(result).c_str(), harness::format_duration(result.wall).c_str(), outcome.unexpected.size(),
                 expectations->source.c_str(), code, where.c_str());
  } else {
    std::fprintf(stderr, "natcert run: %s in %s; exit %d; report: %s\n", tally_text(result).c_str(),
                 harness::format_duration(result.wall).c_str(), code, where.c_str());
  }
  return code;
}

}  // namespace

Command add_run(CLI::App& root) {
  auto options = std::make_shared<RunCommandOptions>();
  CLI::App* app = root.add_subcommand("run", "Run conformance tests on a DUT and write a report directory");
  app->add_option("--dut", options->dut,
                  "The device under test: reference:PRESET[,key=value...] (the in-process reference NAT; "
                  "`natcert list --presets`)")
      ->capture_default_str();
  app->add_option("--inside-if", options->interfaces.inside,
                  "Physical-port mode: the host interface cabled to the DUT's LAN port (overrides the kind \"ports\" "
                  "profile's [ports])");
  app->add_option("--outside-if", options->interfaces.outside,
                  "Physical-port mode: the host interface cabled to the DUT's WAN port");
  app->add_option("--suite", options->suites, "Only tests of this suite (repeatable), e.g. rfc4787");
  app->add_option("--test", options->tests,
                  "Only tests whose id or requirement id matches one of these comma-separated globs, "
                  "e.g. 'rfc4787.req1.*,RFC4787-REQ-8'");
  app->add_flag("--strict", options->strict, "A WARN (SHOULD/RECOMMENDED not met) fails the run too (exit 1)");
  app->add_option("--seed", options->seed, "Run seed: the same seed reproduces the run on virtual time")
      ->check(unsigned_integer())->capture_default_str();
  app->add_option("--out", options->out, "Report directory: report.json, junit.xml, report.html, pcap/")
      ->capture_default_str();
  app->add_option("--format", options->format, "Comma-separated formats to write: json, junit, html, pcap, all")
      ->capture_default_str();
  app->add_option("--jobs,-j", options->jobs,
                  "Tests run concurrently (0: one per hardware thread on the in-process reference; on a wire DUT, "
                  "as many as the testbed serves at once, since its tests mostly wait for timers)")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_option("--expect", options->expect,
                  "Expectation file: exit 1 on any verdict other than the expected one (docs/report-format.md)");
  app->add_option("--skip", options->skip,
                  "Leave out tests whose id or requirement id matches one of these comma-separated globs, "
                  "e.g. 'rfc4787.req5*,rfc4787.req6*' (the long real-time timer tests)");
  app->add_option("--against", options->against,
                  "Differential mode: run the same tests with the same seed on reference:PRESET[,key=value...] "
                  "too, report where the DUT departs from it (and the reference's report in OUT/against/); "
                  "exit 0 when the DUT agrees, 1 when it departs, 3 when a run is incomplete");
  app->add_option("--timer-budget", options->timer_budget,
                  "Real time (seconds) one timer test may spend waiting on a wire DUT (default: the profile's "
                  "realtime_budget). A test that would need more SKIPs with the lower bound it established; a "
                  "timer below the RFC minimum is still found (FAIL). Ignored on the in-process reference, whose "
                  "virtual time runs every timer at full length")
      ->check(CLI::Range(1u, 604800u));
  app->add_flag("--no-sanity-probes", options->no_sanity, "Skip the UDP round-trip probes at the start and end");
  app->add_flag("--quiet,-q", options->quiet, "No progress lines (the final summary line stays)");
  return {app, [options] { return run_command(*options); }};
}

}  // namespace natcert::cli
