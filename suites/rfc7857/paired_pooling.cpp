// RFC 7857 §4: with paired pooling (APP), a host whose external address ran out of ports gets no new
// session; spilling to another address ("soft-APP") is only an optional knob. Exhausting an address needs
// a small port range (or a per-address limit): on a DUT whose address does not run out within
// kMaxFlows flows the test SKIPs.
#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {
namespace {

constexpr int kMaxFlows = 64;
// The first flows all on one address show the DUT pairs at all (APP is the precondition of §4).
constexpr int kPairedFlows = 4;

enum class Transport { udp, tcp };

// X:x opens a flow to Y (a UDP datagram, or a TCP SYN); the source the DUT chose, if it forwarded it.
std::optional<Endpoint> open_flow(TestContext& ctx, Transport transport, Endpoint x, Endpoint y) {
  if (transport == Transport::udp) {
    ctx.send(Side::inside, harness::udp(x, y, "paired pooling"), "new UDP flow");
    const auto seen = ctx.expect(Side::outside, match::udp().to(y).payload("paired pooling"));
    return seen ? std::optional<Endpoint>(seen->source()) : std::nullopt;
  }
  ctx.send(Side::inside, harness::tcp(x, y, {.flags = tcp_flag::syn, .seq = ctx.random()}), "new TCP SYN");
  const auto seen = ctx.expect(Side::outside, match::tcp().to(y).flags(tcp_flag::syn));
  return seen ? std::optional<Endpoint>(seen->source()) : std::nullopt;
}

// Even source ports only, so a parity-preserving NAT draws every mapping from the same half of its range.
void exhaust_paired_address(TestContext& ctx, Transport transport, std::string_view name) {
  const Endpoint y = ctx.outside_endpoint(0);
  std::optional<harness::Ipv4Address> anchored;
  for (int flow = 1; flow <= kMaxFlows; ++flow) {
    const Endpoint x{ctx.inside(0), ctx.fresh_port(harness::Parity::even)};
    const std::optional<Endpoint> external = open_flow(ctx, transport, x, y);
    if (!external) {
      if (flow <= kPairedFlows) {
        ctx.inconclusive(std::string(name) + " flow " + std::to_string(flow) +
                         " was not forwarded before the address could be shown to run out");
      }
      ctx.check("RFC7857-S4", Level::should, true,
                "once X's address runs out of ports, X's new " + std::string(name) + " flows are dropped",
                std::to_string(flow - 1) + " flows left from " + ref::format_ipv4(*anchored) + ", then flow " +
                    std::to_string(flow) + " was dropped");
      return;
    }
    if (!anchored) {
      anchored = external->address;
      ctx.bind("X' (anchored)", *external);
      continue;
    }
    if (external->address == *anchored) continue;
    ctx.bind("X' (other address)", *external);
    if (flow <= kPairedFlows) {
      ctx.skip("X's first flows used more than one external address: the DUT does not pair (APP), which RFC "
               "7857 §4 presumes");
    }
    ctx.check("RFC7857-S4", Level::should, false,
              "once X's address runs out of ports, X's new " + std::string(name) + " flows are dropped",
              std::to_string(flow - 1) + " flows left from " + ref::format_ipv4(*anchored) + ", then flow " +
                  std::to_string(flow) + " left from " + harness::to_string(*external));
    return;
  }
  ctx.skip("X's external address did not run out of ports within " + std::to_string(kMaxFlows) +
           " flows (needs a small port range or a per-address limit)");
}

void udp_exhaustion(TestContext& ctx) { exhaust_paired_address(ctx, Transport::udp, "UDP"); }
void tcp_exhaustion(TestContext& ctx) { exhaust_paired_address(ctx, Transport::tcp, "TCP"); }

// A two-address pool with 16 ports, so an address runs out after 8 even-port mappings.
constexpr const char* kSmallPool = "rfc-strict-pool,ports.min-port=40000,ports.max-port=40015";

}  // namespace

void register_paired_pooling(Registry& registry) {
  const std::string procedure_tail =
      " flows from fresh even source ports of X to Y, one after the other. The first four must leave from one "
      "address (else the DUT does not pair: SKIP). Once a flow is not forwarded (the address ran out of ports) "
      "the test passes; a flow leaving from another pool address fails the SHOULD. No exhaustion within 64 "
      "flows: SKIP (the DUT needs a small port range).";
  registry.add(TestCase{
      .id = "rfc7857.s4.paired-pool-exhaustion.udp",
      .suite = kSuite,
      .requirements = {{"RFC7857-S4", Level::should}, {"RFC7857-S4", Level::may}},
      .title = "An exhausted paired address drops new UDP sessions instead of spilling",
      .procedure = "With a pool of two or more external addresses, X opens UDP" + procedure_tail,
      .rfc_quote = "Clarification:  This document clarifies that if APP is enabled, new sessions from a host that "
                   "already has a mapping associated with an external IP that ran out of ports SHOULD be dropped.",
      .run = udp_exhaustion,
      .compliant_config = kSmallPool,
      .mutants = {{"soft-app", std::string(kSmallPool) + ",paired-pool-spill=true", Verdict::warn,
                   "moves X to the other pool address when its own runs out of ports"}},
      .needs = {.external_addresses = 2},
  });
  registry.add(TestCase{
      .id = "rfc7857.s4.paired-pool-exhaustion.tcp",
      .suite = kSuite,
      .requirements = {{"RFC7857-S4", Level::should}},
      .title = "An exhausted paired address drops new TCP sessions instead of spilling",
      .procedure = "With a pool of two or more external addresses, X opens TCP (a SYN each)" + procedure_tail,
      .rfc_quote = "Update:  This behavior SHOULD apply also for TCP.",
      .run = tcp_exhaustion,
      .compliant_config = kSmallPool,
      .mutants = {{"soft-app", std::string(kSmallPool) + ",paired-pool-spill=true", Verdict::warn,
                   "moves X to the other pool address when its own runs out of ports"}},
      .needs = {.external_addresses = 2},
  });
}

}  // namespace natcert::suites::rfc7857
