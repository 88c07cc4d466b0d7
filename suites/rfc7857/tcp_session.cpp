// RFC 7857 §2: TCP session tracking with the state machine of Figure 1, the transitory idle timeout
// (§2.1) and RST handling (§2.2). The timers are minutes to hours, so the tests need virtual time for
// now; each idle time stops one second short of the limit it checks.
#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {
namespace {

using namespace std::chrono_literals;

// RFC 5382 REQ-5: an established session lives at least 2 h 4 min; Figure 1's transitory states end
// with TCP_TRANS, which a NAT with the usual timers ends much earlier. 2 h leaves minutes of margin for
// the probes' own windows.
constexpr Duration kStateIdle = 2h;
constexpr Duration kTransitoryIdle = 4min - 1s;
constexpr Duration kRstIdle = 4min - 1s;

std::string alive_text(bool alive) { return alive ? "alive" : "gone"; }

// Figure 1 seen from the wire: after an idle period the established timer survives, only the session
// in ESTABLISHED (directly, or again after data in TRANS) may still be alive, while INIT and the closed
// connection (FIN both ways) have met TCP_TRANS. The half-open connection is the yardstick: if it
// survives as long as an established one, the two timers cannot be told apart.
void state_machine(TestContext& ctx) {
  TcpConnection half_open = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  if (!half_open.send(Side::inside, tcp_flag::syn, {}, {}, "inside SYN (INIT)")) {
    ctx.inconclusive("the DUT did not forward the SYN: " + half_open.first_failure());
  }
  TcpConnection open = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "kept ESTABLISHED");
  open.data(Side::inside, "established");
  open.ack(Side::outside);
  TcpConnection closed = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "closed both ways");
  closed.fin(Side::inside);
  closed.ack(Side::outside);
  closed.fin(Side::outside);
  closed.ack(Side::inside);
  TcpConnection revived = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "RST, then data");
  revived.reset(Side::outside);
  if (!open.ok() || !closed.ok() || !revived.ok()) {
    ctx.inconclusive("setting up the connections failed: " + open.describe_failures() + " " +
                     closed.describe_failures() + " " + revived.describe_failures());
  }
  // Figure 1: data in TRANS returns the session to ESTABLISHED. A NAT that deleted it on the RST drops it.
  const bool revived_carried_data = revived.send(Side::inside, tcp_flag::psh | tcp_flag::ack, "data after the RST")
                                        .has_value();

  ctx.sleep(kStateIdle);
  // Inbound probes only: an outbound segment could recreate state the DUT dropped.
  const bool open_alive = session_alive(open, Side::outside, "ESTABLISHED connection after idle");
  const bool revived_alive =
      revived_carried_data && session_alive(revived, Side::outside, "connection revived by data after idle");
  const bool half_open_alive = half_open.probe(Side::outside, tcp_flag::syn | tcp_flag::ack,
                                               "SYN-ACK to the half-open connection after idle")
                                   .has_value();
  const bool closed_alive = session_alive(closed, Side::outside, "closed connection after idle");
  const std::string observed = "after " + harness::format_duration(kStateIdle) + " idle: established " +
                               alive_text(open_alive) + ", half-open " + alive_text(half_open_alive) +
                               ", closed (FIN both ways) " + alive_text(closed_alive) + ", RST then data " +
                               alive_text(revived_alive);
  if (!open_alive) {
    ctx.inconclusive("the established connection did not survive 2 h idle (RFC 5382 REQ-5 asks for 2 h 4 min), "
                     "so the states cannot be told apart: " + observed);
  }
  if (half_open_alive) {
    ctx.skip(
        "the half-open connection lived as long as the established one: the transitory timeout "
        "is not shorter than the established one, so the states cannot be told apart: " +
        observed);
  }
  ctx.profile("tcp.state-tracking", !closed_alive && revived_alive ? "RFC 7857 Figure 1" : "other");
  ctx.check("RFC7857-S2", !closed_alive && revived_alive,
            "the closed connection ends with the transitory timeout (C FIN + S FIN RCV -> TRANS), the one that "
            "carried data after a RST is ESTABLISHED again",
            observed);
}

void transitory_default(TestContext& ctx) {
  TcpConnection opening = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  if (!opening.send(Side::inside, tcp_flag::syn, {}, {}, "inside SYN")) {
    ctx.inconclusive("the DUT did not forward the SYN: " + opening.first_failure());
  }
  TcpConnection closing = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "to be closed");
  closing.fin(Side::inside);
  closing.ack(Side::outside);
  closing.fin(Side::outside);
  if (!closing.ok()) ctx.inconclusive("the DUT did not carry the FINs: " + closing.first_failure());

  ctx.sleep(kTransitoryIdle);
  const bool opening_alive = opening.probe(Side::outside, tcp_flag::syn | tcp_flag::ack,
                                           "outside SYN-ACK after " + harness::format_duration(kTransitoryIdle))
                                 .has_value();
  // The last ACK of the close, 4 min late: the closing session must still carry it.
  const bool closing_alive = session_alive(closing, Side::inside, "inside's last ACK of the close after idle");
  ctx.check("RFC7857-S2.1", opening_alive && closing_alive,
            "after " + harness::format_duration(kTransitoryIdle) +
                " idle the partially open and the closing connection are both still translated",
            "partially open " + alive_text(opening_alive) + ", closing " + alive_text(closing_alive));
}

void rst_translated(TestContext& ctx) {
  TcpConnection outbound = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "reset by X");
  outbound.reset(Side::inside);
  TcpConnection inbound = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "reset by Y");
  inbound.reset(Side::outside);
  const bool met = outbound.ok() && inbound.ok();
  std::string observed = met ? "both RSTs translated through the mapping" : "";
  if (!outbound.ok()) observed = "X's RST: " + outbound.first_failure();
  if (!inbound.ok()) observed += (observed.empty() ? "" : " | ") + ("Y's RST: " + inbound.first_failure());
  ctx.check("RFC7857-S2.2", Level::must, met,
            "X's RST reaches Y from X':x', Y's RST reaches X:x, both otherwise unchanged", observed);
}

void rst_session_kept(TestContext& ctx) {
  TcpConnection by_inside = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "reset by X");
  by_inside.reset(Side::inside);
  TcpConnection by_outside = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "reset by Y");
  by_outside.reset(Side::outside);
  if (!by_inside.ok() || !by_outside.ok()) {
    ctx.skip("the RSTs were not translated (RFC7857-S2.2 MUST, tested separately): " +
             by_inside.describe_failures() + " " + by_outside.describe_failures());
  }
  ctx.sleep(kRstIdle);
  // Each probe goes the way the RST did not: the peer that did not see the RST still talks (its RST was
  // "lost"), and only a kept session carries that.
  const bool inside_reset_kept = session_alive(by_inside, Side::outside, "Y's segment after X's RST and idle");
  const bool outside_reset_kept = session_alive(by_outside, Side::inside, "X's segment after Y's RST and idle");
  ctx.check("RFC7857-S2.2", Level::should, inside_reset_kept && outside_reset_kept,
            "after a RST and " + harness::format_duration(kRstIdle) + " idle the session still translates",
            "after X's RST: " + alive_text(inside_reset_kept) + "; after Y's RST: " + alive_text(outside_reset_kept));
}

}  // namespace

void register_tcp_session(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc7857.s2.tcp-state-machine",
      .suite = kSuite,
      .requirements = {{"RFC7857-S2", Level::should}},
      .title = "TCP sessions follow the state machine of RFC 7857 Figure 1",
      .procedure = "Four connections from X to Y: one only sends a SYN (INIT), one completes its handshake and "
                   "carries data (ESTABLISHED), one closes with a FIN each way (C FIN + S FIN RCV), one is reset "
                   "by Y and then carries data from X (TRANS, then ESTABLISHED again). After 2 h of silence Y "
                   "sends a segment on each 5-tuple. The established one must pass (else "
                   "INCONCLUSIVE), the half-open one must not (else the timers cannot be told apart: "
                   "SKIP); then the closed connection must be gone and the revived one alive.",
      .rfc_quote = "Update:  The TCP state machine depicted in Figure 1, adapted from [RFC6146], SHOULD be "
                   "implemented by a NAT for TCP session tracking purposes.",
      .run = state_machine,
      .mutants = {{"fin-untracked", "rfc-strict,tcp.track-fin=false", Verdict::warn,
                   "FINs do not close the session: it keeps the established timer"},
                  {"rst-deletes", "rfc-strict,tcp.rst-linger=0s", Verdict::warn,
                   "a RST deletes the session at once instead of entering TRANS"}},
      .needs = {.virtual_time = true},
  });
  registry.add(TestCase{
      .id = "rfc7857.s2-1.transitory-timeout-default",
      .suite = kSuite,
      .requirements = {{"RFC7857-S2.1", Level::recommended}},
      .title = "The default transitory idle timeout is at least 4 minutes",
      .procedure = "X sends a SYN to Y (partially open); on a second, established connection X and Y each send "
                   "a FIN (closing). Both stay idle for 3 min 59 s. Then Y's SYN-ACK must reach X on the first, "
                   "and X's last ACK must reach Y on the second. Decides the default configuration only; "
                   "whether the opening and closing timeouts can be configured apart (SHOULD) and below 4 min "
                   "(MAY) does not show on the wire.",
      .rfc_quote = "However, a minimum default transitory connection idle-timeout of 4 minutes is RECOMMENDED.",
      .run = transitory_default,
      .mutants = {{"transitory-2m", "rfc-strict,tcp.transitory=2m", Verdict::warn, "2 min transitory timer"}},
      .needs = {.virtual_time = true},
  });
  registry.add(TestCase{
      .id = "rfc7857.s2-2.tcp-rst-translated",
      .suite = kSuite,
      .requirements = {{"RFC7857-S2.2", Level::must}, {"RFC7857-S2.2", Level::should}},
      .title = "A TCP RST matching a mapping is translated",
      .procedure = "Two connections from X to Y complete their handshakes. On the first X sends a RST: it must "
                   "reach Y translated (from X':x', sequence number unchanged). On the second Y sends a RST: it "
                   "must reach X:x.",
      .rfc_quote = "Concretely, when the NAT receives a TCP RST matching an existing mapping, it MUST translate "
                   "the packet according to the NAT mapping entry.",
      .run = rst_translated,
      .mutants = {{"rst-dropped", "rfc-strict,tcp.translate-rst=false", Verdict::fail,
                   "RSTs are dropped instead of translated"}},
  });
  registry.add(TestCase{
      .id = "rfc7857.s2-2.tcp-rst-session-kept",
      .suite = kSuite,
      .requirements = {{"RFC7857-S2.2", Level::must}, {"RFC7857-S2.2", Level::should}},
      .title = "A session survives 4 minutes after a TCP RST",
      .procedure = "Two connections from X to Y complete their handshakes; X resets the first, Y the second (both "
                   "RSTs must be translated, else SKIP). After 3 min 59 s of silence, Y sends an ACK on "
                   "the first 5-tuple and X one on the second, as a peer whose RST got lost would: both must "
                   "still be translated.",
      .rfc_quote = "Moreover, the NAT SHOULD wait for 4 minutes before deleting the session and removing any state "
                   "associated with it if no packets are received during that 4-minute timeout.",
      .run = rst_session_kept,
      .mutants = {{"rst-deletes", "rfc-strict,tcp.rst-linger=0s", Verdict::warn, "a RST deletes the session at once"},
                  {"rst-linger-1m", "rfc-strict,tcp.rst-linger=1m", Verdict::warn, "1 min after a RST"}},
      .needs = {.virtual_time = true},
  });
}

}  // namespace natcert::suites::rfc7857
