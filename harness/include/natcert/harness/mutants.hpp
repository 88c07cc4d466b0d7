// Mutant validation: proves each test can tell a compliant NAT from one that violates its
// requirement. The test runs on the in-process testbed with its compliant configuration (must PASS)
// and with each mutant configuration (must give the mutant's expected verdict: the mutant is killed).
// A test that decides only MAY requirements characterises: its compliant run may also be INFO, and
// its mutants (optional) show the other allowed behaviour, expected INFO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "natcert/harness/result.hpp"
#include "natcert/harness/testcase.hpp"

namespace natcert::harness {

struct MutantOutcome {
  std::string name{};
  std::string config{};
  Verdict expected = Verdict::fail;
  Verdict actual = Verdict::error;
  bool killed = false;  // actual == expected
  TestResult result;
};

// One row of the kill matrix.
struct MutantReport {
  std::string test_id{};
  std::string compliant_config{};
  Verdict compliant_verdict = Verdict::error;
  TestResult compliant_result;
  std::vector<MutantOutcome> mutants{};
  std::vector<std::string> problems;  // metadata problems (validate()), bad configs, surviving mutants
  bool ok() const { return problems.empty(); }
};

MutantReport validate_mutants(const TestCase& test, std::uint64_t seed = 1);
// Every test, `jobs` at a time (0 = one per hardware thread); reports in input order.
std::vector<MutantReport> validate_mutants(const std::vector<const TestCase*>& tests, std::uint64_t seed = 1,
                                           std::size_t jobs = 0);

}  // namespace natcert::harness
