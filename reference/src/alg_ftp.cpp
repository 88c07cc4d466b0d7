// The reference FTP ALG (RFC 3027 §4.1, RFC 959, RFC 2428) on TCP port 21.
//
// Inside client (control connection to port 21 outside): PORT and EPRT announcing the client's own
// address are rewritten to the external endpoint of a mapping the engine creates for the data port,
// with an expectation that lets the server's data connection in (active mode). Passive mode needs
// nothing: the 227/229 replies carry the outside server's endpoint and the data connection is outbound.
// Inside server (control connection to its port 21 from outside): 227 and 229 replies announcing the
// server's address are rewritten the same way, and the client's data connection is expected.
//
// Lines are processed whole: a line that started in an earlier segment, or that does not end within
// this segment (no LF yet), passes unrewritten. The engine handles sequence numbers and checksums.
#include <string>

#include "algs.hpp"
#include "natcert/reference/alg_ftp.hpp"

namespace natcert::ref {
namespace {

constexpr std::uint16_t kFtpControlPort = 21;

enum class Role : std::uint8_t { inside_client, inside_server };

class FtpFlow final : public AlgFlowState {
 public:
  explicit FtpFlow(Role flow_role) : role(flow_role) {}
  Role role;
  bool mid_line = false;  // the previous outbound segment ended inside a line
  bool rewrote = false;
};

struct Edit {
  std::size_t begin;
  std::size_t end;
  std::string text;
};

class FtpAlg final : public AlgHook {
 public:
  explicit FtpAlg(const AlgBehavior& behavior) : behavior_(behavior) {}

  std::string_view name() const override { return "ftp"; }

  std::unique_ptr<AlgFlowState> claim(const AlgFlow& flow) override {
    if (flow.protocol != Protocol::tcp) return nullptr;
    if (flow.remote.port == kFtpControlPort) return std::make_unique<FtpFlow>(Role::inside_client);
    if (flow.internal.port == kFtpControlPort) return std::make_unique<FtpFlow>(Role::inside_server);
    return nullptr;
  }

  void on_payload(AlgFlowState& base, const AlgFlow& flow, Side from, std::vector<std::uint8_t>& payload,
                  AlgContext& context) override {
    FtpFlow& state = static_cast<FtpFlow&>(base);
    // Inbound lines carry outside addresses, which need no translation (unless the mutant mangles them).
    const bool mangle = from != Side::inside && behavior_.ftp_mutant == FtpAlgMutant::mangle_passive_replies &&
                        state.role == Role::inside_client;
    if (from != Side::inside && !mangle) return;
    const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    std::vector<Edit> edits;
    bool continuation = from == Side::inside && state.mid_line;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t newline = text.find('\n', pos);
      if (newline == std::string_view::npos) break;  // incomplete line: left as it is
      std::string_view line = text.substr(pos, newline - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (mangle) {
        if (auto edit = mangled(flow, line)) {
          edit->begin += pos;
          edit->end += pos;
          edits.push_back(std::move(*edit));
        }
      } else if (!continuation) {
        if (auto edit = rewrite(state, flow, line, context)) {
          edit->begin += pos;
          edit->end += pos;
          edits.push_back(std::move(*edit));
        }
      }
      continuation = false;
      pos = newline + 1;
    }
    if (from == Side::inside) state.mid_line = !text.empty() && text.back() != '\n';
    if (edits.empty()) return;

    std::vector<std::uint8_t> rewritten;
    rewritten.reserve(payload.size() + 16 * edits.size());
    std::size_t copied = 0;
    for (const Edit& edit : edits) {
      rewritten.insert(rewritten.end(), payload.begin() + static_cast<std::ptrdiff_t>(copied),
                       payload.begin() + static_cast<std::ptrdiff_t>(edit.begin));
      rewritten.insert(rewritten.end(), edit.text.begin(), edit.text.end());
      copied = edit.end;
    }
    rewritten.insert(rewritten.end(), payload.begin() + static_cast<std::ptrdiff_t>(copied), payload.end());
    payload.swap(rewritten);
  }

  AlgFaults faults() const override {
    return AlgFaults{behavior_.ftp_mutant == FtpAlgMutant::wrong_sequence_delta,
                     behavior_.ftp_mutant == FtpAlgMutant::stale_checksum};
  }

 private:
  // The mangle-passive-replies mutant: an outside server's passive reply pointed at the NAT instead.
  static std::optional<Edit> mangled(const AlgFlow& flow, std::string_view line) {
    const auto found = ftp::parse_line(line, false);
    if (!found) return std::nullopt;
    const std::uint16_t port =
        found->message == ftp::Message::extended_passive_reply ? flow.external.port : found->port;
    return Edit{found->begin, found->end,
                ftp::format_endpoint(found->message, flow.external.address, port, found->delimiter)};
  }

  std::optional<Edit> rewrite(FtpFlow& state, const AlgFlow& flow, std::string_view line, AlgContext& context) {
    if (behavior_.ftp_mutant == FtpAlgMutant::first_segment_only && state.rewrote) return std::nullopt;
    const auto found = ftp::parse_line(line, state.role == Role::inside_client);
    if (!found) return std::nullopt;
    // Only the host's own address is translated; a third-party address (FXP) is not ours to change.
    if (found->message != ftp::Message::extended_passive_reply && found->address != flow.internal.address) {
      return std::nullopt;
    }
    const Endpoint data_inside{flow.internal.address, found->port};
    std::optional<Endpoint> external;
    if (behavior_.ftp_mutant == FtpAlgMutant::no_expectation) {
      external = Endpoint{flow.external.address, found->port};
    } else {
      // Active mode: the server connects from its data port (20 by RFC 959, but any is accepted);
      // an inside server's passive client connects from any port.
      external = context.expect(
          AlgExpectation{Protocol::tcp, data_inside, Endpoint{flow.remote.address, 0}, behavior_.expectation_timeout});
    }
    if (!external) return std::nullopt;
    state.rewrote = true;
    return Edit{found->begin, found->end,
                ftp::format_endpoint(found->message, external->address, external->port, found->delimiter)};
  }

  AlgBehavior behavior_;
};

}  // namespace

std::unique_ptr<AlgHook> make_ftp_alg(const AlgBehavior& behavior) { return std::make_unique<FtpAlg>(behavior); }

}  // namespace natcert::ref
