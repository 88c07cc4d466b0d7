// RFC 5508 §3: ICMP query mappings (REQ-1, REQ-1a) and the query session timer (REQ-2).
#include <vector>

#include "rfc5508/common.hpp"
#include "shared/lifetime.hpp"

namespace natcert::suites::rfc5508 {
namespace {

using namespace std::chrono_literals;

// X pings Y: the request must leave with X's address and identifier translated, and the reply must come
// back to X with the original identifier (the typed matchers also require valid checksums).
void echo_passes(TestContext& ctx) {
  const Endpoint x{ctx.inside(0), ctx.fresh_port()};
  const auto request = send_echo(ctx, x, ctx.outside(0), 1, "ping");
  if (!request) {
    ctx.check("RFC5508-REQ-1", false, "the echo request leaves on the outside", "not forwarded");
    return;
  }
  ctx.bind("X'", request->source());
  const auto reply = answer_echo(ctx, *request, x);
  ctx.check("RFC5508-REQ-1", reply.has_value() && request->view().ip.source() != x.address,
            "request leaves from the NAT's address, the reply returns to " + harness::to_string(x),
            "request from " + harness::to_string(request->source()) + "; reply " +
                (reply ? "delivered to " + harness::to_string(reply->destination()) : std::string("not delivered")));
}

// Two inside hosts ping the same outside host with the same identifier. Each reply must reach the host
// that asked; a NAT that gives both the same external identifier cannot tell the replies apart.
void identifiers_not_overloaded(TestContext& ctx) {
  const std::uint16_t identifier = ctx.fresh_port();
  const Endpoint x1{ctx.inside(0), identifier};
  const Endpoint x2{ctx.inside(1), identifier};
  const auto r1 = send_echo(ctx, x1, ctx.outside(0), 1, "from x1");
  const auto r2 = send_echo(ctx, x2, ctx.outside(0), 1, "from x2");
  if (!r1 || !r2) ctx.inconclusive("the DUT did not forward both echo requests (see rfc5508.req1.echo)");
  ctx.bind("X1'", r1->source());
  ctx.bind("X2'", r2->source());
  const auto a1 = answer_echo(ctx, *r1, x1);
  const auto a2 = answer_echo(ctx, *r2, x2);
  const std::string stray = ctx.expect_none(Side::inside, match::icmp_echo_reply(), harness::reply_window) ? ""
                                                                                                          : "; a reply went astray";
  ctx.check("RFC5508-REQ-1", a1.has_value() && a2.has_value() && r1->source() != r2->source(),
            "distinct external identifiers, each reply back at the host that asked",
            "X1 as " + harness::to_string(r1->source()) + ", X2 as " + harness::to_string(r2->source()) + "; reply to X1 " +
                (a1 ? "delivered" : "lost") + ", reply to X2 " + (a2 ? "delivered" : "lost") + stray);
}

// The same identifier from the same host to two outside hosts must keep its external identifier.
void identifier_mapping_endpoint_independent(TestContext& ctx) {
  const Endpoint x{ctx.inside(0), ctx.fresh_port()};
  const auto to_y1 = send_echo(ctx, x, ctx.outside(0), 1, "to y1");
  const auto to_y2 = send_echo(ctx, x, ctx.outside(1), 2, "to y2");
  if (!to_y1 || !to_y2) ctx.inconclusive("the DUT did not forward both echo requests (see rfc5508.req1.echo)");
  ctx.bind("X' (to Y1)", to_y1->source());
  ctx.bind("X' (to Y2)", to_y2->source());
  const bool same = to_y1->source() == to_y2->source();
  ctx.profile("icmp.mapping", same ? "endpoint-independent" : "external-host-dependent");
  ctx.check("RFC5508-REQ-1a", same, "the same external address and identifier towards Y1 and Y2",
            harness::to_string(to_y1->source()) + " and " + harness::to_string(to_y2->source()));
}

// An echo session for the lifetime module: a fresh identifier per probe, answered once (a reply
// refreshes the session it lands on, so each session is probed only once).
class EchoFlow final : public lifetime::Flow {
 public:
  EchoFlow(Endpoint internal, Observed request) : internal_(internal), request_(std::move(request)) {}
  bool alive(TestContext& ctx, std::string_view) override { return answer_echo(ctx, request_, internal_).has_value(); }

 private:
  Endpoint internal_;
  Observed request_;
};

std::unique_ptr<lifetime::Flow> open_echo_flow(TestContext& ctx) {
  const Endpoint x{ctx.inside(0), ctx.fresh_port()};
  const auto request = send_echo(ctx, x, ctx.outside(0), 1, "timer " + std::to_string(x.port));
  if (!request) ctx.inconclusive("the DUT did not forward the echo request (see rfc5508.req1.echo)");
  return std::make_unique<EchoFlow>(x, *request);
}

// Parallel bisection up to 5 min with a probe at 59 s: the 59 s probe decides REQ-2; the bracket goes to
// the behaviour profile.
void query_timer(TestContext& ctx) {
  constexpr Duration kMinimum = 60s;
  const lifetime::Bracket bracket =
      lifetime::measure(ctx, lifetime::Subject{"ICMP query session", open_echo_flow, kMinimum, 5min});
  lifetime::record(ctx, "icmp.query-lifetime", bracket);
  const bool met = lifetime::reaches(ctx, bracket, kMinimum);
  ctx.check("RFC5508-REQ-2", met, "the echo reply sent 59 s after the request reaches X", bracket.describe());
}

}  // namespace

void register_queries(Registry& registry) {
  const char* req1 =
      "REQ-1: Unless explicitly overridden by local policy, a NAT device MUST permit ICMP Queries and their "
      "associated responses, when the Query is initiated from a private host to the external hosts.";
  registry.add(TestCase{
      .id = "rfc5508.req1.query.echo",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-1", Level::must}},
      .title = "Inside-initiated echo request and its reply pass, identifier translated and restored",
      .procedure = "X sends an echo request with a fresh identifier to Y. It must leave from the NAT's address; Y "
                   "answers the identifier it saw and X must receive the reply with its own identifier and valid "
                   "checksums.",
      .rfc_quote = req1,
      .run = echo_passes,
      .mutants = {{"no-queries", "rfc-strict,icmp.pass-queries=false", Verdict::fail, "drops ICMP queries"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req1.query.identifier-collision",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-1", Level::must}},
      .title = "Two inside hosts using the same echo identifier each get their own reply",
      .procedure = "X1 and X2 send echo requests with the same identifier to Y. Their external (address, "
                   "identifier) pairs must differ, and Y's reply to each must reach the host that asked, and only "
                   "it.",
      .rfc_quote = req1,
      .run = identifiers_not_overloaded,
      .mutants = {{"identifier-overloading", "rfc-strict,icmp.identifier-overloading=true", Verdict::fail,
                   "gives both hosts the same external identifier; the later session captures both replies"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req1a.query.endpoint-independent",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-1a", Level::should}},
      .title = "ICMP query identifier mapping is external-host independent",
      .procedure = "X sends echo requests with the same identifier to Y1 and then to Y2. Both must leave with the "
                   "same external address and identifier.",
      .rfc_quote = "a) NAT mapping of ICMP Query Identifiers SHOULD be external-host independent.",
      .run = identifier_mapping_endpoint_independent,
      .mutants = {{"address-dependent", "rfc-strict,icmp.mapping=address-dependent", Verdict::warn,
                   "a new external identifier per outside host"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req2.query-timeout",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-2", Level::must_not}},
      .title = "An ICMP query session lives at least 60 seconds",
      .procedure = "Parallel bisection (suites/shared/lifetime.hpp): X opens echo sessions (fresh identifiers) to "
                   "Y together; Y answers each once after its own idle time, geometrically spread up to 5 min with "
                   "one at 59 s (so no answer refreshes the session it measures); fresh sessions then narrow the "
                   "bracket. The 59 s reply must reach X; the bracket goes to the profile.",
      .rfc_quote = "REQ-2: An ICMP Query session timer MUST NOT expire in less than 60 seconds.",
      .run = query_timer,
      .mutants = {{"timer-30s", "rfc-strict,icmp.query-timeout=30s", Verdict::fail, "expires idle sessions after 30 s"}},
  });
}

}  // namespace natcert::suites::rfc5508
