// Reports: the canonical JSON form of a run (versioned schema, full round trip), and renderings of it
// for people and CI (JUnit XML, a self-contained HTML page, one pcap per test and side), plus run
// diffs and expectation files for CI gating. docs/report-format.md documents every format.
//
// Everything here works from a RunResult alone, so `natcert report DIR` re-renders JUnit, HTML and
// pcaps from report.json without the DUT. Every string and byte in a RunResult is treated as hostile
// (the DUT chose it): renderings escape it, and from_json() validates everything it reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/result.hpp"

namespace natcert::reports {

using harness::RunResult;
using harness::Side;
using harness::TestResult;
using harness::Verdict;

// Anything that cannot be read, parsed or written: the message is one line (with file:line or the
// JSON path of the offending field).
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- Differential runs ---------------------------------------------------------------------------
// `natcert run --against REF`: the same tests with the same seed on the DUT and on a reference, and
// where the DUT departs from the reference, test by test and in the behaviour profile.
struct TestDeparture {
  std::string test_id;
  Verdict dut = Verdict::pass;
  Verdict reference = Verdict::pass;
  std::string dut_reason;
  std::string reference_reason;
};

struct ProfileDeparture {
  std::string key;
  std::optional<std::string> dut;        // nullopt: the DUT's run did not establish this fact
  std::optional<std::string> reference;  // nullopt: the reference's run did not
};

// A test left out of the comparison: SKIP, INCONCLUSIVE or ERROR on either side, or in one run only.
struct NotCompared {
  std::string test_id;
  std::string reason;       // "DUT: SKIP (needs virtual time ...)"
  bool incomplete = false;  // INCONCLUSIVE, ERROR or missing, rather than a SKIP
};

struct Differential {
  std::string against;           // "reference:rfc-strict"
  std::string reference_dut;     // the reference run's one-line DUT description
  std::string reference_report;  // the reference run's report directory, relative to the DUT's ("against")
  // Either run is incomplete: its start probe failed, or a test is INCONCLUSIVE or ERROR.
  bool incomplete = false;
  std::size_t agreeing_tests = 0;
  std::size_t agreeing_facts = 0;
  std::vector<TestDeparture> tests;       // in the DUT run's order
  std::vector<ProfileDeparture> profile;  // the DUT's facts by key, then those only the reference has
  std::vector<NotCompared> not_compared;  // in the DUT run's order, then tests only the reference ran

  bool departs() const { return !tests.empty() || !profile.empty(); }
  // 3 when incomplete, 1 when the DUT departs, else 0.
  int exit_code() const;
};

// Compares two runs of the same selection. A test departs when both verdicts are PASS, FAIL, WARN or
// INFO and differ. Behaviour facts compare by key (the first entry of each key on each side), with
// IPv4 addresses and ports masked (they differ between any two testbeds); a key on one side only
// departs too, unless the test that established it is not compared. Checks' expected/observed texts
// are not compared: they carry the addresses and ports each testbed chose.
Differential compare_runs(const RunResult& dut, const RunResult& reference, std::string against);
// "rfc4787.req1.mapping.udp: DUT FAIL, reference PASS (DUT: reason; reference: reason)", one line.
std::string format_departure(const TestDeparture& departure);
// "profile udp.mapping: DUT address-dependent, reference endpoint-independent", one line.
std::string format_departure(const ProfileDeparture& departure);

// ---- Canonical JSON ------------------------------------------------------------------------------
inline constexpr std::string_view schema_name = "natcert-report";
inline constexpr int schema_version = 1;

// Deterministic: fixed key order, two-space indent, trailing newline; invalid UTF-8 in strings is
// replaced by U+FFFD. Includes derived fields (tally, summary by level, legacy NAT type) that
// from_json() ignores, so to_json(from_json(to_json(r))) == to_json(r). A differential run adds the
// optional top-level "differential" object.
std::string to_json(const RunResult& run, const std::optional<Differential>& differential = std::nullopt);
// Throws ReportError on malformed JSON, a foreign schema, a newer schema_version, or a field of the
// wrong type or value ("tests[3].evidence[0].hex: odd number of hex digits"). When `differential`
// is given, it receives the "differential" object (nullopt when the report has none).
RunResult from_json(std::string_view text, std::optional<Differential>* differential = nullptr);

// ---- JUnit XML -----------------------------------------------------------------------------------
struct JunitOptions {
  bool strict = false;  // WARN counts as a failure (as with `natcert run --strict`)
};
// One <testsuite> per suite (RFC), in first-appearance order, plus "sanity" for the sanity probes.
// FAIL -> <failure>, ERROR and INCONCLUSIVE -> <error>, SKIP -> <skipped>; PASS, INFO and (unless
// strict) WARN pass, with the details in <system-out>.
std::string to_junit(const RunResult& run, const JunitOptions& options = {});

// ---- HTML ----------------------------------------------------------------------------------------
// One self-contained page: inline CSS, no script, no external resource (a Content-Security-Policy
// forbids both), <details> for expandable evidence. Every string and byte from the run is escaped.
// A differential run adds a "Departures from the reference" section before the summary.
std::string to_html(const RunResult& run, const std::optional<Differential>& differential = std::nullopt);

// ---- pcap ----------------------------------------------------------------------------------------
// Classic libpcap files (microsecond timestamps, little endian), LINKTYPE_RAW: each record is the
// IPv4 packet exactly as sent or captured. Timestamps are the evidence times (since the test's
// session started, so captures begin at the Unix epoch).
inline constexpr std::uint32_t pcap_linktype_raw = 101;
std::vector<std::uint8_t> pcap_bytes(const std::vector<harness::EvidencePacket>& evidence, Side side);
// "<test-id>.inside.pcap"; characters outside [A-Za-z0-9._-] become '_' (ids come from JSON too).
std::string pcap_file_name(std::string_view test_id, Side side);
// Writes both sides of every test (and sanity probe) that has evidence into `directory` (created),
// after removing the *.pcap files already there. Returns the files written.
std::vector<std::filesystem::path> write_pcaps(const RunResult& run, const std::filesystem::path& directory);

// ---- Diff ----------------------------------------------------------------------------------------
struct VerdictChange {
  std::string test_id;
  std::optional<Verdict> before;  // nullopt: the test is new in `after`
  std::optional<Verdict> after;   // nullopt: the test is gone from `after`
  std::string reason;             // the reason recorded in `after` (or `before` when gone)
};
// Tests whose verdict differs, in `after` order, then tests only in `before`.
std::vector<VerdictChange> diff(const RunResult& before, const RunResult& after);
// "rfc4787.req1.mapping.udp: PASS -> FAIL (reason)", one line per change.
std::string format_change(const VerdictChange& change);

// ---- Expectation files ---------------------------------------------------------------------------
// Line format (docs/report-format.md):
//   # comment
//   TEST-ID-OR-GLOB  VERDICT  # reason (mandatory)
struct Expectation {
  std::string pattern;  // a test id, or a glob ('*', '?') over test ids
  Verdict verdict = Verdict::pass;
  std::string reason;
  std::size_t line = 0;
};

struct Expectations {
  std::string source;  // file name, for messages
  std::vector<Expectation> entries;
  // The entry for a test: an exact id wins, else the first matching glob in file order.
  const Expectation* find(std::string_view test_id) const;
};

// Throws ReportError("FILE:LINE: message") on the first problem.
Expectations parse_expectations(std::string_view text, std::string_view source);
Expectations load_expectations(const std::filesystem::path& path);

struct Unexpected {
  std::string test_id;
  Verdict expected = Verdict::pass;  // for unlisted tests: PASS (INFO is accepted too)
  Verdict actual = Verdict::pass;
  bool listed = false;               // an entry of the file applied
  std::size_t line = 0;              // that entry's line
  std::string expectation_reason;    // that entry's reason
  std::string result_reason;         // the test's own reason
  bool unexpected_pass() const { return actual == Verdict::pass && listed; }
};

struct ExpectationOutcome {
  std::vector<Unexpected> unexpected;   // in run order
  std::vector<const Expectation*> unused;  // entries that matched no test of the run
  bool incomplete = false;  // an unexpected INCONCLUSIVE/ERROR, or the begin sanity probe failed
  // 3 when incomplete, 1 when anything is unexpected, else 0.
  int exit_code() const;
};
// Evaluates a run against the expectations. Unlisted tests are expected to PASS (or be INFO).
ExpectationOutcome evaluate(const Expectations& expectations, const RunResult& run);
// One line: "rfc4787.req8.filtering.udp: expected WARN, got PASS: unexpected PASS (update the
// expectation file; line 12: Linux masquerade filters by address and port)".
std::string format_unexpected(const Unexpected& item, std::string_view source);

// ---- Report directories --------------------------------------------------------------------------
struct Formats {
  bool json = true;   // report.json
  bool junit = true;  // junit.xml
  bool html = true;   // report.html
  bool pcap = true;   // pcap/<test-id>.<side>.pcap
};
// "json,junit,html,pcap" (any subset, any order; "all"). Throws ReportError on an unknown name.
Formats parse_formats(std::string_view list);

// Writes the selected formats into `directory` (created). Returns the files written. ReportError on
// any I/O failure.
std::vector<std::filesystem::path> write_report(const RunResult& run, const std::filesystem::path& directory,
                                                const Formats& formats = {}, const JunitOptions& junit = {},
                                                const std::optional<Differential>& differential = std::nullopt);
// Reads report.json from a directory, or a JSON file given directly. ReportError on any problem.
// `differential` as for from_json().
RunResult read_report(const std::filesystem::path& directory_or_file,
                      std::optional<Differential>* differential = nullptr);

// Text from a run made safe for one terminal line: valid UTF-8, control characters (newlines, ESC, ...)
// shown as \xNN.
std::string one_line(std::string_view text);

// Whole-file helpers with one-line ReportError messages.
std::string read_text_file(const std::filesystem::path& path);
void write_text_file(const std::filesystem::path& path, std::string_view content);
void write_binary_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& content);

}  // namespace natcert::reports
