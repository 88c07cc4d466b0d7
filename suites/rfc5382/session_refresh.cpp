// RFC 5382 §5: idle timers. An established connection must survive 2 h 4 min of silence, a
// connection being opened or closed 4 min (REQ-5). Hours of idling are practical on virtual time only
// for now (needs.virtual_time); the idle times stop one second short of the minimum.
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

using namespace std::chrono_literals;

constexpr Duration kEstablishedIdle = 2h + 4min - 1s;
constexpr Duration kTransitoryIdle = 4min - 1s;

void established_idle(TestContext& ctx) {
  TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "the connection under test");
  if (!c.data(Side::inside, "before idling") || !c.ack(Side::outside)) {
    ctx.inconclusive("the established connection did not carry data before idling: " + c.first_failure());
  }
  ctx.bind("X'", *c.external());
  ctx.sleep(kEstablishedIdle);
  // Inbound first: an outbound segment could recreate a mapping the DUT dropped, an inbound one cannot.
  c.data(Side::outside, "after 2 h 4 min idle");
  c.ack(Side::inside);
  c.data(Side::inside, "reply after 2 h 4 min idle");
  ctx.check("RFC5382-REQ-5", Level::must_not, c.ok(),
            "after " + harness::format_duration(kEstablishedIdle) +
                " idle the connection carries data both ways on the same X':x'",
            c.ok() ? "data passed both ways from and to " + text(c.external()) : c.first_failure());
}

void transitory_idle(TestContext& ctx) {
  // Opening: the SYN went out, the SYN-ACK comes 4 min later.
  TcpConnection opening = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  if (!opening.send(Side::inside, tcp_flag::syn, {}, {}, "inside SYN")) {
    ctx.inconclusive("the DUT did not forward the SYN: " + opening.first_failure());
  }
  // Closing: the inside sent its FIN, the outside answers 4 min later.
  TcpConnection closing = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "to be closed");
  closing.fin(Side::inside);
  if (!closing.ok()) ctx.inconclusive("the DUT did not forward the FIN: " + closing.first_failure());

  ctx.sleep(kTransitoryIdle);
  opening.send(Side::outside, tcp_flag::syn | tcp_flag::ack, {}, {},
               "outside SYN-ACK after " + harness::format_duration(kTransitoryIdle) + " idle");
  opening.ack(Side::inside);
  closing.ack(Side::outside);
  closing.fin(Side::outside);
  closing.ack(Side::inside);
  std::string observed = opening.ok() && closing.ok() ? "the half-open and the closing connection both completed" : "";
  if (!opening.ok()) observed = "half-open connection: " + opening.first_failure();
  if (!closing.ok()) observed += (observed.empty() ? "" : " | ") + ("closing connection: " + closing.first_failure());
  ctx.check("RFC5382-REQ-5", Level::must_not, opening.ok() && closing.ok(),
            "after " + harness::format_duration(kTransitoryIdle) +
                " idle a half-open connection completes its handshake and a closing one its close",
            observed);
}

}  // namespace

void register_session_refresh(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req5.established-idle-timeout",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-5", Level::must_not}, {"RFC5382-REQ-5", Level::may}},
      .title = "An established TCP connection survives 2 h 4 min idle",
      .procedure = "X:x and Y:y complete a handshake and exchange data; the connection then stays idle for 2 h 3 "
                   "min 59 s. Y then sends data (inbound first, so a dropped session cannot be recreated), X "
                   "acknowledges and answers: every segment must be translated, X's from the same X':x'.",
      .rfc_quote = "In such cases, the value of the \"established connection idle-timeout\" MUST NOT be less than "
                   "2 hours 4 minutes.",
      .run = established_idle,
      .mutants = {{"established-1h", "rfc-strict,tcp.established=1h", Verdict::fail, "1 h established timer"},
                  {"established-2h", "rfc-strict,tcp.established=2h", Verdict::fail,
                   "2 h established timer (4 min short)"}},
      .needs = {.virtual_time = true},
  });
  registry.add(TestCase{
      .id = "rfc5382.req5.transitory-idle-timeout",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-5", Level::must_not}, {"RFC5382-REQ-5", Level::may}},
      .title = "Opening and closing TCP connections survive 4 min idle",
      .procedure = "X sends a SYN to Y1 (partially open); on a second, established connection X sends its FIN "
                   "(closing). Both stay idle for 3 min 59 s. Then Y1's SYN-ACK and X's ACK must pass, and on the "
                   "second connection Y's ACK and FIN and X's last ACK.",
      .rfc_quote = "The value of the \"transitory connection idle-timeout\" MUST NOT be less than 4 minutes.",
      .run = transitory_idle,
      .mutants = {{"transitory-1m", "rfc-strict,tcp.transitory=1m", Verdict::fail, "1 min transitory timer"},
                  {"transitory-2m", "rfc-strict,tcp.transitory=2m", Verdict::fail,
                   "2 min transitory timer (Linux conntrack's SYN_SENT and FIN_WAIT)"}},
      .needs = {.virtual_time = true},
  });
}

}  // namespace natcert::suites::rfc5382
