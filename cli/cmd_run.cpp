// natcert run: runs a selection of tests on a DUT, writes the report directory, prints progress on
// stderr, and exits with the run's code (or the expectation file's verdict with --expect).
#include <cstdio>
#include <filesystem>

#include "common.hpp"
#include "natcert/harness/runner.hpp"
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
  bool no_sanity = false;
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

int run_command(const RunCommandOptions& options) {
  // Validate everything before running anything.
  const reports::Formats formats = parse_format_option(options.format);
  std::optional<reports::Expectations> expectations;
  if (!options.expect.empty()) expectations = reports::load_expectations(options.expect);
  const auto tests = select_tests(options.suites, options.tests);
  const std::filesystem::path out = options.out;
  {
    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error || !std::filesystem::is_directory(out)) {
      throw UsageError("--out " + out.string() + ": cannot create the directory" +
                       (error ? ": " + error.message() : std::string(" (a file is in the way)")));
    }
  }
  auto testbed = make_testbed(parse_dut(options.dut), (out / "pcap").string());
  if (tests.empty()) std::fprintf(stderr, "natcert run: note: no test is registered; only the sanity probes run\n");

  harness::RunOptions run_options;
  run_options.seed = options.seed;
  run_options.jobs = options.jobs;
  run_options.sanity_probes = !options.no_sanity;
  if (!options.quiet) {
    std::fprintf(stderr, "natcert run: %zu test(s) on %s, seed %llu\n", tests.size(),
                 reports::one_line(testbed->describe()).c_str(), static_cast<unsigned long long>(options.seed));
  }
  const harness::RunResult result = [&] {
    ProgressPrinter progress(tests.size(), options.quiet);  // its heartbeat stops with the run
    run_options.on_progress = [&progress](const harness::Progress& p) {
      if (p.result) progress.finished(p.done, p.result->id, harness::to_string(p.result->verdict), p.result->wall);
    };
    return harness::run(*testbed, tests, run_options);
  }();

  reports::write_report(result, out, formats, reports::JunitOptions{options.strict});
  // With --expect, only the unexpected verdicts matter (listed below).
  if (!expectations) print_problems(result, options.strict);
  const std::string where = formats.html ? (out / "report.html").string()
                            : formats.json ? (out / "report.json").string()
                                           : out.string();
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
  app->add_option("--jobs,-j", options->jobs, "Tests run concurrently (0: one per hardware thread)")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_option("--expect", options->expect,
                  "Expectation file: exit 1 on any verdict other than the expected one (docs/report-format.md)");
  app->add_flag("--no-sanity-probes", options->no_sanity, "Skip the UDP round-trip probes at the start and end");
  app->add_flag("--quiet,-q", options->quiet, "No progress lines (the final summary line stays)");
  return {app, [options] { return run_command(*options); }};
}

}  // namespace natcert::cli
