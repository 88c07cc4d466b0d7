// The SIP ALG (RFC 3261 with RFC 4566 SDP): its message rewriter as a pure function, and the ALG inside
// the reference NAT fed datagrams from both sides. Input: a mode byte, then text.
//   - rewriter: a message it rewrites is still a SIP message, and a Content-Length that matched the
//     body before the rewrite matches the body it now carries;
//   - datagrams: UDP between an inside and an outside SIP endpoint through the NAT with alg.sip on;
//     every packet the NAT emits parses, with valid checksums and lengths (NatDriver).
#include <string>

#include "alg_sip_parse.hpp"  // reference/src: the rewriter is internal to the reference ALG
#include "nat_driver.hpp"

using namespace natcert;
using fuzz::check;

namespace {

constexpr ref::Ipv4Address kInside = fuzz::kInsideHost;
constexpr std::uint16_t kSipPort = 5060;

// The Content-Length a message declares, or nullopt when it declares none (or the header is unusable).
std::optional<std::size_t> declared_length(std::string_view message, std::size_t header_end) {
  std::size_t line_start = message.find("\r\n") + 2;
  while (line_start < header_end) {
    const std::size_t line_end = message.find("\r\n", line_start);
    const std::string_view line = message.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (ref::sip::canonical_header(name) != "content-length") continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    return ref::sip::parse_content_length(value);
  }
  return std::nullopt;
}

void check_rewriter(std::string_view message, bool with_media) {
  const ref::sip::Translation t{kInside, kSipPort, fuzz::kExternal, 40000};
  const ref::sip::MediaMapper mapper = [](std::uint16_t port) -> std::optional<std::uint16_t> {
    if (port == 0) return std::nullopt;
    return static_cast<std::uint16_t>(port ^ 0x4000u);
  };
  const auto rewritten = ref::sip::rewrite(message, t, with_media ? mapper : ref::sip::MediaMapper{});
  if (!rewritten) return;
  // RFC 3261 §18.3: over UDP the body is the first Content-Length bytes and anything after it is
  // discarded, so only a message whose Content-Length matched its body must still match afterwards.
  const std::size_t input_header_end = message.find("\r\n\r\n");
  if (input_header_end == std::string_view::npos) return;
  const auto input_length = declared_length(message, input_header_end + 2);
  if (input_length && *input_length != message.size() - (input_header_end + 4)) return;
  const std::string& out = rewritten->message;
  const std::size_t first_line_end = out.find("\r\n");
  check(first_line_end != std::string::npos, "a rewritten message has no start line");
  check(ref::sip::is_sip_start_line(std::string_view(out).substr(0, first_line_end)),
        "a rewritten message no longer starts like SIP");
  const std::size_t header_end = out.find("\r\n\r\n");
  if (header_end == std::string::npos) return;
  if (const auto length = declared_length(out, header_end + 2)) {
    check(*length == out.size() - (header_end + 4), "Content-Length does not match the rewritten body");
  }
}

void check_datagrams(fuzz::ByteReader& in) {
  fuzz::NatDriver driver("rfc-strict,alg.sip=true");
  const ref::Endpoint phone{kInside, kSipPort};
  const ref::Endpoint proxy{fuzz::kOutsideHost, kSipPort};
  ref::Endpoint external{};
  while (!in.empty()) {
    const bool outbound = in.flag() || external.port == 0;
    const fuzz::Bytes payload = in.bytes(600);
    if (outbound) {
      const ref::Output& out =
          driver.send(fuzz::udp_packet({phone.address, proxy.address}, phone.port, proxy.port, payload),
                      ref::Side::inside);
      for (const auto& emitted : out.packets()) {
        check(fuzz::checksums_valid(emitted.bytes), "the SIP ALG left a datagram with a bad checksum");
        const ref::ParseResult left = ref::parse_packet(emitted.bytes);
        if (emitted.to == ref::Side::outside && left.ok()) {
          external = {left.packet.ip.source(), left.packet.udp.source_port()};
        }
      }
    } else {
      const ref::Output& out =
          driver.send(fuzz::udp_packet({proxy.address, external.address}, proxy.port, external.port, payload),
                      ref::Side::outside);
      for (const auto& emitted : out.packets()) {
        check(fuzz::checksums_valid(emitted.bytes), "the SIP ALG left an inbound datagram with a bad checksum");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  const std::uint8_t mode = in.u8();
  if (mode % 2 == 0) {
    check_rewriter(fuzz::text(in.rest()), (mode & 2) != 0);
  } else {
    check_datagrams(in);
  }
  return 0;
}
