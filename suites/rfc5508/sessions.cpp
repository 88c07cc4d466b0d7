// RFC 5508 §4.3 (REQ-6): an ICMP error about an ICMP query session neither refreshes nor deletes it. On
// real time the refresh part needs 4 min of the test's timer budget (else SKIP).
#include <vector>

#include "rfc5508/common.hpp"
#include "shared/lifetime.hpp"

namespace natcert::suites::rfc5508 {
namespace {

using namespace std::chrono_literals;

struct EchoSession {
  Endpoint internal;
  Observed request;  // as captured outside
};

EchoSession open_echo(TestContext& ctx, std::string_view role) {
  const Endpoint x{ctx.inside(0), ctx.fresh_port()};
  const auto request = send_echo(ctx, x, ctx.outside(0), 1, std::string(role) + " " + std::to_string(x.port));
  if (!request) ctx.inconclusive("the DUT did not forward the echo request (see rfc5508.req1.query.echo)");
  return {x, *request};
}

void error_about(TestContext& ctx, const EchoSession& s) {
  const ref::PacketView& seen = s.request.view();
  ctx.send(Side::outside,
           error_quoting(seen.ip.destination(), seen.ip.source(), icmp_type::destination_unreachable, 1, s.request.bytes()),
           "host unreachable quoting the echo request");
}

// Deletion: one error, then the reply must still pass. Refresh: pairs of sessions opened together and
// answered once each at a probe time; the second of each pair gets an error every 15 s. At the first
// probe time where the control session has expired, the session fed with errors must have expired too.
void errors_leave_query_sessions_alone(TestContext& ctx) {
  const EchoSession deleted = open_echo(ctx, "delete");
  error_about(ctx, deleted);
  ctx.drain(Side::inside);
  const bool survives = answer_echo(ctx, deleted.request, deleted.internal).has_value();
  ctx.check("RFC5508-REQ-6", survives, "after an error about it, the session still carries the echo reply",
            survives ? "reply delivered" : "reply dropped: the error deleted the session");

  const std::vector<Duration> probes = {45s, 75s, 120s, 240s};
  constexpr Duration kErrorInterval = 15s;
  lifetime::require_budget(ctx, probes.back() + 10s, "the refresh part (probes up to 4 min)");
  struct Pair {
    EchoSession control;
    EchoSession fed;
    Duration at;
  };
  std::vector<Pair> pairs;
  for (const Duration at : probes) pairs.push_back({open_echo(ctx, "control"), open_echo(ctx, "fed"), at});
  const Duration start = ctx.now();
  Duration next_error = kErrorInterval;
  for (const Pair& pair : pairs) {
    while (next_error < pair.at) {
      ctx.sleep(start + next_error - ctx.now());
      for (const Pair& p : pairs) {
        if (p.at > next_error) error_about(ctx, p.fed);
      }
      ctx.drain(Side::inside);
      next_error += kErrorInterval;
    }
    if (start + pair.at > ctx.now()) ctx.sleep(start + pair.at - ctx.now());
    const bool control_alive = answer_echo(ctx, pair.control.request, pair.control.internal).has_value();
    const bool fed_alive = answer_echo(ctx, pair.fed.request, pair.fed.internal).has_value();
    if (!control_alive) {
      ctx.check("RFC5508-REQ-6", !fed_alive,
                "the session fed with errors expires with the idle control session",
                "at " + harness::format_duration(pair.at) + " the control session had expired and the fed one " +
                    (fed_alive ? "was still alive (refreshed by the errors)" : "had expired too"));
      return;
    }
  }
  ctx.info("RFC5508-REQ-6", "the control sessions outlived the last probe (" + harness::format_duration(probes.back()) +
                                "); refreshing by errors could not be observed");
}

}  // namespace

void register_sessions(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5508.req6.errors-leave-query-session",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-6", Level::must_not}},
      .title = "An ICMP error about a query session neither refreshes nor deletes it",
      .procedure = "X pings Y; Y's side sends host unreachable quoting the request, and Y's reply must still reach "
                   "X. Then X opens pairs of echo sessions answered once each at 45 s, 75 s, 2 and 4 min; the "
                   "second session of each pair gets a host unreachable about it every 15 s. At the first probe "
                   "where the idle control session has expired, the session fed with errors must have expired too.",
      .rfc_quote = "REQ-6: While processing an ICMP Error packet pertaining to an ICMP Query or Query response "
                   "message, a NAT device MUST NOT refresh or delete the NAT Session that pertains to the embedded "
                   "payload within the ICMP Error packet.",
      .run = errors_leave_query_sessions_alone,
      .mutants = {{"errors-refresh", "rfc-strict,icmp.errors-refresh-query-session=true", Verdict::fail,
                   "an error about a query session refreshes its timer"},
                  {"errors-delete", "rfc-strict,icmp.errors-destroy-mappings=true", Verdict::fail,
                   "an error about a query session deletes it"}},
  });
}

}  // namespace natcert::suites::rfc5508
