// RFC 4787 §5: filtering behaviour (REQ-8).
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

void filtering_behavior(TestContext& ctx) {
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  ctx.bind("X'", mapping.external);
  const FilteringProbe probe = classify_filtering(ctx, mapping);
  ctx.profile("udp.filtering", to_string(probe.behavior));
  // Both recommended behaviours are acceptable outcomes (the RFC leaves the choice to the vendor).
  const bool recommended = probe.behavior == FilteringClass::endpoint_independent ||
                           probe.behavior == FilteringClass::address_dependent;
  ctx.check("RFC4787-REQ-8", recommended, "endpoint-independent or address-dependent filtering",
            to_string(probe.behavior) + ": " + probe.observed);
}

}  // namespace

void register_filtering(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req8.filtering.udp",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-8", Level::recommended}},
      .title = "UDP filtering is endpoint-independent or address-dependent",
      .procedure = "After X:x sends to Y1:y1, send to X':x' from Y1 on another port and from Y2 on port y1. "
                   "Classify the filtering: both delivered is endpoint-independent, only the port change is "
                   "address-dependent, neither is address-and-port-dependent. Either of the first two passes.",
      .rfc_quote = "REQ-8: If application transparency is most important, it is RECOMMENDED that a NAT have "
                   "\"Endpoint-Independent Filtering\" behavior. If a more stringent filtering behavior is most "
                   "important, it is RECOMMENDED that a NAT have \"Address-Dependent Filtering\" behavior.",
      .run = filtering_behavior,
      .mutants = {{"apdf", "rfc-strict,udp.filtering=address-and-port-dependent", Verdict::warn,
                   "filters by address and port (port-restricted cone)"}},
  });
}

}  // namespace natcert::suites::rfc4787
