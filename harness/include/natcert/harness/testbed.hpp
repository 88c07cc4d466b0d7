// The testbed abstraction: where emulated hosts live and how packets reach the DUT. Test procedures
// never see it directly (they use TestContext); the runner opens one DutSession per test.
//
// Implementations: InProcessTestbed (reference NAT on virtual time, one NAT per session) and, in the
// next milestone, the wire testbed (network namespaces, AF_PACKET, a shared DUT whose captures are
// demultiplexed to the session whose receive() is waiting for them, real time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "natcert/harness/matcher.hpp"
#include "natcert/harness/types.hpp"

namespace natcert::harness {

struct TestCase;

// Who is where. Addresses of emulated hosts are fixed per testbed; ports are per session.
struct Addressing {
  std::vector<Ipv4Address> inside;   // emulated inside hosts (at least two), e.g. 10.0.0.10, 10.0.0.11
  std::vector<Ipv4Address> outside;  // emulated outside hosts (at least two), e.g. 198.51.100.10, .11
  std::optional<Ipv4Address> third_party;  // an outside address tests keep silent until needed (192.0.2.50)
  std::vector<Ipv4Address> nat_external;   // the NAT's external addresses, when declared (may be empty)
  std::optional<Ipv4Address> nat_inside;   // the NAT's inside (gateway) address, when known
  // The ALGs the DUT declares it runs ("ftp", "sip", "tftp"): a profile's declares.algs, or what a
  // reference configuration enables. Payload rewriting by a declared ALG is allowed; by any other, not.
  std::vector<std::string> declared_algs;

  bool declares_alg(std::string_view alg) const {
    for (const std::string& declared : declared_algs) {
      if (declared == alg) return true;
    }
    return false;
  }
};

// Port ranges a session's emulated hosts may use. A shared wire DUT hands disjoint slices to
// concurrent sessions; the in-process testbed gives every session the whole range.
struct PortRanges {
  std::uint16_t high_first = 10000;
  std::uint16_t high_last = 60999;
  std::uint16_t low_first = 600;  // privileged (< 1024) ports, clear of common well-known services
  std::uint16_t low_last = 1023;
};

// A packet captured from the DUT on one side.
struct Captured {
  Side side = Side::inside;
  Duration at{};  // since the session started
  Packet bytes{};   // IPv4 packet without link header
};

// One test's connection to the DUT. Used from one thread at a time.
class DutSession {
 public:
  virtual ~DutSession() = default;

  // Injects an IPv4 packet on `side` as if an emulated host on that side sent it.
  virtual void send(Side side, Bytes packet) = 0;
  // Returns the first packet captured on `side` that matches, waiting up to `window` (0: only what
  // is already queued). The packet is consumed; captured packets that do not match stay queued for
  // later calls. Packets captured before the call and not yet consumed are considered first.
  virtual std::optional<Captured> receive(Side side, const Matcher& matcher, Duration window) = 0;
  // Lets time pass (virtual: advances the clock and runs the DUT's timers; real: sleeps). Packets the
  // DUT emits meanwhile are queued.
  virtual void wait(Duration duration) = 0;
  // Time since the session started.
  virtual Duration now() const = 0;
  // Removes and returns every queued packet of `side`.
  virtual std::vector<Captured> drain(Side side) = 0;
  // Diagnostics the testbed collected since the last call (e.g. the reference NAT's drop reasons).
  // They go to the test's log; a wire testbed may return nothing.
  virtual std::vector<std::string> take_diagnostics() { return {}; }
  virtual PortRanges ports() const { return {}; }
};

class Testbed {
 public:
  virtual ~Testbed() = default;

  virtual std::string kind() const = 0;      // "in-process", "wire"
  virtual std::string describe() const = 0;  // one line about the DUT
  // The DUT's configuration as key/value pairs (every knob for reference DUTs; empty if unknown).
  virtual std::vector<std::pair<std::string, std::string>> dut_configuration() const { return {}; }
  virtual Addressing addressing() const = 0;
  virtual bool virtual_time() const = 0;
  // Real time one timer test may spend waiting (idle timeouts, refresh), unless the run overrides it
  // (RunOptions::timer_budget). nullopt: no limit, as on virtual time, where every timer runs at full
  // length instantly.
  virtual std::optional<Duration> timer_budget() const { return std::nullopt; }
  // How many sessions may run at once (0: no limit beyond the runner's worker count).
  virtual std::size_t max_concurrency() const { return 0; }
  // Opens a session for one test. `seed` is the per-test seed; the same seed must give the same
  // behaviour on virtual-time testbeds. Throws (anything) when the testbed cannot serve the test:
  // the runner reports ERROR, never a DUT failure.
  virtual std::unique_ptr<DutSession> open_session(const TestCase& test, std::uint64_t seed) = 0;
};

}  // namespace natcert::harness
