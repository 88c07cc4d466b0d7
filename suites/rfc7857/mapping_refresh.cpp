// RFC 7857 §7 and §7.1: what must not keep a mapping alive. Inbound packets a security policy rejects
// (§7), and the inside host's "go away" answers to inbound packets (§7.1), must not refresh it. The DUT's
// own timer (unknown on a real device) is the yardstick: measured on mappings of their own for §7, and
// on a twin mapping that nothing refreshes for §7.1.
#include <algorithm>

#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {
namespace {

using namespace std::chrono_literals;

constexpr Duration kRound = 30s;
constexpr int kRounds = 30;  // 15 min: three times RFC 4787's recommended 5 min timer

// The round in which a mapping stopped delivering, if it did.
std::string stop_text(std::optional<int> round) {
  if (!round) return "still delivering after " + std::to_string(kRounds) + " rounds of 30 s";
  return "stopped delivering in round " + std::to_string(*round) + " (about " +
         harness::format_duration(kRound * *round) + ")";
}

// Y sends to the twin (X does nothing) and to the mapping under test (X answers every delivered packet
// with ICMP Port Unreachable) once per round, until both stop delivering. Without inbound refresh
// (REQ-6a off), the twin stops when the DUT's timer runs out; the mapping under test must stop then too.
void outbound_errors(TestContext& ctx) {
  harness::ReflectorOptions options;
  options.reply = false;
  const Mapping twin = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0), options);
  const Mapping answered = ctx.learn_mapping(ctx.inside_endpoint(1), ctx.outside_endpoint(1), options);
  ctx.bind("X1' (twin)", twin.external);
  ctx.bind("X2' (answers with ICMP errors)", answered.external);
  std::optional<int> twin_stop;
  std::optional<int> answered_stop;
  const auto budget_left = lifetime::remaining_budget(ctx);
  const Duration began = ctx.now();
  bool budget_ended = false;
  for (int round = 1; round <= kRounds && (!twin_stop || !answered_stop); ++round) {
    if (budget_left && ctx.now() - began + kRound + 5s > *budget_left) {
      budget_ended = true;
      break;
    }
    ctx.sleep(kRound);
    const std::string when = " after " + harness::format_duration(kRound * round);
    if (!twin_stop && !reaches_inside(ctx, twin.remote, twin.external, twin.internal, "to the twin" + when)) {
      twin_stop = round;
    }
    if (answered_stop) continue;
    ctx.send(Side::outside, harness::udp(answered.remote, answered.external, "probe"), "to X2'" + when);
    const auto delivered = ctx.expect(Side::inside, match::udp().from(answered.remote).to(answered.internal));
    if (!delivered) {
      answered_stop = round;
      continue;
    }
    ctx.send(Side::inside,
             harness::icmp_error(answered.internal.address, answered.remote.address, 3, 3, delivered->bytes()),
             "X2's Port Unreachable" + when);
    ctx.expect(Side::outside, match::icmp_error(3, 3).to(answered.remote.address), harness::reply_window,
               "the Port Unreachable, translated");
  }
  const std::string observed = "the twin " + stop_text(twin_stop) + ", the answering mapping " +
                               stop_text(answered_stop);
  if (!twin_stop && budget_ended) {
    ctx.skip("the twin mapping still received the inbound packets when the " +
             harness::format_duration(*ctx.timer_budget()) + " timer budget ended: " + observed);
  }
  if (!twin_stop) {
    ctx.skip("the twin mapping kept receiving the inbound packets for 15 min: inbound packets refresh "
             "mappings (RFC 4787 REQ-6a), which hides what the outbound errors do: " + observed);
  }
  ctx.check("RFC7857-S7.1", Level::should_not, answered_stop && *answered_stop <= *twin_stop + 1,
            "the mapping whose host answers with ICMP errors expires with its twin (within one round of 30 s)",
            observed);
}

// §7, UDP: the yardstick is the DUT's idle timer, bracketed by parallel bisection on mappings of their
// own. The mapping under test then receives a packet every round (30 s, or a third of the measured
// lifetime if shorter) from Y2, which its filter rejects (the security policy of an address-dependent
// or stricter NAT), until one round past the measured expiry; Y1's packet must then find it gone.
Duration round_for(const lifetime::Bracket& yardstick) {
  return std::clamp<Duration>(yardstick.alive_at / 3, 1s, kRound);
}

void filtered_udp_does_not_refresh(TestContext& ctx) {
  const lifetime::Bracket yardstick = lifetime::measure(
      ctx, lifetime::Subject{"UDP mapping", rfc4787::udp_mapping_flow(), Duration::zero(), 15min});
  lifetime::record(ctx, "udp.mapping-lifetime", yardstick);
  if (!yardstick.expired_by) {
    ctx.skip("idle mappings never expired in the search, so there is no schedule to keep: " + yardstick.describe());
  }
  const Duration round = round_for(yardstick);
  const Duration until = *yardstick.expired_by + round;
  lifetime::require_budget(ctx, until + 5s, "the rejected-packet schedule after the lifetime search");
  harness::ReflectorOptions options;
  options.reply = false;
  const Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0), options);
  ctx.bind("X'", mapping.external);
  const Duration created = ctx.now();
  const Endpoint stranger{ctx.outside(1), ctx.fresh_port()};
  if (reaches_inside(ctx, stranger, mapping.external, mapping.internal, "Y2's first packet")) {
    ctx.skip("the DUT's filtering admits Y2 (endpoint-independent, no security policy rejects the packets), "
             "so nothing here is rejected by policy");
  }
  int rejected = 1;
  while (ctx.now() - created + round < until) {
    ctx.sleep(round);
    stays_outside(ctx, stranger, mapping.external, mapping.internal, "Y2's rejected packet");
    ++rejected;
  }
  if (until > ctx.now() - created) ctx.sleep(until - (ctx.now() - created));
  const bool alive = reaches_inside(ctx, mapping.remote, mapping.external, mapping.internal,
                                    "Y1's packet after " + harness::format_duration(until));
  ctx.check("RFC7857-S7", Level::should_not, !alive,
            "the mapping expires on the DUT's schedule (" + yardstick.describe() + ") despite Y2's packets",
            std::to_string(rejected) + " rejected packets from Y2 every " + harness::format_duration(round) +
                "; Y1's packet " + harness::format_duration(until) + " after the mapping was made " +
                (alive ? "still reached X" : "no longer reached X"));
}

// §7, TCP: the same with the established-connection timer (at least 2 h 4 min, RFC 5382 REQ-5),
// bracketed first on connections of their own, and a SYN from Y2 every round (10 min, or a third of
// the measured lifetime if shorter).
class EstablishedFlow final : public lifetime::Flow {
 public:
  explicit EstablishedFlow(TcpConnection connection) : connection_(std::move(connection)) {}
  bool alive(TestContext&, std::string_view note) override { return session_alive(connection_, Side::outside, note); }

 private:
  TcpConnection connection_;
};

std::unique_ptr<lifetime::Flow> open_established(TestContext& ctx) {
  return std::make_unique<EstablishedFlow>(
      established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "lifetime yardstick"));
}

void filtered_tcp_does_not_refresh(TestContext& ctx) {
  const lifetime::Bracket yardstick =
      lifetime::measure(ctx, lifetime::Subject{"TCP established", open_established, Duration::zero(), 4h});
  lifetime::record(ctx, "tcp.established-lifetime", yardstick);
  if (!yardstick.expired_by) {
    ctx.skip("idle established connections never expired in the search, so there is no schedule to keep: " +
             yardstick.describe());
  }
  const Duration round = std::clamp<Duration>(yardstick.alive_at / 3, 1s, 10min);
  const Duration until = *yardstick.expired_by + round;
  lifetime::require_budget(ctx, until + 5s, "the rejected-SYN schedule after the lifetime search");

  TcpConnection attacked = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "under test");
  ctx.bind("X'", *attacked.external());
  const Duration start = ctx.now();
  const Endpoint stranger{ctx.outside(1), ctx.fresh_port()};
  const auto stranger_syn = [&](std::string_view note) {
    ctx.send(Side::outside,
             harness::tcp(stranger, *attacked.external(), {.flags = tcp_flag::syn, .seq = ctx.random()}), note);
  };
  stranger_syn("Y2's first SYN");
  if (!ctx.expect_none(Side::inside, match::tcp().from(stranger), harness::silence_window, "Y2's SYN at X")) {
    ctx.skip("the DUT's filtering admits Y2's SYN, so nothing here is rejected by policy");
  }
  int rejected = 1;
  while (ctx.now() - start + round < until) {
    ctx.sleep(round);
    stranger_syn("Y2's rejected SYN");
    ++rejected;
  }
  if (until > ctx.now() - start) ctx.sleep(until - (ctx.now() - start));
  const bool alive = session_alive(attacked, Side::outside, "Y's segment on the connection under test");
  ctx.check("RFC7857-S7", Level::should, !alive,
            "the connection expires on the DUT's schedule (" + yardstick.describe() + ") despite Y2's SYNs",
            std::to_string(rejected) + " rejected SYNs from Y2 every " + harness::format_duration(round) +
                "; Y's segment " + harness::format_duration(ctx.now() - start) + " after the handshake " +
                (alive ? "still reached X" : "no longer reached X"));
}

}  // namespace

void register_mapping_refresh(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc7857.s7.rejected-inbound-does-not-refresh.udp",
      .suite = kSuite,
      .requirements = {{"RFC7857-S7", Level::should_not}},
      .title = "Inbound UDP rejected by the filter does not refresh the mapping",
      .procedure = "The DUT's idle timer is bracketed first by parallel bisection (mappings of their own, each "
                   "probed once from its outside host, up to 15 min). X then sends to Y1 and learns X':x'; Y2 "
                   "sends to X':x' every 30 s (a third of the lifetime if shorter), which the filter must reject "
                   "(if it reaches X, no policy rejects anything: SKIP), until one round past the measured expiry. "
                   "Y1's packet must then no longer reach X.",
      .rfc_quote = "Clarification:  This document clarifies that even when a NAT has an inbound refresh behavior "
                   "set to \"TRUE\", such packets SHOULD NOT refresh the mapping.",
      .run = filtered_udp_does_not_refresh,
      .mutants = {{"rejected-refresh", "rfc-strict,filtered-inbound-refreshes=true", Verdict::warn,
                   "packets the filter rejects still refresh the mapping"}},
  });
  registry.add(TestCase{
      .id = "rfc7857.s7.rejected-inbound-does-not-refresh.tcp",
      .suite = kSuite,
      .requirements = {{"RFC7857-S7", Level::should}},
      .title = "Inbound TCP SYNs rejected by the filter do not refresh the connection",
      .procedure = "The established idle timer is bracketed first by parallel bisection (connections of their "
                   "own, each probed once from Y, up to 4 h). X then opens a connection to Y; Y2 sends a SYN to "
                   "X':x' every 10 min (a third of the lifetime if shorter), which the filter must reject (else "
                   "SKIP). One round past the measured expiry, Y's segment on that connection must not reach X.",
      .rfc_quote = "Update:  This behavior SHOULD apply also for TCP.",
      .run = filtered_tcp_does_not_refresh,
      .mutants = {{"rejected-refresh", "rfc-strict,filtered-inbound-refreshes=true", Verdict::warn,
                   "SYNs the filter rejects still refresh the connection"}},
  });
  registry.add(TestCase{
      .id = "rfc7857.s7-1.outbound-errors-do-not-refresh",
      .suite = kSuite,
      .requirements = {{"RFC7857-S7.1", Level::should_not}, {"RFC7857-S7.1", Level::may}},
      .title = "ICMP errors sent in answer to inbound packets do not refresh the mapping",
      .procedure = "X1 and X2 each send one UDP packet to their own outside host at the same moment. Every 30 s "
                   "both outside hosts send a packet back; X1 stays silent, X2 answers every packet it gets with "
                   "ICMP Port Unreachable. The twin X1' shows when the DUT's timer runs out (if it never does, "
                   "inbound packets refresh mappings and the errors' effect cannot show: SKIP); X2' must stop delivering "
                   "within one round of it. Decides ICMP errors; TCP RSTs refresh for 4 min under RFC 7857 "
                   "§2.2 and are not decided here.",
      .rfc_quote = "Update:  In the case of NAT outbound refresh behavior, ICMP Errors or TCP RST outbound packets "
                   "sent as a response to inbound packets SHOULD NOT refresh the mapping.",
      .run = outbound_errors,
      .compliant_config = "rfc-strict,udp-timers.refresh-inbound=false",
      .mutants = {{"errors-refresh", "rfc-strict,udp-timers.refresh-inbound=false,icmp.outbound-errors-refresh=true",
                   Verdict::warn, "outbound ICMP errors refresh the mapping they quote"}},
  });
}

}  // namespace natcert::suites::rfc7857
