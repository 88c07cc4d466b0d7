// RFC 5508 §7 (REQ-10): the ICMP a NAT handles as a router. Time Exceeded and Packet Too Big are
// generated (10a), inbound Packet Too Big is forwarded (10a, §7.1.2), the optional messages are
// characterised (10b), Source Quench and Information Request are not supported (10c), generated ICMP
// copies the DS field (10d), is never about an ICMP error (10e) and is rate-limited (10f).
#include <string>
#include <vector>

#include "rfc5508/common.hpp"

namespace natcert::suites::rfc5508 {
namespace {

constexpr std::size_t kFullSizePayload = 1472;  // a 1500-byte datagram: the inside link's usual MTU

harness::IpFields with_ttl(std::uint8_t ttl, std::uint8_t tos = 0) {
  harness::IpFields ip;
  ip.ttl = ttl;
  ip.tos = tos;
  return ip;
}

void time_exceeded_generated(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  ctx.send(Side::inside, harness::udp(x, y, "ttl 1", with_ttl(1)), "a datagram with TTL 1");
  const auto error = ctx.expect(Side::inside, match::icmp_error(icmp_type::time_exceeded, 0).to(x.address).quoting(x, y));
  const bool leaked = !ctx.expect_none(Side::outside, match::udp().to(y), harness::reply_window, "the datagram, outside");
  ctx.check("RFC5508-REQ-10a", error.has_value() && !leaked,
            "Time Exceeded back to X quoting X:x > Y:y, nothing forwarded",
            std::string(error ? "Time Exceeded received" : "no Time Exceeded") +
                (leaked ? "; the datagram left with its TTL expired" : ""));
}

void packet_too_big_generated(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  harness::IpFields ip;
  ip.dont_fragment = true;
  ctx.send(Side::inside, harness::udp(x, y, std::string(kFullSizePayload, 'p'), ip), "1500-byte datagram, DF=1");
  if (ctx.expect(Side::outside, match::udp().to(y).whole(), harness::reply_window, "the datagram, whole")) {
    ctx.skip("the outside link carried the 1500-byte datagram whole; Packet Too Big applies only when the outside "
             "MTU is smaller");
  }
  const auto error = ctx.expect(Side::inside, match::icmp_error(icmp_type::destination_unreachable, 4).to(x.address));
  const std::uint16_t mtu = error ? error->view().icmp.next_hop_mtu() : 0;
  const bool fragmented = !ctx.expect_none(Side::outside, match::fragment().to(y.address), harness::reply_window);
  ctx.check("RFC5508-REQ-10a", error && mtu >= 68 && mtu < 1500 && !fragmented,
            "ICMP 3/4 with the next-hop MTU (68..1499), the DF=1 datagram not fragmented",
            std::string(error ? "ICMP 3/4 with next-hop MTU " + std::to_string(mtu) : "no ICMP 3/4") +
                (fragmented ? "; the datagram was fragmented despite DF" : ""));
}

void packet_too_big_forwarded(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  constexpr std::uint16_t kMtu = 1280;
  ctx.send(Side::outside,
           error_quoting(ctx.outside(1), flow.external.address, icmp_type::destination_unreachable, 4,
                         flow.outbound.bytes(), kMtu),
           "Packet Too Big (MTU 1280) from a router, quoting the flow");
  const auto error = ctx.expect(Side::inside, match::icmp_error(icmp_type::destination_unreachable, 4).to(flow.internal.address));
  const Quote quote = error ? read_quote(*error) : Quote{};
  ctx.check("RFC5508-REQ-10a", error && quote.rest_of_header == kMtu && quote.source == flow.internal,
            "forwarded to X with next-hop MTU 1280 and the quote reverted to " + harness::to_string(flow.internal),
            error ? quote.describe() + ", next-hop MTU " + std::to_string(quote.rest_of_header) : "not forwarded");
}

// Timestamp and Address Mask queries from inside, and an inbound Parameter Problem about a flow.
void optional_messages(TestContext& ctx) {
  std::vector<std::string> supported;
  std::vector<std::string> unsupported;
  const auto query = [&](std::uint8_t request_type, std::uint8_t reply_type, const char* name, std::size_t body) {
    const Endpoint x{ctx.inside(0), ctx.fresh_port()};
    const std::string payload(body, 'q');
    ctx.send(Side::inside, harness::icmp_message(x.address, ctx.outside(0), request_type, 0, x.port, 1, payload), name);
    const auto out = ctx.expect(Side::outside, match::icmp_query(request_type).to(ctx.outside(0)));
    bool answered = false;
    if (out) {
      ctx.send(Side::outside,
               harness::icmp_message(ctx.outside(0), out->view().ip.source(), reply_type, 0, out->view().icmp.identifier(),
                                     1, payload),
               std::string(name) + " reply");
      answered = ctx.expect(Side::inside, match::icmp_query(reply_type).to(x)).has_value();
    }
    (answered ? supported : unsupported).push_back(name);
  };
  query(icmp_type::timestamp_request, icmp_type::timestamp_reply, "Timestamp", 12);
  query(icmp_type::address_mask_request, icmp_type::address_mask_reply, "Address Mask", 4);
  const Flow flow = open_flow(ctx, FlowKind::udp);
  ctx.send(Side::outside,
           error_quoting(flow.remote.address, flow.external.address, icmp_type::parameter_problem, 0, flow.outbound.bytes()),
           "Parameter Problem quoting the flow");
  const bool parameter_problem =
      ctx.expect(Side::inside, match::icmp_error(icmp_type::parameter_problem).to(flow.internal.address)).has_value();
  (parameter_problem ? supported : unsupported).push_back("Parameter Problem");
  const auto join = [](const std::vector<std::string>& names) {
    std::string text;
    for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
    return text.empty() ? std::string("none") : text;
  };
  ctx.profile("icmp.optional-messages", join(supported));
  ctx.check("RFC5508-REQ-10b", unsupported.empty(), "Timestamp, Address Mask and Parameter Problem supported",
            "supported: " + join(supported) + "; not supported: " + join(unsupported));
}

void obsolete_messages(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  ctx.send(Side::outside,
           error_quoting(flow.remote.address, flow.external.address, icmp_type::source_quench, 0, flow.outbound.bytes()),
           "Source Quench quoting the flow");
  const bool quench_dropped =
      ctx.expect_none(Side::inside, match::icmp_error(icmp_type::source_quench), harness::silence_window);
  ctx.send(Side::outside, harness::icmp_message(flow.remote.address, flow.external.address, icmp_type::information_request,
                                                0, ctx.fresh_port(), 1),
           "Information Request to the NAT's external address");
  const bool not_answered = ctx.expect_none(Side::outside, match::icmp_query(icmp_type::information_reply),
                                            harness::silence_window);
  const Endpoint x{flow.internal.address, ctx.fresh_port()};
  ctx.send(Side::inside, harness::icmp_message(x.address, flow.remote.address, icmp_type::information_request, 0, x.port, 1),
           "Information Request from X to Y");
  const bool not_forwarded =
      ctx.expect_none(Side::outside, match::icmp_query(icmp_type::information_request), harness::silence_window);
  ctx.check("RFC5508-REQ-10c", quench_dropped && not_answered && not_forwarded,
            "Source Quench not forwarded; Information Request neither answered nor forwarded",
            std::string("Source Quench ") + (quench_dropped ? "dropped" : "forwarded") + "; Information Request " +
                (not_answered ? "not answered" : "answered") + " and " + (not_forwarded ? "not forwarded" : "forwarded"));
}

void dscp_copied(TestContext& ctx) {
  constexpr std::uint8_t kExpeditedForwarding = 46;
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  ctx.send(Side::inside, harness::udp(x, y, "ttl 1, EF", with_ttl(1, kExpeditedForwarding << 2)),
           "TTL 1 datagram with DSCP EF (46)");
  const auto error = ctx.expect(Side::inside, match::icmp_error(icmp_type::time_exceeded, 0).to(x.address));
  if (!error) ctx.skip("no Time Exceeded came back (see rfc5508.req10a.time-exceeded)");
  const std::uint8_t dscp = error->view().ip.dscp();
  ctx.check("RFC5508-REQ-10d", dscp == kExpeditedForwarding, "Time Exceeded with DSCP 46 (EF)",
            "DSCP " + std::to_string(dscp));
}

// X answers an inbound datagram with port unreachable sent with TTL 1. The NAT must drop it without
// telling X about it (RFC 1812 §4.3.2.7: no ICMP error about an ICMP error).
void no_error_about_error(TestContext& ctx) {
  const Endpoint probe_x = ctx.inside_endpoint(0);
  ctx.send(Side::inside, harness::udp(probe_x, ctx.outside_endpoint(0), "ttl 1", with_ttl(1)), "TTL 1 datagram");
  if (!ctx.expect(Side::inside, match::icmp_error(icmp_type::time_exceeded, 0).to(probe_x.address))) {
    ctx.skip("the DUT sends no Time Exceeded even for a datagram (see rfc5508.req10a.time-exceeded)");
  }
  Flow flow = open_flow(ctx, FlowKind::udp);
  const Observed inbound = deliver_inbound(ctx, flow);
  harness::IcmpErrorFields fields;
  fields.quoted_transport_bytes = 8;
  ctx.send(Side::inside,
           harness::icmp_error(flow.internal.address, flow.remote.address, icmp_type::destination_unreachable, 3,
                               inbound.bytes(), fields, with_ttl(1)),
           "port unreachable from X with TTL 1");
  const bool silent = ctx.expect_none(
      Side::inside, match::icmp_error(icmp_type::time_exceeded).to(flow.internal.address).where(
                        "about an ICMP error", [](const ref::PacketView& p) {
                          return p.embedded.ip.protocol() == ref::ip_protocol::icmp;
                        }),
      harness::silence_window, "Time Exceeded about the error");
  ctx.check("RFC5508-REQ-10e", silent, "no ICMP error about the expired ICMP error",
            silent ? "none sent" : "Time Exceeded sent about an ICMP error");
}

void generation_rate_limited(TestContext& ctx) {
  constexpr int kBurst = 200;
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  const Packet datagram = harness::udp(x, y, "burst", with_ttl(1));
  for (int i = 0; i < kBurst; ++i) ctx.send(Side::inside, datagram, i == 0 ? "TTL 1 burst (200 datagrams)" : "");
  const auto errors = ctx.collect(Side::inside, match::icmp_error(icmp_type::time_exceeded, 0).to(x.address),
                                  harness::reply_window, "Time Exceeded for the burst");
  if (errors.empty()) ctx.skip("the DUT sends no Time Exceeded at all (see rfc5508.req10a.time-exceeded)");
  const std::string observed = std::to_string(errors.size()) + " Time Exceeded for " + std::to_string(kBurst) +
                               " datagrams sent at once";
  ctx.check("RFC5508-REQ-10f", errors.size() < static_cast<std::size_t>(kBurst),
            "fewer Time Exceeded than datagrams (generation is rate-limited)", observed);
}

const std::string kSmallMtu = "rfc-strict,fragments.outside-mtu=1280";

}  // namespace

void register_rfc1812(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5508.req10a.time-exceeded",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10a", Level::must}},
      .title = "The NAT sends Time Exceeded for a packet whose TTL expires",
      .procedure = "X sends a UDP datagram with TTL 1 to Y. X must receive ICMP Time Exceeded quoting X:x > Y:y, "
                   "and nothing may leave on the outside.",
      .rfc_quote = "A NAT device MUST generate a \"Time Exceeded\" ICMP Error message when it discards a packet due "
                   "to an expired Time to Live (TTL) field.",
      .run = time_exceeded_generated,
      .mutants = {{"no-time-exceeded", "rfc-strict,icmp.generate-time-exceeded=false", Verdict::fail,
                   "drops the packet silently"},
                  {"no-ttl-decrement", "rfc-strict,decrement-ttl=false", Verdict::fail,
                   "never decrements the TTL, so it forwards the packet instead"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10a.packet-too-big",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10a", Level::must}},
      .title = "A DF=1 packet too big for the outside link gets Packet Too Big with the next-hop MTU",
      .procedure = "X sends a 1500-byte UDP datagram with DF=1 to Y. If it leaves whole, the outside MTU is not "
                   "smaller and the test is SKIP. Otherwise X must receive ICMP 3/4 carrying a next-hop MTU below "
                   "1500, and nothing may leave fragmented.",
      .rfc_quote = "If the DF bit is set on a transit IP packet and the NAT device cannot forward the packet without "
                   "fragmentation, the NAT device MUST send a \"Packet Too Big\" ICMP message (ICMP type 3, code 4) "
                   "with the next-hop MTU back to the sender and drop the original IP packet.",
      .run = packet_too_big_generated,
      .compliant_config = kSmallMtu,
      .mutants = {{"no-packet-too-big", kSmallMtu + ",icmp.generate-fragmentation-needed=false", Verdict::fail,
                   "drops the datagram without telling the sender"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10a.packet-too-big-forwarded",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10a", Level::must}},
      .title = "An inbound Packet Too Big about a flow is forwarded with its MTU",
      .procedure = "Open a UDP flow X:x -> Y:y. A router (another outside address) sends ICMP 3/4 with next-hop MTU "
                   "1280 quoting the translated packet. X must receive it with the MTU unchanged and the quote "
                   "reverted to X:x.",
      .rfc_quote = "When the NAT device is the recipient of a \"Packet Too Big\" ICMP message from the network, the "
                   "NAT device MUST forward the ICMP message back to the intended recipient, pursuant to the "
                   "previously stated requirements (REQ-3, REQ-4, and REQ-5).",
      .run = packet_too_big_forwarded,
      .mutants = {{"no-inbound-errors", "rfc-strict,icmp.translate-inbound-errors=false", Verdict::fail,
                   "drops inbound errors"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10b.optional-messages",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10b", Level::may}},
      .title = "Optional ICMP messages: Timestamp, Address Mask, Parameter Problem (characterisation)",
      .procedure = "X sends a Timestamp request and an Address Mask request to Y, which answers each at the "
                   "identifier it saw; then Y sends Parameter Problem about a UDP flow. Each message that makes the "
                   "round trip is supported. Redirect and Router Advertisement/Solicitation are not probed: they "
                   "concern the NAT's own links.",
      .rfc_quote = "b. MAY support: 1. Redirect Message, as described in Section 4.3.3.2 of [RFC1812]. 2. Timestamp "
                   "and Timestamp Reply Messages, as described in Section 4.3.3.8 of [RFC1812]. 3. Source Route "
                   "Options, as described in Section 7.3 of this document. 4. Address Mask Request/Reply Message, as "
                   "described in Section 7.4 of this document. 5. Parameter Problem Message, as described in Section "
                   "7.5 of this document. 6. Router Advertisement and Solicitations, as described in Section 7.6 of "
                   "this document.",
      .run = optional_messages,
      .mutants = {{"no-optional-queries", "rfc-strict,icmp.pass-queries=false", Verdict::info,
                   "drops Timestamp and Address Mask queries (allowed)"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10c.obsolete-messages",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10c", Level::should_not}},
      .title = "Source Quench and Information Request/Reply are not supported",
      .procedure = "Open a UDP flow X:x -> Y:y. Y sends Source Quench about it: X must not receive it. Y sends an "
                   "Information Request to X': the NAT must not answer. X sends an Information Request to Y: it must "
                   "not leave.",
      .rfc_quote = "c. SHOULD NOT support: 1. Source Quench Message, as described in Section 4.3.3.3 of [RFC1812]. "
                   "2. Information Request/reply, as described in Section 4.3.3.7 of [RFC1812].",
      .run = obsolete_messages,
      .mutants = {{"forwards-source-quench", "rfc-strict,icmp.forward-source-quench=true", Verdict::warn,
                   "translates and forwards Source Quench"},
                  {"information-request", "rfc-strict,icmp.answer-information-request=true", Verdict::warn,
                   "answers and forwards Information Requests"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10d.dscp-copied",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10d", Level::recommended}},
      .title = "NAT-generated ICMP copies the DS field of the packet that caused it",
      .procedure = "X sends a TTL 1 UDP datagram marked DSCP 46 (EF). The Time Exceeded X receives (else "
                   "SKIP) must carry DSCP 46.",
      .rfc_quote = "When generating an ICMP message, a NAT device SHOULD copy the diffserv class of the message that "
                   "causes the sending of the ICMP error message.",
      .run = dscp_copied,
      .mutants = {{"dscp-zero", "rfc-strict,icmp.copy-dscp=false", Verdict::warn, "generates ICMP with DSCP 0"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10e.no-error-about-error",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10e", Level::recommended}},
      .title = "No ICMP error is generated about an ICMP error",
      .procedure = "A TTL 1 datagram from X must draw Time Exceeded (else SKIP). Then, on a UDP flow X:x -> Y:y, "
                   "X answers Y's datagram with port unreachable sent with TTL 1: the NAT drops it and must not send "
                   "Time Exceeded about it.",
      .rfc_quote = "e. When Not to Send ICMP Errors, as described in Section 4.3.2.7 of [RFC1812].",
      .run = no_error_about_error,
      .mutants = {{"errors-about-errors", "rfc-strict,icmp.errors-about-errors=true", Verdict::warn,
                   "sends Time Exceeded about an expired ICMP error"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req10f.rate-limit",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-10f", Level::recommended}},
      .title = "NAT-generated ICMP is rate-limited",
      .procedure = "X sends 200 UDP datagrams with TTL 1 back to back. Fewer than 200 Time Exceeded may come back "
                   "within a second (none at all is SKIP).",
      .rfc_quote = "f. Rate Limiting, as described in Section 4.3.2.8 of [RFC1812].",
      .run = generation_rate_limited,
      .mutants = {{"unlimited", "rfc-strict,icmp.generated-per-second=0", Verdict::warn,
                   "answers every expired packet"}},
  });
}

}  // namespace natcert::suites::rfc5508
