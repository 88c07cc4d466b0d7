// Shared by the RFC 5382 (TCP) tests: scripted connections through the DUT, classifying TCP
// filtering, and the unsolicited-SYN probe of REQ-4.
#pragma once

#include <optional>
#include <string>

#include "natcert/harness/context.hpp"
#include "natcert/harness/tcp_endpoint.hpp"
#include "natcert/harness/testcase.hpp"
#include "shared/filtering.hpp"

namespace natcert::suites::rfc5382 {

using harness::Duration;
using harness::Endpoint;
using harness::Level;
using harness::Mutant;
using harness::Observed;
using harness::Packet;
using harness::Registry;
using harness::TcpConnection;
using harness::TcpPeer;
using harness::TestCase;
using harness::TestContext;
using harness::Verdict;
using ref::Side;
namespace match = harness::match;
namespace tcp_flag = ref::tcp_flag;

inline constexpr const char* kSuite = "rfc5382";

// REQ-4: the NAT must not answer an unsolicited SYN for 6 s. Watched a little less than that, so a
// compliant answer right at 6 s is not counted against it.
inline constexpr Duration kUnsolicitedSilence = std::chrono::milliseconds(5900);
// How long after the silence a REQ-4 ICMP Port Unreachable is awaited.
inline constexpr Duration kUnsolicitedAnswerWindow = std::chrono::seconds(6);

// A connection X:x -> Y:y whose three-way handshake went through; INCONCLUSIVE (the precondition of
// the test failed, not its requirement) when it did not.
TcpConnection established(TestContext& ctx, Endpoint inside, Endpoint outside, std::string_view purpose);

// "203.0.113.1:40000"
std::string text(const std::optional<Endpoint>& endpoint);

// RFC 4787 §5 terms, for TCP SYNs (RFC 5382 §4.3).
using suites::FilteringClass;
using suites::FilteringProbe;
using suites::to_string;
// After `connection` (X:x -> Y1:y1, established) sends SYNs to X':x' from Y1 on another port and
// from Y2 on y1, and classifies which the DUT delivered to X.
FilteringProbe classify_tcp_filtering(TestContext& ctx, const TcpConnection& connection);

// What came back to the outside host after an unsolicited SYN.
struct UnsolicitedAnswer {
  std::optional<Observed> early;   // anything back to the sender within kUnsolicitedSilence
  std::optional<Observed> late;    // anything back to the sender in the following answer window
  bool delivered_inside = false;   // the SYN itself reached an inside host
  std::string describe(harness::Duration sent_at) const;
};
// Matches every answer the DUT may give the outside host `to` about a SYN to `external`: a TCP segment
// from `external`, or an ICMP error quoting the SYN.
harness::Matcher answers_to(Endpoint to, Endpoint external);

// Registration, one function per RFC section.
void register_mapping(Registry& registry);                // §4.1
void register_internal_connections(Registry& registry);   // §4.2
void register_external_connections(Registry& registry);   // §4.3
void register_session_refresh(Registry& registry);        // §5
void register_port_assignment(Registry& registry);        // §7.1
void register_hairpinning(Registry& registry);            // §7.2
void register_icmp(Registry& registry);                   // §7.3

}  // namespace natcert::suites::rfc5382
