// RFC 5382 §7.2: TCP hairpinning (REQ-8) with the external source (REQ-8a).
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

struct HairpinConnection {
  Endpoint x1_external;
  Endpoint x2_external;
  bool established = false;  // every segment delivered (whatever its source)
  std::optional<Endpoint> x1_seen_at_x2;  // the source X2 saw on X1's segments
  std::string failures;
};

// X1 and X2 each connect to Y (learning X1' and X2'), then open a connection to each other's external
// endpoint. X1's SYN to X2' may be filtered (X2 has never talked to X1'); X2's SYN to X1' then crosses
// it (a simultaneous open through the hairpin, which a filtering NAT admits). Data passes both ways.
HairpinConnection hairpin_connection(TestContext& ctx) {
  const Endpoint y = ctx.outside_endpoint(0);
  const TcpConnection to_y1 = established(ctx, ctx.inside_endpoint(0), y, "X1 learns X1'");
  const TcpConnection to_y2 = established(ctx, ctx.inside_endpoint(1), Endpoint{y.address, ctx.fresh_port()},
                                          "X2 learns X2'");
  HairpinConnection result{*to_y1.external(), *to_y2.external(), false, std::nullopt, ""};
  ctx.bind("X1'", result.x1_external);
  ctx.bind("X2'", result.x2_external);
  constexpr std::size_t x1 = 0;
  constexpr std::size_t x2 = 1;
  TcpConnection c(ctx, TcpPeer{"X1", Side::inside, to_y1.peer(Side::inside).local, result.x1_external},
                  TcpPeer{"X2", Side::inside, to_y2.peer(Side::inside).local, result.x2_external});
  std::vector<std::optional<Observed>> from_x1;  // X1's segments as X2 received them
  const auto first_syn = c.probe_from(x1, tcp_flag::syn, "X1 SYN to X2' (may be filtered)");
  from_x1.push_back(first_syn);
  std::vector<std::optional<Observed>> delivered;
  if (first_syn) {
    delivered.push_back(c.send_from(x2, tcp_flag::syn | tcp_flag::ack, {}, {}, "X2 SYN-ACK to X1'"));
    from_x1.push_back(c.send_from(x1, tcp_flag::ack, {}, {}, "X1 ACK to X2'"));
  } else {
    delivered.push_back(c.send_from(x2, tcp_flag::syn, {}, {}, "X2 SYN to X1' (crosses X1's SYN)"));
    from_x1.push_back(c.send_from(x1, tcp_flag::syn | tcp_flag::ack, {}, {}, "X1 SYN-ACK to X2'"));
    delivered.push_back(c.send_from(x2, tcp_flag::syn | tcp_flag::ack, {}, {}, "X2 SYN-ACK to X1'"));
  }
  delivered.push_back(from_x1.back());
  from_x1.push_back(c.send_from(x1, tcp_flag::psh | tcp_flag::ack, "hairpinned data from X1", {}, "X1 data"));
  delivered.push_back(from_x1.back());
  delivered.push_back(c.send_from(x2, tcp_flag::psh | tcp_flag::ack, "hairpinned data from X2", {}, "X2 data"));
  result.established = true;
  for (const auto& segment : delivered) result.established = result.established && segment.has_value();
  for (const auto& segment : from_x1) {
    if (segment && !result.x1_seen_at_x2) result.x1_seen_at_x2 = segment->source();
  }
  result.failures = c.describe_failures();
  return result;
}

void hairpinning(TestContext& ctx) {
  const HairpinConnection h = hairpin_connection(ctx);
  ctx.profile("tcp.hairpinning", h.established ? "yes" : "no");
  ctx.check("RFC5382-REQ-8", h.established,
            "a TCP connection between X1 and X2 through X1':x1' and X2':x2' opens and carries data both ways",
            h.established ? "every segment delivered" : h.failures);
}

void hairpin_source(TestContext& ctx) {
  const HairpinConnection h = hairpin_connection(ctx);
  if (!h.x1_seen_at_x2) ctx.skip("the DUT does not hairpin TCP (see rfc5382.req8.hairpinning)");
  const bool external = *h.x1_seen_at_x2 == h.x1_external;
  ctx.profile("tcp.hairpinning.source", external ? "external (X1':x1')" : "other: " + text(h.x1_seen_at_x2));
  ctx.check("RFC5382-REQ-8a", external, "X1's segments reach X2 from X1's external endpoint " +
                                            harness::to_string(h.x1_external),
            "they come from " + text(h.x1_seen_at_x2));
}

}  // namespace

void register_hairpinning(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req8.hairpinning",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-8", Level::must}},
      .title = "TCP hairpinning",
      .procedure = "X1 and X2 each complete a handshake with Y, which gives X1':x1' and X2':x2'. X1 sends a SYN "
                   "to X2':x2'; if the DUT filters it, X2's SYN to X1':x1' crosses it (simultaneous open), "
                   "otherwise X2 answers with a SYN-ACK. The handshake must complete through the NAT and data "
                   "must pass both ways.",
      .rfc_quote = "REQ-8:  A NAT MUST support \"hairpinning\" for TCP.",
      .run = hairpinning,
      .mutants = {{"no-hairpin", "rfc-strict,hairpin.enabled=false", Verdict::fail, "drops hairpin traffic"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req8a.hairpin-source",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-8a", Level::must}},
      .title = "Hairpinned TCP carries the external source",
      .procedure = "As in rfc5382.req8.hairpinning; X1's segments must reach X2 from X1':x1', not from X1's "
                   "inside endpoint. SKIP when the DUT does not hairpin TCP at all.",
      .rfc_quote = "a) A NAT's hairpinning behavior MUST be of type \"External source IP address and port\".",
      .run = hairpin_source,
      .mutants = {{"internal-source", "rfc-strict,hairpin.source=internal-endpoint", Verdict::fail,
                   "hairpinned segments show the sender's inside endpoint"}},
  });
}

}  // namespace natcert::suites::rfc5382
