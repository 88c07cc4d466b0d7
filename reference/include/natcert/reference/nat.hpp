// The reference NAT: a pure translation core. Packets and time go in; packets (and drop reasons)
// come out. It never reads a clock, never does I/O and never allocates on the established-flow path
// once its tables and the caller's Output have warmed up. The in-process DUT, the userspace daemon and
// the fuzzers are thin shells around it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "natcert/reference/config.hpp"

namespace natcert::ref {

enum class Side : std::uint8_t { inside, outside };
std::string_view to_string(Side side);

enum class Protocol : std::uint8_t { udp, tcp, icmp };
std::string_view to_string(Protocol protocol);

enum class EmitKind : std::uint8_t {
  translated,      // a packet crossing the NAT, rewritten
  hairpinned,      // an inside packet sent back inside through the external mapping
  generated_icmp,  // an ICMP message the NAT itself originated
  fragment,        // one fragment of a datagram the NAT fragmented for the outside MTU
};
std::string_view to_string(EmitKind kind);

enum class DropReason : std::uint8_t {
  none,
  malformed,               // parse failure; see Output::parse_error
  ttl_expired,             // TTL would reach 0 (ICMP time exceeded may have been sent)
  no_mapping,              // inbound packet for an external endpoint nobody holds
  filtered,                // inbound packet refused by the filtering behaviour
  unsolicited_syn_held,    // RFC 5382 REQ-4: the SYN is held; ICMP may follow after the hold time
  unsolicited_syn_dropped, // inbound SYN refused silently (REQ-4a policy or superseded by outbound SYN)
  tcp_no_session,          // non-SYN TCP segment with no session
  tcp_state,               // segment refused by the TCP state machine
  icmp_no_mapping,         // ICMP error quoting a flow with no mapping (RFC 5508 REQ-4, REQ-5)
  icmp_bad_checksum,       // RFC 5508 REQ-3
  icmp_bad_embedded,       // RFC 5508 REQ-3a (bad quoted header) or unusable quote
  icmp_filtered,           // ICMP refused by policy (source filtering, source quench, info request…)
  icmp_unsupported,        // ICMP type the NAT does not translate
  unsupported_protocol,    // neither UDP, TCP nor ICMP
  resources_exhausted,     // no port or session available (RFC 5508 REQ-8)
  hairpin_disabled,
  fragment_buffered,       // fragment held until its header fragment arrives (not a loss)
  fragment_dropped,        // fragment policy or buffer limits
  too_big,                 // DF=1 and larger than the outside MTU (RFC 4787 REQ-13)
  to_inside_prefix,        // violating REQ-7 knob: outbound to an address overlapping the inside
  not_for_nat,             // addressed to the NAT itself and not a translation
};
std::string_view to_string(DropReason reason);

struct Endpoint {
  Ipv4Address address = 0;
  std::uint16_t port = 0;  // for ICMP queries, the identifier
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct Emitted {
  Side to = Side::outside;
  EmitKind kind = EmitKind::translated;
  std::vector<std::uint8_t> bytes;
};

// What one call produced. Reused across calls so its buffers keep their capacity.
class Output {
 public:
  void clear() {
    count_ = 0;
    drop_ = DropReason::none;
    parse_error_ = ParseError::none;
  }
  std::span<const Emitted> packets() const { return {packets_.data(), count_}; }
  DropReason drop_reason() const { return drop_; }
  ParseError parse_error() const { return parse_error_; }

  // For the engine: a buffer for the next emitted packet (its previous contents are discarded).
  std::vector<std::uint8_t>& emit(Side to, EmitKind kind);
  // Removes the most recently emitted packet (the engine re-routes it, e.g. to fragment or hairpin it).
  void discard_last() {
    if (count_ > 0) --count_;
  }
  std::vector<std::uint8_t>& last_bytes() { return packets_[count_ - 1].bytes; }
  void drop(DropReason reason, ParseError error = ParseError::none) {
    drop_ = reason;
    parse_error_ = error;
  }

 private:
  std::vector<Emitted> packets_;
  std::size_t count_ = 0;
  DropReason drop_ = DropReason::none;
  ParseError parse_error_ = ParseError::none;
};

// Read-only snapshots of state, for tests, reports and fuzz invariants.
struct MappingInfo {
  Protocol protocol;
  Endpoint internal;
  Endpoint external;
  Endpoint remote;  // meaningful for address(-and-port)-dependent mappings only
  std::size_t sessions;
  TimePoint expires_at;
};
struct SessionInfo {
  Protocol protocol;
  Endpoint internal;
  Endpoint external;
  Endpoint remote;
  std::string_view tcp_state;  // empty for UDP/ICMP
  TimePoint expires_at;
};
struct NatStats {
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
  std::uint64_t dropped = 0;
  std::uint64_t mappings_created = 0;
  std::uint64_t mappings_expired = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t icmp_generated = 0;
  std::size_t mappings = 0;
  std::size_t sessions = 0;
  std::size_t pending_fragments = 0;
  std::size_t held_syns = 0;
};

// ---- Application-level gateways (RFC 3027) -----------------------------------------------------
// An ALG claims flows when their session is created and then sees the payload of every translated
// packet of those flows, both directions. It may rewrite the payload (any length); the engine fixes
// the IP and UDP lengths, the checksums and, for TCP, the sequence and acknowledgement numbers of the
// rest of the connection (RFC 3027 §2.1, like Linux's nf_nat_seq_adjust). Unclaimed flows never reach
// an ALG. docs/reference-model.md and /work/notes/alg-api.md describe the contract.

// A claimed flow as the engine sees it.
struct AlgFlow {
  Protocol protocol = Protocol::tcp;
  Endpoint internal;  // the inside host's endpoint
  Endpoint external;  // its mapping (what outside hosts see)
  Endpoint remote;    // the outside peer
};

// A connection the NAT must let in (or a mapping it must create) because a payload announced it: e.g.
// the FTP data connection of a PORT command, SIP media, a TFTP reply from a new port. The engine
// creates or reuses the mapping of `internal` (towards `remote` under an address(-and-port)-dependent
// mapping) and lets one flow from `remote` reach it during `lifetime`, whatever the filtering.
struct AlgExpectation {
  Protocol protocol = Protocol::tcp;
  Endpoint internal;  // where the connection goes inside
  Endpoint remote;    // who may open it; address 0 = anyone, port 0 = any port
  Duration lifetime = std::chrono::seconds(60);
};

// What the engine offers an ALG while the ALG handles one packet.
class AlgContext {
 public:
  virtual ~AlgContext() = default;
  virtual TimePoint now() const = 0;
  // Registers an expectation; returns the external endpoint outside hosts must use (to write into the
  // payload), or nullopt when no mapping could be created (the ALG then leaves the payload alone).
  virtual std::optional<Endpoint> expect(const AlgExpectation& expectation) = 0;
};

// Per-flow state an ALG keeps (partial lines, what it already rewrote, ...). Owned by the engine and
// destroyed with the session.
class AlgFlowState {
 public:
  virtual ~AlgFlowState() = default;
};

// Engine-side faults an ALG instance asks for (violating mutants, alg.ftp-mutant etc.).
struct AlgFaults {
  bool wrong_sequence_delta = false;  // the length change is applied with the wrong sign
  bool stale_checksum = false;        // the transport checksum is not updated after a rewrite
};

class AlgHook {
 public:
  virtual ~AlgHook() = default;
  virtual std::string_view name() const = 0;
  // Called once when a UDP or TCP session is created (outbound- or inbound-initiated). Returning state
  // claims the flow for this ALG (the first ALG that claims wins); nullptr leaves it alone.
  virtual std::unique_ptr<AlgFlowState> claim(const AlgFlow& flow) = 0;
  // Called for every translated packet of a claimed flow that carries payload, after the addresses
  // and ports were translated. `from` is the side the packet arrived on (inside = outbound). The ALG
  // may edit `payload` in place or change its length; it must leave anything it does not understand
  // unchanged.
  virtual void on_payload(AlgFlowState& state, const AlgFlow& flow, Side from, std::vector<std::uint8_t>& payload,
                          AlgContext& context) = 0;
  virtual AlgFaults faults() const { return {}; }
};

class ReferenceNat {
 public:
  // The configuration must pass validate(); the constructor throws std::invalid_argument otherwise.
  explicit ReferenceNat(NatConfig config);
  ~ReferenceNat();
  ReferenceNat(const ReferenceNat&) = delete;
  ReferenceNat& operator=(const ReferenceNat&) = delete;

  // Translates one packet that arrived on `side` at time `now` (which must not go backwards).
  // Emitted packets and, for a drop, the reason, go to `out` (cleared first).
  void process(Bytes packet, Side side, TimePoint now, Output& out);
  // Runs every timer due by `now`: expiry, held SYNs that turn into ICMP port unreachable, fragment
  // reassembly timeouts. Anything emitted goes to `out` (cleared first).
  void advance(TimePoint now, Output& out);
  // Forgets all state (a DUT reset); the configuration and the random seed position are kept.
  void reset();
  // Returns to the state right after construction without giving back memory: no state, the clock
  // at zero (time may start again from the beginning), the random generator reseeded. What follows
  // behaves exactly as a freshly constructed NAT would, which the fuzz targets rely on: they restart
  // one NAT per input instead of constructing one, and a finding still replays in a fresh process.
  void restart();

  // Installs an extra ALG (the configured ones, alg.ftp etc., are installed by the constructor).
  // Flows created from now on may be claimed by it.
  void add_alg(std::unique_ptr<AlgHook> alg);

  const NatConfig& config() const;
  NatStats stats() const;
  std::vector<MappingInfo> mappings() const;
  std::vector<SessionInfo> sessions() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace natcert::ref
