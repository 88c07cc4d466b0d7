#include "natcert/harness/runner.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "natcert/harness/context.hpp"
#include "natcert/harness/version.hpp"

namespace natcert::harness {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::optional<std::string> unmet_needs(const Needs& needs, const Addressing& addressing, bool virtual_time) {
  auto lacking = [](const char* what, std::size_t need, std::size_t have) {
    return "needs " + std::to_string(need) + " " + what + "; the testbed has " + std::to_string(have);
  };
  if (addressing.inside.size() < needs.inside_hosts) return lacking("inside hosts", needs.inside_hosts, addressing.inside.size());
  if (addressing.outside.size() < needs.outside_hosts) {
    return lacking("outside host addresses", needs.outside_hosts, addressing.outside.size());
  }
  if (addressing.nat_external.size() < needs.external_addresses) {
    return lacking("NAT external addresses", needs.external_addresses, addressing.nat_external.size()) +
           (addressing.nat_external.empty() ? " declared" : "");
  }
  if (needs.third_party_host && !addressing.third_party) return std::string("needs a third-party outside address");
  if (needs.virtual_time && !virtual_time) {
    return std::string("needs virtual time (its timers are impractical in real time)");
  }
  return std::nullopt;
}

TestResult blank_result(const TestCase& test, std::uint64_t seed, Verdict verdict, std::string reason) {
  TestResult result;
  result.id = test.id;
  result.suite = test.suite;
  result.title = test.title;
  result.requirements = test.requirements;
  result.seed = seed;
  result.verdict = verdict;
  result.reason = std::move(reason);
  return result;
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

void sanity_procedure(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  const Mapping mapping = ctx.learn_mapping(x, y);
  ctx.bind("X'", mapping.external);
  ctx.check("NATCERT-SANITY", true, "a UDP round trip through the DUT",
            to_string(x) + " -> " + to_string(y) + " -> " + to_string(x) + " works; the DUT maps " + to_string(x) +
                " to " + to_string(mapping.external));
}

bool probe_ok(const TestResult& probe) { return probe.verdict == Verdict::pass || probe.verdict == Verdict::info; }

}  // namespace

std::uint64_t test_seed(std::uint64_t run_seed, std::string_view test_id) {
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a 64
  for (char c : test_id) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return splitmix64(run_seed ^ splitmix64(hash));
}

const TestCase& sanity_probe() {
  static const TestCase probe = [] {
    TestCase t;
    t.id = "sanity.probe";
    t.suite = "sanity";
    t.title = "Sanity probe: a UDP round trip through the DUT";
    t.procedure =
        "An inside host sends a UDP datagram from a fresh port to an outside host; the outside host sees it "
        "translated and answers the source it saw; the answer must reach the inside host.";
    t.requirements = {{"NATCERT-SANITY", Level::must}};
    t.needs = Needs{1, 1, 0, false, false};
    t.run = sanity_procedure;
    return t;
  }();
  return probe;
}

TestResult run_test(Testbed& testbed, const TestCase& test, std::uint64_t run_seed,
                    std::optional<Duration> timer_budget) {
  const std::uint64_t seed = test_seed(run_seed, test.id);
  const auto wall_start = std::chrono::steady_clock::now();
  auto finish_wall = [&](TestResult result) {
    result.wall = std::chrono::steady_clock::now() - wall_start;
    return result;
  };

  Addressing addressing;
  try {
    addressing = testbed.addressing();
  } catch (const std::exception& e) {
    return finish_wall(blank_result(test, seed, Verdict::error, std::string("testbed addressing: ") + e.what()));
  }
  if (auto reason = unmet_needs(test.needs, addressing, testbed.virtual_time())) {
    return finish_wall(blank_result(test, seed, Verdict::skip, *reason));
  }
  if (!test.run) return finish_wall(blank_result(test, seed, Verdict::error, "test has no procedure"));

  std::unique_ptr<DutSession> session;
  try {
    session = testbed.open_session(test, seed);
  } catch (const std::exception& e) {
    return finish_wall(blank_result(test, seed, Verdict::error, std::string("testbed could not open a session: ") + e.what()));
  }
  if (!session) return finish_wall(blank_result(test, seed, Verdict::error, "testbed returned no session"));

  TestContext ctx(test, *session, addressing, seed, testbed.virtual_time());
  if (!testbed.virtual_time()) ctx.set_timer_budget(timer_budget ? timer_budget : testbed.timer_budget());
  std::optional<std::pair<Verdict, std::string>> aborted;
  try {
    test.run(ctx);
  } catch (const TestAborted& e) {
    aborted.emplace(e.verdict(), e.reason());
  } catch (const HarnessError& e) {
    aborted.emplace(Verdict::error, std::string("harness error: ") + e.what());
  } catch (const std::exception& e) {
    aborted.emplace(Verdict::error, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    aborted.emplace(Verdict::error, "unexpected exception of unknown type");
  }
  try {
    TestResult result = ctx.finish(std::move(aborted));
    result.wall = std::chrono::steady_clock::now() - wall_start;
    return result;
  } catch (const std::exception& e) {
    return finish_wall(blank_result(test, seed, Verdict::error, std::string("harness error while finishing: ") + e.what()));
  }
}

RunResult run(Testbed& testbed, const std::vector<const TestCase*>& tests, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  RunResult run;
  run.natcert_version = std::string(natcert_version());
  run.git_revision = std::string(git_revision());
  run.testbed = testbed.kind();
  run.dut = testbed.describe();
  run.dut_config = testbed.dut_configuration();
  run.seed = options.seed;
  run.started = iso8601_utc(std::chrono::system_clock::now());
  run.host = host_name();

  std::size_t jobs = options.jobs;
  if (jobs == 0) {
    // On real time, tests mostly wait for the DUT's timers: run as many at once as the testbed
    // allows, so a run of timer tests takes about as long as its longest test.
    const bool waits = !testbed.virtual_time() && testbed.max_concurrency() != 0;
    jobs = waits ? testbed.max_concurrency() : std::max(1u, std::thread::hardware_concurrency());
  }
  if (testbed.max_concurrency() != 0) jobs = std::min(jobs, testbed.max_concurrency());
  jobs = std::max<std::size_t>(1, std::min(jobs, tests.size()));
  run.jobs = jobs;

  run.tests.resize(tests.size());
  bool gated = false;
  if (options.sanity_probes) {
    TestResult probe = run_test(testbed, sanity_probe(), options.seed ^ 0xB);
    probe.id = "sanity.begin";
    gated = !probe_ok(probe);
    run.sanity_begin = std::move(probe);
  }

  std::mutex progress_mutex;
  std::size_t done = 0;
  auto report = [&](std::size_t index) {
    if (!options.on_progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex);
    ++done;
    options.on_progress(Progress{done, tests.size(), &run.tests[index]});
  };

  if (gated) {
    const std::string reason = "the sanity probe at the start of the run failed: " + run.sanity_begin->reason;
    for (std::size_t i = 0; i < tests.size(); ++i) {
      run.tests[i] = blank_result(*tests[i], test_seed(options.seed, tests[i]->id), Verdict::inconclusive, reason);
      report(i);
    }
  } else {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (;;) {
        const std::size_t index = next.fetch_add(1);
        if (index >= tests.size()) return;
        run.tests[index] = run_test(testbed, *tests[index], options.seed, options.timer_budget);
        report(index);
      }
    };
    if (jobs == 1) {
      worker();
    } else {
      std::vector<std::thread> threads;
      threads.reserve(jobs);
      for (std::size_t i = 0; i < jobs; ++i) threads.emplace_back(worker);
      for (auto& thread : threads) thread.join();
    }
  }

  if (options.sanity_probes) {
    TestResult probe = run_test(testbed, sanity_probe(), options.seed ^ 0xE);
    probe.id = "sanity.end";
    run.sanity_end = std::move(probe);
  }
  for (const auto& result : run.tests) {
    run.profile.insert(run.profile.end(), result.profile.begin(), result.profile.end());
  }
  run.finished = iso8601_utc(std::chrono::system_clock::now());
  run.wall = std::chrono::steady_clock::now() - wall_start;
  return run;
}

int exit_code(const RunResult& run, bool strict) {
  bool incomplete = run.sanity_begin && !probe_ok(*run.sanity_begin);
  bool failed = false;
  for (const auto& test : run.tests) {
    if (test.verdict == Verdict::inconclusive || test.verdict == Verdict::error) incomplete = true;
    if (test.verdict == Verdict::fail || (strict && test.verdict == Verdict::warn)) failed = true;
  }
  if (incomplete) return 3;
  if (failed) return 1;
  return 0;
}

}  // namespace natcert::harness
