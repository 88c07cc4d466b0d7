// RFC 3027 §4.5 (SIP): an INVITE names the inside endpoint in Via and Contact and the media endpoint in
// its SDP. Across a NAT it works only if an ALG rewrites them to external endpoints the NAT really holds
// (the mapping of the signalling flow; a mapping opened for the media) and keeps Content-Length right.
// Without an ALG the message passes as sent (as RFC 4787 REQ-10 prefers) and SIP needs ICE/STUN.
#include "rfc3027/common.hpp"

namespace natcert::suites::rfc3027 {
namespace {

constexpr std::uint16_t kSipPort = 5060;

struct SipText {
  std::string headers;  // up to the blank line
  std::string body;
  bool complete = false;
};

SipText split_message(const std::string& text) {
  const auto end = text.find("\r\n\r\n");
  if (end == std::string::npos) return {text, {}, false};
  return {text.substr(0, end + 2), text.substr(end + 4), true};
}

// The value of the first header `name` (long form, case-insensitive), or of its compact form.
std::optional<std::string> header(const std::string& headers, const std::string& name, char compact) {
  std::size_t at = 0;
  while (at < headers.size()) {
    const auto eol = headers.find("\r\n", at);
    const std::string line = headers.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string key = line.substr(0, colon);
      while (!key.empty() && key.back() == ' ') key.pop_back();
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key == name || (key.size() == 1 && key[0] == compact)) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(value.begin());
        return value;
      }
    }
    if (eol == std::string::npos) break;
    at = eol + 2;
  }
  return std::nullopt;
}

// The value after "<prefix>" on the first SDP line starting with it ("c=IN IP4 " -> the address).
std::optional<std::string> sdp_line(const std::string& body, const std::string& prefix) {
  std::size_t at = 0;
  while (at < body.size()) {
    auto eol = body.find('\n', at);
    std::string line = body.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with(prefix)) return line.substr(prefix.size());
    if (eol == std::string::npos) break;
    at = eol + 1;
  }
  return std::nullopt;
}

std::string endpoint_text(Endpoint e) { return ref::format_ipv4(e.address) + ":" + std::to_string(e.port); }

// Whether a Via or Contact value names `e` (a missing port means 5060).
bool names_endpoint(const std::optional<std::string>& value, Endpoint e) {
  if (!value) return false;
  const std::string address = ref::format_ipv4(e.address);
  for (auto at = value->find(address); at != std::string::npos; at = value->find(address, at + 1)) {
    const std::size_t end = at + address.size();
    if (end < value->size() && (std::isdigit(static_cast<unsigned char>((*value)[end])) || (*value)[end] == '.')) continue;
    if (end < value->size() && (*value)[end] == ':') {
      std::size_t digits = end + 1;
      while (digits < value->size() && std::isdigit(static_cast<unsigned char>((*value)[digits]))) ++digits;
      if (value->substr(end + 1, digits - end - 1) == std::to_string(e.port)) return true;
    } else if (e.port == kSipPort) {
      return true;
    }
  }
  return false;
}

std::string invite(Endpoint x, Endpoint y, std::uint16_t rtp, const std::string& call_id, std::uint32_t tag) {
  const std::string address = ref::format_ipv4(x.address);
  const std::string body = "v=0\r\no=natcert " + std::to_string(tag) + " 1 IN IP4 " + address +
                           "\r\ns=natcert\r\nc=IN IP4 " + address + "\r\nt=0 0\r\nm=audio " + std::to_string(rtp) +
                           " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  return "INVITE sip:bob@" + ref::format_ipv4(y.address) + " SIP/2.0\r\n" +
         "Via: SIP/2.0/UDP " + endpoint_text(x) + ";branch=z9hG4bK" + std::to_string(tag) + "\r\n" +
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.invalid>;tag=" + std::to_string(tag) + "\r\n" +
         "To: <sip:bob@" + ref::format_ipv4(y.address) + ">\r\n" +
         "Call-ID: " + call_id + "\r\n" +
         "CSeq: 1 INVITE\r\n"
         "Contact: <sip:alice@" + endpoint_text(x) + ">\r\n" +
         "Content-Type: application/sdp\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

void sip_invite(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y{ctx.outside(0), kSipPort};
  const std::uint16_t rtp = ctx.fresh_port(harness::Parity::even);
  const std::uint32_t tag = ctx.random() % 1000000000u;
  const std::string call_id = "natcert-" + std::to_string(tag) + "@example.invalid";
  const std::string sent = invite(x, y, rtp, call_id, tag);
  ctx.send(Side::inside, harness::udp(x, y, sent), "INVITE with SDP (media at " + ref::format_ipv4(x.address) + ":" +
                                                       std::to_string(rtp) + ")");
  const auto out = ctx.expect(Side::outside, match::udp().to(y).payload_contains("Call-ID: " + call_id),
                              harness::reply_window, "the INVITE at Y:5060");
  if (!out) ctx.inconclusive("the DUT did not forward the INVITE to UDP port 5060");
  const Endpoint external = out->source();
  ctx.bind("X'", external);
  const std::string got = out->payload_text();
  if (got == sent) {
    ctx.profile("alg.sip", "broken");
    ctx.info("RFC3027-4.5", "no SIP ALG: the INVITE left unmodified (as RFC 4787 REQ-10 prefers), so its Via, Contact "
                            "and SDP name the inside endpoint " + endpoint_text(x) +
                                " and the peer's media cannot reach it; SIP needs ICE/STUN across this NAT");
    return;
  }

  const SipText message = split_message(got);
  const auto via = header(message.headers, "via", 'v');
  const auto contact = header(message.headers, "contact", 'm');
  const bool signalling_ok = names_endpoint(via, external) && names_endpoint(contact, external);
  ctx.check("RFC3027-4.5", signalling_ok, "Via and Contact name the external endpoint " + endpoint_text(external),
            "Via: " + via.value_or("(none)") + " | Contact: " + contact.value_or("(none)"));

  const auto length = header(message.headers, "content-length", 'l');
  const bool length_ok = message.complete && length && *length == std::to_string(message.body.size());
  ctx.check("RFC3027-4.5", length_ok, "Content-Length equals the body's length",
            "Content-Length: " + length.value_or("(none)") + ", body of " + std::to_string(message.body.size()) +
                " bytes");

  const auto connection = sdp_line(message.body, "c=IN IP4 ");
  const auto media = sdp_line(message.body, "m=audio ");
  const auto origin = sdp_line(message.body, "o=");
  const std::string advertised = connection.value_or("(none)");
  const bool connection_ok = connection && ref::parse_ipv4_address(*connection) == external.address;
  ctx.check("RFC3027-4.5", connection_ok, "SDP c= names the external address " + ref::format_ipv4(external.address),
            "c=IN IP4 " + advertised + ", o=" + origin.value_or("(none)") + ", m=audio " + media.value_or("(none)"));

  std::optional<std::uint16_t> media_port;
  if (media) {
    const std::string digits = media->substr(0, media->find_first_not_of("0123456789"));
    if (!digits.empty() && digits.size() <= 5 && std::stoul(digits) > 0 && std::stoul(digits) <= 65535) {
      media_port = static_cast<std::uint16_t>(std::stoul(digits));
    }
  }
  bool media_ok = false;
  std::string media_text = "not tried: the SDP names no usable media endpoint on the external address";
  if (connection_ok && media_port) {
    const Endpoint advertised_media{external.address, *media_port};
    ctx.bind("media X'", advertised_media);
    const Endpoint peer_media{y.address, ctx.fresh_port(harness::Parity::even)};
    const std::string rtp_packet = "RTP media for " + call_id;
    ctx.send(Side::outside, harness::udp(peer_media, advertised_media, rtp_packet), "media to the advertised endpoint");
    media_ok = ctx.expect(Side::inside, match::udp().from(peer_media).to(Endpoint{x.address, rtp}).payload(rtp_packet),
                          harness::reply_window, "the media at X's RTP port")
                   .has_value();
    media_text = std::string("media to ") + endpoint_text(advertised_media) +
                 (media_ok ? " reached X:" : " did not reach X:") + std::to_string(rtp);
  }
  ctx.check("RFC3027-4.5", media_ok, "media sent to the advertised endpoint reaches the inside host's RTP port",
            media_text);

  // The answer comes back to the external endpoint the Via names.
  const std::string answer = "SIP/2.0 180 Ringing\r\nVia: " + via.value_or("SIP/2.0/UDP " + endpoint_text(external)) +
                             "\r\nCall-ID: " + call_id + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  ctx.send(Side::outside, harness::udp(y, external, answer), "180 Ringing to X'");
  const auto ringing = ctx.expect(Side::inside, match::udp().from(y).to(x).payload_contains("Call-ID: " + call_id),
                                  harness::reply_window, "180 Ringing at X");
  if (ringing) {
    const auto back = header(split_message(ringing->payload_text()).headers, "via", 'v');
    ctx.log("180 Ringing delivered; its Via reads " + back.value_or("(none)"));
  }
  const bool works = signalling_ok && length_ok && connection_ok && media_ok && ringing.has_value();
  ctx.profile("alg.sip", works ? "works through ALG" : "broken");
}

}  // namespace

void register_sip(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc3027.s4-5.sip-invite-sdp",
      .suite = kSuite,
      .requirements = {{"RFC3027-4.5", Level::should}},
      .title = "SIP INVITE with SDP: a SIP ALG rewrites it consistently and media flows (or the DUT has no ALG)",
      .procedure =
          "X sends an INVITE over UDP to Y:5060 whose Via and Contact name X:x and whose SDP (c=, o=, m=audio) "
          "names X and an RTP port. Unmodified, it shows the DUT has no SIP ALG (INFO: SIP then needs ICE/STUN). "
          "Rewritten, Via and Contact must name the external endpoint Y saw, Content-Length must equal the new "
          "body's length, c= must name the external address, media Y sends to the advertised c=/m= endpoint "
          "must reach X's RTP port, and a 180 Ringing to the Via endpoint must reach X. RFC 3027 states no "
          "requirement level, so a wrong rewrite is a WARN.",
      .rfc_quote = "Since the port number for a response may not go to the source port of the request, SIP "
                   "will not normally traverse a NAT and would require a SIP-ALG. [...] SDP may specify IP addresses "
                   "or ports to be used for the exchange of multimedia.  These may loose significance when "
                   "traversing a NAT.  Thus a SIP-ALG would need the intelligence to decipher and translate "
                   "realm-relevant information.",
      .run = sip_invite,
      .compliant_config = "rfc-strict,alg.sip=true",
      .mutants = {{"no-alg", "rfc-strict", Verdict::info, "no SIP ALG: the INVITE passes unmodified"},
                  {"wrong-sdp-address", "rfc-strict,alg.sip=true,alg.sip-mutant=wrong-sdp-address", Verdict::warn,
                   "the SDP c= line names an address that is not the mapping's"},
                  {"stale-content-length", "rfc-strict,alg.sip=true,alg.sip-mutant=stale-content-length",
                   Verdict::warn, "Content-Length keeps the length of the body before the rewrite"},
                  {"no-media-expectation", "rfc-strict,alg.sip=true,alg.sip-mutant=no-media-expectation",
                   Verdict::warn, "the media port is advertised but nothing is opened for it"}},
  });
}

}  // namespace natcert::suites::rfc3027
