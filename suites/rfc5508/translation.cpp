// RFC 5508 §4.2: translation of ICMP errors about UDP, TCP and ICMP query flows, received from the
// external realm (REQ-4, 4a-4c) and from the private realm (REQ-5, 5a-5c), and the silent drop of
// errors that quote no mapping. One parameterised procedure per direction covers the three flow kinds.
#include <vector>

#include "rfc5508/common.hpp"

namespace natcert::suites::rfc5508 {
namespace {

struct ErrorKind {
  std::uint8_t type;
  std::uint8_t code;
  const char* name;
};

// The error an outside node typically sends about each kind of flow.
ErrorKind inbound_error_for(FlowKind kind) {
  switch (kind) {
    case FlowKind::udp: return {icmp_type::destination_unreachable, 3, "port unreachable"};
    case FlowKind::tcp: return {icmp_type::destination_unreachable, 1, "host unreachable"};
    case FlowKind::icmp_query: return {icmp_type::time_exceeded, 0, "time exceeded in transit"};
  }
  return {icmp_type::destination_unreachable, 3, "port unreachable"};
}

std::string type_code(std::uint8_t type, std::uint8_t code) {
  return std::to_string(type) + "/" + std::to_string(code);
}

// ---- REQ-4: errors from the external realm ------------------------------------------------------

void inbound_error_translation(TestContext& ctx, FlowKind kind) {
  const Flow flow = open_flow(ctx, kind);
  const ErrorKind error = inbound_error_for(kind);
  ctx.send(Side::outside,
           error_quoting(flow.remote.address, flow.external.address, error.type, error.code, flow.outbound.bytes()),
           std::string("ICMP ") + error.name + " from Y quoting the translated packet");
  const auto seen = ctx.expect(Side::inside, match::icmp_error(), harness::reply_window, "the error, on the inside");
  ctx.check("RFC5508-REQ-4", Level::must, seen.has_value(),
            "the error about the live " + to_string(kind) + " mapping is forwarded to the inside",
            seen ? "forwarded" : "not forwarded");
  if (!seen) return;
  const Quote quote = read_quote(*seen);
  const bool restored = quote.source == flow.internal && quote.destination == flow.remote && quote.ip_checksum_ok &&
                        quote.transport_checksum_ok.value_or(false);
  ctx.check("RFC5508-REQ-4a", restored,
            "quoted packet reverted to " + harness::to_string(flow.internal) + " > " + harness::to_string(flow.remote) +
                " with valid quoted IP and transport checksums",
            quote.describe());
  ctx.check("RFC5508-REQ-4b", quote.type == error.type && quote.code == error.code,
            "type/code " + type_code(error.type, error.code) + " unchanged", "type/code " + type_code(quote.type, quote.code));
  ctx.check("RFC5508-REQ-4c", quote.outer_destination == flow.internal.address,
            "outer destination " + ref::format_ipv4(flow.internal.address) + " (the quoted source after translation)",
            "outer header " + ref::format_ipv4(quote.outer_source) + " > " + ref::format_ipv4(quote.outer_destination));
}

// An error about the flow from a router on the path (a third-party address), not from Y.
void inbound_error_from_router(TestContext& ctx) {
  const Ipv4Address router = ctx.third_party();
  const Flow flow = open_flow(ctx, FlowKind::udp);
  ctx.send(Side::outside,
           error_quoting(router, flow.external.address, icmp_type::time_exceeded, 0, flow.outbound.bytes()),
           "time exceeded from a router on the path, quoting the translated packet");
  const auto seen = ctx.expect(Side::inside, match::icmp_error(icmp_type::time_exceeded, 0).from(router));
  const bool restored = seen && read_quote(*seen).source == flow.internal && read_quote(*seen).destination == flow.remote;
  ctx.check("RFC5508-REQ-4", Level::must, restored,
            "the router's error reaches X, its quote reverted to " + harness::to_string(flow.internal),
            seen ? read_quote(*seen).describe() : "not forwarded (filtered by source address?)");
}

// ICMP errors about this test's remote endpoint only: on a shared wire DUT, the errors of tests
// running alongside cross the same links.
harness::Matcher error_quoting_remote_port(std::uint16_t remote_port) {
  return match::icmp_error().any_checksum().where(
      "quoting remote port " + std::to_string(remote_port), [remote_port](const ref::PacketView& packet) {
        return packet.embedded.has_ports() &&
               (packet.embedded.source_port() == remote_port || packet.embedded.destination_port() == remote_port);
      });
}

// An error quoting an external port no mapping holds, next to a live mapping on the same address.
void inbound_unmapped_error(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  const Endpoint unused{flow.external.address, ctx.fresh_port()};
  Packet quoted = flow.outbound.copy();
  const std::size_t transport = static_cast<std::size_t>(quoted[0] & 0x0f) * 4;
  ref::store16(&quoted[transport], unused.port);
  ref::recompute_checksums(quoted);
  ctx.send(Side::outside,
           error_quoting(flow.remote.address, flow.external.address, icmp_type::destination_unreachable, 3, quoted),
           "port unreachable quoting " + harness::to_string(unused) + ", which no mapping holds");
  const bool silent_inside = ctx.expect_none(Side::inside, error_quoting_remote_port(flow.remote.port), harness::silence_window,
                                             "the unmapped error, on the inside");
  // An answer would be an ICMP error about the ICMP error; other ICMP towards Y is other tests' traffic.
  const harness::Matcher answer = match::icmp_error()
                                      .to(flow.remote.address)
                                      .where("about an ICMP message", [](const ref::PacketView& packet) {
                                        return packet.kind == ref::TransportKind::icmp_error &&
                                               packet.embedded.ip.bytes.size() >= 20 &&
                                               packet.embedded.ip.protocol() == 1;
                                      });
  const bool silent_outside =
      ctx.expect_none(Side::outside, answer, harness::reply_window, "an answer to the unmapped error");
  ctx.check("RFC5508-REQ-4", Level::should, silent_inside && silent_outside,
            "the error is dropped silently (nothing inside, nothing back)",
            std::string(silent_inside ? "nothing inside" : "forwarded to the inside") +
                (silent_outside ? "" : "; the NAT answered outside"));
}

// ---- REQ-5: errors from the private realm -------------------------------------------------------

struct OutboundCase {
  FlowKind kind;
  std::uint8_t type;
  std::uint8_t code;
  bool from_router;  // sent by an inside router (another inside address) rather than by X itself
};

void outbound_error_translation(TestContext& ctx, const OutboundCase& c) {
  Flow flow = open_flow(ctx, c.kind);
  const Observed inbound = deliver_inbound(ctx, flow);
  const Ipv4Address sender = c.from_router ? ctx.inside(1) : flow.internal.address;
  ctx.send(Side::inside, error_quoting(sender, flow.remote.address, c.type, c.code, inbound.bytes()),
           std::string("ICMP ") + type_code(c.type, c.code) + (c.from_router ? " from an inside router" : " from X") +
               " quoting the packet Y sent");
  const auto seen = ctx.expect(Side::outside, match::icmp_error().to(flow.remote.address), harness::reply_window,
                               "the error, on the outside");
  ctx.check("RFC5508-REQ-5", Level::must, seen.has_value(),
            "the error about the live " + to_string(c.kind) + " mapping is forwarded to Y", seen ? "forwarded" : "not forwarded");
  if (!seen) return;
  const Quote quote = read_quote(*seen);
  // In its outside form the quoted packet is Y -> X':x'; a quoted ICMP reply carries X''s identifier.
  const Endpoint quoted_source = c.kind == FlowKind::icmp_query ? Endpoint{flow.remote.address, flow.external.port}
                                                               : flow.remote;
  const bool restored = quote.source == quoted_source && quote.destination == flow.external && quote.ip_checksum_ok &&
                        quote.transport_checksum_ok.value_or(false);
  ctx.check("RFC5508-REQ-5a", restored,
            "quoted packet reverted to " + harness::to_string(quoted_source) + " > " + harness::to_string(flow.external) +
                " with valid quoted IP and transport checksums",
            quote.describe());
  ctx.check("RFC5508-REQ-5b", quote.type == c.type && quote.code == c.code,
            "type/code " + type_code(c.type, c.code) + " unchanged", "type/code " + type_code(quote.type, quote.code));
  const auto& externals = ctx.addressing().nat_external;
  const bool own_address = quote.outer_source == flow.external.address ||
                           std::find(externals.begin(), externals.end(), quote.outer_source) != externals.end();
  ctx.check("RFC5508-REQ-5c", own_address,
            "outer source is the NAT's public address " + ref::format_ipv4(flow.external.address),
            "outer source " + ref::format_ipv4(quote.outer_source));
}

// X sends an error quoting a packet from Y to an inside port no mapping holds.
void outbound_unmapped_error(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y = ctx.outside_endpoint(0);
  const Packet never_sent = harness::udp(y, x, "never crossed the NAT");
  ctx.send(Side::inside, error_quoting(x.address, y.address, icmp_type::destination_unreachable, 3, never_sent),
           "port unreachable quoting " + harness::to_string(y) + " > " + harness::to_string(x) + " (no mapping)");
  const bool silent = ctx.expect_none(Side::outside, error_quoting_remote_port(y.port), harness::silence_window,
                                      "the unmapped error, on the outside");
  ctx.check("RFC5508-REQ-5", Level::should, silent, "the error is dropped silently",
            silent ? "dropped" : "forwarded (its quote names an inside address)");
}

const char* kReq4Quote =
    "REQ-4: If a NAT device receives an ICMP Error packet from an external realm, and the NAT device does not have "
    "an active mapping for the embedded payload, the NAT SHOULD silently drop the ICMP Error packet.  If the NAT has "
    "active mapping for the embedded payload, then the NAT MUST do the following prior to forwarding the packet, "
    "unless explicitly overridden by local policy: a) Revert the IP and transport headers of the embedded IP packet "
    "to their original form, using the matching mapping; and b) Leave the ICMP Error type and code unchanged; and c) "
    "Modify the destination IP address of the outer IP header to be the same as the source IP address of the "
    "embedded packet after translation.";
const char* kReq5Quote =
    "REQ-5: If a NAT device receives an ICMP Error packet from the private realm, and the NAT does not have an "
    "active mapping for the embedded payload, the NAT SHOULD silently drop the ICMP Error packet.  If the NAT has "
    "active mapping for the embedded payload, then the NAT MUST do the following prior to forwarding the packet, "
    "unless explicitly overridden by local policy: a) Revert the IP and transport headers of the embedded IP packet "
    "to their original form, using the matching mapping; and b) Leave the ICMP Error type and code unchanged; and c) "
    "If the NAT enforces Basic NAT function ([NAT-TRAD]), and the NAT has active mapping for the IP address that "
    "sent the ICMP Error, translate the source IP address of the ICMP Error packet with the public IP address in "
    "the mapping.  In all other cases, translate the source IP address of the ICMP Error packet with its own public "
    "IP address.";

std::string id_suffix(FlowKind kind) {
  switch (kind) {
    case FlowKind::udp: return "udp";
    case FlowKind::tcp: return "tcp";
    case FlowKind::icmp_query: return "icmp-query";
  }
  return "?";
}

}  // namespace

void register_translation(Registry& registry) {
  for (const FlowKind kind : {FlowKind::udp, FlowKind::tcp, FlowKind::icmp_query}) {
    const ErrorKind error = inbound_error_for(kind);
    registry.add(TestCase{
        .id = "rfc5508.req4.error-translation." + id_suffix(kind),
        .suite = kSuite,
        .requirements = {{"RFC5508-REQ-4", Level::must},
                         {"RFC5508-REQ-4a", Level::must},
                         {"RFC5508-REQ-4b", Level::must},
                         {"RFC5508-REQ-4c", Level::must}},
        .title = "Inbound ICMP error about a " + to_string(kind) + " flow is translated consistently",
        .procedure = "Open a " + to_string(kind) + " flow X:x -> Y:y and capture the translated packet outside. Y "
                     "sends ICMP " + error.name + " quoting all of it to X'. X must receive the error with the same "
                     "type and code, outer header Y > X, and the quoted packet reverted to X:x > Y:y with its IP "
                     "header checksum and its transport checksum valid.",
        .rfc_quote = kReq4Quote,
        .run = [kind](TestContext& ctx) { inbound_error_translation(ctx, kind); },
        .mutants = {{"no-inbound-errors", "rfc-strict,icmp.translate-inbound-errors=false", Verdict::fail,
                     "drops inbound errors for live mappings"},
                    {"quote-not-restored", "rfc-strict,icmp.restore-embedded-headers=false", Verdict::fail,
                     "leaves the quoted packet in its outside form"},
                    {"stale-quoted-checksum", "rfc-strict,icmp.embedded-checksum=leave-stale", Verdict::fail,
                     "rewrites the quoted ports but not the quoted transport checksum"},
                    {"type-code-changed", "rfc-strict,icmp.keep-error-type-code=false", Verdict::fail,
                     "turns every error into a destination unreachable"},
                    {"outer-destination-kept", "rfc-strict,icmp.rewrite-outer-destination=false", Verdict::fail,
                     "leaves the outer destination at X'"}},
    });
  }
  registry.add(TestCase{
      .id = "rfc5508.req4.error-from-router",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-4", Level::must}},
      .title = "Inbound ICMP error from a router on the path is forwarded (no filtering by source)",
      .procedure = "Open a UDP flow X:x -> Y:y. A third-party address that never talked to X (a router on the "
                   "path) sends Time Exceeded quoting the translated packet to X'. X must receive it, quoting X:x > "
                   "Y:y: the mapping exists, and the error's sender may be Y or any router (Figure 2).",
      .rfc_quote = "Such an ICMP Error packet will have one of Router-x or Host-x as the source IP address and "
                   "Host-y' as the destination IP address as described in Figure 2 below.",
      .run = inbound_error_from_router,
      .mutants = {{"filter-by-source", "rfc-strict,icmp.filter-errors-by-source=true", Verdict::fail,
                   "drops errors not sent by the flow's peer"}},
      .needs = {.third_party_host = true},
  });
  registry.add(TestCase{
      .id = "rfc5508.req4.unmapped-error-dropped",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-4", Level::should}},
      .title = "Inbound ICMP error quoting no mapping is dropped silently",
      .procedure = "Open a UDP flow X:x -> Y:y (mapping X':x'). Y sends port unreachable quoting X':p -> Y:y for a "
                   "port p no mapping holds. Nothing may reach the inside, and the NAT must not answer.",
      .rfc_quote = kReq4Quote,
      .run = inbound_unmapped_error,
      .mutants = {{"address-only-lookup", "rfc-strict,icmp.match-errors-by-address-only=true", Verdict::warn,
                   "finds the mapping by the quoted address alone and forwards the error to X"}},
  });
  const OutboundCase outbound[] = {
      {FlowKind::udp, icmp_type::destination_unreachable, 3, false},
      {FlowKind::tcp, icmp_type::time_exceeded, 0, true},
      {FlowKind::icmp_query, icmp_type::parameter_problem, 0, false},
  };
  for (const OutboundCase& c : outbound) {
    registry.add(TestCase{
        .id = "rfc5508.req5.error-translation." + id_suffix(c.kind),
        .suite = kSuite,
        .requirements = {{"RFC5508-REQ-5", Level::must},
                         {"RFC5508-REQ-5a", Level::must},
                         {"RFC5508-REQ-5b", Level::must},
                         {"RFC5508-REQ-5c", Level::must}},
        .title = "Outbound ICMP error about a " + to_string(c.kind) + " flow is translated consistently",
        .procedure = "Open a " + to_string(c.kind) + " flow X:x -> Y:y; Y sends one more packet on it and X receives "
                     "it. " + (c.from_router ? std::string("An inside router (another inside address)")
                                             : std::string("X")) +
                     " sends ICMP " + type_code(c.type, c.code) + " to Y quoting all of that packet. Y must receive "
                     "the error with the same type and code, the NAT's public address as outer source, and the "
                     "quoted packet reverted to Y:y > X':x' with valid quoted IP and transport checksums.",
        .rfc_quote = kReq5Quote,
        .run = [c](TestContext& ctx) { outbound_error_translation(ctx, c); },
        .mutants = {{"no-outbound-errors", "rfc-strict,icmp.translate-outbound-errors=false", Verdict::fail,
                     "drops outbound errors for live mappings"},
                    {"quote-not-restored", "rfc-strict,icmp.restore-embedded-headers=false", Verdict::fail,
                     "leaves the quoted packet in its inside form (leaks X:x)"},
                    {"stale-quoted-checksum", "rfc-strict,icmp.embedded-checksum=leave-stale", Verdict::fail,
                     "rewrites the quoted address and port but not the quoted transport checksum"},
                    {"type-code-changed", "rfc-strict,icmp.keep-error-type-code=false", Verdict::fail,
                     "turns every error into host unreachable"},
                    {"inside-source-leaks", "rfc-strict,icmp.rewrite-outer-source=false", Verdict::fail,
                     "leaves the inside sender's address as the outer source"}},
    });
  }
  registry.add(TestCase{
      .id = "rfc5508.req5.unmapped-error-dropped",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-5", Level::should}},
      .title = "Outbound ICMP error quoting no mapping is dropped silently",
      .procedure = "X sends port unreachable to Y quoting a datagram Y:y -> X:x that never crossed the NAT (no "
                   "mapping). Nothing may leave on the outside.",
      .rfc_quote = kReq5Quote,
      .run = outbound_unmapped_error,
      .mutants = {{"forward-unmapped", "rfc-strict,icmp.forward-unmapped-errors=true", Verdict::warn,
                   "forwards the error with only its outer source translated"}},
  });
}

}  // namespace natcert::suites::rfc5508
