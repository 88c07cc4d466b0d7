// The result model: what a run produced, in the form reports serialize (JSON, JUnit, HTML, pcap).
// Plain data; no behaviour beyond small helpers.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "natcert/harness/testcase.hpp"
#include "natcert/harness/types.hpp"
#include "natcert/harness/verdict.hpp"

namespace natcert::harness {

// One decision a procedure made: TestContext::check() or TestContext::info().
struct Check {
  std::string requirement{};  // requirement id; empty for a characterisation note not tied to one
  Level level = Level::may;
  bool met = true;           // requirement satisfied (for MUST NOT / SHOULD NOT: the thing did not happen)
  Verdict verdict = Verdict::pass;  // pass when met, else from the level; info for info()
  std::string expected{};      // "the same external endpoint for both destinations"
  std::string observed{};      // "203.0.113.1:40000 then 203.0.113.1:40002"
};

enum class Direction : std::uint8_t {
  sent,      // injected by the harness (an emulated host sent it)
  captured,  // emitted by the DUT and captured by the harness
};
std::string_view to_string(Direction direction);  // "sent", "captured"

struct EvidencePacket {
  Duration at{};  // since the test's session started (virtual or real)
  Side side = Side::inside;
  Direction direction = Direction::sent;
  std::string summary{};  // one line from the reference parser; "malformed: <reason>" for garbage
  Packet bytes;         // the IPv4 packet exactly as sent or captured (no link header)
  bool decisive = false;  // the packet a check's outcome rests on
  std::string note{};       // why it is here: "probe", "expected: reply from Y1:y2", "unclaimed", ...
};

struct BoundValue {
  std::string name{};   // "X1'"
  std::string value{};  // "203.0.113.1:40000"
};

struct LogLine {
  Duration at{};
  std::string text{};
};

// A key fact about the DUT's behaviour, for the report's behaviour profile ("udp.mapping" ->
// "endpoint-independent"), with the test that established it.
struct ProfileEntry {
  std::string key{};
  std::string value{};
  std::string test_id{};
};

struct TestResult {
  std::string id{};
  std::string suite{};
  std::string title{};
  std::vector<Requirement> requirements{};
  Verdict verdict = Verdict::error;
  std::string reason{};  // one line: the failed check, the skip/inconclusive reason, or the error
  std::vector<Check> checks{};
  std::vector<EvidencePacket> evidence{};  // in time order
  std::vector<BoundValue> bound{};         // in binding order
  std::vector<ProfileEntry> profile{};
  std::vector<LogLine> log{};
  std::chrono::nanoseconds wall{};  // real time the test took
  Duration virtual_elapsed{};       // testbed time the test took (equals wall on real-time testbeds)
  std::uint64_t seed = 0;           // the per-test seed (run seed mixed with the test id)
};

struct RunResult {
  std::string natcert_version{};  // "0.1.0"
  std::string git_revision{};     // at configure time; "unknown" outside a git checkout
  std::string testbed{};          // "in-process", "wire"
  std::string dut{};              // one line describing the DUT
  std::vector<std::pair<std::string, std::string>> dut_config{};  // every knob for reference DUTs
  std::uint64_t seed = 0;
  std::string started{};   // ISO 8601 UTC, "2024-05-01T12:00:00Z"
  std::string finished{};
  std::chrono::nanoseconds wall{};
  std::string host{};      // host name of the machine running natcert
  std::size_t jobs = 1;  // worker threads used
  // Sanity probes (a UDP round trip inside -> outside -> inside). The begin probe gates the run: when
  // it is not PASS/INFO every test is INCONCLUSIVE. A failing end probe is only reported here.
  std::optional<TestResult> sanity_begin{};
  std::optional<TestResult> sanity_end{};
  std::vector<TestResult> tests{};  // in selection order, whatever order they ran in
  std::vector<ProfileEntry> profile{};  // concatenation of the tests' profile entries, in test order
};

// Counts per verdict, indexed by static_cast<size_t>(Verdict).
struct Tally {
  std::array<std::size_t, 7> counts{};
  std::size_t operator[](Verdict verdict) const { return counts[static_cast<std::size_t>(verdict)]; }
  std::size_t total() const;
};
Tally tally(const RunResult& run);

// ISO 8601 UTC with second precision: "2024-05-01T12:00:00Z".
std::string iso8601_utc(std::chrono::system_clock::time_point time);

}  // namespace natcert::harness
