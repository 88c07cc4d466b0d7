// RFC 5508 §5 (REQ-7, 7a): hairpinned ICMP errors. The query-session half of REQ-7 binds Basic NAT
// only (see suite.cpp).
#include "rfc5508/common.hpp"

namespace natcert::suites::rfc5508 {
namespace {

// X1 sends a datagram to X2's external endpoint; the NAT hairpins it to X2, which answers with port
// unreachable addressed to the source it saw (X1'). The error must hairpin back to X1 with its quote
// showing the datagram as X1 sent it and its outer destination X1.
void hairpinned_error(TestContext& ctx) {
  const Endpoint remote = ctx.outside_endpoint(0);
  const harness::Mapping m1 = ctx.learn_mapping(ctx.inside_endpoint(0), remote);
  const harness::Mapping m2 = ctx.learn_mapping(ctx.inside_endpoint(1), remote);
  ctx.bind("X1'", m1.external);
  ctx.bind("X2'", m2.external);
  const Endpoint x1 = m1.internal;
  // X2 -> X1' first opens X2's filter towards X1' on a NAT that filters by address (and port).
  ctx.send(Side::inside, harness::udp(m2.internal, m1.external, "open"), "X2 -> X1':x1' (opens the filter)");
  ctx.expect(Side::inside, match::udp().to(x1).payload("open"), harness::reply_window, "X2's packet at X1 (not required)");
  ctx.send(Side::inside, harness::udp(x1, m2.external, "hairpin"), "X1 -> X2':x2'");
  const auto hairpinned = ctx.expect(Side::inside, match::udp().to(m2.internal).payload("hairpin"));
  // Not applicable, not a harness problem: a DUT that does not hairpin has no hairpinned errors either.
  if (!hairpinned) ctx.skip("the DUT does not hairpin UDP (see rfc4787.req9.*), so no error can hairpin");
  ctx.send(Side::inside,
           error_quoting(m2.internal.address, hairpinned->source().address, icmp_type::destination_unreachable, 3,
                         hairpinned->bytes()),
           "port unreachable from X2 quoting the hairpinned datagram");
  const auto error = ctx.expect(Side::inside, match::icmp_error(icmp_type::destination_unreachable, 3),
                                harness::reply_window, "the hairpinned error");
  const Quote quote = error ? read_quote(*error) : Quote{};
  ctx.check("RFC5508-REQ-7", error && quote.source == x1 && quote.destination == m2.external,
            "the error comes back quoting " + harness::to_string(x1) + " > " + harness::to_string(m2.external),
            error ? quote.describe() : "not hairpinned");
  if (!error) return;
  ctx.check("RFC5508-REQ-7a", quote.outer_destination == x1.address,
            "outer destination " + ref::format_ipv4(x1.address) + " (the quoted source after translation)",
            "outer destination " + ref::format_ipv4(quote.outer_destination));
}

}  // namespace

void register_hairpinning(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5508.req7.hairpin-error",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-7", Level::must}, {"RFC5508-REQ-7a", Level::must}},
      .title = "A hairpinned ICMP error is translated in both headers and reaches the sender",
      .procedure = "X1 and X2 learn X1':x1' and X2':x2' through the reflector, and X2 sends to X1':x1' (opening its filter). X1 sends a datagram to X2':x2'; X2 receives it from "
                   "X1':x1' (else SKIP: no hairpinning) and answers with port unreachable to X1'. X1 must receive the error "
                   "quoting X1:x1 > X2':x2', with outer destination X1.",
      .rfc_quote = "All NAT devices (i.e., Basic NAT as well as NAPT devices) MUST support the traversal of "
                   "hairpinned ICMP Error messages: a) When forwarding a hairpinned ICMP Error message, the NAT "
                   "device MUST translate the destination IP address of the outer IP header to be same as the "
                   "source IP address of the embedded IP packet after the translation.",
      .run = hairpinned_error,
      .mutants = {{"no-error-hairpin", "rfc-strict,icmp.hairpin-errors=false", Verdict::fail,
                   "hairpins datagrams but drops the errors about them"},
                  {"outer-destination-kept", "rfc-strict,icmp.rewrite-outer-destination=false", Verdict::fail,
                   "leaves the hairpinned error addressed to X1'"}},
  });
}

}  // namespace natcert::suites::rfc5508
