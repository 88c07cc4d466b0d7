// RFC 4787 §4.3: the UDP mapping timer (REQ-5, 5a, 5c) and its refresh directions (REQ-6, 6a).
// Each lifetime probe uses a mapping of its own, so no probe refreshes the mapping it measures.
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

using namespace std::chrono_literals;

// Probe times chosen so that the brackets answer REQ-5 (2 min) and REQ-5c (5 min) directly; a 1 s
// margin below each limit absorbs scheduling jitter on real wire.
const std::vector<Duration> kLifetimeProbes = {30s, 60s, 90s, 119s, 150s, 180s, 240s, 299s, 360s, 450s, 600s};

void mapping_timer_minimum(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  harness::ReflectorOptions options;
  options.reply = false;  // idle time starts with the outbound probe
  const Mapping mapping = ctx.learn_mapping(x, y, options);
  ctx.bind("X'", mapping.external);
  ctx.sleep(119s);
  const bool delivered = reaches_inside(ctx, y, mapping.external, x, "inbound after 119 s idle");
  ctx.send(Side::inside, harness::udp(x, y, "after idle"), "outbound after the inbound probe");
  const auto again = ctx.expect(Side::outside, match::udp().to(y).payload("after idle"));
  const bool same = again && again->source() == mapping.external;
  ctx.check("RFC4787-REQ-5", delivered && same,
            "after 119 s idle the mapping still delivers inbound packets and keeps X':x'",
            std::string(delivered ? "inbound delivered" : "inbound not delivered") + "; next outbound from " +
                (again ? harness::to_string(again->source()) : std::string("(not forwarded)")));
}

void mapping_timer_default(TestContext& ctx) {
  const LifetimeBracket bracket = measure_lifetime(ctx, kLifetimeProbes);
  ctx.profile("udp.mapping-lifetime", bracket.describe());
  ctx.check("RFC4787-REQ-5c", bracket.alive_at >= 299s, "an idle mapping lives at least 5 minutes (probed at 299 s)",
            bracket.describe());
}

void well_known_port_timers(TestContext& ctx) {
  const LifetimeBracket dns = measure_lifetime(ctx, kLifetimeProbes, 53);
  const LifetimeBracket other = measure_lifetime(ctx, kLifetimeProbes);
  const bool shorter = dns.alive_at < other.alive_at;
  ctx.profile("udp.mapping-lifetime.port-53", dns.describe());
  ctx.info("RFC4787-REQ-5a", std::string(shorter ? "shorter timer" : "no shorter timer") +
                                 " for destination port 53: port 53 " + dns.describe() + "; high port " +
                                 other.describe());
}

// Outbound keepalives every 45 s on ten mappings; mapping k is probed inbound once, 40 s after its
// k-th keepalive. A NAT whose outbound packets do not refresh the timer lets each mapping expire and
// re-creates it at the next keepalive: the probes that land in such a gap are not delivered. Probing
// each mapping only once keeps inbound refresh (REQ-6a) from masking the result.
void outbound_refresh(TestContext& ctx) {
  constexpr int kMappings = 10;
  constexpr Duration kInterval = 45s;
  constexpr Duration kProbeOffset = 40s;
  std::vector<Mapping> mappings;
  for (int i = 0; i < kMappings; ++i) {
    harness::ReflectorOptions options;
    options.reply = false;
    mappings.push_back(ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0), options));
  }
  const Duration start = ctx.now();
  int delivered = 0;
  int changed = 0;
  std::string failures;
  for (int round = 1; round <= kMappings; ++round) {
    ctx.sleep(start + round * kInterval - ctx.now());
    for (int k = round - 1; k < kMappings; ++k) {
      const Mapping& m = mappings[static_cast<std::size_t>(k)];
      ctx.send(Side::inside, harness::udp(m.internal, m.remote, "keepalive"), "outbound keepalive");
      const auto seen = ctx.expect(Side::outside, match::udp().to(m.remote).payload("keepalive"));
      if (!seen || seen->source() != m.external) ++changed;
    }
    ctx.sleep(start + round * kInterval + kProbeOffset - ctx.now());
    const Mapping& probed = mappings[static_cast<std::size_t>(round - 1)];
    if (reaches_inside(ctx, probed.remote, probed.external, probed.internal, "inbound probe, once per mapping")) {
      ++delivered;
    } else {
      failures += (failures.empty() ? " not delivered at " : ", ") + harness::format_duration(ctx.now() - start);
    }
  }
  ctx.profile("udp.refresh.outbound", delivered == kMappings ? "yes" : "no");
  ctx.check("RFC4787-REQ-6", delivered == kMappings && changed == 0,
            "with outbound keepalives every 45 s, every mapping delivers inbound packets and keeps X':x'",
            std::to_string(delivered) + " of " + std::to_string(kMappings) + " probes delivered" + failures + "; " +
                std::to_string(changed) + " keepalives left from another external endpoint");
}

// Only inbound traffic after the mapping is created; does it keep the mapping alive past its lifetime?
void inbound_refresh(TestContext& ctx) {
  constexpr int kRounds = 14;  // 14 x 45 s = 10.5 min, past the 5-minute default lifetime
  const Endpoint y = ctx.outside_endpoint(0);
  harness::ReflectorOptions options;
  options.reply = false;
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), y, options);
  int delivered = 0;
  for (int round = 1; round <= kRounds; ++round) {
    ctx.sleep(45s);
    if (!reaches_inside(ctx, y, mapping.external, mapping.internal, "inbound-only keepalive")) break;
    ++delivered;
  }
  const std::string alive_for = harness::format_duration(delivered * 45s);
  const bool refreshes = delivered == kRounds;
  ctx.profile("udp.refresh.inbound", refreshes ? "yes" : "no");
  ctx.info("RFC4787-REQ-6a", refreshes ? "inbound packets refresh the mapping: alive after " + alive_for +
                                             " of inbound-only traffic"
                                       : "inbound packets do not refresh the mapping: it expired after " +
                                             alive_for + " of inbound-only traffic");
}

}  // namespace

void register_timers(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req5.mapping-timer-minimum",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-5", Level::must_not}},
      .title = "UDP mapping lives at least 2 minutes",
      .procedure = "Create a mapping X:x -> Y:y with one outbound packet, stay idle 119 s, then send from Y:y to "
                   "X':x'. It must be delivered, and the next outbound packet must leave from X':x' again.",
      .rfc_quote = "REQ-5: A NAT UDP mapping timer MUST NOT expire in less than two minutes, unless REQ-5a "
                   "applies.",
      .run = mapping_timer_minimum,
      .mutants = {{"60s-timer", "rfc-strict,udp-timers.mapping=60s", Verdict::fail, "expires idle mappings after 60 s"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req5c.mapping-timer-default",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-5c", Level::recommended}},
      .title = "UDP mapping lives at least 5 minutes by default",
      .procedure = "Create eleven mappings at once and leave them idle; probe each once, inbound, at 30 s to 10 min. "
                   "The bracket of the lifetime goes to the behaviour profile; the mapping must be alive at "
                   "299 s.",
      .rfc_quote = "c) A default value of five minutes or more for the NAT UDP mapping timer is RECOMMENDED.",
      .run = mapping_timer_default,
      .mutants = {{"150s-timer", "rfc-strict,udp-timers.mapping=150s", Verdict::warn,
                   "expires idle mappings after 150 s (meets REQ-5, not REQ-5c)"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req5a.well-known-port-timers",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-5a", Level::may}},
      .title = "Shorter mapping timers for well-known destination ports (characterisation)",
      .procedure = "Measure the idle lifetime of mappings to destination port 53 and to a high port, one mapping "
                   "per probe, and report whether port 53 gets a shorter timer.",
      .rfc_quote = "a) For specific destination ports in the well-known port range (ports 0-1023), a NAT MAY have "
                   "shorter UDP mapping timers that are specific to the IANA-registered application running over "
                   "that specific destination port.",
      .run = well_known_port_timers,
      .mutants = {{"dns-30s", "rfc-strict,udp-timers.per-destination-port=53:30s", Verdict::info,
                   "30 s timer for destination port 53"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req6.outbound-refresh",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-6", Level::must}},
      .title = "Outbound packets refresh the mapping",
      .procedure = "Ten mappings get an outbound keepalive every 45 s for 7.5 minutes; mapping k is probed inbound "
                   "once, 40 s after its k-th keepalive. Every probe must be delivered and every keepalive must "
                   "leave from the mapping's X':x'.",
      .rfc_quote = "REQ-6: The NAT mapping Refresh Direction MUST have a \"NAT Outbound refresh behavior\" of "
                   "\"True\".",
      .run = outbound_refresh,
      .mutants = {{"no-outbound-refresh", "rfc-strict,udp-timers.refresh-outbound=false", Verdict::fail,
                   "only the first packet starts the timer"}},
  });
  registry.add(TestCase{
      .id = "rfc4787.req6a.inbound-refresh",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-6a", Level::may}},
      .title = "Inbound packets refresh the mapping (characterisation)",
      .procedure = "Create a mapping with one outbound packet, then send only inbound packets, every 45 s for 10.5 "
                   "minutes, and report whether the mapping outlives its lifetime.",
      .rfc_quote = "a) The NAT mapping Refresh Direction MAY have a \"NAT Inbound refresh behavior\" of \"True\".",
      .run = inbound_refresh,
      .mutants = {{"no-inbound-refresh", "rfc-strict,udp-timers.refresh-inbound=false", Verdict::info,
                   "inbound packets do not refresh"}},
  });
}

}  // namespace natcert::suites::rfc4787
