// TestContext: everything a test procedure uses. Procedures are written only against this class (and
// craft.hpp / matcher.hpp), so the same test runs unchanged on the in-process reference NAT (virtual
// time) and on a real DUT over the wire (real time).
//
//   void eim(TestContext& ctx) {
//     Endpoint x = ctx.inside_endpoint(0);
//     Endpoint y1 = ctx.outside_endpoint(0), y2 = ctx.outside_endpoint(1);
//     Mapping m1 = ctx.learn_mapping(x, y1);
//     Mapping m2 = ctx.learn_mapping(x, y2);
//     ctx.check("RFC4787-REQ-1", m1.external == m2.external, "the same external endpoint for both",
//               to_string(m1.external) + " and " + to_string(m2.external));
//   }
//
// Verdicts: check() records a decision on a declared requirement; info() a characterisation;
// skip() / inconclusive() end the procedure (they throw TestAborted). Any other exception escaping
// the procedure is an ERROR, and so is a procedure that decides nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/craft.hpp"
#include "natcert/harness/decode.hpp"
#include "natcert/harness/matcher.hpp"
#include "natcert/harness/result.hpp"
#include "natcert/harness/testbed.hpp"
#include "natcert/harness/testcase.hpp"
#include "natcert/harness/types.hpp"
#include "natcert/harness/verdict.hpp"

namespace natcert::harness {

enum class Parity : std::uint8_t { any, even, odd };

// What the STUN-like reflector learned about one UDP flow.
struct Mapping {
  Endpoint internal;  // the inside host's endpoint (X:x)
  Endpoint remote;    // the outside endpoint the probe went to (Y:y)
  Endpoint external;  // the source the outside host saw (X':x'), chosen by the DUT
  Observed probe;     // the probe as captured on the outside (translated)
};

// A TCP connection established through the DUT by learn_tcp_mapping (three-way handshake done).
struct TcpMapping {
  Endpoint internal{};
  Endpoint remote{};
  Endpoint external{};
  std::uint32_t inside_next_seq = 0;   // next sequence number the inside host sends
  std::uint32_t outside_next_seq = 0;  // next sequence number the outside host sends
  Observed syn;                        // the SYN as captured on the outside
};

struct ReflectorOptions {
  Duration window = reply_window;  // for the probe to appear outside, and for the reply inside
  bool reply = true;               // the outside host answers with "a.b.c.d:port" (the source it saw)
  IpFields ip{};                     // header fields of the probe
};

class TestContext {
 public:
  // Built by the runner. `seed` drives fresh ports and every other choice the harness makes.
  TestContext(const TestCase& test, DutSession& session, Addressing addressing, std::uint64_t seed,
              bool virtual_time);
  ~TestContext();
  TestContext(const TestContext&) = delete;
  TestContext& operator=(const TestContext&) = delete;

  const TestCase& test() const;

  // ---- Hosts and ports -------------------------------------------------------------------------
  const Addressing& addressing() const;
  Ipv4Address inside(std::size_t host) const;   // HarnessError if the testbed has no such host
  Ipv4Address outside(std::size_t host) const;
  Ipv4Address third_party() const;              // SKIPs the test when the testbed has none
  // A port not yet used in this test (random high port, deterministic for the seed).
  std::uint16_t fresh_port(Parity parity = Parity::any);
  // A fresh privileged port (< 1024), for RFC 4787 REQ-3a.
  std::uint16_t fresh_privileged_port(Parity parity = Parity::any);
  // {inside(host), fresh_port()} and {outside(host), fresh_port()}.
  Endpoint inside_endpoint(std::size_t host = 0);
  Endpoint outside_endpoint(std::size_t host = 0);
  // A random 32-bit value from the test's generator (TCP sequence numbers, ICMP identifiers, ...).
  std::uint32_t random();

  // ---- Traffic ---------------------------------------------------------------------------------
  // Injects a packet (recorded as evidence with `note`).
  void send(Side side, Bytes packet, std::string_view note = {});
  // First packet on `side` matching within `window`, consumed; recorded as evidence. Logs what was
  // expected and whether it came. `what` defaults to the matcher's description.
  std::optional<Observed> expect(Side side, const Matcher& matcher, Duration window = reply_window,
                                 std::string_view what = {});
  // The negative expectation: true when nothing matching arrives on `side` within `window` (already
  // queued, unconsumed packets count too). A packet that did arrive is recorded as evidence.
  bool expect_none(Side side, const Matcher& matcher, Duration window = silence_window,
                   std::string_view what = {});
  // Every matching packet arriving within `window` (waits the whole window), e.g. fragments.
  std::vector<Observed> collect(Side side, const Matcher& matcher, Duration window = reply_window,
                                std::string_view what = {});
  // Discards whatever is queued on `side` (recorded as evidence, note "drained").
  std::vector<Observed> drain(Side side);

  // ---- Reflector (STUN-like outside service) ---------------------------------------------------
  // Sends a UDP probe from `internal` to `remote`, captures it on the outside and returns the source
  // the DUT chose. Then `remote` answers that source with "a.b.c.d:port" and the answer must arrive
  // at `internal`. When the probe or the answer does not come through, the test is INCONCLUSIVE
  // (throws TestAborted): the harness cannot decide anything about a flow the DUT does not carry.
  Mapping learn_mapping(Endpoint internal, Endpoint remote, const ReflectorOptions& options = {});
  // Same, but returns nullopt instead of aborting (for tests where "not forwarded" is the finding).
  std::optional<Mapping> try_learn_mapping(Endpoint internal, Endpoint remote,
                                           const ReflectorOptions& options = {});
  // TCP: SYN out, SYN-ACK back, ACK out; INCONCLUSIVE when any step does not come through.
  TcpMapping learn_tcp_mapping(Endpoint internal, Endpoint remote, Duration window = reply_window);

  // ---- Values the DUT chose --------------------------------------------------------------------
  // Named values appear in the result ("X1'" -> "203.0.113.1:40000"). Rebinding replaces.
  void bind(std::string name, Endpoint value);
  void bind(std::string name, std::string value);
  Endpoint bound(std::string_view name) const;             // HarnessError when unbound or not an endpoint
  const std::string& bound_text(std::string_view name) const;  // HarnessError when unbound

  // ---- Time ------------------------------------------------------------------------------------
  void sleep(Duration duration);  // virtual time advances instantly; real time sleeps
  Duration now() const;           // since the test's session started
  bool virtual_time() const;
  // Real time this test may spend waiting for timers (`natcert run --timer-budget`, else the DUT
  // profile's realtime_budget). nullopt: no limit (virtual time runs every timer at full length).
  // A timer test that would need more SKIPs with the bound it did establish (suites/shared/lifetime.hpp).
  std::optional<Duration> timer_budget() const;
  void set_timer_budget(std::optional<Duration> budget);  // for the runner

  // ---- Decisions -------------------------------------------------------------------------------
  // Records whether a declared requirement is met. The level comes from the test's requirements
  // (use the overload with a level for a requirement declared at two levels). The packets captured
  // since the previous check are marked decisive. Returns `met`. HarnessError for an undeclared id.
  bool check(std::string_view requirement, bool met, std::string expected, std::string observed);
  bool check(std::string_view requirement, Level level, bool met, std::string expected,
             std::string observed);
  // A characterisation (verdict INFO unless some check says otherwise).
  void info(std::string observed);
  void info(std::string_view requirement, std::string observed);
  [[noreturn]] void skip(std::string reason);
  [[noreturn]] void inconclusive(std::string reason);
  // Marks a captured packet as decisive evidence explicitly.
  void decisive(const Observed& packet);
  // A behaviour-profile fact ("udp.mapping" -> "endpoint-independent").
  void profile(std::string key, std::string value);
  void log(std::string text);

  // ---- For the runner ------------------------------------------------------------------------
  // Closes the test: collects unconsumed packets as evidence, computes the verdict from the
  // recorded checks (or from `aborted`), and returns the result. Call once.
  TestResult finish(std::optional<std::pair<Verdict, std::string>> aborted);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace natcert::harness
