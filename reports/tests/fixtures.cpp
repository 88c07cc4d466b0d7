#include "fixtures.hpp"

#include <atomic>
#include <random>
#include <stdexcept>

#include "natcert/harness/context.hpp"
#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/runner.hpp"

namespace natcert::reports::testing {

using namespace natcert::harness;
using namespace std::chrono_literals;

RunResult hostile_run() {
  RunResult run;
  run.natcert_version = "0.1.0";
  run.git_revision = "abc123-dirty";
  run.testbed = "in-process";
  run.dut = std::string("reference ") + hostile;
  run.dut_config = {{"udp.mapping", "endpoint-independent"}, {"evil", hostile}};
  run.seed = 18446744073709551615ull;  // does not fit a double
  run.started = "2024-05-01T12:00:00Z";
  run.finished = "2024-05-01T12:00:03Z";
  run.wall = 3'250'000'000ns;
  run.host = "host<1>";
  run.jobs = 4;

  TestResult pass;
  pass.id = "rfc4787.req1.mapping.udp";
  pass.suite = "rfc4787";
  pass.title = "Endpoint-independent mapping";
  pass.requirements = {{"RFC4787-REQ-1", Level::must}};
  pass.verdict = Verdict::pass;
  pass.checks = {{"RFC4787-REQ-1", Level::must, true, Verdict::pass, "the same X':x'", "203.0.113.1:40000 twice"}};
  pass.bound = {{"X1'", "203.0.113.1:40000"}, {"X2'", "203.0.113.1:40000"}};
  pass.profile = {{"udp.mapping", "endpoint-independent", pass.id}};
  pass.log = {{1ms, "probe sent"}, {2ms, "probe captured"}};
  pass.evidence = {
      {0ns, Side::inside, Direction::sent, "UDP 10.0.0.10:5000 > 198.51.100.10:3478", {0x45, 0x00, 0x00, 0x1c}, false, "probe"},
      {1'500'000ns, Side::outside, Direction::captured, "UDP 203.0.113.1:40000 > 198.51.100.10:3478",
       {0x45, 0x00, 0x00, 0x1c, 0xde, 0xad}, true, "translated probe"},
  };
  pass.wall = 12'000'000ns;
  pass.virtual_elapsed = 2'000'000ns;
  pass.seed = 0xFFFFFFFFFFFFFFF0ull;

  TestResult fail = pass;
  fail.id = "rfc4787.req8.filtering.udp";
  fail.title = std::string("Filtering ") + hostile;
  fail.requirements = {{"RFC4787-REQ-8", Level::recommended}, {"RFC4787-REQ-13a", Level::must},
                       {"RFC4787-REQ-13a", Level::should}};
  fail.verdict = Verdict::fail;
  fail.reason = std::string("observed ") + hostile + "\nsecond line\x1b[31m";
  fail.checks = {
      {"RFC4787-REQ-8", Level::recommended, false, Verdict::warn, "nothing from Y2", std::string("payload \xff\xfe ") + hostile},
      {"RFC4787-REQ-13a", Level::must, false, Verdict::fail, "fragments", "dropped"},
      {"", Level::may, true, Verdict::info, "", "a characterisation"},
  };
  fail.profile = {{"udp.filtering", "address-and-port-dependent", fail.id}};
  fail.evidence = {{3s, Side::outside, Direction::captured, hostile,
                    {'<', 's', 'c', 'r', 'i', 'p', 't', '>', 0x00, 0xff, '&'}, true, hostile}};
  fail.log = {{5ms, hostile}};

  TestResult skip;
  skip.id = "rfc4787.req2.pooling";
  skip.suite = "rfc4787";
  skip.title = "Paired pooling";
  skip.requirements = {{"RFC4787-REQ-2", Level::recommended}};
  skip.verdict = Verdict::skip;
  skip.reason = "needs 2 NAT external addresses declared";

  TestResult error;
  error.id = "rfc5382.req1.mapping.tcp";
  error.suite = "rfc5382";
  error.title = "TCP endpoint-independent mapping";
  error.requirements = {{"RFC5382-REQ-1", Level::must}};
  error.verdict = Verdict::error;
  error.reason = "harness error: unbound name";

  TestResult info;
  info.id = "rfc5382.alloc.ports";
  info.suite = "rfc5382";
  info.title = "Port allocation";
  info.requirements = {{"RFC7857-S9", Level::may}};
  info.verdict = Verdict::info;
  info.checks = {{"RFC7857-S9", Level::may, true, Verdict::info, "", "random"}};

  TestResult warn = info;
  warn.id = "rfc5382.req3.filtering.tcp";
  warn.requirements = {{"RFC5382-REQ-3", Level::should}};
  warn.verdict = Verdict::warn;
  warn.checks = {{"RFC5382-REQ-3", Level::should, false, Verdict::warn, "EIF or ADF", "APDF"}};

  run.tests = {pass, fail, skip, error, info, warn};
  for (const auto& test : run.tests) run.profile.insert(run.profile.end(), test.profile.begin(), test.profile.end());

  TestResult probe = pass;
  probe.id = "sanity.begin";
  probe.suite = "sanity";
  probe.requirements = {{"NATCERT-SANITY", Level::must}};
  probe.checks = {{"NATCERT-SANITY", Level::must, true, Verdict::pass, "a round trip", "works"}};
  probe.profile.clear();
  run.sanity_begin = probe;
  probe.id = "sanity.end";
  run.sanity_end = probe;
  return run;
}

namespace {

TestCase example(std::string id, std::vector<Requirement> requirements) {
  TestCase t;
  t.id = std::move(id);
  t.suite = "example";
  t.requirements = std::move(requirements);
  t.title = "example " + t.id;
  t.procedure = "example";
  return t;
}

}  // namespace

RunResult real_run() {
  static std::vector<TestCase> tests = [] {
    std::vector<TestCase> out;
    TestCase eim = example("example.req1.eim", {{"RFC4787-REQ-1", Level::must}});
    eim.run = [](TestContext& ctx) {
      const Endpoint x = ctx.inside_endpoint(0);
      const Mapping m1 = ctx.learn_mapping(x, ctx.outside_endpoint(0));
      const Mapping m2 = ctx.learn_mapping(x, ctx.outside_endpoint(1));
      ctx.bind("X1'", m1.external);
      ctx.bind("X2'", m2.external);
      ctx.profile("udp.mapping", m1.external == m2.external ? "endpoint-independent" : "address-and-port-dependent");
      ctx.check("RFC4787-REQ-1", m1.external == m2.external, "the same external endpoint",
                to_string(m1.external) + " then " + to_string(m2.external));
    };
    out.push_back(eim);

    TestCase adf = example("example.req8.filtering", {{"RFC4787-REQ-8", Level::recommended}});
    adf.suite = "other";
    adf.run = [](TestContext& ctx) {
      const Endpoint x = ctx.inside_endpoint(0);
      const Endpoint y1 = ctx.outside_endpoint(0);
      const Mapping m = ctx.learn_mapping(x, y1);
      const Endpoint y1b{y1.address, ctx.fresh_port()};
      ctx.send(Side::outside, udp(y1b, m.external, "<script>alert(1)</script>"), "from another port of Y1");
      const bool delivered = ctx.expect(Side::inside, match::udp().to(x), 1s, "packet from Y1:other").has_value();
      ctx.profile("udp.filtering", delivered ? "address-dependent" : "address-and-port-dependent");
      ctx.check("RFC4787-REQ-8", delivered, "delivered (address-dependent filtering)", delivered ? "delivered" : "dropped");
    };
    out.push_back(adf);

    TestCase skip = example("example.skip", {{"RFC4787-REQ-2", Level::must}});
    skip.needs.external_addresses = 5;
    skip.run = [](TestContext&) {};
    out.push_back(skip);

    TestCase error = example("example.error", {{"RFC4787-REQ-3", Level::must}});
    error.run = [](TestContext&) { throw std::runtime_error("boom <b>"); };
    out.push_back(error);
    return out;
  }();
  InProcessTestbed testbed("port-restricted-cone");
  std::vector<const TestCase*> selection;
  for (const auto& t : tests) selection.push_back(&t);
  RunOptions options;
  options.seed = 7;
  options.jobs = 2;
  return run(testbed, selection, options);
}

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  std::random_device device;
  path_ = std::filesystem::temp_directory_path() /
          ("natcert-reports-test-" + std::to_string(device()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace natcert::reports::testing
