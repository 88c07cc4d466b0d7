#include "natcert/harness/mutants.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/runner.hpp"

namespace natcert::harness {
namespace {

// Runs `test` on a fresh in-process testbed built from `config`; a rejected configuration is an ERROR.
TestResult run_on(const TestCase& test, const std::string& config, std::uint64_t seed, std::string& config_error) {
  try {
    InProcessTestbed testbed(config);
    return run_test(testbed, test, seed);
  } catch (const std::invalid_argument& e) {
    config_error = e.what();
    TestResult result;
    result.id = test.id;
    result.suite = test.suite;
    result.title = test.title;
    result.requirements = test.requirements;
    result.verdict = Verdict::error;
    result.reason = e.what();
    return result;
  }
}

bool characterisation_only(const TestCase& test) {
  return !test.requirements.empty() && std::all_of(test.requirements.begin(), test.requirements.end(),
                                                   [](const Requirement& r) { return r.level == Level::may; });
}

}  // namespace

namespace {
// What a test observed, for telling two characterisations apart.
std::string observation(const TestResult& result) {
  std::string text;
  for (const Check& check : result.checks) text.append(check.observed).append("\n");
  return text;
}
}  // namespace

MutantReport validate_mutants(const TestCase& test, std::uint64_t seed) {
  MutantReport report;
  report.test_id = test.id;
  report.compliant_config = test.compliant_config;
  report.problems = validate(test);

  std::string error;
  report.compliant_result = run_on(test, test.compliant_config, seed, error);
  report.compliant_verdict = report.compliant_result.verdict;
  if (!error.empty()) {
    report.problems.push_back(test.id + ": compliant configuration rejected: " + error);
  } else if (report.compliant_verdict != Verdict::pass &&
             !(report.compliant_verdict == Verdict::info && characterisation_only(test))) {
    report.problems.push_back(test.id + ": compliant configuration \"" + test.compliant_config + "\" gave " +
                              std::string(to_string(report.compliant_verdict)) + " instead of PASS" +
                              (characterisation_only(test) ? " or INFO: " : ": ") + report.compliant_result.reason);
  }

  for (const auto& mutant : test.mutants) {
    MutantOutcome outcome;
    outcome.name = mutant.name;
    outcome.config = mutant.config;
    outcome.expected = mutant.expected;
    error.clear();
    outcome.result = run_on(test, mutant.config, seed, error);
    outcome.actual = outcome.result.verdict;
    outcome.killed = error.empty() && outcome.actual == outcome.expected;
    // A characterisation cannot fail, so its mutant is caught only if the characterisation changes:
    // a MAY-level test that reports the same thing for both configurations observes nothing.
    const bool same_observation = observation(outcome.result) == observation(report.compliant_result);
    if (outcome.killed && outcome.expected == Verdict::info && same_observation) {
      outcome.killed = false;
      report.problems.push_back(test.id + ": mutant " + mutant.name + " (\"" + mutant.config +
                                "\") was characterised exactly like the compliant configuration: " +
                                outcome.result.reason);
    } else if (!error.empty()) {
      report.problems.push_back(test.id + ": mutant " + mutant.name + " configuration rejected: " + error);
    } else if (!outcome.killed) {
      report.problems.push_back(test.id + ": mutant " + mutant.name + " (\"" + mutant.config + "\") gave " +
                                std::string(to_string(outcome.actual)) + ", expected " +
                                std::string(to_string(outcome.expected)) + ": " + outcome.result.reason);
    }
    report.mutants.push_back(std::move(outcome));
  }
  return report;
}

std::vector<MutantReport> validate_mutants(const std::vector<const TestCase*>& tests, std::uint64_t seed,
                                           std::size_t jobs) {
  std::vector<MutantReport> reports(tests.size());
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = std::max<std::size_t>(1, std::min(jobs, tests.size()));
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t index = next.fetch_add(1);
      if (index >= tests.size()) return;
      reports[index] = validate_mutants(*tests[index], seed);
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < jobs; ++i) threads.emplace_back(worker);
  worker();
  for (auto& thread : threads) thread.join();
  return reports;
}

}  // namespace natcert::harness
