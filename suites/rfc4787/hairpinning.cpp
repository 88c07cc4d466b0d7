// RFC 4787 §6: hairpinning (REQ-9) and the source a hairpinned packet carries (REQ-9a).
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

struct HairpinExchange {
  Mapping first;   // X1 -> Y, learned through the reflector
  Mapping second;  // X2 -> Y
  std::optional<harness::Observed> delivered;  // X1's packet to X2' as X2 received it
};

// X1 and X2 learn their mappings; X2 first sends to X1' (which opens X2's filter towards X1' on a NAT
// that filters by address or by address and port); then X1 sends to X2':x2'.
HairpinExchange hairpin_exchange(TestContext& ctx) {
  const Endpoint remote = ctx.outside_endpoint(0);
  HairpinExchange exchange{ctx.learn_mapping(ctx.inside_endpoint(0), remote),
                           ctx.learn_mapping(ctx.inside_endpoint(1), remote), std::nullopt};
  ctx.bind("X1'", exchange.first.external);
  ctx.bind("X2'", exchange.second.external);
  ctx.send(Side::inside, harness::udp(exchange.second.internal, exchange.first.external, "open"),
           "X2 -> X1' (opens X2's filter towards X1')");
  ctx.expect(Side::inside, match::udp().to(exchange.first.internal).payload("open"), harness::reply_window,
             "X2's packet at X1 (not required)");
  ctx.send(Side::inside, harness::udp(exchange.first.internal, exchange.second.external, "hairpin"), "X1 -> X2'");
  exchange.delivered = ctx.expect(Side::inside, match::udp().to(exchange.second.internal).payload("hairpin"),
                                  harness::reply_window, "X1's packet hairpinned to X2");
  return exchange;
}

void hairpinning(TestContext& ctx) {
  const HairpinExchange exchange = hairpin_exchange(ctx);
  ctx.profile("hairpinning", exchange.delivered ? "yes" : "no");
  ctx.check("RFC4787-REQ-9", exchange.delivered.has_value(), "X1's packet to X2':x2' reaches X2",
            exchange.delivered ? "delivered to X2 from " + harness::to_string(exchange.delivered->source())
                               : "not delivered to X2");
}

void hairpin_source(TestContext& ctx) {
  const HairpinExchange exchange = hairpin_exchange(ctx);
  if (!exchange.delivered) ctx.skip("the DUT does not hairpin (see rfc4787.req9.hairpinning)");
  const Endpoint source = exchange.delivered->source();
  const bool external = source == exchange.first.external;
  ctx.profile("hairpinning.source", external ? "external (X1':x1')" : "other: " + harness::to_string(source));
  ctx.check("RFC4787-REQ-9a", external, "the source is X1's external endpoint " + harness::to_string(exchange.first.external),
            "the source is " + harness::to_string(source) +
                (source == exchange.first.internal ? " (X1's inside endpoint)" : ""));
}

}  // namespace

void register_hairpinning(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req9.hairpinning",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-9", Level::must}},
      .title = "UDP hairpinning",
      .procedure = "X1 and X2 learn their external endpoints through the reflector. X2 sends once to X1' (so its "
                   "own filter lets X1' in), then X1 sends to X2':x2'. X2 must receive it.",
      .rfc_quote = "REQ-9: A NAT MUST support \"Hairpinning\".",
      .run = hairpinning,
      .mutants = {{"no-hairpin", "rfc-strict,hairpin.enabled=false", Verdict::fail, "drops hairpin traffic"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req9a.hairpin-source",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-9a", Level::must}},
      .title = "Hairpinned packets carry the external source",
      .procedure = "As in rfc4787.req9.hairpinning; the packet X2 receives must come from X1':x1', not from X1's "
                   "inside endpoint. SKIP when the DUT does not hairpin at all.",
      .rfc_quote = "a) A NAT Hairpinning behavior MUST be \"External source IP address and port\".",
      .run = hairpin_source,
      .mutants = {{"internal-source", "rfc-strict,hairpin.source=internal-endpoint", Verdict::fail,
                   "hairpinned packets show the sender's inside endpoint"}},
  });
}

}  // namespace natcert::suites::rfc4787
