// The reference TFTP ALG on UDP port 69. The server answers a read or write request from a port of its
// own (RFC 1350 §4), so the ALG expects one flow from the server's address, any port, into the client's
// mapping; under address-and-port-dependent filtering that is what lets the transfer in.
#include "alg_tftp.hpp"

#include "algs.hpp"

namespace natcert::ref {
namespace {

constexpr std::uint16_t kTftpPort = 69;

class TftpFlow final : public AlgFlowState {};

class TftpAlg final : public AlgHook {
 public:
  explicit TftpAlg(const AlgBehavior& behavior) : lifetime_(behavior.expectation_timeout) {}

  std::string_view name() const override { return "tftp"; }

  std::unique_ptr<AlgFlowState> claim(const AlgFlow& flow) override {
    if (flow.protocol != Protocol::udp || flow.remote.port != kTftpPort) return nullptr;
    return std::make_unique<TftpFlow>();
  }

  void on_payload(AlgFlowState&, const AlgFlow& flow, Side from, std::vector<std::uint8_t>& payload,
                  AlgContext& context) override {
    if (from != Side::inside || !is_tftp_request(payload)) return;
    context.expect(AlgExpectation{Protocol::udp, flow.internal, Endpoint{flow.remote.address, 0}, lifetime_});
  }

 private:
  Duration lifetime_;
};

}  // namespace

bool is_tftp_request(Bytes payload) {
  if (payload.size() < 6 || payload[0] != 0 || (payload[1] != 1 && payload[1] != 2)) return false;
  std::size_t at = 2;
  const auto field = [&]() {
    const std::size_t start = at;
    while (at < payload.size() && payload[at] != 0) ++at;
    if (at == payload.size() || at == start) return false;
    ++at;
    return true;
  };
  return field() && field();
}

std::unique_ptr<AlgHook> make_tftp_alg(const AlgBehavior& behavior) { return std::make_unique<TftpAlg>(behavior); }

}  // namespace natcert::ref
