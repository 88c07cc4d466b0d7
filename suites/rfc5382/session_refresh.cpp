// RFC 5382 §5: idle timers. An established connection must survive 2 h 4 min of silence, a connection
// being opened or closed 4 min (REQ-5). Each TCP state's lifetime is measured by parallel bisection
// (suites/shared/lifetime.hpp): a connection of its own per probe, probed once from the outside (a
// segment from which the DUT cannot recreate a dropped session); on real time within the test's timer
// budget, which a DUT whose timer is below the minimum still fails within.
#include "rfc5382/common.hpp"
#include "shared/lifetime.hpp"

namespace natcert::suites::rfc5382 {
namespace {

using namespace std::chrono_literals;

constexpr Duration kEstablishedMinimum = 2h + 4min;
constexpr Duration kTransitoryMinimum = 4min;

// The TCP states a scripted connection can be left idle in.
enum class TcpState { established, syn_sent, fin_sent, both_fins };

class TcpFlow final : public lifetime::Flow {
 public:
  TcpFlow(TcpConnection connection, TcpState state) : connection_(std::move(connection)), state_(state) {}
  bool alive(TestContext&, std::string_view note) override {
    // SYN-sent: the outside's SYN-ACK must complete the handshake; otherwise an outside ACK must pass.
    if (state_ == TcpState::syn_sent) return connection_.send(Side::outside, tcp_flag::syn | tcp_flag::ack, {}, {}, note).has_value();
    return connection_.probe(Side::outside, tcp_flag::ack, note).has_value();
  }

 private:
  TcpConnection connection_;
  TcpState state_;
};

lifetime::OpenFlow tcp_flow(TcpState state) {
  return [state](TestContext& ctx) -> std::unique_ptr<lifetime::Flow> {
    if (state == TcpState::syn_sent) {
      TcpConnection opening = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
      if (!opening.send(Side::inside, tcp_flag::syn, {}, {}, "inside SYN")) {
        ctx.inconclusive("the DUT did not forward the SYN: " + opening.first_failure());
      }
      return std::make_unique<TcpFlow>(std::move(opening), state);
    }
    TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "the connection under test");
    if (!c.data(Side::inside, "before idling") || !c.ack(Side::outside)) {
      ctx.inconclusive("the established connection did not carry data before idling: " + c.first_failure());
    }
    if (state == TcpState::fin_sent || state == TcpState::both_fins) c.fin(Side::inside);
    if (state == TcpState::both_fins) {
      c.fin(Side::outside);
      c.ack(Side::inside);
    }
    if (!c.ok()) ctx.inconclusive("the DUT did not carry the close: " + c.first_failure());
    return std::make_unique<TcpFlow>(std::move(c), state);
  };
}

void decide(TestContext& ctx, const std::vector<lifetime::Bracket>& brackets, Duration minimum) {
  lifetime::check_minimum(ctx, "RFC5382-REQ-5", Level::must_not, brackets, minimum,
                          "every connection alive after " + harness::format_duration(minimum - 1s) + " idle");
}

void established_idle(TestContext& ctx) {
  const lifetime::Bracket bracket = lifetime::measure(
      ctx, lifetime::Subject{"TCP established", tcp_flow(TcpState::established), kEstablishedMinimum, kEstablishedMinimum});
  lifetime::record(ctx, "tcp.established-lifetime", bracket);
  decide(ctx, {bracket}, kEstablishedMinimum);
}

void transitory_idle(TestContext& ctx) {
  const Duration ceiling = kTransitoryMinimum;
  const auto brackets = lifetime::measure(
      ctx, {lifetime::Subject{"TCP SYN-sent", tcp_flow(TcpState::syn_sent), kTransitoryMinimum, ceiling},
            lifetime::Subject{"TCP FIN sent (half-closed)", tcp_flow(TcpState::fin_sent), kTransitoryMinimum, ceiling},
            lifetime::Subject{"TCP both FINs (TIME_WAIT)", tcp_flow(TcpState::both_fins), kTransitoryMinimum, ceiling}});
  lifetime::record(ctx, "tcp.syn-sent-lifetime", brackets[0]);
  lifetime::record(ctx, "tcp.fin-sent-lifetime", brackets[1]);
  lifetime::record(ctx, "tcp.time-wait-lifetime", brackets[2]);
  decide(ctx, brackets, kTransitoryMinimum);
}

}  // namespace

void register_session_refresh(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req5.established-idle-timeout",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-5", Level::must_not}, {"RFC5382-REQ-5", Level::may}},
      .title = "An established TCP connection survives 2 h 4 min idle",
      .procedure = "Parallel bisection (suites/shared/lifetime.hpp): connections X:x -> Y:y complete a handshake "
                   "and exchange data, together; each then stays idle for its own time (up to 2 h 4 min, one "
                   "2 h 3 min 59 s) and is probed once by an ACK from Y (inbound, so a dropped session cannot be "
                   "recreated). When one is found dead, fresh connections narrow the bracket. The 2 h 3 min 59 s "
                   "probe must pass. On real time, a timer budget too short for 2 h 4 min is SKIP with the bound.",
      .rfc_quote = "In such cases, the value of the \"established connection idle-timeout\" MUST NOT be less than "
                   "2 hours 4 minutes.",
      .run = established_idle,
      .mutants = {{"established-1h", "rfc-strict,tcp.established=1h", Verdict::fail, "1 h established timer"},
                  {"established-2h", "rfc-strict,tcp.established=2h", Verdict::fail,
                   "2 h established timer (4 min short)"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req5.transitory-idle-timeout",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-5", Level::must_not}, {"RFC5382-REQ-5", Level::may}},
      .title = "Opening and closing TCP connections survive 4 min idle",
      .procedure = "Three transitory states measured side by side by parallel bisection, a connection of its own "
                   "per probe: SYN-sent (X's SYN went out; probe: Y's SYN-ACK must reach X), FIN sent (X's FIN on "
                   "an established connection; probe: an ACK from Y) and both FINs (X's FIN, Y's FIN, X's last "
                   "ACK; probe: an ACK from Y). Each is probed up to 4 min, one probe at 3 min 59 s, which must "
                   "pass in every state.",
      .rfc_quote = "The value of the \"transitory connection idle-timeout\" MUST NOT be less than 4 minutes.",
      .run = transitory_idle,
      .mutants = {{"transitory-1m", "rfc-strict,tcp.transitory=1m", Verdict::fail, "1 min transitory timer"},
                  {"transitory-2m", "rfc-strict,tcp.transitory=2m", Verdict::fail,
                   "2 min transitory timer (Linux conntrack's SYN_SENT and FIN_WAIT)"}},
  });
}

}  // namespace natcert::suites::rfc5382
