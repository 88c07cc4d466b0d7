// RFC 5382 §4.3: externally initiated connections. TCP filtering (REQ-3) and how it compares with UDP's
// (REQ-3b), and unsolicited inbound SYNs (REQ-4): no answer for 6 s, a silent drop once the matching
// outbound SYN passed, ICMP Port Unreachable afterwards otherwise; complete silence under a stealth
// policy (REQ-4a).
#include "rfc4787/common.hpp"
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

using ref::icmp_type::destination_unreachable;

void tcp_filtering(TestContext& ctx) {
  const TcpConnection connection = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "creates X':x'");
  ctx.bind("X'", *connection.external());
  const FilteringProbe probe = classify_tcp_filtering(ctx, connection);
  if (probe.behavior == FilteringClass::inconsistent) {
    ctx.inconclusive("a SYN from a new address got through but one from a new port on the known address did not (" +
                     probe.observed + ")");
  }
  ctx.profile("tcp.filtering", to_string(probe.behavior));
  ctx.check("RFC5382-REQ-3", probe.behavior != FilteringClass::address_and_port_dependent,
            "endpoint-independent or address-dependent filtering of inbound SYNs",
            to_string(probe.behavior) + " filtering: " + probe.observed);
}

void tcp_versus_udp_filtering(TestContext& ctx) {
  const TcpConnection connection = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "creates X':x'");
  const FilteringProbe tcp = classify_tcp_filtering(ctx, connection);
  const harness::Mapping mapping = ctx.learn_mapping(ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  const rfc4787::FilteringProbe udp = rfc4787::classify_filtering(ctx, mapping);
  const std::string tcp_text = to_string(tcp.behavior);
  const std::string udp_text = rfc4787::to_string(udp.behavior);
  ctx.profile("tcp.filtering", tcp_text);
  ctx.profile("udp.filtering", udp_text);
  ctx.info("RFC5382-REQ-3b", (tcp_text == udp_text ? "TCP and UDP filtering are the same: " + tcp_text
                                                   : "TCP filtering is " + tcp_text + ", UDP filtering is " + udp_text) +
                                 " (TCP: " + tcp.observed + "; UDP: " + udp.observed + ")");
}

// An inside host's X' address (learned through a handshake) and an unsolicited SYN from Y2 to a port
// of that address no mapping uses; what the DUT answered Y2 within 6 s and in the 6 s after.
struct UnsolicitedProbe {
  Endpoint sender;
  Endpoint target;
  Duration sent_at{};
  UnsolicitedAnswer answer;
};

UnsolicitedProbe unsolicited_syn(TestContext& ctx) {
  const TcpConnection connection = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0),
                                               "learns the NAT's external address");
  UnsolicitedProbe probe{ctx.outside_endpoint(1), Endpoint{connection.external()->address, ctx.fresh_port()}, {}, {}};
  ctx.bind("X'", *connection.external());
  ctx.bind("unsolicited SYN target", probe.target);
  ctx.send(Side::outside, harness::tcp(probe.sender, probe.target, {.flags = tcp_flag::syn, .seq = ctx.random()}),
           "unsolicited SYN from Y2 to an unmapped port of X'");
  probe.sent_at = ctx.now();
  const harness::Matcher answer = answers_to(probe.sender, probe.target);
  probe.answer.early = ctx.expect(Side::outside, answer, kUnsolicitedSilence, "any answer within 6 s (forbidden)");
  if (!probe.answer.early) {
    probe.answer.late = ctx.expect(Side::outside, answer, kUnsolicitedAnswerWindow, "an answer after 6 s");
  }
  return probe;
}

void unsolicited_syn_silence(TestContext& ctx) {
  const UnsolicitedProbe probe = unsolicited_syn(ctx);
  ctx.check("RFC5382-REQ-4", Level::must_not, !probe.answer.early.has_value(),
            "no RST and no ICMP error for the unsolicited SYN during its first 6 s",
            probe.answer.describe(probe.sent_at));
}

void unsolicited_syn_port_unreachable(TestContext& ctx) {
  const UnsolicitedProbe probe = unsolicited_syn(ctx);
  const auto& late = probe.answer.late;
  const bool port_unreachable =
      late && match::icmp_error(destination_unreachable, 3).quoting(probe.sender, probe.target).matches(late->bytes());
  std::string observed = probe.answer.describe(probe.sent_at);
  if (!probe.answer.early && !late) {
    observed += " (a silent drop is compliant only where answering breaks the NAT's security policy, REQ-4a)";
  } else if (probe.answer.early) {
    observed += " (too early: see rfc5382.req4.unsolicited-syn-silence)";
  }
  ctx.profile("tcp.unsolicited-syn", probe.answer.early ? "answered within 6 s"
                                     : port_unreachable ? "ICMP port unreachable after 6 s"
                                     : late             ? "other answer after 6 s"
                                                        : "silently dropped");
  ctx.check("RFC5382-REQ-4", Level::should, port_unreachable,
            "silence for 6 s, then ICMP Port Unreachable (3/3) quoting the SYN", observed);
}

void held_syn_dropped_by_outbound_syn(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const TcpConnection existing = established(ctx, x, ctx.outside_endpoint(0), "creates X':x'");
  ctx.bind("X'", *existing.external());
  // Y2 has never talked to X, so its SYN is unsolicited unless the DUT filters endpoint-independently.
  const Endpoint y2 = ctx.outside_endpoint(1);
  TcpConnection c = TcpConnection::through(ctx, x, y2, existing.external());
  const Duration sent_at = ctx.now();
  if (c.probe(Side::outside, tcp_flag::syn, "Y2's SYN to X':x' (before X's SYN crosses the NAT)")) {
    ctx.skip("the DUT delivered Y2's SYN at once (endpoint-independent filtering): it was not unsolicited");
  }
  // X's own SYN towards Y2, well within the 6 s: the DUT now knows the connection is wanted.
  if (!c.send(Side::inside, tcp_flag::syn, {}, {}, "X's SYN to Y2 (within 6 s)")) {
    ctx.inconclusive("the DUT did not forward X's SYN to Y2: " + c.first_failure());
  }
  const Endpoint external = *existing.external();
  const bool not_delivered = ctx.expect_none(Side::inside, match::tcp().from(y2).to(x).flags(tcp_flag::syn),
                                             harness::silence_window, "Y2's original SYN at X (must be dropped)");
  const Duration until = sent_at + kUnsolicitedSilence + kUnsolicitedAnswerWindow;
  const Duration rest = until > ctx.now() ? until - ctx.now() : Duration{};
  const bool not_answered =
      ctx.expect_none(Side::outside,
                      match::icmp_error().to(y2.address).quoting(y2, external) ||
                          match::tcp().from(external).to(y2).flags(tcp_flag::rst, tcp_flag::rst),
                      rest, "an answer to Y2's original SYN (must not come)");
  ctx.check("RFC5382-REQ-4", Level::must, not_delivered && not_answered,
            "Y2's original SYN silently dropped: neither delivered to X nor answered",
            std::string(not_delivered ? "not delivered" : "delivered to X") + ", " +
                (not_answered ? "not answered" : "answered"));
}

// REQ-4a, as far as a black box shows it: the harness cannot read the DUT's security policy, so it takes
// silence towards an unsolicited SYN to an unmapped port as a stealth policy in force. Under that policy
// no unsolicited SYN may be answered: not a filtered SYN to a mapped port, not a retransmission.
void stealth_policy_silence(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const TcpConnection existing = established(ctx, x, ctx.outside_endpoint(0), "creates X':x'");
  const Endpoint external = *existing.external();
  ctx.bind("X'", external);
  const Endpoint scanner = ctx.outside_endpoint(1);
  const Endpoint unmapped{external.address, ctx.fresh_port()};
  const Packet first = harness::tcp(scanner, unmapped, {.flags = tcp_flag::syn, .seq = ctx.random()});
  ctx.send(Side::outside, first, "unsolicited SYN from Y2 to an unmapped port of X'");
  const Duration watch = kUnsolicitedSilence + kUnsolicitedAnswerWindow;
  if (const auto answer = ctx.expect(Side::outside, answers_to(scanner, unmapped), watch,
                                     "any answer to the SYN to the unmapped port")) {
    ctx.skip("the DUT answers unsolicited SYNs (" + answer->summary() +
             "), so no stealth policy is in force; REQ-4 applies instead (rfc5382.req4.*)");
  }
  ctx.log("no answer within " + harness::format_duration(watch) + ": a stealth policy is in force");

  // Y2 (never talked to X) tries X':x' itself, and retransmits its first SYN.
  const Endpoint other{scanner.address, ctx.fresh_port()};
  ctx.send(Side::outside, harness::tcp(other, external, {.flags = tcp_flag::syn, .seq = ctx.random()}),
           "unsolicited SYN from Y2 to the mapped X':x'");
  const bool delivered = ctx.expect(Side::inside, match::tcp().from(other).to(x).flags(tcp_flag::syn),
                                    harness::reply_window, "Y2's SYN at X (endpoint-independent filtering)")
                             .has_value();
  ctx.send(Side::outside, first, "the first SYN retransmitted");
  const auto leak = ctx.expect(Side::outside, answers_to(other, external) || answers_to(scanner, unmapped), watch,
                               "any answer to either SYN (must not come)");
  std::string observed = leak ? "answered: " + leak->summary() : "no answer to any unsolicited SYN";
  if (delivered) observed += " (Y2's SYN to X':x' was delivered: endpoint-independent filtering)";
  ctx.check("RFC5382-REQ-4a", !leak.has_value(),
            "under the stealth policy no unsolicited SYN is answered (mapped port, unmapped port, retransmission)",
            observed);
}

}  // namespace

void register_external_connections(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req3.filtering.tcp",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-3", Level::recommended}},
      .title = "TCP filtering is endpoint-independent or address-dependent",
      .procedure = "X:x completes a handshake with Y1:y1, which creates X':x'. Then Y1 sends a SYN to X':x' from "
                   "another port, and Y2 sends one from y1. Delivery of both means endpoint-independent "
                   "filtering, of the first only address-dependent, of neither address-and-port-dependent (not "
                   "recommended).",
      .rfc_quote = "REQ-3:  If application transparency is most important, it is RECOMMENDED that a NAT have an "
                   "\"Endpoint-Independent Filtering\" behavior for TCP.  If a more stringent filtering behavior "
                   "is most important, it is RECOMMENDED that a NAT have an \"Address-Dependent Filtering\" "
                   "behavior.",
      .run = tcp_filtering,
      .mutants = {{"apdf", "rfc-strict,tcp.filtering=address-and-port-dependent", Verdict::warn,
                   "address-and-port-dependent filtering of inbound SYNs"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req3b.filtering.tcp-vs-udp",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-3b", Level::may}},
      .title = "TCP filtering next to UDP filtering (characterisation)",
      .procedure = "Classify TCP filtering as in rfc5382.req3.filtering.tcp (SYNs from Y1 on another port and "
                   "from Y2) and UDP filtering as in rfc4787.req8.filtering.udp, and report whether they differ.",
      .rfc_quote = "b) The filtering behavior for TCP MAY be independent of the filtering behavior for UDP.",
      .run = tcp_versus_udp_filtering,
      .mutants = {{"tcp-apdf", "rfc-strict,tcp.filtering=address-and-port-dependent", Verdict::info,
                   "TCP filtering differs from UDP filtering"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req4.unsolicited-syn-silence",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-4", Level::must_not}},
      .title = "No answer to an unsolicited SYN for 6 seconds",
      .procedure = "X:x completes a handshake with Y1:y1, which teaches the harness the NAT's external address. "
                   "Y2 then sends a SYN to a port of that address no mapping uses. For 6 s (watched for 5.9 s) "
                   "Y2 must receive nothing about it: no RST, no ICMP error.",
      .rfc_quote = "REQ-4:  A NAT MUST NOT respond to an unsolicited inbound SYN packet for at least 6 seconds "
                   "after the packet is received.",
      .run = unsolicited_syn_silence,
      .mutants = {{"immediate-rst", "rfc-strict,tcp.unsolicited-syn=immediate-rst", Verdict::fail,
                   "answers the SYN with a RST at once"},
                  {"immediate-icmp", "rfc-strict,tcp.unsolicited-syn=immediate-port-unreachable", Verdict::fail,
                   "answers the SYN with ICMP port unreachable at once"},
                  {"hold-2s", "rfc-strict,tcp.unsolicited-syn-hold=2s", Verdict::fail,
                   "answers with ICMP after 2 s"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req4.outbound-syn-drops-held-syn",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-4", Level::must}},
      .title = "An unsolicited SYN is silently dropped once the matching outbound SYN passes",
      .procedure = "X:x completes a handshake with Y1:y1 (X':x'). Y2, which never talked to X, sends a SYN to "
                   "X':x' (SKIP if the DUT delivers it: endpoint-independent filtering); within a second X sends "
                   "its own SYN to Y2, which must be forwarded. Y2's original SYN must then never reach X, and "
                   "Y2 must receive no RST or ICMP error about it (watched until 12 s after it was sent).",
      .rfc_quote = "If during this interval the NAT receives and translates an outbound SYN for the connection "
                   "the NAT MUST silently drop the original unsolicited inbound SYN packet.",
      .run = held_syn_dropped_by_outbound_syn,
      .mutants = {{"release-held-syn", "rfc-strict,tcp.release-held-syn=true", Verdict::fail,
                   "delivers the held SYN once the outbound SYN passes"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req4a.stealth-policy-silence",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-4a", Level::must}},
      .title = "Under a stealth policy no unsolicited SYN is answered",
      .procedure = "X:x completes a handshake with Y1:y1 (X':x'). Y2 sends a SYN to an unmapped port of X'; if "
                   "anything answers it within 12 s the DUT has no stealth policy and the test SKIPs (REQ-4 "
                   "applies). Otherwise the harness takes the silence as a security policy that forbids "
                   "answering, and Y2 sends a SYN to X':x' (filtered unless the DUT filters "
                   "endpoint-independently) and retransmits its first SYN: for 12 s neither may be answered, "
                   "neither by RST nor by ICMP.",
      .rfc_quote = "a) The NAT MUST silently drop the original SYN packet if sending a response violates the "
                   "security policy of the NAT.",
      .run = stealth_policy_silence,
      .compliant_config = "rfc-strict,tcp.unsolicited-syn=silent-drop",
      .mutants = {{"leaky-stealth", "rfc-strict,tcp.unsolicited-syn=silent-drop,tcp.silent-drop-rsts-mapped-ports=true",
                   Verdict::fail, "silently drops SYNs to unmapped ports but answers filtered SYNs to mapped ports "
                                  "with a RST"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req4.port-unreachable-after-6s",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-4", Level::should}},
      .title = "ICMP Port Unreachable for an unsolicited SYN, after 6 seconds",
      .procedure = "As in rfc5382.req4.unsolicited-syn-silence; after 6 s of silence, Y2 should receive an ICMP "
                   "Port Unreachable (type 3, code 3) quoting its SYN within the next 6 s. A silent drop is "
                   "reported (WARN): it is compliant only where a security policy forbids the answer (REQ-4a).",
      .rfc_quote = "Otherwise, the NAT SHOULD send an ICMP Port Unreachable error (Type 3, Code 3) for the "
                   "original SYN, unless REQ-4a applies.",
      .run = unsolicited_syn_port_unreachable,
      .mutants = {{"silent-drop", "rfc-strict,tcp.unsolicited-syn=silent-drop", Verdict::warn,
                   "never answers unsolicited SYNs"},
                  {"immediate-rst", "rfc-strict,tcp.unsolicited-syn=immediate-rst", Verdict::warn,
                   "answers with a RST at once instead of ICMP after 6 s"}},
  });
}

}  // namespace natcert::suites::rfc5382
