// The namespace testbed's managed DUT process (NetnsDutConfig::dut_process), with a small shell
// stand-in that speaks the reference NAT daemon's control protocol (ready line, reset, stats, quit):
// it comes up, resets and stats go over its stdin/stdout, a process that fails early or never says
// ready is a clear NetnsError with its stderr, a deaf one costs a note (never a hang), one that dies
// mid-run leaves the later tests INCONCLUSIVE, and nothing (namespace, process) is left behind. The
// real daemon (`natcert refnat`, via the bundled refnat-rfc-strict profile) comes up, carries the
// sanity probe, and a reset clears its mappings.
//
// Needs root (CAP_NET_ADMIN): every test skips with that message otherwise; fails when CI is set.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <signal.h>
#include <sys/stat.h>
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


constexpr const char* kStandIn = R"SH(#!/bin/sh
# Stand-in for `natcert refnat --control stdio`. $1: mode, $2: file for its pid.
mode="$1"
echo $$ > "$2"
case "$mode" in
  fail) echo "refnat: --inside 10.0.0.1/33: bad prefix" >&2; exit 2 ;;
  silent) exec sleep 30 ;;
esac
echo "stand-in starting" >&2
echo "ready inside-mac=$(cat /sys/class/net/in0/address) outside-mac=$(cat /sys/class/net/out0/address)"
resets=0
while read -r command; do
  case "$command" in
    reset) resets=$((resets + 1)); [ "$mode" = deaf ] || echo "ok reset" ;;
    stats) echo "stats resets=$resets mappings=0" ;;
    quit) exit 0 ;;
  esac
done
exit 0
)SH";

class StandIn {
 public:
  StandIn() : dir_(std::filesystem::temp_directory_path() / ("natcert-dut-process-" + std::to_string(getpid()))) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "stand-in.sh") << kStandIn;
    std::filesystem::permissions(dir_ / "stand-in.sh", std::filesystem::perms::owner_all);
  }
  ~StandIn() { std::filesystem::remove_all(dir_); }

  // A plain forwarding DUT (kernel addressing) plus the stand-in as its process, pcaps in dir/pcap.
  NetnsDutConfig config(const std::string& mode) const {
    NetnsDutConfig c;
    c.label = "stand-in-" + mode;
    DutProcess process;
    process.argv = {(dir_ / "stand-in.sh").string(), mode, (dir_ / "pid").string()};
    process.ready_timeout = 3000ms;
    process.reply_timeout = 500ms;
    c.dut_process = process;
    c.pcap_directory = dir_ / "pcap";
    return c;
  }
  pid_t pid() const {
    std::ifstream in(dir_ / "pid");
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }
  bool alive() const {
    const pid_t p = pid();
    return p > 0 && (kill(p, 0) == 0 || errno != ESRCH);
  }
  std::filesystem::path dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

std::vector<std::string> ours() {
  std::vector<std::string> out;
  const std::string prefix = "nc" + std::to_string(getpid()) + "_";
  for (const auto& name : natcert_namespaces()) {
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

std::string joined(const std::vector<LogLine>& lines) {
  std::string out;
  for (const auto& line : lines) out += line.text + "\n";
  return out;
}

TEST(NetnsDutProcess, ComesUpAnswersResetAndStatsAndLeavesNothing) {
  NEED_ROOT();
  StandIn stand_in;
  {
    NetnsTestbed testbed(stand_in.config("normal"));
    EXPECT_TRUE(stand_in.alive());
    const TestResult probe = run_test(testbed, sanity_probe(), 3);
    EXPECT_EQ(probe.verdict, Verdict::pass) << probe.reason;
    // Construction reset once, the probe's session once more: the stand-in counted both.
    const std::string diagnostics = joined(testbed.diagnostics());
    EXPECT_NE(diagnostics.find("stats resets=2"), std::string::npos) << diagnostics;
    bool listed = false;
    for (const auto& [key, value] : testbed.dut_configuration()) listed |= key == "netns.dut-process";
    EXPECT_TRUE(listed);
  }
  EXPECT_FALSE(stand_in.alive()) << "the DUT process outlived its testbed";
  EXPECT_TRUE(ours().empty());
  std::ifstream log(stand_in.dir() / "pcap" / "netns-dut-process.log");
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "stand-in starting");
  std::ifstream diagnostics_file(stand_in.dir() / "pcap" / "netns-diagnostics.txt");
  const std::string written((std::istreambuf_iterator<char>(diagnostics_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(written.find("stats resets="), std::string::npos) << written;
}

TEST(NetnsDutProcess, WithoutKernelAddressingTheDutInterfacesCarryNoAddress) {
  NEED_ROOT();
  StandIn stand_in;
  NetnsDutConfig config = stand_in.config("normal");
  config.kernel_addressing = false;
  NetnsTestbed testbed(config);
  const std::string ns = testbed.dut_namespace();
  auto output = [](const std::string& command) {
    std::string out;
    std::FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return out;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
    return out;
  };
  EXPECT_EQ(output("ip -n " + ns + " -4 address show dev in0"), "");
  EXPECT_EQ(output("ip -n " + ns + " -4 address show dev out0"), "");
  EXPECT_EQ(output("ip -n " + ns + " -4 route show"), "");
  EXPECT_EQ(output("ip netns exec " + ns + " sysctl -n net.ipv4.ip_forward"), "0\n");
  // Nothing forwards now (the stand-in is no NAT): the probe is INCONCLUSIVE, never a FAIL.
  const TestResult probe = run_test(testbed, sanity_probe(), 3);
  EXPECT_EQ(probe.verdict, Verdict::inconclusive) << probe.reason;
}

TEST(NetnsDutProcess, ProcessThatFailsBeforeReadyIsAClearErrorWithItsStderr) {
  NEED_ROOT();
  StandIn stand_in;
  try {
    NetnsTestbed testbed(stand_in.config("fail"));
    FAIL() << "the testbed should not come up";
  } catch (const NetnsError& e) {
    const std::string message = e.what();
    std::printf("message: %s\n", message.c_str());
    EXPECT_NE(message.find("exited with status 2"), std::string::npos) << message;
    EXPECT_NE(message.find("bad prefix"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_TRUE(ours().empty());
  EXPECT_FALSE(stand_in.alive());
}

TEST(NetnsDutProcess, ProcessThatNeverSaysReadyTimesOutAndIsStopped) {
  NEED_ROOT();
  StandIn stand_in;
  NetnsDutConfig config = stand_in.config("silent");
  config.dut_process->ready_timeout = 500ms;
  const auto start = std::chrono::steady_clock::now();
  try {
    NetnsTestbed testbed(config);
    FAIL() << "the testbed should not come up";
  } catch (const NetnsError& e) {
    EXPECT_NE(std::string(e.what()).find("no ready line within 500 ms"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_TRUE(ours().empty());
  EXPECT_FALSE(stand_in.alive());
}

TEST(NetnsDutProcess, ResetWithoutReplyIsANoteNotAHang) {
  NEED_ROOT();
  StandIn stand_in;
  NetnsTestbed testbed(stand_in.config("deaf"));
  const TestResult probe = run_test(testbed, sanity_probe(), 3);
  EXPECT_EQ(probe.verdict, Verdict::pass) << probe.reason;
  EXPECT_NE(joined(probe.log).find("no \"ok reset\" reply"), std::string::npos) << joined(probe.log);
}

TEST(NetnsDutProcess, ProcessDyingMidRunLeavesLaterTestsInconclusiveAndTheRunCompletes) {
  NEED_ROOT();
  StandIn stand_in;
  NetnsTestbed testbed(stand_in.config("normal"));
  natcert::harness::Registry registry;
  natcert::suites::register_all(registry);
  std::vector<const TestCase*> tests;
  for (const auto* t : registry.all()) {
    if (t->id == "rfc4787.req1.mapping.udp" || t->id == "rfc4787.req3.no-port-overloading" ||
        t->id == "rfc4787.req8.filtering.udp") {
      tests.push_back(t);
    }
  }
  ASSERT_EQ(tests.size(), 3u);
  RunOptions options{.seed = 4, .jobs = 1};
  options.on_progress = [&](const Progress& progress) {
    if (progress.done == 1) kill(stand_in.pid(), SIGKILL);
  };
  const RunResult run = natcert::harness::run(testbed, tests, options);
  ASSERT_EQ(run.tests.size(), 3u);
  for (std::size_t i = 1; i < run.tests.size(); ++i) {
    EXPECT_EQ(run.tests[i].verdict, Verdict::inconclusive) << run.tests[i].id;
    EXPECT_NE(run.tests[i].reason.find("DUT process"), std::string::npos) << run.tests[i].reason;
  }
  std::printf("reason: %s\n", run.tests.back().reason.c_str());
  EXPECT_EQ(exit_code(run), 3);
}

}  // namespace

// ---- The real daemon: `natcert refnat`, through the bundled profile as the CLI converts it ---------

std::string stat_value(const std::string& stats, const std::string& key) {
  const auto at = stats.find(" " + key + "=");
  if (at == std::string::npos) return {};
  const auto start = at + key.size() + 2;
  return stats.substr(start, stats.find_first_of(" \n", start) - start);
}

// Whether any process lives in the network namespace with this inode (the DUT namespace's).
bool process_in_namespace(ino_t inode) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    struct stat st {};
    if (::stat((entry.path() / "ns" / "net").c_str(), &st) == 0 && st.st_ino == inode) return true;
  }
  return false;
}

TEST(NetnsRefnatDaemon, ComesUpCarriesTheProbeResetClearsItsStateAndLeavesNothing) {
  NEED_ROOT();
  const DutProfile profile = load_profile(std::filesystem::path(NATCERT_PROFILES_DIR) / "refnat-rfc-strict.toml");
  NetnsDutConfig config = to_netns_config(profile, RefnatProgram{NATCERT_EXECUTABLE});
  ASSERT_TRUE(config.dut_process.has_value());
  EXPECT_FALSE(config.kernel_addressing);
  ino_t dut_inode = 0;
  {
    NetnsTestbed testbed(config);
    struct stat st {};
    ASSERT_EQ(::stat(("/run/netns/" + testbed.dut_namespace()).c_str(), &st), 0);
    dut_inode = st.st_ino;
    EXPECT_TRUE(process_in_namespace(dut_inode)) << "no daemon in the DUT namespace";
    const TestResult probe = run_test(testbed, sanity_probe(), 3);
    EXPECT_EQ(probe.verdict, Verdict::pass) << probe.reason;
    const std::string before = joined(testbed.diagnostics());
    std::printf("%s", before.c_str());
    EXPECT_NE(stat_value(before, "mappings"), "0") << before;
    EXPECT_NE(stat_value(before, "mappings"), "") << before;
    // A new session resets the daemon: its mappings are gone.
    { const auto session = testbed.open_session(sanity_probe(), 1); }
    const std::string after = joined(testbed.diagnostics());
    EXPECT_EQ(stat_value(after, "mappings"), "0") << after;
  }
  EXPECT_FALSE(process_in_namespace(dut_inode)) << "the daemon outlived its testbed";
  EXPECT_TRUE(ours().empty());
}
