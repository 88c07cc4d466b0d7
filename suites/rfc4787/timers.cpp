// RFC 4787 §4.3: the UDP mapping timer (REQ-5, 5a, 5c) and its refresh directions (REQ-6, 6a), measured
// by parallel bisection (suites/shared/lifetime.hpp): a mapping of its own per probe, so no probe
// refreshes the mapping it measures; on real time within the test's timer budget.
#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {
namespace {

using namespace std::chrono_literals;

constexpr Duration kReq5Minimum = 2min;
constexpr Duration kReq5cDefault = 5min;
// How far the characterisation looks: three times the recommended default.
constexpr Duration kCeiling = 15min;

lifetime::Subject udp_subject(std::string name, Duration minimum, Duration ceiling, std::uint16_t port = 0) {
  return lifetime::Subject{std::move(name), udp_mapping_flow(port), minimum, ceiling};
}

void mapping_timer_minimum(TestContext& ctx) {
  // Looks no further than the minimum: the question is only whether the mapping lives that long.
  const lifetime::Bracket bracket = lifetime::measure(ctx, udp_subject("UDP mapping", kReq5Minimum, kReq5Minimum));
  ctx.bind("lifetime", bracket.describe());
  const bool met = lifetime::reaches(ctx, bracket, kReq5Minimum);
  ctx.check("RFC4787-REQ-5", met, "an idle mapping still delivers inbound packets after 1 min 59 s", bracket.describe());
}

void mapping_timer_default(TestContext& ctx) {
  const lifetime::Bracket bracket = lifetime::measure(ctx, udp_subject("UDP mapping", kReq5cDefault, kCeiling));
  lifetime::record(ctx, "udp.mapping-lifetime", bracket);
  const bool met = lifetime::reaches(ctx, bracket, kReq5cDefault);
  ctx.check("RFC4787-REQ-5c", met, "an idle mapping lives at least 5 minutes (probed at 4 min 59 s)",
            bracket.describe());
}

void well_known_port_timers(TestContext& ctx) {
  const auto brackets = lifetime::measure(
      ctx, {udp_subject("port 53", Duration::zero(), kCeiling, 53), udp_subject("high port", Duration::zero(), kCeiling)});
  const lifetime::Bracket& dns = brackets[0];
  const lifetime::Bracket& other = brackets[1];
  const bool shorter = dns.expired_by && (!other.expired_by || *dns.expired_by <= other.alive_at);
  if (!shorter && (dns.budget_limited || other.budget_limited)) {
    ctx.skip("the timer budget ended the search before either timer was seen to end: " + dns.describe() + "; " +
             other.describe());
  }
  lifetime::record(ctx, "udp.mapping-lifetime.port-53", dns);
  ctx.info("RFC4787-REQ-5a", std::string(shorter ? "shorter timer" : "no shorter timer") +
                                 " for destination port 53: " + dns.describe() + "; " + other.describe());
}

// Refresh by one direction, against the idle lifetime L measured first (bracket a < L <= e). Then two
// mappings open together: the refreshed one gets one keepalive in the direction under test at 0.6 a,
// the control none; both are probed inbound once, at t between e and 1.2 a. Without refresh the
// refreshed mapping, idle since its creation (t > e >= L), is gone with the control; with refresh it
// has been idle only t - 0.6 a < 0.6 a < L. Probing each mapping once keeps the probes from refreshing.
struct RefreshOutcome {
  bool refreshed_alive = false;
  bool keepalive_kept_endpoint = true;
  std::string observed;
};

RefreshOutcome refresh_by(TestContext& ctx, Side direction) {
  lifetime::Search search;
  search.precision = 0.05;
  const lifetime::Bracket idle = lifetime::measure(ctx, udp_subject("idle UDP mapping", Duration::zero(), kCeiling), search);
  lifetime::record(ctx, "udp.mapping-lifetime", idle);
  if (!idle.expired_by) {
    ctx.skip("idle mappings did not expire within the search (" + idle.describe() +
             "), so a refresh cannot show");
  }
  const Duration keepalive_at = idle.alive_at * 6 / 10;
  const Duration probe_at = (*idle.expired_by + idle.alive_at * 12 / 10) / 2;
  if (idle.alive_at == Duration::zero() || probe_at <= *idle.expired_by) {
    ctx.inconclusive("the idle lifetime bracket (" + idle.describe() + ") is too wide to place the refresh probe");
  }
  lifetime::require_budget(ctx, probe_at + std::chrono::seconds(5), "the refresh probe after the lifetime search");

  harness::ReflectorOptions options;
  options.reply = false;
  const Mapping refreshed = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0), options);
  const Mapping control = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0), options);
  const Duration start = ctx.now();
  ctx.bind("X' (refreshed)", refreshed.external);
  ctx.sleep(keepalive_at);
  RefreshOutcome outcome;
  std::string keepalive_text;
  if (direction == Side::inside) {
    ctx.send(Side::inside, harness::udp(refreshed.internal, refreshed.remote, "keepalive"), "outbound keepalive");
    const auto seen = ctx.expect(Side::outside, match::udp().to(refreshed.remote).payload("keepalive"));
    outcome.keepalive_kept_endpoint = seen && seen->source() == refreshed.external;
    keepalive_text = "outbound keepalive at " + harness::format_duration(keepalive_at) + " left from " +
                     (seen ? harness::to_string(seen->source()) : std::string("(not forwarded)"));
  } else {
    const bool delivered = reaches_inside(ctx, refreshed.remote, refreshed.external, refreshed.internal,
                                          "inbound keepalive");
    keepalive_text = "inbound keepalive at " + harness::format_duration(keepalive_at) +
                     (delivered ? " delivered" : " not delivered");
  }
  ctx.sleep(start + probe_at - ctx.now());
  outcome.refreshed_alive = reaches_inside(ctx, refreshed.remote, refreshed.external, refreshed.internal,
                                           "probe of the refreshed mapping");
  const bool control_alive =
      reaches_inside(ctx, control.remote, control.external, control.internal, "probe of the idle control mapping");
  outcome.observed = "idle lifetime " + idle.describe() + "; " + keepalive_text + "; at " +
                     harness::format_duration(probe_at) + " the refreshed mapping " +
                     (outcome.refreshed_alive ? "delivered" : "no longer delivered") + ", the idle control " +
                     (control_alive ? "still delivered" : "no longer delivered");
  if (control_alive) {
    ctx.inconclusive("the idle control mapping outlived the measured lifetime, so the refresh probe decides "
                     "nothing: " + outcome.observed);
  }
  return outcome;
}

void outbound_refresh(TestContext& ctx) {
  const RefreshOutcome outcome = refresh_by(ctx, Side::inside);
  ctx.profile("udp.refresh.outbound", outcome.refreshed_alive ? "yes" : "no");
  ctx.check("RFC4787-REQ-6", outcome.refreshed_alive && outcome.keepalive_kept_endpoint,
            "an outbound keepalive keeps the mapping (and X':x') past its idle lifetime", outcome.observed);
}

void inbound_refresh(TestContext& ctx) {
  const RefreshOutcome outcome = refresh_by(ctx, Side::outside);
  ctx.profile("udp.refresh.inbound", outcome.refreshed_alive ? "yes" : "no");
  ctx.info("RFC4787-REQ-6a", std::string(outcome.refreshed_alive ? "inbound packets refresh the mapping: "
                                                                 : "inbound packets do not refresh the mapping: ") +
                                 outcome.observed);
}

}  // namespace

void register_timers(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc4787.req5.mapping-timer-minimum",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-5", Level::must_not}},
      .title = "UDP mapping lives at least 2 minutes",
      .procedure = "Parallel bisection (suites/shared/lifetime.hpp): mappings X:x -> Y:y made by one outbound "
                   "packet each, opened together and each probed once from Y:y after its own idle time (up to 2 "
                   "min, one probe at 1 min 59 s); when one is found dead, fresh mappings narrow the bracket. The "
                   "1 min 59 s probe must be delivered. On real time, a timer budget too short for 2 min is SKIP.",
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
      .procedure = "Parallel bisection of the idle lifetime up to 15 min: mappings opened together, each probed "
                   "once inbound at its own idle time (geometrically spread, one at 4 min 59 s), then fresh "
                   "mappings between the last alive and first dead time. The bracket goes to the behaviour "
                   "profile; the mapping must be alive at 4 min 59 s.",
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
      .procedure = "Measure the idle lifetimes of mappings to destination port 53 and to a high port side by "
                   "side (parallel bisection, one mapping per probe), and report whether port 53 gets a shorter "
                   "timer.",
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
      .procedure = "Measure the idle lifetime L first (a < L <= e, parallel bisection). Two fresh mappings then "
                   "open together: one gets an outbound keepalive at 0.6 a (it must leave from X':x'), the other "
                   "none; both are probed inbound once between e and 1.2 a. The refreshed one must deliver (idle "
                   "less than 0.6 a); the idle control must not (else INCONCLUSIVE).",
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
      .procedure = "Measure the idle lifetime L first (a < L <= e). Two fresh mappings then open together: one "
                   "gets an inbound packet at 0.6 a, the other none; both are probed inbound once between e and "
                   "1.2 a, and the report says whether the inbound packet kept the first alive.",
      .rfc_quote = "a) The NAT mapping Refresh Direction MAY have a \"NAT Inbound refresh behavior\" of \"True\".",
      .run = inbound_refresh,
      .mutants = {{"no-inbound-refresh", "rfc-strict,udp-timers.refresh-inbound=false", Verdict::info,
                   "inbound packets do not refresh"}},
  });
}

}  // namespace natcert::suites::rfc4787
