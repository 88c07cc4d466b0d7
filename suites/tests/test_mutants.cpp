// Mutant validation (the project's proof that every conformance test can fail): each test must PASS on
// its compliant reference configuration and give its expected verdict on every mutant.
#include <gtest/gtest.h>

#include <chrono>

#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/mutants.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/suites/suites.hpp"

namespace natcert::suites {
namespace {

const harness::Registry& registry() {
  static const harness::Registry instance = [] {
    harness::Registry r;
    register_all(r);
    return r;
  }();
  return instance;
}

std::vector<std::string> test_ids() {
  std::vector<std::string> ids;
  for (const harness::TestCase* test : registry().all()) ids.push_back(test->id);
  return ids;
}

class KillMatrix : public ::testing::TestWithParam<std::string> {};

TEST_P(KillMatrix, CompliantPassesAndEveryMutantIsKilled) {
  const harness::TestCase* test = registry().find(GetParam());
  ASSERT_NE(test, nullptr);
  const harness::MutantReport report = harness::validate_mutants(*test);
  for (const std::string& problem : report.problems) ADD_FAILURE() << problem;
  EXPECT_FALSE(test->mutants.empty()) << "a test that declares no mutant cannot be shown to fail";
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Suites, KillMatrix, ::testing::ValuesIn(test_ids()), test_name);

TEST(Suites, EveryTestIsWellFormed) {
  EXPECT_GT(registry().size(), 0u);
  for (const harness::TestCase* test : registry().all()) {
    for (const std::string& problem : harness::validate(*test)) ADD_FAILURE() << test->id << ": " << problem;
  }
}

// The whole RFC 4787 suite against the in-process reference, virtual timers included, must be fast
// enough to run on every commit; the figure itself is reported by `natcert run` and the closing note.
TEST(Suites, Rfc4787RunIsDeterministicForASeed) {
  harness::InProcessTestbed testbed("rfc-strict");
  harness::RunOptions options;
  options.seed = 42;
  const auto first = harness::run(testbed, registry().suite("rfc4787"), options);
  options.jobs = 1;
  const auto second = harness::run(testbed, registry().suite("rfc4787"), options);
  ASSERT_EQ(first.tests.size(), second.tests.size());
  for (std::size_t i = 0; i < first.tests.size(); ++i) {
    EXPECT_EQ(first.tests[i].verdict, second.tests[i].verdict) << first.tests[i].id;
    EXPECT_EQ(first.tests[i].bound.size(), second.tests[i].bound.size()) << first.tests[i].id;
    for (std::size_t b = 0; b < std::min(first.tests[i].bound.size(), second.tests[i].bound.size()); ++b) {
      EXPECT_EQ(first.tests[i].bound[b].value, second.tests[i].bound[b].value) << first.tests[i].id;
    }
  }
}

}  // namespace
}  // namespace natcert::suites
