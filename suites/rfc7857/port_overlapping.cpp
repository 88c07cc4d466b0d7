// RFC 7857 §3: port overlapping. Different internal endpoints MAY share one external port when their
// destinations differ; the NAT then keeps state per 5-tuple. A characterisation: both behaviours comply.
// Sharing a port towards the same destination is port overloading, decided by RFC 4787 REQ-3 and RFC
// 5382 REQ-7 in their suites.
#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {
namespace {

// X1 and X2 use the same source port towards two different outside hosts, so the NAT may give both the
// port it would preserve for the first. When it does, each remote's reply must still reach its own host.
void port_overlapping(TestContext& ctx) {
  const std::uint16_t port = ctx.fresh_port();
  const Endpoint x1{ctx.inside(0), port};
  const Endpoint x2{ctx.inside(1), port};
  const Endpoint y1 = ctx.outside_endpoint(0);
  const Endpoint y2 = ctx.outside_endpoint(1);
  harness::ReflectorOptions options;
  options.reply = false;  // the replies below tell who receives what
  const Mapping first = ctx.learn_mapping(x1, y1, options);
  const Mapping second = ctx.learn_mapping(x2, y2, options);
  ctx.bind("X1'", first.external);
  ctx.bind("X2'", second.external);
  const bool overlapping = first.external == second.external;
  const bool first_reached = reaches_inside(ctx, y1, first.external, x1, "Y1's reply to X1'");
  const bool second_reached = reaches_inside(ctx, y2, second.external, x2, "Y2's reply to X2'");
  ctx.profile("udp.port-overlapping", overlapping ? "yes (distinct destinations share an external port)" : "no");
  const std::string replies = std::string("; Y1's reply ") + (first_reached ? "reached X1" : "did not reach X1") +
                              ", Y2's reply " + (second_reached ? "reached X2" : "did not reach X2");
  if (!first_reached || !second_reached) {
    ctx.inconclusive("the replies did not both come back to their hosts, so the flows are not carried: X1' = " +
                     harness::to_string(first.external) + ", X2' = " + harness::to_string(second.external) + replies);
  }
  ctx.info("RFC7857-S3", std::string(overlapping ? "port overlapping: " : "no port overlapping: ") +
                             "X1:x -> Y1 from " + harness::to_string(first.external) + ", X2:x -> Y2 from " +
                             harness::to_string(second.external) + replies);
}

}  // namespace

void register_port_overlapping(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc7857.s3.port-overlapping",
      .suite = kSuite,
      .requirements = {{"RFC7857-S3", Level::may}},
      .title = "Port overlapping for distinct destinations (characterisation)",
      .procedure = "Inside hosts X1 and X2 send UDP from the same source port x, X1 to Y1 and X2 to Y2 (distinct "
                   "destination addresses). The report says whether X1' and X2' are the same external endpoint "
                   "(port overlapping). Y1 then answers X1' and Y2 answers X2': each reply must reach its own "
                   "host, or the flows are not carried and the test is INCONCLUSIVE.",
      .rfc_quote = "If destination addresses and ports are different for outgoing connections started by local "
                   "clients, a NAT MAY assign the same external port as the source ports for the connections.",
      .run = port_overlapping,
      .mutants = {{"overlapping", "rfc-strict,ports.overloading=true", Verdict::info,
                   "gives X2 the port X1 already holds (distinct destinations)"}},
  });
}

}  // namespace natcert::suites::rfc7857
