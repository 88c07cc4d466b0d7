// Procedures shared by the RFC 5508 tests: opening a UDP, TCP or ICMP query flow through the DUT,
// delivering an inbound packet on it, and reading what an ICMP error quotes (addresses, ports or
// identifier, and whether the quoted checksums verify).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "natcert/harness/context.hpp"
#include "natcert/harness/testcase.hpp"

namespace natcert::suites::rfc5508 {

using harness::Duration;
using harness::Endpoint;
using harness::Ipv4Address;
using harness::Level;
using harness::Mutant;
using harness::Observed;
using harness::Packet;
using harness::Registry;
using harness::TestCase;
using harness::TestContext;
using harness::Verdict;
using ref::Side;
namespace match = harness::match;
namespace icmp_type = ref::icmp_type;

inline constexpr const char* kSuite = "rfc5508";

// The three kinds of flow an ICMP error can be about (RFC 5508 §4.2 applies to all of them).
enum class FlowKind : std::uint8_t { udp, tcp, icmp_query };
std::string to_string(FlowKind kind);

// A flow the DUT carries. For ICMP query flows the endpoints' ports are the query identifiers and
// `remote.port` is the inside identifier too (the remote has no identifier of its own).
struct Flow {
  FlowKind kind = FlowKind::udp;
  Endpoint internal{};  // X:x
  Endpoint remote{};    // Y:y
  Endpoint external{};  // X':x', as the outside saw it
  Observed outbound;    // the first outbound packet as captured outside (what an outside error quotes)
  std::uint32_t inside_next_seq = 0;   // TCP only
  std::uint32_t outside_next_seq = 0;  // TCP only
};

// Opens a flow from inside host `inside_host` to outside host 0: a UDP datagram through the reflector,
// a TCP handshake, or an echo request and its reply (after another inside host's echo request with the
// same identifier, so that the flow's identifier is translated). INCONCLUSIVE when the DUT does not carry it.
// `ip` sets the outbound packets' header fields (UDP only: e.g. IP options).
Flow open_flow(TestContext& ctx, FlowKind kind, const harness::IpFields& ip = {}, std::size_t inside_host = 0);

// An echo request from `internal` (its port is the identifier) to `remote`; returns the request as
// captured outside, or nullopt when the DUT does not forward it.
std::optional<Observed> send_echo(TestContext& ctx, Endpoint internal, Ipv4Address remote, std::uint16_t sequence,
                                  std::string_view payload);
// `remote` answers a captured echo request; returns the reply as captured at `internal`, if it came.
std::optional<Observed> answer_echo(TestContext& ctx, const Observed& request, Endpoint internal,
                                    harness::Duration window = harness::reply_window);

// Y sends one more packet on the flow (UDP datagram, TCP data segment, second echo reply is not
// possible, so ICMP flows answer a fresh echo request); returns it as captured at X. INCONCLUSIVE when
// it does not arrive: the outbound-error tests quote it.
Observed deliver_inbound(TestContext& ctx, Flow& flow);

// What an ICMP error quotes, read from a captured packet.
struct Quote {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  Ipv4Address outer_source = 0;
  Ipv4Address outer_destination = 0;
  Endpoint source{};       // quoted source address and port (or identifier)
  Endpoint destination{};  // quoted destination address and port (or identifier)
  bool ip_checksum_ok = false;         // the quoted IPv4 header checksum verifies
  std::optional<bool> transport_checksum_ok;  // nullopt when too little is quoted to verify it
  std::uint16_t rest_of_header = 0;    // low 16 bits of the word after the ICMP checksum (next-hop MTU)
  std::string describe() const;
};
Quote read_quote(const Observed& error);

// An ICMP error (type, code) about `offending`, quoting all of it (RFC 1812 §4.3.2.3 style).
Packet error_quoting(Ipv4Address from, Ipv4Address to, std::uint8_t type, std::uint8_t code, harness::Bytes offending,
                     std::uint16_t next_hop_mtu = 0);

// "host A, identifier N" style text for a flow's internal, remote or external endpoint.
std::string flow_text(const Flow& flow);

// Registration, one function per RFC section.
void register_queries(Registry& registry);      // §3 (REQ-1, REQ-2)
void register_validation(Registry& registry);   // §4.1 (REQ-3)
void register_translation(Registry& registry);  // §4.2 (REQ-4, REQ-5)
void register_sessions(Registry& registry);     // §4.3 (REQ-6)
void register_hairpinning(Registry& registry);  // §5 (REQ-7)
void register_rejection(Registry& registry);    // §6 (REQ-8)
void register_rfc1812(Registry& registry);      // §7 (REQ-10)

}  // namespace natcert::suites::rfc5508
