// RFC 4787 §4.2: port assignment (REQ-3 port overloading, REQ-3a port range class, REQ-4 parity),
// with port preservation and contiguity recorded in the behaviour profile.
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

// Two inside hosts use the same source port towards the same outside endpoint: the second one forces
// the NAT to choose a port itself. Returns {first host's mapping, second host's mapping}.
std::pair<Mapping, Mapping> colliding_pair(TestContext& ctx, std::uint16_t port, Endpoint remote) {
  const Mapping first = ctx.learn_mapping(Endpoint{ctx.inside(0), port}, remote);
  const Mapping second = ctx.learn_mapping(Endpoint{ctx.inside(1), port}, remote);
  return {first, second};
}

void no_port_overloading(TestContext& ctx) {
  const Endpoint remote = ctx.outside_endpoint(0);
  const auto [first, second] = colliding_pair(ctx, ctx.fresh_port(), remote);
  ctx.bind("X1'", first.external);
  ctx.bind("X2'", second.external);
  const bool distinct = first.external != second.external;
  const bool first_reached = reaches_inside(ctx, remote, first.external, first.internal, "reply to X1'");
  const bool second_reached = reaches_inside(ctx, remote, second.external, second.internal, "reply to X2'");
  ctx.check("RFC4787-REQ-3", distinct && first_reached && second_reached,
            "distinct external endpoints, and each host receives the replies sent to its own",
            "X1' = " + harness::to_string(first.external) + ", X2' = " + harness::to_string(second.external) +
                "; reply to X1' " + (first_reached ? "reached X1" : "did not reach X1") + ", reply to X2' " +
                (second_reached ? "reached X2" : "did not reach X2"));
}

bool same_class(std::uint16_t internal, std::uint16_t external) { return (internal < 1024) == (external < 1024); }

void port_range_class(TestContext& ctx) {
  const Endpoint remote = ctx.outside_endpoint(0);
  const std::uint16_t low = ctx.fresh_privileged_port();
  const std::uint16_t high = ctx.fresh_port();
  const auto [low_first, low_second] = colliding_pair(ctx, low, remote);
  const auto [high_first, high_second] = colliding_pair(ctx, high, remote);
  const bool kept = same_class(low, low_first.external.port) && same_class(low, low_second.external.port) &&
                    same_class(high, high_first.external.port) && same_class(high, high_second.external.port);
  ctx.check("RFC4787-REQ-3a", kept, "sources in 0-1023 map into 0-1023, sources in 1024-65535 into 1024-65535",
            "source port " + std::to_string(low) + " -> " + std::to_string(low_first.external.port) + " and " +
                std::to_string(low_second.external.port) + "; source port " + std::to_string(high) + " -> " +
                std::to_string(high_first.external.port) + " and " + std::to_string(high_second.external.port));
}

void port_parity(TestContext& ctx) {
  constexpr int kPorts = 10;
  const Endpoint remote = ctx.outside_endpoint(0);
  int preserved = 0;
  int parity_kept = 0;
  int contiguous = 0;
  std::string observed;
  for (int i = 0; i < kPorts; ++i) {
    const std::uint16_t port = ctx.fresh_port(i % 2 == 0 ? harness::Parity::even : harness::Parity::odd);
    const auto [first, second] = colliding_pair(ctx, port, remote);
    preserved += first.external.port == port ? 1 : 0;
    parity_kept += (second.external.port % 2 == port % 2 ? 1 : 0) + (first.external.port % 2 == port % 2 ? 1 : 0);
    observed += (observed.empty() ? "" : ", ") + std::to_string(port) + " -> " +
                std::to_string(first.external.port) + "/" + std::to_string(second.external.port);
    if (i % 2 == 1) continue;
    // Contiguity (§4.2.4): the second host's next port, does it get the next external port?
    const Mapping next = ctx.learn_mapping(Endpoint{ctx.inside(1), static_cast<std::uint16_t>(port + 1)}, remote);
    contiguous += next.external.port == second.external.port + 1 ? 1 : 0;
  }
  ctx.profile("udp.port-preservation", preserved == kPorts ? "yes (when the port is free)"
                                                           : std::to_string(preserved) + " of " +
                                                                 std::to_string(kPorts) + " free ports preserved");
  ctx.profile("udp.port-parity", parity_kept == 2 * kPorts ? "preserved" : "not preserved");
  ctx.profile("udp.port-contiguity", contiguous == kPorts / 2 ? "yes" : "no");
  ctx.check("RFC4787-REQ-4", parity_kept == 2 * kPorts, "every external port has the parity of its source port",
            std::to_string(parity_kept) + " of " + std::to_string(2 * kPorts) +
                " mappings kept parity (source -> first host / colliding host): " + observed);
}

}  // namespace

void register_port_assignment(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req3.no-port-overloading",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-3", Level::must_not}},
      .title = "No port overloading",
      .procedure = "Inside hosts X1 and X2 send from the same source port to the same outside endpoint Y:y. The "
                   "mappings X1' and X2' must differ, and Y's reply to each must reach the right host.",
      .rfc_quote = "REQ-3: A NAT MUST NOT have a \"Port assignment\" behavior of \"Port overloading\".",
      .run = no_port_overloading,
      .mutants = {{"overloading", "rfc-strict,ports.overloading=true", Verdict::fail,
                   "hands the same external port to both hosts"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req3a.port-range-class",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-3a", Level::recommended}},
      .title = "Privileged and unprivileged source ports keep their range",
      .procedure = "Two inside hosts send from the same privileged port (600-1023), then from the same high port, "
                   "so the NAT must choose a port for the second of each pair. Every external port must be in "
                   "the range of its source port.",
      .rfc_quote = "a) If the host's source port was in the range 0-1023, it is RECOMMENDED the NAT's source port "
                   "be in the same range. If the host's source port was in the range 1024-65535, it is "
                   "RECOMMENDED that the NAT's source port be in that range.",
      .run = port_range_class,
      .mutants = {{"high-ports-only", "rfc-strict,ports.preserve-range-class=false,ports.min-port=1024",
                   Verdict::warn, "maps privileged source ports to ports above 1023"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req4.port-parity",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-4", Level::recommended}},
      .title = "Port parity is preserved",
      .procedure = "For ten fresh source ports (even and odd), X1 and then X2 send from that port to Y, so the NAT "
                   "chooses X2's port. Every external port must have the parity of its source port. Port "
                   "preservation and contiguity are recorded for the behaviour profile.",
      .rfc_quote = "REQ-4: It is RECOMMENDED that a NAT have a \"Port parity preservation\" behavior of \"Yes\".",
      .run = port_parity,
      .mutants = {{"no-parity", "rfc-strict,ports.preserve-parity=false", Verdict::warn,
                   "chooses ports of either parity"}},
  });
}

}  // namespace natcert::suites::rfc4787
