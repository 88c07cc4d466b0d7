// The reference SIP ALG (RFC 3027 §4.5) on UDP port 5060, over the pure rewriting of alg_sip_parse.
//
// Outbound messages (requests and responses from the inside UA) get Via, Contact and the SDP c=/o=/m=
// lines rewritten to the flow's external endpoint and to mappings the engine creates for each RTP port
// (and RTCP on the next port), with expectations that let the media in from any outside host. Inbound
// messages get the external endpoint in Via and Contact turned back into the inside one, so the UA
// recognises its own Via (RFC 3261 §18.1.2). Anything the parser does not understand passes unchanged.
#include <string_view>

#include "alg_sip_parse.hpp"
#include "algs.hpp"

namespace natcert::ref {
namespace {

constexpr std::uint16_t kSipPort = 5060;

sip::Mutant mutant_of(SipAlgMutant mutant) {
  switch (mutant) {
    case SipAlgMutant::none: return sip::Mutant::none;
    case SipAlgMutant::wrong_sdp_address: return sip::Mutant::wrong_sdp_address;
    case SipAlgMutant::stale_content_length: return sip::Mutant::stale_content_length;
    case SipAlgMutant::no_media_expectation: return sip::Mutant::no_media_expectation;
  }
  return sip::Mutant::none;
}

class SipFlow final : public AlgFlowState {};

class SipAlg final : public AlgHook {
 public:
  explicit SipAlg(const AlgBehavior& behavior)
      : lifetime_(behavior.expectation_timeout), mutant_(mutant_of(behavior.sip_mutant)) {}

  std::string_view name() const override { return "sip"; }

  std::unique_ptr<AlgFlowState> claim(const AlgFlow& flow) override {
    if (flow.protocol != Protocol::udp) return nullptr;
    if (flow.remote.port != kSipPort && flow.internal.port != kSipPort) return nullptr;
    return std::make_unique<SipFlow>();
  }

  void on_payload(AlgFlowState&, const AlgFlow& flow, Side from, std::vector<std::uint8_t>& payload,
                  AlgContext& context) override {
    const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    std::optional<sip::Rewritten> rewritten;
    if (from == Side::inside) {
      const sip::Translation t{flow.internal.address, flow.internal.port, flow.external.address, flow.external.port};
      const sip::MediaMapper mapper = [&](std::uint16_t port) -> std::optional<std::uint16_t> {
        if (mutant_ == sip::Mutant::no_media_expectation) return port;  // advertises the port, opens nothing
        const auto external = context.expect(
            AlgExpectation{Protocol::udp, Endpoint{flow.internal.address, port}, Endpoint{0, 0}, lifetime_});
        if (!external) return std::nullopt;
        // RTCP on the next port (RFC 3550 §11) goes along when it can; RTP alone still works.
        if (port < 65535) {
          const Endpoint rtcp{flow.internal.address, static_cast<std::uint16_t>(port + 1)};
          context.expect(AlgExpectation{Protocol::udp, rtcp, Endpoint{0, 0}, lifetime_});
        }
        return external->port;
      };
      rewritten = sip::rewrite(text, t, mapper, mutant_);
    } else {
      const sip::Translation t{flow.external.address, flow.external.port, flow.internal.address, flow.internal.port};
      rewritten = sip::rewrite(text, t, nullptr);
    }
    if (rewritten) payload.assign(rewritten->message.begin(), rewritten->message.end());
  }

 private:
  Duration lifetime_;
  sip::Mutant mutant_;
};

}  // namespace

std::unique_ptr<AlgHook> make_sip_alg(const AlgBehavior& behavior) { return std::make_unique<SipAlg>(behavior); }

}  // namespace natcert::ref
