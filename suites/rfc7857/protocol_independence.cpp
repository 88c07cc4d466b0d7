// RFC 7857 §5 and §6: endpoint-independent mappings and filters are per protocol by default. Both are
// decided on the configuration the DUT runs, which the tests take to be its default.
#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {
namespace {

// X2 takes X1's source port for UDP first, so the NAT has to give X1's UDP flow another port. X1's TCP
// flow from the same port then finds that TCP port free: a per-protocol NAT preserves it (or picks any
// other), a protocol-independent one reuses X1's UDP mapping. Equal external endpoints for X1's UDP
// and TCP flows can then only mean one shared mapping.
void eim_per_protocol(TestContext& ctx) {
  const std::uint16_t port = ctx.fresh_port();
  const Endpoint x1{ctx.inside(0), port};
  const Endpoint x2{ctx.inside(1), port};
  const Mapping taken = ctx.learn_mapping(x2, ctx.outside_endpoint(0));
  const Mapping udp = ctx.learn_mapping(x1, ctx.outside_endpoint(0));
  ctx.bind("X2' (UDP)", taken.external);
  ctx.bind("X1' (UDP)", udp.external);
  if (udp.external == taken.external) {
    // The DUT's behaviour (port overlapping, RFC 7857 §3, or overloading, which rfc4787.req3.* judges)
    // leaves nothing to decide here; not a harness problem.
    ctx.skip("X1 and X2 got the same external UDP endpoint " + harness::to_string(udp.external) +
             " (port overlapping or overloading), so X1's UDP mapping cannot be told apart");
  }
  if (udp.external.address != taken.external.address && udp.external.port == port) {
    ctx.skip("X1 and X2 use different external addresses (a pool), so X1's UDP port " + std::to_string(port) +
             " was preserved and a shared mapping would look like a per-protocol one: X1' = " +
             harness::to_string(udp.external) + ", X2' = " + harness::to_string(taken.external));
  }
  const harness::TcpMapping tcp = ctx.learn_tcp_mapping(x1, ctx.outside_endpoint(1));
  ctx.bind("X1' (TCP)", tcp.external);
  const bool shared = tcp.external == udp.external;
  const std::string observed = "X1:x UDP -> " + harness::to_string(udp.external) + " (X2:x holds " +
                               harness::to_string(taken.external) + "), X1:x TCP -> " +
                               harness::to_string(tcp.external);
  ctx.profile("mapping.protocol-independence", shared ? "TCP and UDP share one mapping" : "per protocol");
  const std::string expected = "X1:x's TCP flow does not reuse its UDP mapping";
  ctx.check("RFC7857-S5", Level::should, !shared, expected, observed);
  ctx.check("RFC7857-S5", Level::must, !shared, expected + " (the default must be protocol-dependent EIM)",
            observed);
}

// A UDP mapping must not admit TCP from the very endpoint it talks to, and a TCP mapping not UDP: the
// remote endpoint is the one every filtering behaviour admits, so only the protocol differs.
void eif_per_protocol(TestContext& ctx) {
  const Endpoint x_udp = ctx.inside_endpoint(0);
  const Endpoint y_udp = ctx.outside_endpoint(0);
  const Mapping udp = ctx.learn_mapping(x_udp, y_udp);
  ctx.bind("X' (UDP)", udp.external);
  ctx.send(Side::outside, harness::tcp(y_udp, udp.external, {.flags = tcp_flag::syn, .seq = ctx.random()}),
           "TCP SYN from Y to the UDP mapping");
  const bool tcp_filtered =
      ctx.expect_none(Side::inside, match::tcp().to(x_udp), harness::silence_window, "TCP SYN at X");

  const Endpoint x_tcp = ctx.inside_endpoint(0);
  const Endpoint y_tcp = ctx.outside_endpoint(0);
  const harness::TcpMapping tcp = ctx.learn_tcp_mapping(x_tcp, y_tcp);
  ctx.bind("X' (TCP)", tcp.external);
  const bool udp_filtered = stays_outside(ctx, y_tcp, tcp.external, x_tcp, "UDP from Y to the TCP mapping");

  const bool independent = !tcp_filtered || !udp_filtered;
  ctx.profile("filtering.protocol-independence", independent ? "one filter for TCP and UDP" : "per protocol");
  const std::string observed = std::string("TCP SYN to the UDP mapping ") +
                               (tcp_filtered ? "filtered" : "delivered") + ", UDP to the TCP mapping " +
                               (udp_filtered ? "filtered" : "delivered");
  const std::string expected = "neither protocol gets in through the other protocol's mapping";
  ctx.check("RFC7857-S6", Level::should, !independent, expected, observed);
  ctx.check("RFC7857-S6", Level::must, !independent, expected + " (the default must be protocol-dependent EIF)",
            observed);
}

}  // namespace

void register_protocol_independence(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc7857.s5.eim-protocol-dependent",
      .suite = kSuite,
      .requirements = {{"RFC7857-S5", Level::should}, {"RFC7857-S5", Level::may}, {"RFC7857-S5", Level::must}},
      .title = "Endpoint-independent mappings are per protocol",
      .procedure = "X2 sends UDP from port x first, so X1's UDP flow from the same port x gets another external "
                   "port X1'. X1 then opens a TCP connection from x. Its external endpoint must not be X1' (a "
                   "per-protocol NAT finds TCP port x free). When X1 and X2 sit on different pool addresses nothing "
                   "collides and the test SKIPs. Decides the configuration under test, taken as the "
                   "default; whether a knob can share mappings (MAY) does not show on the wire.",
      .rfc_quote = "Update:  EIM mappings SHOULD be protocol dependent.  A configuration parameter MAY be provided "
                   "to allow protocols that multiplex TCP and UDP over the same source IP address and port number "
                   "to use a single mapping.  The default value of this configuration parameter MUST be "
                   "protocol-dependent EIM.",
      .run = eim_per_protocol,
      .mutants = {{"shared-mapping", "rfc-strict,protocol-independent-mapping=true", Verdict::fail,
                   "TCP and UDP from one IP:port share one mapping"}},
  });
  registry.add(TestCase{
      .id = "rfc7857.s6.eif-protocol-dependent",
      .suite = kSuite,
      .requirements = {{"RFC7857-S6", Level::should}, {"RFC7857-S6", Level::may}, {"RFC7857-S6", Level::must}},
      .title = "Endpoint-independent filtering is per protocol",
      .procedure = "X sends UDP to Y and learns X':x'; Y then sends a TCP SYN from the same port to X':x', which "
                   "must not reach X. X opens a TCP connection to Y (another port pair); Y then sends UDP from the "
                   "same port to that connection's X':x', which must not reach X either. Decides the "
                   "configuration under test, taken as the default.",
      .rfc_quote = "Update:  EIF filtering SHOULD be protocol dependent.  A configuration parameter MAY be "
                   "provided to make it protocol independent.  The default value of this configuration "
                   "parameter MUST be protocol-dependent EIF.",
      .run = eif_per_protocol,
      .compliant_config = "full-cone",
      .mutants = {{"shared-filter", "full-cone,protocol-independent-filtering=true", Verdict::fail,
                   "a mapping of either protocol admits the other"},
                  {"shared-filter-adf", "rfc-strict,protocol-independent-filtering=true", Verdict::fail,
                   "the same with address-dependent filtering"}},
  });
}

}  // namespace natcert::suites::rfc7857
