// Shared pieces of the natcert subcommands: usage errors, DUT specs, test selection, progress output.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "natcert/harness/dut_profile.hpp"
#include "natcert/harness/testbed.hpp"
#include "natcert/harness/testcase.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::cli {

// Exit codes (documented in `natcert --help` and docs/report-format.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_incomplete = 3;

// A usage or configuration error: printed as one line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A subcommand: its CLI11 app and what runs when it was selected (returns the exit code).
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_list(CLI::App& root);
Command add_run(CLI::App& root);
Command add_report(CLI::App& root);
Command add_selftest(CLI::App& root);

std::string version_line();

// CLI11 2.1 converts "-1" to a huge unsigned value; this validator accepts decimal digits only.
const CLI::Validator& unsigned_integer();  // "natcert 0.1.0 (git 1a2b3c4d5e6f)"

// --dut: "reference:PRESET[,key=value...]" (the in-process reference NAT), or a DUT profile: a bundled
// name ("linux-nft-masquerade", from profiles/) or the path of a profile file (docs/dut-profiles.md).
struct DutSpec {
  std::string text;      // as given
  std::string kind;      // "reference", or the bare name
  std::string argument;  // after the first ':' ("rfc-strict,udp.mapping=address-dependent")
};
DutSpec parse_dut(std::string_view text);
// "refnat:SPEC" is the reference NAT daemon on the namespace testbed: the bundled refnat-rfc-strict
// profile's addressing with SPEC as its configuration.
// Throws UsageError (one line) for an unknown DUT or profile, a malformed profile (file:line:column),
// missing privileges, a configuration make_config rejects, or a DUT whose setup fails (with its output).
// Wire testbeds write their per-side pcaps to `capture_directory`. `interfaces` (--inside-if,
// --outside-if) override a kind "ports" profile's [ports]; an error for any other DUT.
std::unique_ptr<harness::Testbed> make_testbed(const DutSpec& spec, const std::string& capture_directory = {},
                                               const harness::PortInterfaces& interfaces = {});
// --format: "json,junit,html,pcap"; UsageError on anything else.
reports::Formats parse_format_option(const std::string& text);
// Bundled profile names ("linux-nft-masquerade, ...").
std::string profile_names();
Command add_doctor(CLI::App& root);
// "rfc-strict, full-cone, ..."
std::string preset_names();

// The registry with every suite.
const harness::Registry& registry();
// Tests of the given suites (all when empty) that match the comma-separated globs in `patterns`
// (all when empty). UsageError on an unknown suite or a pattern matching nothing.
std::vector<const harness::TestCase*> select_tests(const std::vector<std::string>& suites,
                                                   const std::vector<std::string>& patterns);
// --skip: removes the tests whose id or requirement id matches one of the comma-separated globs in
// `patterns` (matched as for --test). UsageError on a glob that matches no registered test.
void skip_tests(std::vector<const harness::TestCase*>& selected, const std::vector<std::string>& patterns);

// Progress lines on stderr: "[12/40] rfc4787.req1.mapping.udp PASS (0.01s)", with an ETA once the run
// has taken a while, and a heartbeat line when nothing finished for a while (long timers on real
// time). Thread-safe; the heartbeat thread stops in the destructor.
class ProgressPrinter {
 public:
  ProgressPrinter(std::size_t total, bool quiet);
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  void finished(std::size_t done, std::string_view id, std::string_view verdict, std::chrono::nanoseconds wall);

 private:
  void heartbeat();
  std::string eta(std::size_t done) const;

  std::size_t total_;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_line_;    // last line printed (result or heartbeat)
  std::chrono::steady_clock::time_point last_result_;  // last test finished
  std::size_t done_ = 0;
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

// Joins a list with ", ".
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace natcert::cli
