// RFC 5508 §6 (REQ-8): ICMP 3/13 when the NAT cannot create a session.
#include "rfc5508/common.hpp"

namespace natcert::suites::rfc5508 {
namespace {

constexpr int kMaxNewSessions = 16;  // bounded: a DUT with room for more is not exhausted by this test

void session_failure_reported(TestContext& ctx) {
  const Ipv4Address x = ctx.inside(0);
  const Endpoint y = ctx.outside_endpoint(0);
  std::optional<Endpoint> refused;
  for (int i = 0; i < kMaxNewSessions && !refused; ++i) {
    const Endpoint from{x, ctx.fresh_port()};
    const std::string payload = "session " + std::to_string(i);
    ctx.send(Side::inside, harness::udp(from, y, payload), "a new UDP session");
    if (!ctx.expect(Side::outside, match::udp().to(y).payload(payload))) refused = from;
  }
  if (!refused) {
    ctx.skip("the DUT created " + std::to_string(kMaxNewSessions) +
             " sessions for one host without refusing any; REQ-8 applies only when it cannot");
  }
  const auto unreachable = ctx.expect(Side::inside, match::icmp_error(icmp_type::destination_unreachable, 13)
                                                        .to(x)
                                                        .quoting(*refused, y));
  ctx.check("RFC5508-REQ-8", unreachable.has_value(),
            "ICMP 3/13 to " + ref::format_ipv4(x) + " quoting the refused datagram from " + harness::to_string(*refused),
            unreachable ? "received" : "the datagram was dropped silently");
}

}  // namespace

void register_rejection(Registry& registry) {
  const std::string limited = "rfc-strict,max-mappings-per-host=1";
  registry.add(TestCase{
      .id = "rfc5508.req8.session-refused-unreachable",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-8", Level::should}},
      .title = "A refused new session is answered with ICMP 3/13",
      .procedure = "X sends UDP datagrams to Y from up to 16 fresh ports, each a new session. If the DUT forwards "
                   "them all, it was not exhausted and the test is SKIP. For the first one it does not forward, X "
                   "must receive ICMP destination unreachable code 13 quoting it.",
      .rfc_quote = "REQ-8: When a NAT device is unable to establish a NAT Session for a new transport-layer (TCP, "
                   "UDP, ICMP, etc.) flow due to resource constraints or administrative restrictions, the NAT device "
                   "SHOULD send an ICMP destination unreachable message, with a code of 13 (Communication "
                   "administratively prohibited) to the sender, and drop the original packet.",
      .run = session_failure_reported,
      .compliant_config = limited,
      .mutants = {{"silent-refusal", limited + ",icmp.unreachable-on-session-failure=false", Verdict::warn,
                   "drops the refused datagram without telling the sender"}},
  });
}

}  // namespace natcert::suites::rfc5508
