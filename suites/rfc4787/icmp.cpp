// RFC 4787 REQ-12: ICMP must not tear down mappings (12), is not filtered by source (12a), and
// Destination Unreachable is supported (12b).
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

using ref::icmp_type::destination_unreachable;

// The ICMP messages REQ-12 says must not end a mapping: errors of several kinds quoting the flow, and
// queries addressed to the external address.
struct IcmpKind {
  std::uint8_t type;
  std::uint8_t code;
  const char* name;
};
constexpr IcmpKind kErrors[] = {
    {3, 0, "net unreachable"},     {3, 1, "host unreachable"},  {3, 3, "port unreachable"},
    {3, 13, "admin prohibited"},   {11, 0, "time exceeded"},    {12, 0, "parameter problem"},
    {4, 0, "source quench"},
};

void icmp_does_not_tear_down(TestContext& ctx) {
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  ctx.bind("X'", mapping.external);
  for (const IcmpKind& kind : kErrors) {
    ctx.send(Side::outside,
             harness::icmp_error(mapping.remote.address, mapping.external.address, kind.type, kind.code,
                                 mapping.probe.bytes()),
             std::string("ICMP ") + kind.name + " quoting the flow");
  }
  ctx.send(Side::outside, harness::icmp_echo(mapping.remote.address, mapping.external.address, mapping.external.port, 1),
           "echo request to X' with the mapping's port as identifier");
  ctx.drain(Side::inside);
  const bool inbound = reaches_inside(ctx, mapping.remote, mapping.external, mapping.internal, "after the ICMP");
  ctx.send(Side::inside, harness::udp(mapping.internal, mapping.remote, "after icmp"), "outbound after the ICMP");
  const auto outbound = ctx.expect(Side::outside, match::udp().to(mapping.remote).payload("after icmp"));
  const bool same = outbound && outbound->source() == mapping.external;
  ctx.check("RFC4787-REQ-12", inbound && same, "the mapping still carries traffic both ways on the same X':x'",
            std::string(inbound ? "inbound delivered" : "inbound not delivered") + "; outbound from " +
                (outbound ? harness::to_string(outbound->source()) : std::string("(not forwarded)")));
}

// Sends an ICMP port unreachable quoting the mapping's probe from `source`; true when X receives it.
bool error_reaches_inside(TestContext& ctx, const Mapping& mapping, harness::Ipv4Address source, std::string_view note) {
  ctx.send(Side::outside,
           harness::icmp_error(source, mapping.external.address, destination_unreachable, 3, mapping.probe.bytes()),
           note);
  return ctx.expect(Side::inside, match::icmp_error(destination_unreachable, 3).to(mapping.internal.address))
      .has_value();
}

void icmp_not_filtered_by_source(TestContext& ctx) {
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  if (!error_reaches_inside(ctx, mapping, mapping.remote.address, "port unreachable from the peer Y")) {
    ctx.skip("the DUT does not forward ICMP errors even from the peer (see rfc4787.req12b)");
  }
  const bool third_party = error_reaches_inside(ctx, mapping, ctx.third_party(), "port unreachable from a third party");
  ctx.check("RFC4787-REQ-12a", third_party, "an ICMP error about the flow from a third-party router is forwarded",
            third_party ? "forwarded" : "dropped (filtered by source address)");
}

void destination_unreachable_supported(TestContext& ctx) {
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  ctx.send(Side::outside,
           harness::icmp_error(mapping.remote.address, mapping.external.address, destination_unreachable, 3,
                               mapping.probe.bytes()),
           "port unreachable quoting the flow");
  const auto error = ctx.expect(Side::inside, match::icmp_error(destination_unreachable, 3).to(mapping.internal.address));
  const bool restored =
      error && match::icmp_error(destination_unreachable, 3).quoting(mapping.internal, mapping.remote).matches(error->bytes());
  std::string observed = "not forwarded";
  if (error) observed = restored ? "forwarded, quoting X:x -> Y:y" : "forwarded, but as " + error->summary();
  ctx.check("RFC4787-REQ-12b", restored,
            "X receives the error, its quoted packet restored to X:x -> Y:y", observed);
}

}  // namespace

void register_icmp(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req12.icmp-no-teardown",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-12", Level::must_not}},
      .title = "ICMP messages do not terminate the mapping",
      .procedure = "Establish X:x -> Y:y, then send from outside ICMP errors of seven kinds quoting the flow and an "
                   "echo request to X'. The mapping must still carry an inbound packet to X and an outbound "
                   "packet from X':x'.",
      .rfc_quote = "REQ-12: Receipt of any sort of ICMP message MUST NOT terminate the NAT mapping.",
      .run = icmp_does_not_tear_down,
      .mutants = {{"icmp-teardown", "rfc-strict,icmp.errors-destroy-mappings=true", Verdict::fail,
                   "deletes the mapping an ICMP error refers to"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req12a.icmp-source-unfiltered",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-12a", Level::should_not}},
      .title = "ICMP errors are not filtered by source address",
      .procedure = "Establish X:x -> Y:y. A port unreachable from Y must reach X (else SKIP); then the same error "
                   "from a third-party address that never talked to X must reach X too.",
      .rfc_quote = "a) The NAT's default configuration SHOULD NOT filter ICMP messages based on their source IP "
                   "address.",
      .run = icmp_not_filtered_by_source,
      .mutants = {{"filter-by-source", "rfc-strict,icmp.filter-errors-by-source=true", Verdict::warn,
                   "drops ICMP errors not sent by the flow's peer"}},
      .needs = {.third_party_host = true},
  });
  registry.add(TestCase{
      .id = "rfc4787.req12b.icmp-destination-unreachable",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-12b", Level::recommended}},
      .title = "ICMP Destination Unreachable is translated and forwarded",
      .procedure = "Establish X:x -> Y:y; Y sends port unreachable quoting the translated packet. X must receive it "
                   "with the quoted packet restored to X:x -> Y:y and every checksum valid.",
      .rfc_quote = "b) It is RECOMMENDED that a NAT support ICMP Destination Unreachable messages.",
      .run = destination_unreachable_supported,
      .mutants = {{"no-error-translation", "rfc-strict,icmp.translate-inbound-errors=false", Verdict::warn,
                   "drops inbound ICMP errors"},
                  {"quote-not-restored", "rfc-strict,icmp.restore-embedded-headers=false", Verdict::warn,
                   "forwards the error with the quoted packet still showing X':x'"}},
  });
}

}  // namespace natcert::suites::rfc4787
