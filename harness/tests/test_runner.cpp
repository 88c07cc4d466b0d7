// Runner, context and mutant validation, exercised with tiny example test cases defined here.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "natcert/harness/context.hpp"
#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/mutants.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/harness/version.hpp"

using namespace natcert::harness;
using namespace std::chrono_literals;

namespace {

TestCase base(std::string id, std::vector<Requirement> requirements) {
  TestCase t;
  t.id = std::move(id);
  t.suite = "example";
  t.requirements = std::move(requirements);
  t.title = "example";
  t.procedure = "example";
  return t;
}

// RFC 4787 REQ-1 in miniature: one inside endpoint, two destinations, one external endpoint.
TestCase eim_test() {
  TestCase t = base("example.req1.eim", {{"RFC4787-REQ-1", Level::must}});
  t.title = "UDP mapping is endpoint-independent";
  t.procedure = "X:x sends to Y1:y1 and Y2:y2; the reflector reports the same X':x' both times.";
  t.run = [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    const Mapping m1 = ctx.learn_mapping(x, ctx.outside_endpoint(0));
    const Mapping m2 = ctx.learn_mapping(x, ctx.outside_endpoint(1));
    ctx.bind("X1'", m1.external);
    ctx.bind("X2'", m2.external);
    ctx.check("RFC4787-REQ-1", m1.external == m2.external, "the same external endpoint for both destinations",
              to_string(m1.external) + " then " + to_string(m2.external));
  };
  t.mutants = {{"apdm", "rfc-strict,udp.mapping=address-and-port-dependent", Verdict::fail, "maps per destination"},
               {"adm", "rfc-strict,udp.mapping=address-dependent", Verdict::fail, "maps per destination address"}};
  return t;
}

// A negative expectation: after X:x -> Y1, a packet from another address must not come in.
TestCase adf_test() {
  TestCase t = base("example.filtering.adf", {{"EXAMPLE-ADF", Level::should}});
  t.run = [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    const Endpoint y1 = ctx.outside_endpoint(0);
    const Mapping m = ctx.learn_mapping(x, y1);
    const Endpoint y2 = ctx.outside_endpoint(1);
    ctx.send(Side::outside, udp(y2, m.external, "from elsewhere"));
    const bool blocked = ctx.expect_none(Side::inside, match::udp().to(x), silence_window, "packet from Y2 at X");
    ctx.check("EXAMPLE-ADF", blocked, "nothing from " + to_string(y2), blocked ? "nothing" : "delivered");
  };
  t.mutants = {{"eif", "rfc-strict,udp.filtering=endpoint-independent", Verdict::warn, "lets anyone in"}};
  return t;
}

// RFC 4787 REQ-5 in miniature: an idle mapping survives two minutes (virtual time).
TestCase timer_test() {
  TestCase t = base("example.req5.timer", {{"RFC4787-REQ-5", Level::must_not}});
  t.run = [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    const Endpoint y = ctx.outside_endpoint(0);
    const Mapping m = ctx.learn_mapping(x, y);
    ctx.sleep(121s);
    ctx.send(Side::outside, udp(y, m.external, "after 121 s"));
    const bool delivered = ctx.expect(Side::inside, match::udp().from(y).to(x)).has_value();
    ctx.check("RFC4787-REQ-5", delivered, "delivered after 121 s idle", delivered ? "delivered" : "dropped");
  };
  t.mutants = {{"short", "rfc-strict,udp-timers.mapping=60s", Verdict::fail, "expires after 60 s"}};
  return t;
}

TestCase tcp_eim_test() {
  TestCase t = base("example.tcp.eim", {{"RFC5382-REQ-1", Level::must}});
  t.run = [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    const TcpMapping a = ctx.learn_tcp_mapping(x, ctx.outside_endpoint(0));
    const TcpMapping b = ctx.learn_tcp_mapping(x, ctx.outside_endpoint(1));
    ctx.check("RFC5382-REQ-1", a.external == b.external, "one external endpoint",
              to_string(a.external) + " / " + to_string(b.external));
  };
  t.mutants = {{"apdm", "rfc-strict,tcp.mapping=address-and-port-dependent", Verdict::fail, "per destination"}};
  return t;
}

TestCase with_run(std::string id, std::function<void(TestContext&)> run,
                  std::vector<Requirement> requirements = {{"EXAMPLE-1", Level::must}}) {
  TestCase t = base(std::move(id), std::move(requirements));
  t.run = std::move(run);
  return t;
}

// A testbed whose DUT forwards nothing at all (a dead link), on virtual time.
class BlackHoleSession final : public DutSession {
 public:
  void send(Side, Bytes) override {}
  std::optional<Captured> receive(Side, const Matcher&, Duration window) override {
    now_ += window;
    return std::nullopt;
  }
  void wait(Duration d) override { now_ += d; }
  Duration now() const override { return now_; }
  std::vector<Captured> drain(Side) override { return {}; }

 private:
  Duration now_{};
};

class BlackHoleTestbed final : public Testbed {
 public:
  std::string kind() const override { return "black-hole"; }
  std::string describe() const override { return "drops everything"; }
  Addressing addressing() const override { return InProcessTestbed("rfc-strict").addressing(); }
  bool virtual_time() const override { return true; }
  std::unique_ptr<DutSession> open_session(const TestCase&, std::uint64_t) override {
    return std::make_unique<BlackHoleSession>();
  }
};

// A real-time testbed that serves `limit` sessions at once, like a shared wire DUT. Its tests only
// wait: each one records how many of them are in flight.
class WaitingTestbed final : public Testbed {
 public:
  explicit WaitingTestbed(std::size_t limit) : limit_(limit) {}
  std::string kind() const override { return "waiting"; }
  std::string describe() const override { return "real time, " + std::to_string(limit_) + " sessions at once"; }
  Addressing addressing() const override { return InProcessTestbed("rfc-strict").addressing(); }
  bool virtual_time() const override { return false; }
  std::size_t max_concurrency() const override { return limit_; }
  std::unique_ptr<DutSession> open_session(const TestCase&, std::uint64_t) override {
    return std::make_unique<BlackHoleSession>();
  }

  // Blocks until `limit` tests are in flight together (or a generous safety timeout passes, so a
  // serial runner fails the assertion below instead of hanging). Returns the peak seen so far.
  std::size_t wait_for_company() {
    std::unique_lock<std::mutex> lock(mutex_);
    peak_ = std::max(peak_, ++in_flight_);
    company_.notify_all();
    company_.wait_for(lock, 10s, [this] { return peak_ >= limit_; });
    --in_flight_;
    return peak_;
  }
  std::size_t peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }

 private:
  std::size_t limit_;
  std::mutex mutex_;
  std::condition_variable company_;
  std::size_t in_flight_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace

TEST(Runner, EimPassesOnTheCompliantReference) {
  InProcessTestbed testbed("rfc-strict");
  const TestResult r = run_test(testbed, eim_test(), 1);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.reason;
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_TRUE(r.checks[0].met);
  EXPECT_EQ(r.checks[0].level, Level::must);
  ASSERT_EQ(r.bound.size(), 2u);
  EXPECT_EQ(r.bound[0].name, "X1'");
  EXPECT_EQ(r.bound[0].value.rfind("203.0.113.1:", 0), 0u) << r.bound[0].value;
  EXPECT_EQ(r.bound[0].value, r.bound[1].value);
  // 2 probes sent + 2 captured outside + 2 answers sent + 2 captured inside.
  ASSERT_EQ(r.evidence.size(), 8u);
  EXPECT_EQ(r.evidence[0].direction, Direction::sent);
  EXPECT_EQ(r.evidence[0].side, Side::inside);
  EXPECT_EQ(r.evidence[1].direction, Direction::captured);
  EXPECT_EQ(r.evidence[1].summary.rfind("UDP 203.0.113.1:", 0), 0u) << r.evidence[1].summary;
  EXPECT_TRUE(r.evidence[1].decisive);
  EXPECT_FALSE(r.evidence[0].decisive);
  EXPECT_FALSE(r.log.empty());
  EXPECT_NE(r.seed, 0u);
}

TEST(Runner, EimFailsOnAnAddressAndPortDependentMapping) {
  InProcessTestbed testbed("rfc-strict,udp.mapping=address-and-port-dependent");
  const TestResult r = run_test(testbed, eim_test(), 1);
  EXPECT_EQ(r.verdict, Verdict::fail) << r.reason;
  EXPECT_NE(r.reason.find("RFC4787-REQ-1 (MUST) not met"), std::string::npos) << r.reason;
  EXPECT_NE(r.bound[0].value, r.bound[1].value);
}

TEST(Runner, ExpectNoneDecidesFiltering) {
  InProcessTestbed strict("rfc-strict");
  EXPECT_EQ(run_test(strict, adf_test(), 1).verdict, Verdict::pass);
  InProcessTestbed open("rfc-strict,udp.filtering=endpoint-independent");
  const TestResult r = run_test(open, adf_test(), 1);
  EXPECT_EQ(r.verdict, Verdict::warn) << r.reason;
  // The packet that should not have arrived is decisive evidence.
  const auto unexpected = std::find_if(r.evidence.begin(), r.evidence.end(), [](const EvidencePacket& e) {
    return e.note.rfind("unexpected:", 0) == 0;
  });
  ASSERT_NE(unexpected, r.evidence.end());
  EXPECT_TRUE(unexpected->decisive);
  EXPECT_EQ(unexpected->side, Side::inside);
}

TEST(Runner, VirtualTimersRunFast) {
  InProcessTestbed testbed("rfc-strict");
  const TestResult r = run_test(testbed, timer_test(), 1);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.reason;
  EXPECT_GE(r.virtual_elapsed, 121s);
  EXPECT_LT(r.wall, 1s);
  InProcessTestbed short_timer("rfc-strict,udp-timers.mapping=60s");
  EXPECT_EQ(run_test(short_timer, timer_test(), 1).verdict, Verdict::fail);
}

TEST(Runner, TcpHandshakeThroughTheReference) {
  InProcessTestbed testbed("rfc-strict");
  const TestResult r = run_test(testbed, tcp_eim_test(), 1);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.reason;
}

TEST(Runner, ADeadDutIsInconclusiveNeverFail) {
  BlackHoleTestbed testbed;
  const TestResult r = run_test(testbed, eim_test(), 1);
  EXPECT_EQ(r.verdict, Verdict::inconclusive) << r.reason;
  EXPECT_NE(r.reason.find("did not complete"), std::string::npos) << r.reason;
  EXPECT_EQ(run_test(testbed, tcp_eim_test(), 1).verdict, Verdict::inconclusive);
}

TEST(Runner, AFailedStartProbeMakesEveryTestInconclusive) {
  BlackHoleTestbed testbed;
  const TestCase a = eim_test(), b = adf_test();
  const RunResult run_result = run(testbed, {&a, &b}, RunOptions{.seed = 3, .jobs = 2});
  ASSERT_TRUE(run_result.sanity_begin.has_value());
  EXPECT_EQ(run_result.sanity_begin->verdict, Verdict::inconclusive);
  ASSERT_EQ(run_result.tests.size(), 2u);
  for (const auto& test : run_result.tests) {
    EXPECT_EQ(test.verdict, Verdict::inconclusive);
    EXPECT_NE(test.reason.find("sanity probe"), std::string::npos);
  }
  EXPECT_EQ(exit_code(run_result), 3);
}

TEST(Runner, ProceduralOutcomes) {
  InProcessTestbed testbed("rfc-strict");
  auto verdict_of = [&](const TestCase& t) { return run_test(testbed, t, 1); };

  const TestResult nothing = verdict_of(with_run("example.nothing", [](TestContext&) {}));
  EXPECT_EQ(nothing.verdict, Verdict::error);
  EXPECT_NE(nothing.reason.find("decided nothing"), std::string::npos);

  const TestResult thrown = verdict_of(with_run("example.throws", [](TestContext&) { throw std::runtime_error("boom"); }));
  EXPECT_EQ(thrown.verdict, Verdict::error);
  EXPECT_NE(thrown.reason.find("boom"), std::string::npos);

  const TestResult undeclared = verdict_of(with_run("example.undeclared", [](TestContext& ctx) {
    ctx.check("RFC9999-REQ-1", true, "", "");
  }));
  EXPECT_EQ(undeclared.verdict, Verdict::error);
  EXPECT_NE(undeclared.reason.find("does not declare"), std::string::npos);

  const TestResult skipped = verdict_of(with_run("example.skip", [](TestContext& ctx) { ctx.skip("not applicable"); }));
  EXPECT_EQ(skipped.verdict, Verdict::skip);
  EXPECT_EQ(skipped.reason, "not applicable");

  const TestResult undecided = verdict_of(with_run("example.inconclusive", [](TestContext& ctx) {
    ctx.inconclusive("could not tell");
  }));
  EXPECT_EQ(undecided.verdict, Verdict::inconclusive);

  const TestResult info = verdict_of(with_run("example.info", [](TestContext& ctx) { ctx.info("characterised"); },
                                              {{"EXAMPLE-MAY", Level::may}}));
  EXPECT_EQ(info.verdict, Verdict::info);
  EXPECT_EQ(info.reason, "characterised");

  const TestResult may_not_met = verdict_of(with_run("example.may", [](TestContext& ctx) {
    ctx.check("EXAMPLE-MAY", false, "a", "b");
  }, {{"EXAMPLE-MAY", Level::may}}));
  EXPECT_EQ(may_not_met.verdict, Verdict::info);

  // The worst check wins; a failure stays a failure even if the test later skips.
  const TestResult mixed = verdict_of(with_run("example.mixed", [](TestContext& ctx) {
    ctx.check("EXAMPLE-1", true, "a", "a");
    ctx.check("EXAMPLE-2", false, "a", "b");
    ctx.info("note");
    ctx.check("EXAMPLE-1", Level::must, false, "c", "d");
    ctx.skip("rest not applicable");
  }, {{"EXAMPLE-1", Level::must}, {"EXAMPLE-2", Level::should}}));
  EXPECT_EQ(mixed.verdict, Verdict::fail);
  EXPECT_EQ(mixed.checks.size(), 4u);
  EXPECT_NE(mixed.reason.find("expected c; observed d"), std::string::npos) << mixed.reason;

  const TestResult unbound = verdict_of(with_run("example.unbound", [](TestContext& ctx) { (void)ctx.bound("X'"); }));
  EXPECT_EQ(unbound.verdict, Verdict::error);
}

TEST(Runner, UnmetNeedsSkipWithTheReason) {
  TestCase pooled = eim_test();
  pooled.id = "example.req2.pool";
  pooled.needs.external_addresses = 2;
  InProcessTestbed one("rfc-strict");
  const TestResult skipped = run_test(one, pooled, 1);
  EXPECT_EQ(skipped.verdict, Verdict::skip);
  EXPECT_NE(skipped.reason.find("NAT external addresses"), std::string::npos) << skipped.reason;
  InProcessTestbed two("rfc-strict,external-addresses=203.0.113.1+203.0.113.2");
  EXPECT_EQ(run_test(two, pooled, 1).verdict, Verdict::pass);
}

TEST(Runner, ContextHelpers) {
  InProcessTestbed testbed("rfc-strict");
  const TestResult r = run_test(testbed, with_run("example.helpers", [](TestContext& ctx) {
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 200; ++i) ports.insert(ctx.fresh_port());
    const std::uint16_t even = ctx.fresh_port(Parity::even), odd = ctx.fresh_port(Parity::odd);
    const std::uint16_t low = ctx.fresh_privileged_port(Parity::odd);
    ctx.bind("note", std::string("text"));
    ctx.bind("ep", Endpoint{ctx.inside(1), 5});
    ctx.profile("udp.mapping", "endpoint-independent");
    const bool ok = ports.size() == 200 && ports.count(even) == 0 && even % 2 == 0 && odd % 2 == 1 && low < 1024 &&
                    low % 2 == 1 && ctx.bound_text("note") == "text" && ctx.bound("ep").port == 5 &&
                    ctx.third_party() == ipv4("192.0.2.50") && ctx.virtual_time();
    const Duration before = ctx.now();
    ctx.sleep(90min);
    ctx.check("EXAMPLE-1", ok && ctx.now() - before == 90min, "helpers behave", "");
  }));
  EXPECT_EQ(r.verdict, Verdict::pass) << r.reason;
  ASSERT_EQ(r.profile.size(), 1u);
  EXPECT_EQ(r.profile[0].test_id, "example.helpers");
  ASSERT_EQ(r.bound.size(), 2u);
  EXPECT_EQ(r.bound[1].value, "10.0.0.11:5");
}

TEST(Runner, UnclaimedAndMalformedPacketsBecomeEvidence) {
  InProcessTestbed testbed("rfc-strict");
  const TestResult r = run_test(testbed, with_run("example.unclaimed", [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0), y = ctx.outside_endpoint(0);
    ctx.send(Side::inside, udp(x, y, "never expected"));
    ctx.send(Side::inside, natcert::harness::Packet{0x45, 0, 0, 5}, "garbage");
    ctx.info("sent");
  }));
  EXPECT_EQ(r.verdict, Verdict::info);
  ASSERT_EQ(r.evidence.size(), 3u);
  EXPECT_EQ(r.evidence[1].summary.rfind("malformed: ", 0), 0u) << r.evidence[1].summary;
  EXPECT_EQ(r.evidence[2].note, "unclaimed");
  EXPECT_EQ(r.evidence[2].direction, Direction::captured);
  const bool logged = std::any_of(r.log.begin(), r.log.end(), [](const LogLine& line) {
    return line.text.find("malformed") != std::string::npos;
  });
  EXPECT_TRUE(logged);
}

TEST(Runner, DeterministicWhateverTheOrderAndConcurrency) {
  const TestCase a = eim_test(), b = adf_test(), c = timer_test(), d = tcp_eim_test();
  InProcessTestbed testbed("rfc-strict,ports.preserve-port=false");
  std::size_t progress_calls = 0;
  RunOptions serial{.seed = 42, .jobs = 1};
  serial.on_progress = [&](const Progress& p) {
    ++progress_calls;
    EXPECT_EQ(p.total, 4u);
    EXPECT_NE(p.result, nullptr);
  };
  const RunResult one = run(testbed, {&a, &b, &c, &d}, serial);
  const RunResult many = run(testbed, {&d, &c, &b, &a}, RunOptions{.seed = 42, .jobs = 4});
  EXPECT_EQ(progress_calls, 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const TestResult& x = one.tests[i];
    const TestResult& y = many.tests[3 - i];
    ASSERT_EQ(x.id, y.id);
    EXPECT_EQ(x.verdict, Verdict::pass) << x.id << ": " << x.reason;
    EXPECT_EQ(x.verdict, y.verdict);
    EXPECT_EQ(x.seed, y.seed);
    ASSERT_EQ(x.evidence.size(), y.evidence.size());
    for (std::size_t e = 0; e < x.evidence.size(); ++e) {
      EXPECT_EQ(x.evidence[e].bytes, y.evidence[e].bytes);
      EXPECT_EQ(x.evidence[e].at, y.evidence[e].at);
    }
    ASSERT_EQ(x.bound.size(), y.bound.size());
    for (std::size_t k = 0; k < x.bound.size(); ++k) EXPECT_EQ(x.bound[k].value, y.bound[k].value);
  }
  const RunResult other_seed = run(testbed, {&a}, RunOptions{.seed = 43});
  EXPECT_NE(other_seed.tests[0].bound[0].value, one.tests[0].bound[0].value);
}

TEST(Runner, RealTimeTestbedsRunAsManyTestsAtOnceAsTheyAllowByDefault) {
  constexpr std::size_t limit = 6;  // more than the hardware threads of a small CI machine
  WaitingTestbed testbed(limit);
  std::vector<TestCase> cases;
  for (std::size_t i = 0; i < limit + 2; ++i) {
    cases.push_back(with_run("example.wait." + std::to_string(i), [&testbed](TestContext& ctx) {
      ctx.check("EXAMPLE-1", testbed.wait_for_company() >= 1, "ran", "ran");
    }));
  }
  std::vector<const TestCase*> selection;
  for (const auto& test : cases) selection.push_back(&test);

  const RunResult r = run(testbed, selection, RunOptions{.seed = 1, .jobs = 0, .sanity_probes = false});
  EXPECT_EQ(r.jobs, limit);
  EXPECT_EQ(testbed.peak(), limit);
  for (const auto& test : r.tests) EXPECT_EQ(test.verdict, Verdict::pass) << test.id << ": " << test.reason;

  // An explicit --jobs still wins, within the limit.
  EXPECT_EQ(run(testbed, {selection[0]}, RunOptions{.seed = 1, .jobs = 1, .sanity_probes = false}).jobs, 1u);
  EXPECT_EQ(run(testbed, selection, RunOptions{.seed = 1, .jobs = 64, .sanity_probes = false}).jobs, limit);
}

TEST(Runner, RunResultDescribesTheRun) {
  const TestCase a = eim_test();
  InProcessTestbed testbed("rfc-strict");
  const RunResult r = run(testbed, {&a}, RunOptions{.seed = 9});
  EXPECT_EQ(r.natcert_version, natcert_version());
  EXPECT_FALSE(r.git_revision.empty());
  EXPECT_EQ(r.testbed, "in-process");
  EXPECT_EQ(r.seed, 9u);
  EXPECT_FALSE(r.dut_config.empty());
  EXPECT_EQ(r.started.size(), 20u);
  EXPECT_EQ(r.started.back(), 'Z');
  EXPECT_FALSE(r.host.empty());
  ASSERT_TRUE(r.sanity_begin && r.sanity_end);
  EXPECT_EQ(r.sanity_begin->verdict, Verdict::pass) << r.sanity_begin->reason;
  EXPECT_EQ(r.sanity_begin->id, "sanity.begin");
  EXPECT_EQ(r.sanity_end->verdict, Verdict::pass);
  EXPECT_EQ(tally(r)[Verdict::pass], 1u);
  EXPECT_EQ(exit_code(r), 0);
}

TEST(Runner, ExitCodes) {
  auto with = [](std::vector<Verdict> verdicts) {
    RunResult r;
    for (Verdict v : verdicts) {
      TestResult t;
      t.verdict = v;
      r.tests.push_back(t);
    }
    return r;
  };
  EXPECT_EQ(exit_code(with({Verdict::pass, Verdict::info, Verdict::skip})), 0);
  EXPECT_EQ(exit_code(with({Verdict::pass, Verdict::warn})), 0);
  EXPECT_EQ(exit_code(with({Verdict::pass, Verdict::warn}), true), 1);
  EXPECT_EQ(exit_code(with({Verdict::fail})), 1);
  EXPECT_EQ(exit_code(with({Verdict::fail, Verdict::inconclusive})), 3);
  EXPECT_EQ(exit_code(with({Verdict::error})), 3);
}

TEST(Mutants, KillMatrixForGoodTests) {
  for (const TestCase& test : {eim_test(), adf_test(), timer_test(), tcp_eim_test()}) {
    const MutantReport report = validate_mutants(test, 1);
    std::string problems;
    for (const auto& p : report.problems) problems += p + "\n";
    EXPECT_TRUE(report.ok()) << problems;
    EXPECT_EQ(report.compliant_verdict, Verdict::pass);
    ASSERT_EQ(report.mutants.size(), test.mutants.size());
    for (const auto& m : report.mutants) EXPECT_TRUE(m.killed) << test.id << " / " << m.name;
  }
}

TEST(Mutants, SurvivingMutantsAndMissingMutantsAreReported) {
  TestCase weak = eim_test();
  weak.mutants = {{"harmless", "rfc-strict,udp.filtering=endpoint-independent", Verdict::fail, "not a mapping change"}};
  const MutantReport survived = validate_mutants(weak, 1);
  EXPECT_FALSE(survived.ok());
  ASSERT_EQ(survived.mutants.size(), 1u);
  EXPECT_FALSE(survived.mutants[0].killed);
  EXPECT_EQ(survived.mutants[0].actual, Verdict::pass);

  TestCase none = eim_test();
  none.mutants.clear();
  EXPECT_FALSE(validate_mutants(none, 1).ok());

  TestCase bad_config = eim_test();
  bad_config.mutants[0].config = "rfc-strict,udp.mapping=cone";
  const MutantReport rejected = validate_mutants(bad_config, 1);
  EXPECT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.mutants[0].actual, Verdict::error);

  const TestCase a = eim_test(), b = adf_test();
  const auto reports = validate_mutants({&a, &b}, 1, 2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].test_id, a.id);
  EXPECT_TRUE(reports[0].ok() && reports[1].ok());
}

TEST(Mutants, CharacterisationTestsMayBeInfoOnTheCompliantConfiguration) {
  // A MAY-level test characterises; its mutant is caught when the characterisation changes.
  TestCase may = with_run(
      "example.may.mapping",
      [](TestContext& ctx) {
        const Endpoint x = ctx.inside_endpoint(0);
        const bool same = ctx.learn_mapping(x, ctx.outside_endpoint(0)).external ==
                          ctx.learn_mapping(x, ctx.outside_endpoint(1)).external;
        ctx.info("EXAMPLE-MAY", same ? "one mapping" : "a mapping per destination");
      },
      {{"EXAMPLE-MAY", Level::may}});
  may.mutants = {{"apdm", "rfc-strict,udp.mapping=address-and-port-dependent", Verdict::info, "the other behaviour"}};
  EXPECT_TRUE(validate_mutants(may, 1).ok());

  TestCase blind = with_run("example.may.blind", [](TestContext& ctx) { ctx.info("EXAMPLE-MAY", "characterised"); },
                            {{"EXAMPLE-MAY", Level::may}});
  blind.mutants = {{"other", "rfc-strict,udp-timers.refresh-inbound=false", Verdict::info, "the other behaviour"}};
  const MutantReport unseen = validate_mutants(blind, 1);
  EXPECT_FALSE(unseen.ok()) << "a characterisation that cannot tell the mutant apart observes nothing";
  EXPECT_FALSE(unseen.mutants[0].killed);

  TestCase must = with_run("example.must.info", [](TestContext& ctx) { ctx.info("characterised"); });
  must.mutants = {{"other", "rfc-strict,udp-timers.refresh-inbound=false", Verdict::fail, "x"}};
  EXPECT_FALSE(validate_mutants(must, 1).ok());
}
