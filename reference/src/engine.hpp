// Internal state of the reference NAT. Split across nat.cpp (dispatch, mappings, sessions, UDP/TCP),
// nat_icmp.cpp (ICMP queries, errors and NAT-generated ICMP) and nat_fragments.cpp.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "flat_index.hpp"
#include "natcert/reference/nat.hpp"
#include "port_allocator.hpp"
#include "timer_wheel.hpp"

namespace natcert::ref {

namespace detail {

inline constexpr std::uint32_t kNone = 0xffffffffu;

// RFC 7857 Fig. 1, adapted from RFC 6146: INIT (a SYN seen one way), ESTABLISHED, FIN one way or both,
// and the transitory state after a RST.
enum class TcpState : std::uint8_t { none, syn_out, syn_in, established, fin_out, fin_in, fin_both, reset };
std::string_view to_string(TcpState state);

struct MappingRecord {
  Endpoint internal;
  Endpoint external;
  Endpoint remote;  // key part for address(-and-port)-dependent mappings
  Protocol protocol = Protocol::udp;
  MappingBehavior keyed_by = MappingBehavior::endpoint_independent;
  bool in_use = false;
  std::uint32_t first_session = kNone;
  std::uint32_t session_count = 0;
};

struct SessionRecord {
  TimePoint expires_at{};
  std::uint32_t mapping = kNone;
  std::uint32_t prev = kNone;  // sibling sessions of the same mapping
  std::uint32_t next = kNone;
  std::uint32_t generation = 0;
  Endpoint remote;
  Protocol protocol = Protocol::udp;
  TcpState tcp = TcpState::none;
  bool in_use = false;
  // An ALG expectation (AlgContext::expect): no packet has used it yet; `remote` may hold wildcards.
  bool expected = false;
  std::uint32_t alg_flow = kNone;  // index into alg_flows_ when an ALG claimed the flow
};

// TCP sequence-number correction after an ALG changed a payload's length (RFC 3027 §2.1): segments
// starting after `correction_pos` (in the sender's numbering) move by `offset_after`, earlier ones
// (retransmissions) by `offset_before`. The same scheme as Linux's nf_ct_seqadj.
struct SequenceAdjust {
  std::uint32_t correction_pos = 0;
  std::int32_t offset_before = 0;
  std::int32_t offset_after = 0;
};

struct AlgFlowRecord {
  AlgHook* hook = nullptr;
  std::unique_ptr<AlgFlowState> state;
  SequenceAdjust adjust[2];  // [0]: outbound (from inside), [1]: inbound
};

// What the NAT learned about one fragmented datagram (keyed by source, destination, protocol, ID).
struct FragmentFlow {
  TimePoint deadline{};
  bool translated = false;       // the header fragment has been translated: later ones follow it
  Ipv4Address new_source = 0;    // the addresses the header fragment left with
  Ipv4Address new_destination = 0;
  Side to = Side::outside;
  EmitKind kind = EmitKind::translated;
  std::optional<std::uint16_t> new_id;  // outbound, fragments.outbound-ids=unique (RFC 3027 §2.4)
  std::vector<std::vector<std::uint8_t>> buffered;  // fragments waiting for the header fragment
};

struct FragmentKey {
  Ipv4Address source;
  Ipv4Address destination;
  std::uint16_t identification;
  std::uint8_t protocol;
  Side side;
  auto operator<=>(const FragmentKey&) const = default;
};

struct HeldSyn {
  TimePoint deadline{};
  Endpoint external;
  Endpoint remote;
  bool cancelled = false;
  std::vector<std::uint8_t> packet;
};

}  // namespace detail

class ReferenceNat::Impl {
 public:
  explicit Impl(NatConfig config);

  void process(Bytes packet, Side side, TimePoint now, Output& out);
  void advance(TimePoint now, Output& out);
  void reset();
  void restart();

  NatConfig config_;
  NatStats stats_;
  std::vector<std::unique_ptr<AlgHook>> algs_;
  std::vector<MappingInfo> mapping_snapshot() const;
  std::vector<SessionInfo> session_snapshot() const;
  std::size_t pending_fragment_count() const { return fragments_.size(); }
  std::size_t held_syn_count() const { return held_syns_.size(); }

 private:
  // ---- dispatch (nat.cpp)
  void process_parsed(const PacketView& view, Side side, Output& out, bool hairpin_pass);
  bool is_external_address(Ipv4Address address) const;

  // ---- mappings and sessions (nat.cpp)
  Protocol protocol_class(Protocol protocol) const;  // RFC 7857 §5 knob folds TCP into UDP
  const ProtocolBehavior& behavior(Protocol protocol) const;
  std::uint32_t forward_hash(Protocol cls, Endpoint internal, MappingBehavior keyed_by, Endpoint remote) const;
  std::uint32_t find_mapping(Protocol protocol, Endpoint internal, Endpoint remote) const;
  std::uint32_t find_mapping_keyed(Protocol cls, Endpoint internal, Endpoint remote, MappingBehavior keyed_by) const;
  std::uint32_t find_mapping_by_external(Protocol cls, Endpoint external) const;
  std::uint32_t find_session(Protocol protocol, Endpoint external, Endpoint remote) const;
  // The established-flow fast path: one lookup from an outbound packet's 5-tuple to its session.
  std::uint32_t find_flow(Protocol protocol, Endpoint internal, Endpoint remote) const;
  // Finds or creates the mapping for an outbound flow. Returns kNone on exhaustion.
  std::uint32_t obtain_mapping(Protocol protocol, Endpoint internal, Endpoint remote);
  std::uint32_t create_session(Protocol protocol, std::uint32_t mapping, Endpoint remote);
  void remove_session(std::uint32_t session);
  void remove_mapping(std::uint32_t mapping);
  bool session_alive(std::uint32_t session) const;
  bool filter_allows(std::uint32_t mapping, Protocol protocol, Endpoint remote) const;
  Duration session_timeout(const detail::SessionRecord& session) const;
  void refresh(std::uint32_t session);
  // An inbound packet the filter rejected: refreshes the mapping only under the RFC 7857 §7 violation.
  void refresh_filtered(std::uint32_t mapping_id);
  Ipv4Address choose_external_address(Ipv4Address internal_host);
  detail::PortAllocator& allocator(Ipv4Address external, Protocol cls);

  // ---- UDP and TCP (nat.cpp)
  void outbound_transport(const PacketView& view, Output& out);
  void inbound_transport(const PacketView& view, Output& out, bool hairpin_pass);
  bool tcp_outbound_allowed(std::uint32_t session, const TcpView& tcp, bool new_session);
  bool tcp_inbound_allowed(std::uint32_t session, const TcpView& tcp);
  void handle_unsolicited_syn(const PacketView& view, Output& out);
  // Cancels held SYNs matching an outbound SYN; returns those to deliver (only the violating knob).
  std::vector<std::vector<std::uint8_t>> cancel_held_syn(Endpoint external, Endpoint remote);
  void apply_algs(std::vector<std::uint8_t>& packet, Protocol protocol, Endpoint internal, Endpoint external,
                  Endpoint remote);

  // ---- ALG plumbing (nat_alg.cpp)
  class AlgContextImpl;
  // Offers a new UDP/TCP session to the ALGs; the first that claims it gets per-flow state.
  void claim_for_algs(std::uint32_t session);
  void release_alg_flow(std::uint32_t session);
  // Runs the claimed flow's ALG on a translated packet (`from`: the side it arrived on) and applies
  // the TCP sequence/acknowledgement corrections, lengths and checksums.
  void run_alg(std::vector<std::uint8_t>& packet, std::uint32_t session, Side from);
  std::optional<Endpoint> alg_expect(const AlgExpectation& expectation);
  // An inbound packet from `remote` to a mapping with no matching session: a pending expectation of
  // that mapping that admits `remote` turns into a real session (returned), else kNone.
  std::uint32_t take_expectation(std::uint32_t mapping, Protocol protocol, Endpoint remote);
  // First use of an expectation session whose remote matched exactly.
  void activate_expectation(std::uint32_t session);

  // ---- ICMP (nat_icmp.cpp)
  void outbound_icmp_query(const PacketView& view, Output& out);
  void inbound_icmp_query(const PacketView& view, Output& out);
  void inbound_icmp_error(const PacketView& view, Output& out, bool hairpin_pass);
  void outbound_icmp_error(const PacketView& view, Output& out);
  void inbound_icmp_other(const PacketView& view, Output& out);
  bool may_generate_icmp_about(const PacketView& trigger);
  // Builds an ICMP error about `trigger` from `source` to the trigger's source, emitted to `to`.
  void generate_icmp_error(const PacketView& trigger, std::uint8_t type, std::uint8_t code,
                           std::uint32_t rest_of_header, Ipv4Address source, Side to, Output& out);

  // ---- fragments and MTU (nat_fragments.cpp)
  // Returns true when the fragment was fully handled (buffered, dropped or forwarded).
  bool handle_fragment(const PacketView& view, Side side, Output& out);
  bool make_fragment_room();  // false when the table is full and eviction is off
  // After the header fragment of a datagram was translated: later fragments follow it, buffered ones go now.
  void remember_fragment_translation(const PacketView& original, Ipv4Address new_source,
                                     Ipv4Address new_destination, Side to, EmitKind kind, Output& out);
  void forward_fragment(std::vector<std::uint8_t> fragment, const detail::FragmentFlow& flow, Output& out);
  // Gives an outbound header fragment's datagram its own IP ID (RFC 3027 §2.4), before it leaves.
  void assign_outbound_fragment_id(const PacketView& original, std::vector<std::uint8_t>& packet);
  // Emits a translated packet towards the outside, fragmenting or refusing it per the outside MTU.
  void emit_outside(std::vector<std::uint8_t>& packet, EmitKind kind, const PacketView& original, Output& out);
  // Re-routes the packet last emitted outside through emit_outside() when it exceeds the outside MTU.
  void enforce_outside_mtu(const PacketView& original, Output& out);
  void expire_fragments(TimePoint now);

  // ---- timers (nat.cpp)
  void reclaim_expired();
  void run_timers(TimePoint now, Output& out);
  bool decrement_ttl(std::vector<std::uint8_t>& packet);
  std::vector<std::uint8_t>& begin_emit(Output& out, Side to, EmitKind kind, Bytes source);

  TimePoint now_{};
  std::mt19937_64 rng_;
  std::vector<detail::MappingRecord> mappings_;
  std::vector<detail::SessionRecord> sessions_;
  std::vector<std::uint32_t> free_mappings_;
  std::vector<std::uint32_t> free_sessions_;
  detail::FlatIndex forward_index_;  // (class, internal, [remote]) -> mapping
  detail::FlatIndex reverse_index_;  // (class, external) -> mapping
  detail::FlatIndex session_index_;  // (protocol, external, remote) -> session (inbound lookups)
  detail::FlatIndex flow_index_;     // (protocol, internal, remote) -> session (outbound fast path)
  detail::TimerWheel wheel_;
  std::map<std::pair<Ipv4Address, int>, std::unique_ptr<detail::PortAllocator>> allocators_;
  std::unordered_map<Ipv4Address, std::pair<Ipv4Address, std::uint32_t>> paired_pool_;  // host -> (ext, refs)
  std::unordered_map<Ipv4Address, std::uint32_t> mappings_per_host_;
  std::size_t next_pool_index_ = 0;
  std::size_t live_sessions_ = 0;
  std::deque<detail::HeldSyn> held_syns_;
  std::vector<detail::AlgFlowRecord> alg_flows_;
  std::vector<std::uint32_t> free_alg_flows_;
  std::vector<std::uint8_t> alg_payload_;  // scratch buffer handed to ALGs (keeps its capacity)
  std::map<detail::FragmentKey, detail::FragmentFlow> fragments_;
  std::uint16_t next_fragment_id_ = 0;
  double icmp_tokens_ = 0;
  TimePoint icmp_tokens_at_{};
};

}  // namespace natcert::ref
