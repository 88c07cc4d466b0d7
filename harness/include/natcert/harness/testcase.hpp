// A test case is metadata plus a procedure; the Registry holds them. Registration is explicit: each
// suite exposes `void register_<suite>(Registry&)` (static-initialiser registration would be dropped
// by the linker from static libraries).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/verdict.hpp"

namespace natcert::harness {

class TestContext;

// A requirement a test decides, with its level as in ../shared/rfc/requirements.md.
// "RFC4787-REQ-13a" is "MUST + SHOULD": list it twice ({id, must}, {id, should}) and pass the level
// to TestContext::check explicitly.
struct Requirement {
  std::string id{};  // e.g. "RFC4787-REQ-1"
  Level level = Level::must;
};

// A reference-NAT configuration that violates the test's requirement. Mutant validation runs the
// test against it and expects `expected` (FAIL for a MUST, WARN for a SHOULD, INFO for a MAY).
struct Mutant {
  std::string name{};    // short, e.g. "apdm"
  std::string config{};  // reference spec for natcert::ref::make_config, e.g.
                       // "rfc-strict,udp.mapping=address-and-port-dependent"
  Verdict expected = Verdict::fail;
  std::string why{};     // one line: what the mutant does wrong
};

// What the testbed must offer for the test to apply. Unmet needs make the test SKIP with the reason
// (no session is opened).
struct Needs {
  std::size_t inside_hosts = 2;
  std::size_t outside_hosts = 2;
  std::size_t external_addresses = 0;  // NAT external addresses the testbed declares (REQ-2 needs 2)
  bool third_party_host = false;       // an outside address that never talked to the inside host
  bool virtual_time = false;           // only practical on virtual time (e.g. hours of idle timers)
};

struct TestCase {
  std::string id{};     // stable, readable, lower case: "rfc4787.req1.mapping.udp"
  std::string suite{};  // "rfc4787"
  std::vector<Requirement> requirements{};
  std::string title{};      // one line
  std::string procedure{};  // one paragraph, in words: what is sent, what is expected
  std::string rfc_quote{};  // the RFC sentence the test decides, verbatim
  std::function<void(TestContext&)> run{};

  // Mutant validation: a reference configuration under which the test must PASS...
  std::string compliant_config = "rfc-strict";
  // ...and at least one under which it must FAIL (or WARN/INFO for SHOULD/MAY requirements).
  std::vector<Mutant> mutants{};
  Needs needs{};
};

// Every problem with a test's metadata: empty or malformed id (lower-case [a-z0-9._-], dot separated),
// no suite, no requirement, no title, no procedure, no run function, no mutant while a requirement
// above MAY is declared, a mutant with no config or an expected verdict other than FAIL/WARN/INFO.
// The project's test suite asserts this is empty for every registered test.
std::vector<std::string> validate(const TestCase& test);

// Shell-style glob: '*' any run of characters, '?' one character. Case-sensitive.
bool glob_match(std::string_view pattern, std::string_view text);

class Registry {
 public:
  // Throws std::invalid_argument when the id is already registered or empty.
  void add(TestCase test);

  std::size_t size() const { return tests_.size(); }
  // nullptr when absent.
  const TestCase* find(std::string_view id) const;
  // All tests in registration order.
  std::vector<const TestCase*> all() const;
  std::vector<const TestCase*> suite(std::string_view suite) const;
  // Tests whose id matches any of the comma-separated globs ("rfc4787.req1.*,rfc5382.*"), or that
  // decide a requirement id matching one ("RFC4787-REQ-1*"). Registration order; no duplicates.
  std::vector<const TestCase*> select(std::string_view patterns) const;
  // Suite names in registration order.
  std::vector<std::string> suites() const;

 private:
  std::deque<TestCase> tests_;  // deque: pointers stay valid as tests are added
};

}  // namespace natcert::harness
