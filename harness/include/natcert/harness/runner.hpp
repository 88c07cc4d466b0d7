// Runs a selection of tests on a testbed and produces a RunResult.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "natcert/harness/result.hpp"
#include "natcert/harness/testbed.hpp"
#include "natcert/harness/testcase.hpp"

namespace natcert::harness {

struct Progress {
  std::size_t done = 0;   // tests finished so far, this one included
  std::size_t total = 0;
  const TestResult* result = nullptr;  // the test that just finished
};

struct RunOptions {
  std::uint64_t seed = 1;
  // Worker threads; 0 = one per hardware thread on virtual time, and the testbed's max_concurrency()
  // on real time (its tests mostly wait). Capped by max_concurrency() and by the number of tests.
  // Results are identical whatever the value (on virtual-time testbeds).
  std::size_t jobs = 0;
  bool sanity_probes = true;
  // Real time one timer test may spend waiting; nullopt: the testbed's (Testbed::timer_budget). Ignored
  // on virtual time, where timers run at full length.
  std::optional<Duration> timer_budget{};
  // Called after each test, serialised (never concurrently), from a worker thread.
  std::function<void(const Progress&)> on_progress{};
};

// The per-test seed: the run seed mixed with a stable hash of the test id (independent of order).
std::uint64_t test_seed(std::uint64_t run_seed, std::string_view test_id);

// Runs one test on its own session: SKIP when the testbed does not meet test.needs, otherwise opens a
// session, runs the procedure, and maps what happened to a verdict (TestAborted -> its verdict,
// HarnessError or any other exception -> ERROR, no decision -> ERROR).
// `timer_budget` overrides the testbed's (real-time testbeds only; see TestContext::timer_budget).
TestResult run_test(Testbed& testbed, const TestCase& test, std::uint64_t run_seed = 1,
                    std::optional<Duration> timer_budget = std::nullopt);

// The sanity probe as a test case ("sanity.probe"): one UDP round trip inside(0) -> outside(0) ->
// inside(0) through learn_mapping on fresh ports. PASS when it works, INCONCLUSIVE otherwise.
const TestCase& sanity_probe();

// Runs the tests (sanity probe first and last), concurrently where the testbed allows.
RunResult run(Testbed& testbed, const std::vector<const TestCase*>& tests, const RunOptions& options = {});

// Process exit code for a run:
//   3  some test (or the begin probe) is INCONCLUSIVE or ERROR: the run is incomplete, fix the setup
//      first. It takes precedence over 1, because automation must not read an incomplete run as a
//      conformance verdict; the report still lists every FAIL.
//   1  otherwise, some MUST/MUST NOT check failed (any FAIL); with `strict`, also any WARN.
//   0  otherwise (PASS, INFO and SKIP only; WARN too unless strict).
// (2 is left to the CLI for usage errors.) A failing end probe alone does not change the code.
int exit_code(const RunResult& run, bool strict = false);

}  // namespace natcert::harness
