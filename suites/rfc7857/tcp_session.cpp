// RFC 7857 §2: TCP session tracking with the state machine of Figure 1, the transitory idle timeout
// (§2.1) and RST handling (§2.2). The timers are minutes to hours: every lifetime is measured by parallel
// bisection (suites/shared/lifetime.hpp), a connection of its own per probe, so on real time the tests run
// within the timer budget, which a DUT whose timer is below the minimum still fails within.
#include "rfc7857/common.hpp"
#include "shared/lifetime.hpp"

namespace natcert::suites::rfc7857 {
namespace {

using namespace std::chrono_literals;

// RFC 5382 REQ-5: an established session lives at least 2 h 4 min; the transitory timeout of Figure 1
// (TCP_TRANS) and the RST wait of §2.2 are 4 min.
constexpr Duration kEstablishedMinimum = 2h + 4min;
constexpr Duration kTransitoryMinimum = 4min;
constexpr Duration kRstMinimum = 4min;

// A scripted connection left idle in some state, probed once by `probe`.
class TcpFlow final : public lifetime::Flow {
 public:
  using Probe = std::function<bool(TcpConnection&, std::string_view)>;
  TcpFlow(TcpConnection connection, Probe probe) : connection_(std::move(connection)), probe_(std::move(probe)) {}
  bool alive(TestContext&, std::string_view note) override { return probe_(connection_, note); }

 private:
  TcpConnection connection_;
  Probe probe_;
};

// Probes from outside (inbound): a dropped session cannot be recreated by them.
bool outside_ack_passes(TcpConnection& c, std::string_view note) { return session_alive(c, Side::outside, note); }
bool outside_syn_ack_passes(TcpConnection& c, std::string_view note) {
  return c.probe(Side::outside, tcp_flag::syn | tcp_flag::ack, note).has_value();
}

std::unique_ptr<lifetime::Flow> open_half_open(TestContext& ctx) {
  TcpConnection opening = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  if (!opening.send(Side::inside, tcp_flag::syn, {}, {}, "inside SYN (INIT)")) {
    ctx.inconclusive("the DUT did not forward the SYN: " + opening.first_failure());
  }
  return std::make_unique<TcpFlow>(std::move(opening), outside_syn_ack_passes);
}

std::unique_ptr<lifetime::Flow> open_established(TestContext& ctx) {
  TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "kept ESTABLISHED");
  c.data(Side::inside, "established");
  c.ack(Side::outside);
  if (!c.ok()) ctx.inconclusive("the established connection did not carry data: " + c.first_failure());
  return std::make_unique<TcpFlow>(std::move(c), outside_ack_passes);
}

std::unique_ptr<lifetime::Flow> open_closed(TestContext& ctx) {
  TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "closed both ways");
  c.fin(Side::inside);
  c.ack(Side::outside);
  c.fin(Side::outside);
  c.ack(Side::inside);
  if (!c.ok()) ctx.inconclusive("the DUT did not carry the close: " + c.first_failure());
  return std::make_unique<TcpFlow>(std::move(c), outside_ack_passes);
}

// Figure 1: data in TRANS returns the session to ESTABLISHED. A NAT that deleted it on the RST drops the
// data: the flow is dead from the start.
std::unique_ptr<lifetime::Flow> open_revived(TestContext& ctx) {
  TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "RST, then data");
  c.reset(Side::outside);
  if (!c.ok()) ctx.inconclusive("the DUT did not carry the RST: " + c.first_failure());
  const bool carried = c.probe(Side::inside, tcp_flag::psh | tcp_flag::ack, "data after the RST").has_value();
  return std::make_unique<TcpFlow>(std::move(c), [carried](TcpConnection& connection, std::string_view note) {
    return carried && outside_ack_passes(connection, note);
  });
}

// The closing connection of §2.1: both FINs, X's last ACK not yet sent.
std::unique_ptr<lifetime::Flow> open_closing(TestContext& ctx) {
  TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "to be closed");
  c.fin(Side::inside);
  c.ack(Side::outside);
  c.fin(Side::outside);
  if (!c.ok()) ctx.inconclusive("the DUT did not carry the FINs: " + c.first_failure());
  return std::make_unique<TcpFlow>(std::move(c), outside_ack_passes);
}

// §2.2: a connection reset by one side, probed the way the RST did not go (the peer whose RST got lost
// still talks). RSTs the DUT does not translate are the MUST, tested separately: SKIP.
lifetime::OpenFlow open_reset(Side resetter) {
  return [resetter](TestContext& ctx) -> std::unique_ptr<lifetime::Flow> {
    const Side peer = resetter == Side::inside ? Side::outside : Side::inside;
    TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0),
                                  resetter == Side::inside ? "reset by X" : "reset by Y");
    if (!c.ok()) ctx.inconclusive("the handshake failed: " + c.first_failure());
    c.reset(resetter);
    if (!c.ok()) {
      ctx.skip("the RSTs were not translated (RFC7857-S2.2 MUST, tested separately): " + c.describe_failures());
    }
    return std::make_unique<TcpFlow>(std::move(c), [peer](TcpConnection& connection, std::string_view note) {
      return session_alive(connection, peer, note);
    });
  };
}

// Figure 1 seen from the wire, four states measured side by side: the half-open connection (INIT) is the
// transitory yardstick, the established one the established yardstick. The closed connection (FIN both
// ways) must die while an established one lives; the one that carried data after a RST must live on
// after the half-open one died. If the two yardsticks cannot be told apart, neither can the states.
void state_machine(TestContext& ctx) {
  const Duration ceiling = kEstablishedMinimum;
  const auto b = lifetime::measure(ctx, {lifetime::Subject{"TCP half-open (INIT)", open_half_open, {}, ceiling},
                                         lifetime::Subject{"TCP established", open_established, {}, ceiling},
                                         lifetime::Subject{"TCP closed both ways", open_closed, {}, ceiling},
                                         lifetime::Subject{"TCP RST then data", open_revived, {}, ceiling}});
  const lifetime::Bracket& half_open = b[0];
  const lifetime::Bracket& open = b[1];
  const lifetime::Bracket& closed = b[2];
  const lifetime::Bracket& revived = b[3];
  lifetime::record(ctx, "tcp.syn-sent-lifetime", half_open);
  lifetime::record(ctx, "tcp.established-lifetime", open);
  lifetime::record(ctx, "tcp.time-wait-lifetime", closed);
  lifetime::record(ctx, "tcp.rst-then-data-lifetime", revived);
  const std::string observed =
      half_open.describe() + "; " + open.describe() + "; " + closed.describe() + "; " + revived.describe();
  if (!half_open.expired_by) {
    if (half_open.budget_limited) {
      ctx.skip("the transitory timeout did not show within the " + harness::format_duration(half_open.budget) +
               " timer budget (natcert run --timer-budget, or the profile's realtime_budget): " + observed);
    }
    ctx.skip("the half-open connection lived " + harness::format_duration(half_open.alive_at) +
             ": the transitory timeout is not shorter than the established one, so the states cannot be told "
             "apart: " + observed);
  }
  const Duration transitory_gone = *half_open.expired_by;
  if (open.alive_at < transitory_gone) {
    ctx.skip("the established connection did not outlive the half-open one, so the states cannot be told "
             "apart: " + observed);
  }
  const bool closed_transitory = closed.expired_by && *closed.expired_by <= open.alive_at;
  const bool revived_established = revived.alive_at >= transitory_gone;
  ctx.profile("tcp.state-tracking", closed_transitory && revived_established ? "RFC 7857 Figure 1" : "other");
  ctx.check("RFC7857-S2", closed_transitory && revived_established,
            "the closed connection ends with the transitory timeout (C FIN + S FIN RCV -> TRANS), the one that "
            "carried data after a RST is ESTABLISHED again (alive after the half-open one expired)",
            observed);
}

void transitory_default(TestContext& ctx) {
  const Duration ceiling = kTransitoryMinimum;
  const auto brackets = lifetime::measure(
      ctx, {lifetime::Subject{"TCP partially open (SYN sent)", open_half_open, kTransitoryMinimum, ceiling},
            lifetime::Subject{"TCP closing (both FINs)", open_closing, kTransitoryMinimum, ceiling}});
  lifetime::record(ctx, "tcp.syn-sent-lifetime", brackets[0]);
  lifetime::record(ctx, "tcp.closing-lifetime", brackets[1]);
  lifetime::check_minimum(
      ctx, "RFC7857-S2.1", Level::recommended, brackets, kTransitoryMinimum,
      "after " + harness::format_duration(kTransitoryMinimum - 1s) +
          " idle the partially open and the closing connection are both still translated");
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
  const Duration ceiling = kRstMinimum;
  const auto brackets =
      lifetime::measure(ctx, {lifetime::Subject{"TCP reset by X", open_reset(Side::inside), kRstMinimum, ceiling},
                              lifetime::Subject{"TCP reset by Y", open_reset(Side::outside), kRstMinimum, ceiling}});
  lifetime::record(ctx, "tcp.after-inside-rst-lifetime", brackets[0]);
  lifetime::record(ctx, "tcp.after-outside-rst-lifetime", brackets[1]);
  lifetime::check_minimum(
      ctx, "RFC7857-S2.2", Level::should, brackets, kRstMinimum,
      "after a RST and " + harness::format_duration(kRstMinimum - 1s) + " idle the session still translates");
}

}  // namespace

void register_tcp_session(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc7857.s2.tcp-state-machine",
      .suite = kSuite,
      .requirements = {{"RFC7857-S2", Level::should}},
      .title = "TCP sessions follow the state machine of RFC 7857 Figure 1",
      .procedure = "Parallel bisection (suites/shared/lifetime.hpp), four kinds of connection from X to Y measured "
                   "side by side, a connection of its own per probe, each probed once from Y (up to 2 h 4 min): "
                   "one only sends a SYN (INIT, probe: a SYN-ACK), one completes its handshake and carries data "
                   "(ESTABLISHED), one closes with a FIN each way (C FIN + S FIN RCV), one is reset by Y and then "
                   "carries data from X (TRANS, then ESTABLISHED again). The half-open one must expire (else the "
                   "timers cannot be told apart, or on real time the timer budget ended first: SKIP) while the "
                   "established one still lives (else SKIP); then the closed connection must expire while the "
                   "established one lives, and the revived one must live past the half-open one's expiry.",
      .rfc_quote = "Update:  The TCP state machine depicted in Figure 1, adapted from [RFC6146], SHOULD be "
                   "implemented by a NAT for TCP session tracking purposes.",
      .run = state_machine,
      .mutants = {{"fin-untracked", "rfc-strict,tcp.track-fin=false", Verdict::warn,
                   "FINs do not close the session: it keeps the established timer"},
                  {"rst-deletes", "rfc-strict,tcp.rst-linger=0s", Verdict::warn,
                   "a RST deletes the session at once instead of entering TRANS"}},
  });
  registry.add(TestCase{
      .id = "rfc7857.s2-1.transitory-timeout-default",
      .suite = kSuite,
      .requirements = {{"RFC7857-S2.1", Level::recommended}},
      .title = "The default transitory idle timeout is at least 4 minutes",
      .procedure = "Parallel bisection, two states side by side, a connection of its own per probe: partially "
                   "open (X sent a SYN; probe: Y's SYN-ACK must reach X) and closing (X and Y each sent a FIN on "
                   "an established connection; probe: an ACK from Y). Each is probed up to 4 min, one probe at "
                   "3 min 59 s, which must pass in both. On real time, a timer budget too short for 4 min is SKIP "
                   "with the bound. Decides the default configuration only; whether the opening and closing "
                   "timeouts can be configured apart (SHOULD) and below 4 min (MAY) does not show on the wire.",
      .rfc_quote = "However, a minimum default transitory connection idle-timeout of 4 minutes is RECOMMENDED.",
      .run = transitory_default,
      .mutants = {{"transitory-2m", "rfc-strict,tcp.transitory=2m", Verdict::warn, "2 min transitory timer"}},
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
      .procedure = "Parallel bisection, two kinds of connection side by side, a connection of its own per probe: "
                   "X resets it, or Y does (the RSTs must be translated, else SKIP). Each is probed up to 4 min, "
                   "one probe at 3 min 59 s, by a segment from the peer that did not reset (as a peer whose RST "
                   "got lost would send): it must still be translated. On real time, a timer budget too short "
                   "for 4 min is SKIP with the bound.",
      .rfc_quote = "Moreover, the NAT SHOULD wait for 4 minutes before deleting the session and removing any state "
                   "associated with it if no packets are received during that 4-minute timeout.",
      .run = rst_session_kept,
      .mutants = {{"rst-deletes", "rfc-strict,tcp.rst-linger=0s", Verdict::warn, "a RST deletes the session at once"},
                  {"rst-linger-1m", "rfc-strict,tcp.rst-linger=1m", Verdict::warn, "1 min after a RST"}},
  });
}

}  // namespace natcert::suites::rfc7857
