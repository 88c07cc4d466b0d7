// RFC 5382 §7.1: no port overloading for TCP (REQ-7).
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

void no_port_overloading(TestContext& ctx) {
  // Two inside hosts, the same source port, the same destination: a NAT that overloads gives both the
  // same X':x', and then cannot tell their connections apart.
  const std::uint16_t port = ctx.fresh_port();
  const Endpoint y = ctx.outside_endpoint(0);
  TcpConnection first = TcpConnection::through(ctx, Endpoint{ctx.inside(0), port}, y);
  TcpConnection second = TcpConnection::through(ctx, Endpoint{ctx.inside(1), port}, y);
  if (!first.handshake()) ctx.inconclusive("the first connection did not open: " + first.first_failure());
  second.handshake();
  if (second.ok()) {
    first.data(Side::outside, "to X1");
    second.data(Side::outside, "to X2");
    first.data(Side::inside, "from X1");
    second.data(Side::inside, "from X2");
  }
  ctx.bind("X1'", *first.external());
  if (second.external()) ctx.bind("X2'", *second.external());
  const bool distinct = second.external() && first.external() != second.external();
  std::string observed = "X1' = " + text(first.external()) + ", X2' = " + text(second.external());
  if (!first.ok()) observed += "; X1's connection: " + first.first_failure();
  if (!second.ok()) observed += "; X2's connection: " + second.first_failure();
  ctx.check("RFC5382-REQ-7", distinct && first.ok() && second.ok(),
            "distinct external endpoints, and both connections carry data both ways", observed);
}

}  // namespace

void register_port_assignment(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req7.no-port-overloading",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-7", Level::must_not}},
      .title = "No TCP port overloading",
      .procedure = "X1:p and X2:p (two inside hosts, the same source port) each complete a handshake with the "
                   "same Y:y, then data passes both ways on both connections. The two external endpoints must "
                   "differ and every segment must reach the right host.",
      .rfc_quote = "REQ-7:  A NAT MUST NOT have a \"Port assignment\" behavior of \"Port overloading\" for TCP.",
      .run = no_port_overloading,
      .mutants = {{"overloading", "rfc-strict,ports.overloading=true", Verdict::fail,
                   "gives both hosts the same external endpoint"}},
  });
}

}  // namespace natcert::suites::rfc5382
