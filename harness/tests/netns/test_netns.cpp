// The namespace testbed over real veth links: lifecycle and cleanup (destructor, failed setup,
// SIGTERM, stale namespaces of a killed run), L2 emulation through a plain forwarding DUT, a DUT that
// forwards nothing (INCONCLUSIVE, never FAIL), a DUT that stops answering mid-run, and the RFC 4787
// suite end to end against Linux nft masquerade.
//
// Needs root (CAP_NET_ADMIN): every test skips with that message otherwise. CI runs it as root.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natcert/harness/context.hpp"
#include "natcert/harness/dut_profile.hpp"
#include "natcert/harness/netns_testbed.hpp"
#include "need_root.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/suites/suites.hpp"

using namespace natcert::harness;
using namespace std::chrono_literals;

namespace {


bool namespace_exists(const std::string& name) {
  const auto names = natcert_namespaces();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> ours(pid_t pid) {
  std::vector<std::string> out;
  const std::string prefix = "nc" + std::to_string(pid) + "_";
  for (const auto& name : natcert_namespaces()) {
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  return out;
}

NetnsDutConfig masquerade() {
  NetnsDutConfig config;
  config.label = "linux-nft-masquerade";
  config.setup = {
      {"nft", "add", "table", "ip", "nat"},
      {"nft", "add", "chain", "ip", "nat", "post", "{ type nat hook postrouting priority 100 ; }"},
      {"nft", "add", "rule", "ip", "nat", "post", "oifname", "{outside_if}", "masquerade"},
  };
  config.reset = {{"conntrack", "-F"}};
  config.diagnostics = {{"nft", "list", "ruleset"}, {"conntrack", "-L"}};
  return config;
}

NetnsDutConfig drop_all() {
  NetnsDutConfig config;
  config.label = "linux-drop-all";
  config.setup = {
      {"nft", "add", "table", "inet", "f"},
      {"nft", "add", "chain", "inet", "f", "forward_drop", "{ type filter hook forward priority 0 ; policy drop ; }"},
  };
  return config;
}

TestCase tiny(std::string id, std::function<void(TestContext&)> run) {
  TestCase t;
  t.id = std::move(id);
  t.suite = "netns";
  t.requirements = {{"RFC4787-REQ-1", Level::must}};
  t.title = "netns testbed check";
  t.procedure = "see the test";
  t.needs = Needs{1, 1, 0, false, false};
  t.run = std::move(run);
  return t;
}

// ---- Lifecycle ------------------------------------------------------------------------------------

TEST(NetnsLifecycle, CreateAndDestroyLeavesNothing) {
  NEED_ROOT();
  std::string dut, h;
  {
    NetnsTestbed testbed(NetnsDutConfig{});
    dut = testbed.dut_namespace();
    h = testbed.harness_namespace();
    EXPECT_TRUE(namespace_exists(dut));
    EXPECT_TRUE(namespace_exists(h));
    EXPECT_EQ(testbed.kind(), "netns");
    EXPECT_FALSE(testbed.virtual_time());
    EXPECT_NE(testbed.describe().find(dut), std::string::npos);
  }
  EXPECT_FALSE(namespace_exists(dut));
  EXPECT_FALSE(namespace_exists(h));
  EXPECT_TRUE(ours(getpid()).empty());
}

TEST(NetnsLifecycle, FailingSetupCommandIsAClearErrorAndLeavesNothing) {
  NEED_ROOT();
  NetnsDutConfig config;
  config.setup = {{"nft", "add", "table", "ip", "nat"}, {"nft", "add", "rule", "ip", "nat", "nosuchchain", "masquerade"}};
  try {
    NetnsTestbed testbed(config);
    FAIL() << "setup should have failed";
  } catch (const NetnsError& e) {
    const std::string message = e.what();
    std::printf("message: %s\n", message.c_str());
    EXPECT_NE(message.find("nft add rule ip nat nosuchchain masquerade"), std::string::npos) << message;
    EXPECT_NE(message.find("exited with status"), std::string::npos) << message;
    EXPECT_NE(message.find("Error"), std::string::npos) << message;  // nft's own output
  }
  EXPECT_TRUE(ours(getpid()).empty());
}

TEST(NetnsLifecycle, UnknownProgramIsAClearError) {
  NEED_ROOT();
  NetnsDutConfig config;
  config.setup = {{"natcert-no-such-program", "--flag"}};
  try {
    NetnsTestbed testbed(config);
    FAIL() << "setup should have failed";
  } catch (const NetnsError& e) {
    EXPECT_NE(std::string(e.what()).find("natcert-no-such-program --flag"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(ours(getpid()).empty());
}

// A child process builds a testbed, then receives the signal: the handlers remove its namespaces and
// the signal then kills it as it would have.
void signal_removes_namespaces(int sig) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    try {
      NetnsTestbed testbed(masquerade());
      const char ok = 'y';
      if (write(fds[1], &ok, 1) != 1) _exit(3);
      for (;;) pause();
    } catch (...) {
      _exit(2);
    }
  }
  close(fds[1]);
  char ready = 0;
  ASSERT_EQ(read(fds[0], &ready, 1), 1) << "the child could not build its testbed";
  close(fds[0]);
  EXPECT_EQ(ours(child).size(), 2u);
  ASSERT_EQ(kill(child, sig), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
  EXPECT_TRUE(ours(child).empty()) << "namespaces left behind by the signalled run";
}

TEST(NetnsLifecycle, SigtermRemovesTheNamespaces) {
  NEED_ROOT();
  signal_removes_namespaces(SIGTERM);
}

TEST(NetnsLifecycle, SigintRemovesTheNamespaces) {
  NEED_ROOT();
  signal_removes_namespaces(SIGINT);
}

TEST(NetnsLifecycle, StaleNamespacesOfADeadRunAreRemoved) {
  NEED_ROOT();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);  // a pid that no longer exists
  const std::string name = "nc" + std::to_string(child) + "_0-dut";
  ASSERT_EQ(std::system(("ip netns add " + name).c_str()), 0);  // test fixture only
  ASSERT_TRUE(namespace_exists(name));
  {
    NetnsTestbed testbed(NetnsDutConfig{});  // construction removes what dead runs left
    EXPECT_FALSE(namespace_exists(name));
    EXPECT_TRUE(namespace_exists(testbed.dut_namespace()));  // ours is alive and kept
  }
  EXPECT_TRUE(ours(getpid()).empty());
}

// ---- Traffic --------------------------------------------------------------------------------------

TEST(NetnsWire, PlainForwardingDutCarriesTheSanityProbe) {
  NEED_ROOT();
  NetnsDutConfig config;
  config.label = "linux-forwarding";
  const auto dir = std::filesystem::temp_directory_path() / ("natcert-netns-" + std::to_string(getpid()));
  config.pcap_directory = dir;
  {
    NetnsTestbed testbed(config);
    const TestResult probe = run_test(testbed, sanity_probe(), 7);
    EXPECT_EQ(probe.verdict, Verdict::pass) << probe.reason;
    // Without NAT the outside host sees the inside address itself.
    for (const auto& b : probe.bound) std::printf("bound %s = %s\n", b.name.c_str(), b.value.c_str());
  }
  for (const char* file : {"netns-inside.pcap", "netns-outside.pcap"}) {
    EXPECT_GT(std::filesystem::file_size(dir / file), 24u) << file;
    // The pcap reads back, and shows the ARP exchange and the UDP round trip but nothing else: no
    // IPv6 (router solicitations, DAD), no kernel answers for emulated hosts (RST, ICMP).
    auto count = [&](const std::string& filter) {
      const std::string command = "tcpdump -nr '" + (dir / file).string() + "' '" + filter + "' 2>/dev/null | wc -l";
      std::FILE* pipe = popen(command.c_str(), "r");
      if (!pipe) return -1;
      int lines = -1;
      if (std::fscanf(pipe, "%d", &lines) != 1) lines = -1;
      pclose(pipe);
      return lines;
    };
    if (std::system("command -v tcpdump >/dev/null 2>&1") == 0) {
      EXPECT_GE(count("arp"), 2) << file;
      EXPECT_EQ(count("udp"), 2) << file;
      EXPECT_EQ(count("not arp and not udp"), 0) << file;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(NetnsWire, DutThatForwardsNothingIsInconclusiveNeverFail) {
  NEED_ROOT();
  NetnsTestbed testbed(drop_all());
  natcert::harness::Registry registry;
  natcert::suites::register_all(registry);
  std::vector<const TestCase*> tests;
  for (const auto* t : registry.all()) {
    if (t->id.rfind("rfc4787.req1.", 0) == 0 || t->id.rfind("rfc4787.req8", 0) == 0) tests.push_back(t);
  }
  ASSERT_FALSE(tests.empty());
  const RunResult run = natcert::harness::run(testbed, tests, RunOptions{.seed = 3});
  ASSERT_TRUE(run.sanity_begin.has_value());
  EXPECT_EQ(run.sanity_begin->verdict, Verdict::inconclusive);
  for (const auto& t : run.tests) {
    EXPECT_EQ(t.verdict, Verdict::inconclusive) << t.id;
    EXPECT_NE(t.verdict, Verdict::fail) << t.id;
  }
  EXPECT_EQ(exit_code(run), 3);
}

TEST(NetnsWire, DutThatStopsAnsweringMidTestIsInconclusiveWithTheReason) {
  NEED_ROOT();
  NetnsTestbed testbed(masquerade());
  const std::string ns = testbed.dut_namespace();
  const TestCase test = tiny("netns.stops-answering", [ns](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    const Mapping first = ctx.learn_mapping(x, ctx.outside_endpoint(0));
    // The DUT dies: from now on it forwards nothing.
    const std::string command = "ip netns exec " + ns +
                                " nft 'add table inet dead; add chain inet dead dropall { type filter hook forward "
                                "priority 0; policy drop; }'";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("could not break the DUT");
    const Mapping second = ctx.learn_mapping(x, ctx.outside_endpoint(1));
    ctx.check("RFC4787-REQ-1", first.external == second.external, "same", "compared");
  });
  const TestResult result = run_test(testbed, test, 5);
  EXPECT_EQ(result.verdict, Verdict::inconclusive);
  std::printf("reason: %s\n", result.reason.c_str());
  EXPECT_NE(result.reason.find("did not complete through the DUT"), std::string::npos) << result.reason;
}

TEST(NetnsWire, RunWhoseDutDiesMidwayStillCompletesWithInconclusiveTests) {
  NEED_ROOT();
  NetnsTestbed testbed(masquerade());
  const std::string ns = testbed.dut_namespace();
  natcert::harness::Registry registry;
  natcert::suites::register_all(registry);
  std::vector<const TestCase*> tests;
  for (const auto* t : registry.all()) {
    if (t->id == "rfc4787.req1.mapping.udp" || t->id == "rfc4787.req3.no-port-overloading" ||
        t->id == "rfc4787.req8.filtering.udp" || t->id == "rfc4787.req12.icmp-no-teardown" ||
        t->id == "rfc4787.req10.no-udp-alg") {
      tests.push_back(t);
    }
  }
  ASSERT_EQ(tests.size(), 5u);
  RunOptions options{.seed = 9, .jobs = 1};
  options.on_progress = [&](const Progress& progress) {
    if (progress.done != 1) return;  // the DUT stops forwarding after the first test
    const std::string command = "ip netns exec " + ns +
                                " nft 'add table inet dead; add chain inet dead dropall { type filter hook forward "
                                "priority 0; policy drop; }'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  };
  const RunResult run = natcert::harness::run(testbed, tests, options);
  ASSERT_EQ(run.tests.size(), 5u);
  EXPECT_EQ(run.tests[0].verdict, Verdict::pass) << run.tests[0].reason;
  for (std::size_t i = 1; i < run.tests.size(); ++i) {
    EXPECT_EQ(run.tests[i].verdict, Verdict::inconclusive) << run.tests[i].id;
    EXPECT_FALSE(run.tests[i].reason.empty());
    std::printf("  %-40s %s: %s\n", run.tests[i].id.c_str(), std::string(to_string(run.tests[i].verdict)).c_str(),
                run.tests[i].reason.c_str());
  }
  ASSERT_TRUE(run.sanity_end.has_value());
  EXPECT_EQ(run.sanity_end->verdict, Verdict::inconclusive);
  EXPECT_EQ(exit_code(run), 3);
}

TEST(NetnsWire, DutWhoseLinksVanishIsInconclusiveNotError) {
  NEED_ROOT();
  NetnsTestbed testbed(masquerade());
  const std::string ns = testbed.dut_namespace();
  const TestCase test = tiny("netns.links-vanish", [ns](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    ctx.learn_mapping(x, ctx.outside_endpoint(0));
    // Deleting the DUT's end of a veth pair deletes the pair: the harness end vanishes too.
    if (std::system(("ip -n " + ns + " link del in0").c_str()) != 0) throw std::runtime_error("could not unplug the DUT");
    ctx.learn_mapping(x, ctx.outside_endpoint(1));
    ctx.check("RFC4787-REQ-1", true, "", "");
  });
  const TestResult result = run_test(testbed, test, 5);
  EXPECT_EQ(result.verdict, Verdict::inconclusive) << result.reason;
  std::printf("reason: %s\n", result.reason.c_str());
}

struct SuiteRun {
  RunResult run;
  double seconds = 0;
};

// The RFC 4787 suite without the timer tests (req5*, req6*: they sleep 45 s to minutes of real time),
// eight sessions at once against the one DUT (NATCERT_NETNS_JOBS overrides), with the verdict table.
SuiteRun run_rfc4787(const NetnsDutConfig& config) {
  natcert::harness::Registry registry;
  natcert::suites::register_all(registry);
  std::vector<const TestCase*> tests;
  for (const auto* t : registry.all()) {
    if (t->suite != "rfc4787") continue;
    if (t->id.rfind("rfc4787.req5", 0) == 0 || t->id.rfind("rfc4787.req6", 0) == 0) continue;
    tests.push_back(t);
  }
  const char* jobs_env = std::getenv("NATCERT_NETNS_JOBS");
  const std::size_t jobs = jobs_env ? std::strtoul(jobs_env, nullptr, 10) : 8;

  const auto start = std::chrono::steady_clock::now();
  NetnsTestbed testbed(config);
  const auto built = std::chrono::steady_clock::now();
  SuiteRun out;
  out.run = natcert::harness::run(testbed, tests, RunOptions{.seed = 1, .jobs = jobs});
  const auto ran = std::chrono::steady_clock::now();
  const auto unclaimed = testbed.unclaimed_packets();
  const std::string description = testbed.describe();
  testbed.shutdown();
  const auto done = std::chrono::steady_clock::now();

  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  out.seconds = seconds(done - start);
  std::printf("\nRFC 4787 over the wire: %s (jobs %zu)\n", description.c_str(), out.run.jobs);
  std::printf("  %-44s %-13s %s\n", "test", "verdict", "reason / first check");
  auto row = [](const TestResult& t) {
    std::string detail = t.reason;
    if (detail.empty() && !t.checks.empty()) detail = t.checks.front().observed;
    if (detail.size() > 110) detail = detail.substr(0, 107) + "...";
    std::printf("  %-44s %-13s %s\n", t.id.c_str(), std::string(to_string(t.verdict)).c_str(), detail.c_str());
  };
  if (out.run.sanity_begin) row(*out.run.sanity_begin);
  for (const auto& t : out.run.tests) row(t);
  if (out.run.sanity_end) row(*out.run.sanity_end);
  std::printf("  setup %.2f s, run %.2f s, teardown %.2f s, total %.2f s; unclaimed packets %llu\n",
              seconds(built - start), seconds(ran - built), seconds(done - ran), out.seconds,
              static_cast<unsigned long long>(unclaimed));
  for (const auto& p : out.run.profile) std::printf("  profile %s = %s\n", p.key.c_str(), p.value.c_str());
  return out;
}

void expect_decided(const SuiteRun& suite) {
  ASSERT_TRUE(suite.run.sanity_begin.has_value());
  ASSERT_EQ(suite.run.sanity_begin->verdict, Verdict::pass) << suite.run.sanity_begin->reason;
  for (const auto& t : suite.run.tests) {
    EXPECT_TRUE(t.verdict == Verdict::pass || t.verdict == Verdict::fail || t.verdict == Verdict::warn ||
                t.verdict == Verdict::info || t.verdict == Verdict::skip)
        << t.id << ": " << to_string(t.verdict) << " " << t.reason;
  }
  ASSERT_TRUE(suite.run.sanity_end.has_value());
  EXPECT_EQ(suite.run.sanity_end->verdict, Verdict::pass) << suite.run.sanity_end->reason;
}

Verdict verdict_of(const SuiteRun& suite, std::string_view id) {
  for (const auto& t : suite.run.tests) {
    if (t.id == id) return t.verdict;
  }
  return Verdict::error;
}

TEST(NetnsWire, Rfc4787SuiteAgainstLinuxNftMasquerade) {
  NEED_ROOT();
  NetnsDutConfig config = masquerade();
  config.outside_mtu = 1400;  // a smaller outside MTU, so RFC 4787 REQ-13 and 13a apply
  const SuiteRun suite = run_rfc4787(config);
  expect_decided(suite);
  // What Linux masquerade is known to do: endpoint-independent mapping, port preservation,
  // address-and-port-dependent filtering, no hairpinning of dynamic mappings.
  EXPECT_EQ(verdict_of(suite, "rfc4787.req1.mapping.udp"), Verdict::pass);
  EXPECT_EQ(verdict_of(suite, "rfc4787.req8.filtering.udp"), Verdict::warn);
  EXPECT_EQ(verdict_of(suite, "rfc4787.req9.hairpinning"), Verdict::fail);
  EXPECT_LT(suite.seconds, 60.0);
}

// Every bundled profile, run through the command line with its report checked: cli.profile.* in
// cli/CMakeLists.txt.

// The timer tests (req5*, req6*) in real time: about 11 minutes, so not part of the CTest run. Run it
// by hand: harness_netns_tests --gtest_also_run_disabled_tests --gtest_filter='*TimerTests*'
TEST(NetnsWire, DISABLED_Rfc4787TimerTestsAgainstLinuxNftMasquerade) {
  NEED_ROOT();
  natcert::harness::Registry registry;
  natcert::suites::register_all(registry);
  std::vector<const TestCase*> tests;
  for (const auto* t : registry.all()) {
    if (t->id.rfind("rfc4787.req5", 0) == 0 || t->id.rfind("rfc4787.req6", 0) == 0) tests.push_back(t);
  }
  NetnsTestbed testbed(masquerade());
  const auto start = std::chrono::steady_clock::now();
  const RunResult run = natcert::harness::run(testbed, tests, RunOptions{.seed = 1, .jobs = tests.size()});
  for (const auto& t : run.tests) {
    std::string detail = t.reason;
    if (detail.empty() && !t.checks.empty()) detail = t.checks.front().observed;
    std::printf("  %-44s %-13s %.0f s  %s\n", t.id.c_str(), std::string(to_string(t.verdict)).c_str(),
                std::chrono::duration<double>(t.wall).count(), detail.c_str());
    EXPECT_NE(t.verdict, Verdict::error) << t.id << ": " << t.reason;
    EXPECT_NE(t.verdict, Verdict::inconclusive) << t.id << ": " << t.reason;
  }
  for (const auto& p : run.profile) std::printf("  profile %s = %s\n", p.key.c_str(), p.value.c_str());
  std::printf("  wall %.0f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

TEST(NetnsWire, Rfc4787SuiteAgainstLinuxNftMasqueradeRandom) {
  NEED_ROOT();
  NetnsDutConfig config = masquerade();
  config.label = "linux-nft-masquerade-random";
  config.setup.back() = {"nft", "add", "rule", "ip", "nat", "post", "oifname", "{outside_if}", "masquerade", "random"};
  const SuiteRun suite = run_rfc4787(config);
  expect_decided(suite);
  EXPECT_LT(suite.seconds, 60.0);
}

TEST(NetnsWire, Rfc4787SuiteAgainstLinuxNftSnatPool) {
  NEED_ROOT();
  NetnsDutConfig config = masquerade();
  config.label = "linux-nft-snat-pool";
  config.outside_addresses = {ipv4("203.0.113.1"), ipv4("203.0.113.2")};
  config.nat_external = config.outside_addresses;  // declared: RFC 4787 REQ-2 runs
  config.setup.back() = {"nft", "add", "rule", "ip", "nat", "post", "oifname", "{outside_if}", "snat", "ip", "to",
                         "203.0.113.1-203.0.113.2"};
  const SuiteRun suite = run_rfc4787(config);
  expect_decided(suite);
  EXPECT_NE(verdict_of(suite, "rfc4787.req2.pooling.paired"), Verdict::skip);
  EXPECT_LT(suite.seconds, 60.0);
}

TEST(NetnsWire, Rfc4787SuiteAgainstLinuxNftHairpin) {
  NEED_ROOT();
  // A ruleset file loaded with nft -f and --define values, through the expand hook (as a profile does).
  const auto dir = std::filesystem::temp_directory_path() / ("natcert-netns-hairpin-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    std::FILE* f = std::fopen((dir / "hairpin.nft").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "table ip natcert {\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        "    ip daddr $external udp dport 40000-40999 dnat to $forward_host\n"
        "  }\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    iifname $inside_if oifname $inside_if ip saddr $inside_net ct status dnat masquerade\n"
        "    oifname $outside_if masquerade\n"
        "  }\n"
        "}\n",
        f);
    std::fclose(f);
  }
  NetnsDutConfig config = masquerade();
  config.label = "linux-nft-hairpin";
  config.setup = {{"nft", "--define", "inside_if=\"<inside_if>\"", "--define", "outside_if=\"<outside_if>\"",
                   "--define", "external=203.0.113.1", "--define", "inside_net=10.0.0.0/24", "--define",
                   "forward_host=10.0.0.10", "-f", (dir / "hairpin.nft").string()}};
  config.expand = [](const std::vector<std::string>& argv, const NetnsNames& names) {
    std::vector<std::string> out = argv;
    for (auto& arg : out) {
      for (const auto& [from, to] : {std::pair{std::string("<inside_if>"), names.inside_if},
                                     std::pair{std::string("<outside_if>"), names.outside_if}}) {
        for (auto at = arg.find(from); at != std::string::npos; at = arg.find(from)) arg.replace(at, from.size(), to);
      }
    }
    return out;
  };
  const SuiteRun suite = run_rfc4787(config);
  std::filesystem::remove_all(dir);
  expect_decided(suite);
  EXPECT_LT(suite.seconds, 60.0);
}

}  // namespace
