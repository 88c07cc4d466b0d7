// natcert selftest: mutant validation over the registry, printed as a kill matrix (test x mutant).
// Each test must PASS on its compliant reference configuration and give each mutant's expected
// verdict (the mutant is KILLED); anything else is a problem and the exit code is 1.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "natcert/harness/mutants.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::cli {
namespace {

using Json = nlohmann::ordered_json;

struct SelftestOptions {
  std::vector<std::string> suites;
  std::vector<std::string> tests;
  bool json = false;
  std::uint64_t seed = 1;
  std::size_t jobs = 0;
  bool quiet = false;
};

std::string verdict_name(harness::Verdict verdict) { return std::string(harness::to_string(verdict)); }

std::vector<harness::MutantReport> validate_all(const std::vector<const harness::TestCase*>& tests,
                                                const SelftestOptions& options) {
  std::vector<harness::MutantReport> reports(tests.size());
  std::size_t jobs = options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = std::max<std::size_t>(1, std::min(jobs, tests.size()));
  ProgressPrinter progress(tests.size(), options.quiet);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t index = next.fetch_add(1);
      if (index >= tests.size()) return;
      const auto start = std::chrono::steady_clock::now();
      reports[index] = harness::validate_mutants(*tests[index], options.seed);
      progress.finished(done.fetch_add(1) + 1, tests[index]->id, reports[index].ok() ? "ok" : "PROBLEM",
                        std::chrono::steady_clock::now() - start);
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < jobs; ++i) threads.emplace_back(worker);
  worker();
  for (auto& thread : threads) thread.join();
  return reports;
}

Json matrix_json(const std::vector<harness::MutantReport>& reports, const SelftestOptions& options) {
  Json out = Json::object();
  out["schema"] = "natcert-kill-matrix";
  out["schema_version"] = 1;
  out["seed"] = std::to_string(options.seed);
  std::size_t mutants = 0, killed = 0, problems = 0;
  Json tests = Json::array();
  for (const auto& report : reports) {
    Json t = Json::object();
    t["id"] = report.test_id;
    t["compliant_config"] = report.compliant_config;
    t["compliant_verdict"] = verdict_name(report.compliant_verdict);
    t["compliant_reason"] = report.compliant_result.reason;
    t["mutants"] = Json::array();
    for (const auto& mutant : report.mutants) {
      ++mutants;
      killed += mutant.killed ? 1 : 0;
      t["mutants"].push_back(Json{{"name", mutant.name},
                                  {"config", mutant.config},
                                  {"expected", verdict_name(mutant.expected)},
                                  {"actual", verdict_name(mutant.actual)},
                                  {"killed", mutant.killed},
                                  {"reason", mutant.result.reason}});
    }
    t["problems"] = report.problems;
    t["ok"] = report.ok();
    problems += report.problems.size();
    tests.push_back(std::move(t));
  }
  out["summary"] = Json{{"tests", reports.size()}, {"mutants", mutants}, {"killed", killed},
                        {"survived", mutants - killed}, {"problems", problems}};
  out["tests"] = std::move(tests);
  return out;
}

void print_matrix(const std::vector<harness::MutantReport>& reports) {
  std::size_t width = 4;
  for (const auto& report : reports) width = std::max(width, report.test_id.size());
  std::cout << "TEST" << std::string(width - 4 + 2, ' ') << "COMPLIANT     MUTANTS (name=verdict KILLED|SURVIVED)\n";
  std::size_t mutants = 0, killed = 0, problems = 0;
  for (const auto& report : reports) {
    std::string compliant = verdict_name(report.compliant_verdict);
    compliant += std::string(compliant.size() < 14 ? 14 - compliant.size() : 1, ' ');
    std::string cells;
    for (const auto& mutant : report.mutants) {
      ++mutants;
      killed += mutant.killed ? 1 : 0;
      cells += (cells.empty() ? "" : "  ") + mutant.name + "=" + verdict_name(mutant.actual) +
               (mutant.killed ? " KILLED" : " SURVIVED");
    }
    if (report.mutants.empty()) cells = "(no mutants)";
    std::cout << reports::one_line(report.test_id) << std::string(width - report.test_id.size() + 2, ' ') << compliant
              << reports::one_line(cells) << "\n";
    problems += report.problems.size();
  }
  bool header = false;
  for (const auto& report : reports) {
    for (const auto& problem : report.problems) {
      if (!header) std::cout << "\nProblems:\n";
      header = true;
      std::cout << "  " << reports::one_line(problem) << "\n";
    }
  }
  std::cout << "\n"
            << reports.size() << " test(s), " << mutants << " mutant(s): " << killed << " killed, "
            << (mutants - killed) << " survived; " << problems << " problem(s)\n";
}

int selftest_command(const SelftestOptions& options) {
  const auto tests = select_tests(options.suites, options.tests);
  if (tests.empty()) std::fprintf(stderr, "natcert selftest: note: no test is registered\n");
  const auto reports = validate_all(tests, options);
  if (options.json) {
    std::cout << matrix_json(reports, options).dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    print_matrix(reports);
  }
  const bool ok = std::all_of(reports.begin(), reports.end(), [](const auto& r) { return r.ok(); });
  return ok ? exit_ok : exit_failed;
}

}  // namespace

Command add_selftest(CLI::App& root) {
  auto options = std::make_shared<SelftestOptions>();
  CLI::App* app = root.add_subcommand(
      "selftest",
      "Mutant validation: every test must PASS on its compliant reference configuration and kill each of its "
      "mutants; prints the kill matrix (exit 1 on any problem)");
  app->add_option("--suite", options->suites, "Only tests of this suite (repeatable)");
  app->add_option("--test", options->tests, "Only tests whose id or requirement id matches these comma-separated globs");
  app->add_flag("--json", options->json, "Print the kill matrix as JSON (schema natcert-kill-matrix)");
  app->add_option("--seed", options->seed, "Seed for every run")->check(unsigned_integer())->capture_default_str();
  app->add_option("--jobs,-j", options->jobs, "Tests validated concurrently (0: one per hardware thread)")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_flag("--quiet,-q", options->quiet, "No progress lines on stderr");
  return {app, [options] { return selftest_command(*options); }};
}

}  // namespace natcert::cli
