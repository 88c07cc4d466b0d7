// RFC 5508 §4.1: validation of inbound ICMP errors. A bad ICMP checksum or a bad quoted IP header
// checksum gets the error dropped (REQ-3, 3a); quoted IP options are skipped (3b); the quoted transport
// checksum is not verified (3c); RFC 4884 extensions are left out of the quoted checksum (3d).
#include "rfc5508/common.hpp"

namespace natcert::suites::rfc5508 {
namespace {

using ref::icmp_type::destination_unreachable;

constexpr std::size_t kIcmpOffset = 20;  // errors built by error_quoting carry no outer IP options
constexpr std::size_t kQuoteOffset = kIcmpOffset + 8;

// Sends a well-formed port unreachable about the flow first: if even that is not forwarded, the test
// cannot tell dropping for a reason from not forwarding errors at all.
void require_errors_forwarded(TestContext& ctx, const Flow& flow) {
  ctx.send(Side::outside,
           error_quoting(flow.remote.address, flow.external.address, destination_unreachable, 3, flow.outbound.bytes()),
           "a well-formed port unreachable about the flow");
  if (!ctx.expect(Side::inside, match::icmp_error(destination_unreachable, 3).to(flow.internal.address))) {
    ctx.skip("the DUT does not forward even a well-formed error about the flow (see rfc5508.req4.*)");
  }
}

bool nothing_inside(TestContext& ctx, const Flow& flow, std::string_view what) {
  return ctx.expect_none(Side::inside, match::icmp_error().any_checksum().to(flow.internal.address),
                         harness::silence_window, what);
}

void bad_icmp_checksum(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  require_errors_forwarded(ctx, flow);
  Packet error =
      error_quoting(flow.remote.address, flow.external.address, destination_unreachable, 3, flow.outbound.bytes());
  error[kIcmpOffset + 2] ^= 0x5a;
  ctx.send(Side::outside, error, "port unreachable with a corrupted ICMP checksum");
  const bool dropped = nothing_inside(ctx, flow, "the corrupted error, on the inside");
  ctx.check("RFC5508-REQ-3", dropped, "dropped silently", dropped ? "dropped" : "forwarded");
}

void bad_embedded_ip_checksum(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  require_errors_forwarded(ctx, flow);
  Packet error =
      error_quoting(flow.remote.address, flow.external.address, destination_unreachable, 3, flow.outbound.bytes());
  error[kQuoteOffset + 10] ^= 0x5a;  // the quoted IP header checksum
  ref::recompute_checksums(error);   // outer IP and ICMP checksums valid again
  ctx.send(Side::outside, error, "port unreachable whose quoted IP header checksum is wrong (ICMP checksum valid)");
  const bool dropped = nothing_inside(ctx, flow, "the error, on the inside");
  ctx.check("RFC5508-REQ-3a", dropped, "dropped silently", dropped ? "dropped" : "forwarded");
}

void embedded_ip_options(TestContext& ctx) {
  harness::IpFields ip;
  ip.options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL: a 24-byte header any router forwards
  const Flow flow = open_flow(ctx, FlowKind::udp, ip);
  if (flow.outbound.view().ip.header_length() == 20) {
    ctx.skip("the DUT stripped the IP options from the flow's packets; no quoted header carries any");
  }
  ctx.send(Side::outside,
           error_quoting(flow.remote.address, flow.external.address, destination_unreachable, 3, flow.outbound.bytes()),
           "port unreachable quoting a packet with a 24-byte IP header");
  const auto seen = ctx.expect(Side::inside, match::icmp_error(destination_unreachable, 3).to(flow.internal.address));
  const Quote quote = seen ? read_quote(*seen) : Quote{};
  const bool restored = seen && quote.source == flow.internal && quote.destination == flow.remote &&
                        quote.ip_checksum_ok && quote.transport_checksum_ok.value_or(false);
  ctx.check("RFC5508-REQ-3b", restored,
            "forwarded with the quoted ports found past the options and reverted to " +
                harness::to_string(flow.internal) + " > " + harness::to_string(flow.remote),
            seen ? quote.describe() : "not forwarded");
}

void embedded_transport_checksum_unchecked(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  Packet quoted = flow.outbound.copy();
  quoted.back() ^= 0x20;  // a payload byte: the quoted UDP checksum no longer verifies
  ctx.send(Side::outside, error_quoting(flow.remote.address, flow.external.address, destination_unreachable, 3, quoted),
           "port unreachable quoting the whole datagram, its UDP checksum wrong");
  const bool forwarded = ctx.expect(Side::inside, match::icmp_error(destination_unreachable, 3).to(flow.internal.address))
                             .has_value();
  ctx.check("RFC5508-REQ-3c", forwarded, "forwarded all the same (end hosts judge the quoted checksum)",
            forwarded ? "forwarded" : "dropped");
}

// RFC 4884: the original datagram is zero-padded to 128 bytes, its length (in 32-bit words) goes in the
// second byte of the ICMP header's second word, and an extension structure follows.
Packet with_icmp_extensions(Packet error) {
  constexpr std::size_t kOriginalDatagramLength = 128;
  const std::size_t quoted = error.size() - kQuoteOffset;
  if (quoted < kOriginalDatagramLength) error.resize(kQuoteOffset + kOriginalDatagramLength, 0);
  error[kIcmpOffset + 5] = static_cast<std::uint8_t>((error.size() - kQuoteOffset) / 4);
  // Extension header (version 2) and one object: an interface information object (class 2) carrying an
  // ifIndex (c-type bit 3) of 7.
  Packet extension = {0x20, 0x00, 0x00, 0x00, 0x00, 0x08, 0x02, 0x08, 0x00, 0x00, 0x00, 0x07};
  ref::store16(&extension[2], ref::internet_checksum(extension));
  error.insert(error.end(), extension.begin(), extension.end());
  ref::store16(&error[2], static_cast<std::uint16_t>(error.size()));
  ref::recompute_checksums(error);
  return error;
}

void icmp_extensions_excluded(TestContext& ctx) {
  const Flow flow = open_flow(ctx, FlowKind::udp);
  const Packet error = with_icmp_extensions(
      error_quoting(flow.remote.address, flow.external.address, destination_unreachable, 3, flow.outbound.bytes()));
  ctx.send(Side::outside, error, "port unreachable with the quote padded to 128 bytes and an RFC 4884 extension");
  const auto seen = ctx.expect(Side::inside, match::icmp_error(destination_unreachable, 3).to(flow.internal.address));
  if (!seen) ctx.skip("the DUT does not forward the error with ICMP extensions at all");
  const Quote quote = read_quote(*seen);
  const bool correct = quote.source == flow.internal && quote.transport_checksum_ok.value_or(false);
  ctx.check("RFC5508-REQ-3d", correct,
            "the quoted UDP checksum verifies over the quoted datagram alone (padding and extensions left out)",
            quote.describe());
}

}  // namespace

void register_validation(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5508.req3.bad-icmp-checksum",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-3", Level::should}},
      .title = "ICMP error with a bad ICMP checksum is dropped",
      .procedure = "Open a UDP flow X:x -> Y:y; a well-formed port unreachable about it must reach X (else "
                   "SKIP). Then the same error with a corrupted ICMP checksum must not reach X.",
      .rfc_quote = "REQ-3: When an ICMP Error packet is received, if the ICMP checksum fails to validate, the NAT "
                   "SHOULD silently drop the ICMP Error packet.",
      .run = bad_icmp_checksum,
      .mutants = {{"accept-bad-checksum", "rfc-strict,icmp.drop-bad-icmp-checksum=false", Verdict::warn,
                   "translates errors whatever their ICMP checksum"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req3a.bad-embedded-ip-checksum",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-3a", Level::should}},
      .title = "ICMP error whose quoted IP header checksum is bad is dropped",
      .procedure = "Open a UDP flow X:x -> Y:y; a well-formed port unreachable about it must reach X (else "
                   "SKIP). Then a port unreachable whose quoted IP header checksum is wrong, but whose ICMP "
                   "checksum is valid, must not reach X.",
      .rfc_quote = "a) If the IP checksum of the embedded packet fails to validate, the NAT SHOULD silently drop the "
                   "Error packet; and",
      .run = bad_embedded_ip_checksum,
      .mutants = {{"accept-bad-embedded", "rfc-strict,icmp.drop-bad-embedded-ip-checksum=false", Verdict::warn,
                   "translates errors whose quoted IP header checksum is wrong"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req3b.embedded-ip-options",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-3b", Level::must}},
      .title = "Quoted IP options are skipped to find the quoted transport header",
      .procedure = "Open a UDP flow X:x -> Y:y whose packets carry 4 bytes of IP options (NOP NOP NOP EOL). Y "
                   "sends port unreachable quoting the translated packet, options included. X must receive it with "
                   "the quoted ports reverted to X:x > Y:y and valid quoted checksums.",
      .rfc_quote = "b) If the embedded packet includes IP options, the NAT device MUST traverse past the IP options "
                   "to locate the start of the transport header for the embedded packet; and",
      .run = embedded_ip_options,
      .mutants = {{"fixed-offset", "rfc-strict,icmp.skip-embedded-ip-options=false", Verdict::fail,
                   "assumes a 20-byte quoted IP header"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req3c.embedded-transport-checksum",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-3c", Level::should_not}},
      .title = "The quoted transport checksum is not validated",
      .procedure = "Open a UDP flow X:x -> Y:y. Y sends port unreachable quoting the whole translated datagram "
                   "with one payload byte changed, so the quoted UDP checksum is wrong. X must still receive it.",
      .rfc_quote = "c) The NAT device SHOULD NOT validate the transport checksum of the embedded packet within an "
                   "ICMP Error message, even when it is possible to do so; and",
      .run = embedded_transport_checksum_unchecked,
      .mutants = {{"validates-quoted-checksum", "rfc-strict,icmp.verify-embedded-transport-checksum=true",
                   Verdict::warn, "drops errors whose quoted transport checksum is wrong"}},
  });
  registry.add(TestCase{
      .id = "rfc5508.req3d.icmp-extensions",
      .suite = kSuite,
      .requirements = {{"RFC5508-REQ-3d", Level::must}},
      .title = "ICMP extensions are left out of the quoted transport checksum",
      .procedure = "Open a UDP flow X:x -> Y:y. Y sends port unreachable quoting the whole translated datagram, "
                   "zero-padded to 128 bytes and followed by an RFC 4884 extension structure. X must receive it with "
                   "the quoted UDP checksum verifying over the quoted datagram alone.",
      .rfc_quote = "d) If the ICMP Error payload contains ICMP extensions [ICMP-EXT], the NAT device MUST exclude the "
                   "optional zero-padding and the ICMP extensions when evaluating transport checksum for the "
                   "embedded packet.",
      .run = icmp_extensions_excluded,
      .mutants = {{"sums-extensions", "rfc-strict,icmp.embedded-checksum=recompute-over-icmp-body", Verdict::fail,
                   "recomputes the quoted checksum over padding and extensions too"}},
  });
}

}  // namespace natcert::suites::rfc5508
