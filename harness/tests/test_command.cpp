// The command runner: exit codes, output capture and bounds, timeouts that kill the process group,
// missing binaries, namespaces.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "natcert/harness/command.hpp"
#include "natcert/harness/dut_profile.hpp"

using namespace natcert::harness;
using namespace std::chrono_literals;

namespace {

CommandOptions with_timeout(std::chrono::milliseconds t) {
  CommandOptions o;
  o.timeout = t;
  return o;
}

// True when `pid` is gone or a zombie (killed, waiting to be reaped by whoever adopted it).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text;
  std::getline(stat, text);
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() || text[close + 2] == 'Z' || text[close + 2] == 'X';
}

}  // namespace

TEST(Command, TrueSucceeds) {
  const CommandResult r = run_command({"/bin/true"});
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.ok()) << r.summary();
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_TRUE(r.error.empty());
  EXPECT_FALSE(r.timed_out);
  EXPECT_LT(r.duration, 5s);
}

TEST(Command, FalseFails) {
  const CommandResult r = run_command({"/bin/false"});
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 1);
  EXPECT_EQ(r.error, "exited with status 1");
}

TEST(Command, CapturesOutputAndExitCode) {
  const CommandResult r = run_command({"sh", "-c", "echo x; exit 3"});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 3);
  EXPECT_EQ(r.output, "x\n");
  EXPECT_EQ(r.error, "exited with status 3");
  EXPECT_FALSE(r.output_truncated);
}

TEST(Command, CapturesStderrWithStdout) {
  const CommandResult r = run_command({"sh", "-c", "echo out; echo err >&2"});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, "out\nerr\n");
}

TEST(Command, TimeoutKillsTheProcessGroup) {
  const auto pid_file = std::filesystem::temp_directory_path() / ("natcert-cmd-" + std::to_string(::getpid()));
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command(
      {"sh", "-c", "sleep 30 & echo $! > '" + pid_file.string() + "'; echo started; sleep 30"}, with_timeout(300ms));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "timed out after 0.3 s");
  EXPECT_EQ(r.output, "started\n");
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGKILL);
  EXPECT_LT(elapsed, 5s);
  EXPECT_GE(elapsed, 300ms);
  std::ifstream in(pid_file);
  pid_t background = 0;
  in >> background;
  std::filesystem::remove(pid_file);
  ASSERT_GT(background, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = process_gone(background);
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "the background sleep (pid " << background << ") survived the timeout";
}

TEST(Command, SleepWithShortTimeout) {
  const CommandResult r = run_command({"sleep", "10"}, with_timeout(200ms));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.error, "timed out after 0.2 s");
  EXPECT_LT(r.duration, 3s);
  const CommandResult whole = run_command({"sleep", "10"}, with_timeout(1s));
  EXPECT_EQ(whole.error, "timed out after 1 s");
}

TEST(Command, MissingBinaryIsReportedNotThrown) {
  const CommandResult r = run_command({"natcert-no-such-binary-4711", "--flag"});
  EXPECT_FALSE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "command not found: natcert-no-such-binary-4711");
  const CommandResult abs = run_command({"/nonexistent/natcert/bin"});
  EXPECT_EQ(abs.error, "command not found: /nonexistent/natcert/bin");
  const CommandResult dir = run_command({"/tmp"});
  EXPECT_EQ(dir.error, "command not found: /tmp");
}

TEST(Command, EmptyArgv) {
  EXPECT_EQ(run_command({}).error, "empty command");
  EXPECT_EQ(run_command({""}).error, "empty command");
}

TEST(Command, OutputIsBounded) {
  CommandOptions o;
  o.max_output = 64 * 1024;
  const CommandResult r = run_command({"sh", "-c", "head -c 300000 /dev/zero; echo done >&2"}, o);
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.output.size(), 64u * 1024u);
  EXPECT_TRUE(r.output_truncated);
}

TEST(Command, BackgroundProcessHoldingOutputDoesNotBlock) {
  const CommandResult r = run_command({"sh", "-c", "sleep 20 & echo done"}, with_timeout(10s));
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.output, "done\n");
  EXPECT_LT(r.duration, 3s);
}

TEST(Command, ShellString) {
  const CommandResult r = run_shell("echo $((1 + 2)); exit 4");
  EXPECT_EQ(r.output, "3\n");
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 4);
  EXPECT_EQ(r.argv.front(), "/bin/sh");
}

TEST(Command, KilledBySignal) {
  const CommandResult r = run_command({"sh", "-c", "kill -TERM $$"});
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGTERM);
  EXPECT_EQ(r.error, "killed by signal 15");
}

TEST(Command, FormatArgvQuotes) {
  EXPECT_EQ(format_argv({"nft", "add", "rule", "ip", "t", "c", "oifname", "\"out0\"", "masquerade"}),
            "nft add rule ip t c oifname '\"out0\"' masquerade");
  EXPECT_EQ(format_argv({"echo", "it's", ""}), "echo 'it'\\''s' ''");
  const CommandResult r = run_command({"/bin/false"});
  EXPECT_NE(r.summary().find("`/bin/false`: exited with status 1 ("), std::string::npos) << r.summary();
}

TEST(Command, ProfileCommandUsesItsTimeoutAndPlaceholders) {
  const std::string text =
      "name = \"t\"\ndescription = \"d\"\nkind = \"ports\"\n"
      "[ports]\ninside_interface = \"lan0\"\noutside_interface = \"wan0\"\n"
      "[inside]\ndut_address = \"10.0.0.1\"\nprefix = 24\nhosts = [\"10.0.0.10\", \"10.0.0.11\"]\n"
      "[outside]\ndut_addresses = [\"203.0.113.1\"]\nprefix = 24\nhosts = [\"203.0.113.10\", \"203.0.113.11\"]\n"
      "[commands]\nallow_shell = true\n"
      "[[commands.setup]]\nargv = [\"echo\", \"{inside_if}\", \"{external_address}\"]\ntimeout = 5\n"
      "[[commands.reset]]\nshell = \"sleep 5\"\ntimeout = 0.2\n"
      "[[commands.teardown]]\nargv = [\"echo\", \"{dut_netns}\"]\ntimeout = 5\n";
  // {dut_netns} is not available for kind "ports": rejected at parse time.
  EXPECT_THROW((void)parse_profile(text, "p.toml"), ProfileError);
  const std::string ok_text = text.substr(0, text.find("[[commands.teardown]]"));
  const DutProfile p = parse_profile(ok_text, "p.toml");
  const Placeholders values = placeholders_for(p);
  const CommandResult setup = run_profile_command(p, p.commands.setup[0], values, "");
  EXPECT_TRUE(setup.ok()) << setup.summary();
  EXPECT_EQ(setup.output, "lan0 203.0.113.1\n");
  const CommandResult reset = run_profile_command(p, p.commands.reset[0], values, "");
  EXPECT_TRUE(reset.timed_out);
  EXPECT_EQ(reset.error, "timed out after 0.2 s");
  // A placeholder without a value is reported, not thrown.
  CommandSpec spec;
  spec.argv = {"echo", "{dut_netns}"};
  spec.timeout_seconds = 1;
  const CommandResult missing = run_profile_command(p, spec, values, "");
  EXPECT_FALSE(missing.started);
  EXPECT_NE(missing.error.find("{dut_netns} has no value"), std::string::npos) << missing.error;
}

TEST(Command, MissingNamespaceIsReported) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ip netns exec); CI runs this as root";
  CommandOptions o;
  o.netns = "natcert-no-such-netns-" + std::to_string(::getpid());
  const CommandResult r = run_command({"true"}, o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.argv.front(), "ip");
  EXPECT_NE(r.error.find("exited with status"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
}

TEST(Command, RunsInsideANamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates a network namespace); CI runs this as root";
  const std::string ns = "natcert-cmdtest-" + std::to_string(::getpid());
  ASSERT_TRUE(run_command({"ip", "netns", "add", ns}).ok());
  CommandOptions o;
  o.netns = ns;
  const CommandResult links = run_command({"ip", "-o", "link", "show"}, o);
  const CommandResult missing = run_command({"natcert-no-such-binary-4711"}, o);
  const CommandResult timeout = run_command({"sleep", "10"}, [&] {
    CommandOptions t = o;
    t.timeout = 300ms;
    return t;
  }());
  const CommandResult del = run_command({"ip", "netns", "delete", ns});
  EXPECT_TRUE(del.ok()) << del.summary();
  EXPECT_TRUE(links.ok()) << links.summary();
  EXPECT_EQ(links.argv, (std::vector<std::string>{"ip", "netns", "exec", ns, "ip", "-o", "link", "show"}));
  EXPECT_NE(links.output.find(": lo:"), std::string::npos) << links.output;
  EXPECT_EQ(links.output.find("\n2:"), std::string::npos) << "a fresh namespace has only lo:\n" << links.output;
  EXPECT_EQ(missing.error, "command not found: natcert-no-such-binary-4711");
  EXPECT_TRUE(timeout.timed_out);
}
