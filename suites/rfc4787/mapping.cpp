// RFC 4787 §4.1 (mapping behaviour, IP address pooling), REQ-7 (overlapping address spaces) and
// REQ-11 (deterministic behaviour).
#include <set>

#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

void endpoint_independent_mapping(TestContext& ctx) {
  const MappingProbe probe = classify_mapping(ctx, ctx.inside_endpoint(0));
  ctx.profile("udp.mapping", to_string(probe.behavior));
  ctx.check("RFC4787-REQ-1", probe.behavior == MappingClass::endpoint_independent,
            "one external endpoint X':x' for every destination", to_string(probe.behavior) + ": " + probe.observed);
}

void paired_pooling(TestContext& ctx) {
  constexpr int kFlows = 12;
  std::set<harness::Ipv4Address> addresses;
  std::vector<Endpoint> externals;
  for (int i = 0; i < kFlows; ++i) {
    const Endpoint remote = ctx.outside_endpoint(static_cast<std::size_t>(i % 2));
    const Mapping m = ctx.learn_mapping(ctx.inside_endpoint(0), remote);
    addresses.insert(m.external.address);
    externals.push_back(m.external);
  }
  const bool paired = addresses.size() == 1;
  ctx.profile("udp.pooling", paired ? "paired" : "arbitrary");
  ctx.check("RFC4787-REQ-2", paired, "one external address for every session of the inside host",
            std::to_string(addresses.size()) + " external address(es) over " + std::to_string(kFlows) +
                " sessions: " + endpoints_text(externals));
}

void overlapping_outside_address(TestContext& ctx) {
  // An outside host numbered inside the NAT's own inside network (what a dynamically configured WAN
  // can hand out). The NAT must still translate to it (option 2 of REQ-7).
  const harness::Ipv4Address inside_host = ctx.inside(0);
  const harness::Ipv4Address network = ctx.addressing().nat_inside.value_or(inside_host) & 0xffffff00u;
  const Endpoint overlapping{network | 200u, ctx.fresh_port()};
  ctx.bind("overlapping outside host", overlapping);
  const auto mapping = ctx.try_learn_mapping(ctx.inside_endpoint(0), overlapping);
  ctx.check("RFC4787-REQ-7", mapping.has_value(),
            "traffic to and from an outside host whose address lies in the inside network is translated",
            mapping ? "round trip through " + harness::to_string(mapping->external)
                    : "the packet to " + harness::to_string(overlapping) + " or its reply was not forwarded");
}

// Host 1 takes `port` first, so host 0's later use of the same source port collides.
Endpoint colliding_endpoint(TestContext& ctx) {
  const std::uint16_t port = ctx.fresh_port();
  ctx.learn_mapping(Endpoint{ctx.inside(1), port}, ctx.outside_endpoint(0));
  return Endpoint{ctx.inside(0), port};
}

void deterministic_under_collision(TestContext& ctx) {
  // Mapping: classified for a fresh endpoint and for a colliding one.
  const MappingProbe baseline = classify_mapping(ctx, ctx.inside_endpoint(0));
  const MappingProbe colliding = classify_mapping(ctx, colliding_endpoint(ctx));
  // Filtering: each classified on a mapping that has talked to exactly one outside endpoint.
  const FilteringProbe fresh_filter =
      classify_filtering(ctx, ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0)));
  const FilteringProbe colliding_filter =
      classify_filtering(ctx, ctx.learn_mapping(colliding_endpoint(ctx), ctx.outside_endpoint(0)));
  const bool same = baseline.behavior == colliding.behavior && fresh_filter.behavior == colliding_filter.behavior;
  ctx.check("RFC4787-REQ-11", same, "the same mapping and filtering behaviour with and without a port collision",
            "without collision: mapping " + to_string(baseline.behavior) + ", filtering " +
                to_string(fresh_filter.behavior) + "; with collision: mapping " + to_string(colliding.behavior) +
                " (" + colliding.observed + "), filtering " + to_string(colliding_filter.behavior));
}

}  // namespace

void register_mapping(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req1.mapping.udp",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-1", Level::must}},
      .title = "UDP mapping is endpoint-independent",
      .procedure = "From one inside endpoint X:x, send UDP through the reflector to Y1:y1, Y1:y2 and Y2:y1. The "
                   "outside hosts report the source they saw; all three must be the same X':x'.",
      .rfc_quote = "REQ-1: A NAT MUST have an \"Endpoint-Independent Mapping\" behavior.",
      .run = endpoint_independent_mapping,
      .mutants = {{"adm", "rfc-strict,udp.mapping=address-dependent", Verdict::fail,
                   "a new mapping per destination address"},
                  {"apdm", "rfc-strict,udp.mapping=address-and-port-dependent", Verdict::fail,
                   "a new mapping per destination address and port (symmetric NAT)"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req2.pooling.paired",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-2", Level::recommended}},
      .title = "IP address pooling is paired",
      .procedure = "From one inside host, open twelve UDP sessions from fresh ports to two outside hosts. Every "
                   "session must use the same external address. Needs a DUT that declares two or more "
                   "external addresses.",
      .rfc_quote = "REQ-2: It is RECOMMENDED that a NAT have an \"IP address pooling\" behavior of \"Paired\". "
                   "Note that this requirement is not applicable to NATs that do not support IP address pooling.",
      .run = paired_pooling,
      .compliant_config = "rfc-strict-pool",
      .mutants = {{"arbitrary-pooling", "rfc-strict-pool,pooling=arbitrary", Verdict::warn,
                   "each session picks any address of the pool"}},
      .needs = {.external_addresses = 2},
  });
  registry.add(TestCase{
      .id = "rfc4787.req7.overlapping-addresses",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-7", Level::must}},
      .title = "Translates to outside hosts whose addresses overlap the inside network",
      .procedure = "Send UDP from an inside host to an outside host numbered inside the NAT's inside /24 (.200) "
                   "and let it answer. The round trip must work (REQ-7's second option; renumbering the "
                   "inside network cannot be observed here).",
      .rfc_quote = "REQ-7 A NAT device whose external IP interface can be configured dynamically MUST either (1) "
                   "Automatically ensure that its internal network uses IP addresses that do not conflict with "
                   "its external network, or (2) Be able to translate and forward traffic between all internal "
                   "nodes and all external nodes whose IP addresses numerically conflict with the internal "
                   "network.",
      .run = overlapping_outside_address,
      .mutants = {{"drop-overlap", "rfc-strict,drop-outbound-to-inside-prefix=true", Verdict::fail,
                   "drops outbound packets to addresses inside its own inside prefix"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req11.deterministic",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-11", Level::must}},
      .title = "Mapping and filtering behaviour do not change under port collisions",
      .procedure = "Classify mapping and filtering for a fresh inside endpoint, then again for an endpoint whose "
                   "source port another inside host already holds. Both classifications must agree.",
      .rfc_quote = "REQ-11: A NAT MUST have deterministic behavior, i.e., it MUST NOT change the NAT translation "
                   "(Section 4) or the Filtering (Section 5) Behavior at any point in time, or under any "
                   "particular conditions.",
      .run = deterministic_under_collision,
      .mutants = {{"symmetric-on-collision", "rfc-strict,ports.change-mapping-on-collision=true", Verdict::fail,
                   "turns address-and-port-dependent when the preserved port is taken"}},
  });
}

}  // namespace natcert::suites::rfc4787
