// Requirement levels (RFC 2119), verdicts, and how they combine.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace natcert::harness {

enum class Level : std::uint8_t { must, must_not, should, should_not, recommended, may };

// "MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "RECOMMENDED", "MAY".
std::string_view to_string(Level level);
// Accepts the forms above case-insensitively, and "must_not"/"must-not" spellings.
std::optional<Level> parse_level(std::string_view text);

enum class Verdict : std::uint8_t {
  pass,          // every check met
  fail,          // a MUST or MUST NOT was violated
  warn,          // a SHOULD, SHOULD NOT or RECOMMENDED was not met
  info,          // characterisation only (or a MAY not exercised)
  skip,          // not applicable to this DUT or testbed; the result says why
  inconclusive,  // the harness could not decide (e.g. the DUT forwarded no probe at all)
  error,         // a harness or test-code fault; never the DUT's fault
};

// "PASS", "FAIL", "WARN", "INFO", "SKIP", "INCONCLUSIVE", "ERROR".
std::string_view to_string(Verdict verdict);
std::optional<Verdict> parse_verdict(std::string_view text);  // case-insensitive

// The verdict of a requirement that was not met: MUST/MUST NOT -> fail; SHOULD/SHOULD NOT/RECOMMENDED
// -> warn; MAY -> info. A met requirement is always pass.
Verdict verdict_when_not_met(Level level);
inline Verdict verdict_for(Level level, bool met) { return met ? Verdict::pass : verdict_when_not_met(level); }

// Severity used to combine the outcomes recorded by one test; the test's verdict is the most severe:
//   info < pass < skip < warn < fail < inconclusive < error
// So a test that only characterises is INFO, a test whose checks all pass is PASS (info notes do not
// lower it), one failed MUST makes it FAIL, and a harness problem overrides what the DUT did (a DUT is
// never blamed when the harness itself could not finish).
int severity(Verdict verdict);
Verdict worst(Verdict a, Verdict b);

// Thrown by TestContext::skip() and TestContext::inconclusive() (and by helpers such as
// learn_mapping() when the DUT gives the harness nothing to work with). The runner turns it into the
// test's verdict with the reason. Only skip and inconclusive are legal here.
class TestAborted : public std::exception {
 public:
  TestAborted(Verdict verdict, std::string reason);
  Verdict verdict() const noexcept { return verdict_; }
  const std::string& reason() const noexcept { return reason_; }
  const char* what() const noexcept override { return reason_.c_str(); }

 private:
  Verdict verdict_;
  std::string reason_;
};

// A fault in the harness or in test code (unknown requirement id, unbound name, testbed failure).
// Yields ERROR. Any other exception escaping a procedure yields ERROR too.
class HarnessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace natcert::harness
