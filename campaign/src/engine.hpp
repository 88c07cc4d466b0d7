// Internal pieces of the campaign engine: randomness, packet surgery, mutation operators, seed
// templates and oracles. Not installed; the public surface is campaign.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "natcert/campaign/campaign.hpp"
#include "natcert/harness/testbed.hpp"

namespace natcert::campaign::detail {

using harness::Bytes;
using harness::Captured;
using harness::Endpoint;
using harness::Ipv4Address;
using harness::Packet;
using harness::Side;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : engine_() % n; }
  bool one_in(std::uint64_t n) { return below(n) == 0; }
  std::uint64_t next() { return engine_(); }
  template <typename T>
  const T& pick(const std::vector<T>& items) { return items[below(items.size())]; }

 private:
  std::mt19937_64 engine_;
};

// ---- packet surgery (tolerates any bytes) --------------------------------------------------------
std::size_t header_length(const Packet& packet);  // IHL * 4, at least 20, at most the packet
std::uint8_t protocol_of(const Packet& packet);
void fix_ip_checksum(Packet& packet);
// Recomputes the transport checksum over what is present (when the packet is not a fragment).
void fix_transport_checksum(Packet& packet);
inline void fix_checksums(Packet& packet) {
  fix_transport_checksum(packet);
  fix_ip_checksum(packet);
}
void set_total_length(Packet& packet);  // to the packet's size
Ipv4Address source_of(const Packet& packet);
Ipv4Address destination_of(const Packet& packet);

// ---- addressing -----------------------------------------------------------------------------------
// Where the campaign may send and what counts as "inside".
struct Scope {
  harness::Addressing addressing;
  std::vector<std::pair<Ipv4Address, Ipv4Address>> inside_prefixes;  // (network, mask)
  bool is_inside(Ipv4Address address) const;
  // Every address the testbed defines plus the documentation ranges: the only ones a packet may carry.
  bool allowed(Ipv4Address address) const;
  static Scope from(const harness::Addressing& addressing);
};

// ---- mutation operators ---------------------------------------------------------------------------
struct MutationInput {
  const Scope* scope = nullptr;
};
// Mutates one packet of `packets` (a step's packets; may add or remove packets). False: not applicable.
using MutateFn = bool (*)(std::vector<Packet>& packets, Rng& rng, const MutationInput& input);
struct Operator {
  const char* name;
  MutateFn apply;
};
const std::vector<Operator>& operators();

// ---- seed templates -------------------------------------------------------------------------------
// What a case has learnt so far about the flow it is driving.
struct CaseState {
  const Scope* scope = nullptr;
  Endpoint inside;   // the case's inside endpoint (a fresh port)
  Endpoint outside;  // its outside peer
  std::optional<Endpoint> mapped;           // the external endpoint the DUT gave `inside`
  std::optional<Packet> outbound_capture;   // the last translated packet seen outside
  std::optional<Packet> inbound_capture;    // the last packet delivered inside
  std::uint16_t spare_port = 0;             // a port never used (for unsolicited probes)
};
struct StepTemplate {
  Side side;
  std::function<std::vector<Packet>(CaseState&)> build;  // empty result: the step is skipped
};
struct SeedTemplate {
  const char* name;
  std::vector<StepTemplate> steps;
};
const std::vector<SeedTemplate>& templates();
// Updates what the case knows after a step (mapping learnt from the translated packet).
void learn(CaseState& state, const std::vector<Captured>& captured);

// ---- a recorded run -------------------------------------------------------------------------------
struct StepRecord {
  Side side = Side::inside;
  std::vector<Packet> sent;
  std::vector<Captured> captured;
  std::vector<std::string> notes;  // diagnostics (the in-process DUT's drop reasons)
};
using Trace = std::vector<StepRecord>;

// ---- oracles --------------------------------------------------------------------------------------
// Endpoints that sent something outbound (the unsolicited oracle's allow list).
class OutboundLedger {
 public:
  void record(const Packet& packet);
  bool endpoint_known(std::uint8_t protocol, Ipv4Address address, std::uint16_t port) const;
  bool host_known(Ipv4Address address) const;
  void clear() {
    endpoints_.clear();
    hosts_.clear();
    any_port_.clear();
  }

 private:
  std::set<std::tuple<std::uint8_t, Ipv4Address, std::uint16_t>> endpoints_;
  std::set<Ipv4Address> hosts_;
  // (protocol, host) that sent a packet shorter than its IPv4 total length: on Ethernet the frame is
  // padded, so the DUT may read ports natcert never wrote; any port of that host counts as used.
  std::set<std::pair<std::uint8_t, Ipv4Address>> any_port_;
};

struct Violation {
  Oracle oracle;
  std::string detail;
};
// The invariant oracles over one trace (difference and liveness are checked by the campaign).
// `ledger` must already hold the trace's outbound packets.
std::vector<Violation> check_invariants(const Trace& trace, const Scope& scope, const OutboundLedger& ledger);
// Per step: did anything come out on the far side? Differences as one line each.
std::optional<Violation> compare_with_reference(const Trace& dut, const Trace& reference);

std::string summarize_step(const StepRecord& step);

}  // namespace natcert::campaign::detail
