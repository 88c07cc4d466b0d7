// RFC 5382 §4.1: endpoint-independent mapping for TCP (REQ-1).
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

void tcp_mapping(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y1 = ctx.outside_endpoint(0);
  const Endpoint y1_other_port{y1.address, ctx.fresh_port()};
  const Endpoint y2_same_port{ctx.outside(1), y1.port};
  // Three connections from the same X:x (a stack with SO_REUSEADDR), one after the other, all open.
  const TcpConnection first = established(ctx, x, y1, "X:x to Y1:y1");
  const TcpConnection second = established(ctx, x, y1_other_port, "X:x to Y1:y2");
  const TcpConnection third = established(ctx, x, y2_same_port, "X:x to Y2:y1");
  ctx.bind("X'(Y1:y1)", *first.external());
  ctx.bind("X'(Y1:y2)", *second.external());
  ctx.bind("X'(Y2:y1)", *third.external());
  const bool same_address_other_port = first.external() == second.external();
  const bool other_address = first.external() == third.external();
  const std::string behavior = same_address_other_port && other_address ? "endpoint-independent"
                               : same_address_other_port               ? "address-dependent"
                                                                       : "address-and-port-dependent";
  ctx.profile("tcp.mapping", behavior);
  ctx.check("RFC5382-REQ-1", same_address_other_port && other_address,
            "the same external endpoint X':x' for every destination",
            "to " + harness::to_string(y1) + " from " + text(first.external()) + ", to " +
                harness::to_string(y1_other_port) + " from " + text(second.external()) + ", to " +
                harness::to_string(y2_same_port) + " from " + text(third.external()) + " (" + behavior + ")");
}

}  // namespace

void register_mapping(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req1.mapping.tcp",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-1", Level::must}},
      .title = "TCP mapping is endpoint-independent",
      .procedure = "From one inside endpoint X:x the harness completes three-way handshakes with Y1:y1, Y1:y2 and "
                   "Y2:y1 (scripted segments, all three connections left open). The SYN of each, captured on "
                   "the outside, must come from the same X':x'.",
      .rfc_quote = "REQ-1:  A NAT MUST have an \"Endpoint-Independent Mapping\" behavior for TCP.",
      .run = tcp_mapping,
      .mutants = {{"adm", "rfc-strict,tcp.mapping=address-dependent", Verdict::fail,
                   "a new mapping per destination address"},
                  {"apdm", "rfc-strict,tcp.mapping=address-and-port-dependent", Verdict::fail,
                   "a new mapping per destination address and port"}},
  });
}

}  // namespace natcert::suites::rfc5382
