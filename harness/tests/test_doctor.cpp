// doctor: all checks pass as root (CI), and without privileges the problem is one line, not a crash.
#include <gtest/gtest.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "natcert/harness/command.hpp"
#include "natcert/harness/doctor.hpp"

using namespace natcert::harness;

namespace {

const std::vector<std::string> check_names = {"privileges", "iproute2", "netns",    "veth",
                                              "nftables",   "conntrack", "af_packet"};

std::vector<std::string> names(const std::vector<DoctorCheck>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) out.push_back(c.check);
  return out;
}

bool one_line(const std::string& s) { return s.find('\n') == std::string::npos && s.find('\r') == std::string::npos; }

}  // namespace

TEST(Doctor, EveryCheckIsOneLine) {
  const auto checks = run_doctor();
  EXPECT_EQ(names(checks), check_names);
  for (const auto& c : checks) {
    SCOPED_TRACE(c.check);
    EXPECT_FALSE(c.message.empty());
    EXPECT_TRUE(one_line(c.message)) << c.message;
    EXPECT_TRUE(one_line(c.fix)) << c.fix;
    EXPECT_EQ(c.ok, c.fix.empty()) << format_check(c);
    EXPECT_TRUE(one_line(format_check(c)));
  }
}

TEST(Doctor, AllOkAsRootAndLeavesNothingBehind) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root; CI runs as root and must report every check OK";
  const auto checks = run_doctor();
  for (const auto& c : checks) EXPECT_TRUE(c.ok) << format_check(c);
  EXPECT_TRUE(all_ok(checks));
  EXPECT_EQ(checks[2].message.rfind("created and deleted network namespace natcert-doctor-" + std::to_string(::getpid()), 0),
            0u)
      << checks[2].message;
  const CommandResult list = run_command({"ip", "netns", "list"});
  ASSERT_TRUE(list.ok()) << list.summary();
  EXPECT_EQ(list.output.find("natcert-doctor-" + std::to_string(::getpid()) + "-"), std::string::npos) << list.output;
}

TEST(Doctor, PrivilegeCheckMatchesEffectiveUser) {
  const DoctorCheck c = check_privileges();
  EXPECT_EQ(c.check, "privileges");
  if (::geteuid() == 0) {
    EXPECT_TRUE(c.ok) << format_check(c);
  } else {
    // Unprivileged test runs: one line that says what is wrong and how to fix it.
    EXPECT_TRUE(one_line(format_check(c)));
    if (!c.ok) {
      EXPECT_NE(c.fix.find("root"), std::string::npos) << format_check(c);
    }
  }
}

// As root, also exercise the unprivileged path: a forked child drops to nobody and runs the doctor.
TEST(Doctor, UnprivilegedReportsThePrivilegeProblem) {
  if (::geteuid() != 0) {
    const auto checks = run_doctor();
    ASSERT_FALSE(checks.empty());
    EXPECT_EQ(checks[0].check, "privileges");
    EXPECT_FALSE(all_ok(checks));
    GTEST_SKIP() << "not root: the unprivileged report was checked directly; the drop-privileges case needs root";
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    int code = 0;
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      code = 10;
    } else {
      const auto checks = run_doctor();
      std::string text;
      for (const auto& c : checks) text += format_check(c) + "\n";
      (void)!::write(fds[1], text.data(), text.size());
      if (checks.size() != check_names.size()) code = 11;
      else if (checks[0].check != "privileges" || checks[0].ok) code = 12;
      else if (checks[0].message.find("not root") == std::string::npos) code = 13;
      else if (all_ok(checks)) code = 14;
    }
    ::close(fds[1]);
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string output;
  char buffer[4096];
  for (int i = 0; i < 10000; ++i) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_EQ(output.rfind("FAIL  privileges: not root", 0), 0u) << output;
}
