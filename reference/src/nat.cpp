// Dispatch, mapping and session tables, and UDP/TCP translation of the reference NAT.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "algs.hpp"
#include "engine.hpp"

namespace natcert::ref {

using detail::kNone;
using detail::MappingRecord;
using detail::SessionRecord;
using detail::TcpState;

// ---------------------------------------------------------------------------------------------------
// Names

std::string_view to_string(Side side) { return side == Side::inside ? "inside" : "outside"; }

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::udp: return "udp";
    case Protocol::tcp: return "tcp";
    case Protocol::icmp: return "icmp";
  }
  return "?";
}

std::string_view to_string(EmitKind kind) {
  switch (kind) {
    case EmitKind::translated: return "translated";
    case EmitKind::hairpinned: return "hairpinned";
    case EmitKind::generated_icmp: return "generated-icmp";
    case EmitKind::fragment: return "fragment";
  }
  return "?";
}

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::none: return "none";
    case DropReason::malformed: return "malformed";
    case DropReason::ttl_expired: return "ttl-expired";
    case DropReason::no_mapping: return "no-mapping";
    case DropReason::filtered: return "filtered";
    case DropReason::unsolicited_syn_held: return "unsolicited-syn-held";
    case DropReason::unsolicited_syn_dropped: return "unsolicited-syn-dropped";
    case DropReason::tcp_no_session: return "tcp-no-session";
    case DropReason::tcp_state: return "tcp-state";
    case DropReason::icmp_no_mapping: return "icmp-no-mapping";
    case DropReason::icmp_bad_checksum: return "icmp-bad-checksum";
    case DropReason::icmp_bad_embedded: return "icmp-bad-embedded";
    case DropReason::icmp_filtered: return "icmp-filtered";
    case DropReason::icmp_unsupported: return "icmp-unsupported";
    case DropReason::unsupported_protocol: return "unsupported-protocol";
    case DropReason::resources_exhausted: return "resources-exhausted";
    case DropReason::hairpin_disabled: return "hairpin-disabled";
    case DropReason::fragment_buffered: return "fragment-buffered";
    case DropReason::fragment_dropped: return "fragment-dropped";
    case DropReason::too_big: return "too-big";
    case DropReason::to_inside_prefix: return "to-inside-prefix";
    case DropReason::not_for_nat: return "not-for-nat";
  }
  return "?";
}

namespace detail {
std::string_view to_string(TcpState state) {
  switch (state) {
    case TcpState::none: return "";
    case TcpState::syn_out: return "INIT (outbound SYN)";
    case TcpState::syn_in: return "INIT (inbound SYN)";
    case TcpState::established: return "ESTABLISHED";
    case TcpState::fin_out: return "FIN (outbound)";
    case TcpState::fin_in: return "FIN (inbound)";
    case TcpState::fin_both: return "TRANS (FIN both ways)";
    case TcpState::reset: return "TRANS (RST)";
  }
  return "?";
}
}  // namespace detail

std::vector<std::uint8_t>& Output::emit(Side to, EmitKind kind) {
  if (count_ == packets_.size()) packets_.emplace_back();
  Emitted& slot = packets_[count_++];
  slot.to = to;
  slot.kind = kind;
  slot.bytes.clear();
  return slot.bytes;
}

// ---------------------------------------------------------------------------------------------------
// Packet surgery helpers shared with the ICMP and fragment code.

namespace detail {

// Field offsets (RFC 791, 768, 793, 792).
inline constexpr std::size_t kIpTtl = 8;
inline constexpr std::size_t kIpChecksum = 10;
inline constexpr std::size_t kIpSource = 12;
inline constexpr std::size_t kIpDestination = 16;

std::size_t transport_checksum_offset(std::uint8_t protocol) {
  switch (protocol) {
    case ip_protocol::udp: return 6;
    case ip_protocol::tcp: return 16;
    case ip_protocol::icmp: return 2;
    default: return 0;
  }
}

// Rewrites the IPv4 address at `ip + field` and patches the IP header checksum and, when the transport
// header is present at `transport` (first fragment or whole datagram), its pseudo-header checksum.
void rewrite_address(std::uint8_t* ip, std::size_t field, Ipv4Address value, std::uint8_t* transport,
                     std::uint8_t protocol) {
  const Ipv4Address old = load32(ip + field);
  if (old == value) return;
  store32(ip + field, value);
  patch_checksum32(ip + kIpChecksum, old, value);
  if (transport == nullptr) return;
  if (protocol == ip_protocol::udp) patch_checksum32(transport + 6, old, value, ChecksumKind::udp);
  if (protocol == ip_protocol::tcp) patch_checksum32(transport + 16, old, value);
}

// Rewrites a 16-bit port (or ICMP identifier) at `field` and patches the checksum at `checksum`.
void rewrite_port(std::uint8_t* field, std::uint16_t value, std::uint8_t* checksum, ChecksumKind kind) {
  const std::uint16_t old = load16(field);
  if (old == value) return;
  store16(field, value);
  if (checksum != nullptr) patch_checksum16(checksum, old, value, kind);
}

}  // namespace detail

using namespace detail;

// ---------------------------------------------------------------------------------------------------
// Construction and public API

ReferenceNat::Impl::Impl(NatConfig config) : config_(std::move(config)), rng_(config_.seed) {
  icmp_tokens_ = config_.icmp_behavior.generated_per_second;  // RFC 1812 §4.3.2.8 bucket starts full
  mappings_.reserve(1024);
  sessions_.reserve(1024);
  algs_ = configured_algs(config_);
}

void ReferenceNat::Impl::reset() {
  mappings_.clear();
  sessions_.clear();
  free_mappings_.clear();
  free_sessions_.clear();
  forward_index_.clear();
  reverse_index_.clear();
  session_index_.clear();
  flow_index_.clear();
  wheel_.clear();
  for (auto& [key, allocator] : allocators_) allocator->clear();
  paired_pool_.clear();
  mappings_per_host_.clear();
  next_pool_index_ = 0;
  live_sessions_ = 0;
  held_syns_.clear();
  fragments_.clear();
  alg_flows_.clear();
  free_alg_flows_.clear();
  icmp_tokens_ = config_.icmp_behavior.generated_per_second;
  icmp_tokens_at_ = now_;
}

void ReferenceNat::Impl::restart() {
  reset();
  now_ = TimePoint{};
  rng_.seed(config_.seed);
  wheel_.rewind();
  for (auto& [key, allocator] : allocators_) allocator->rewind();
  next_fragment_id_ = 0;
  stats_ = NatStats{};
  icmp_tokens_ = config_.icmp_behavior.generated_per_second;
  icmp_tokens_at_ = TimePoint{};
}

ReferenceNat::ReferenceNat(NatConfig config) {
  const auto problems = validate(config);
  if (!problems.empty()) {
    std::string message = "invalid reference NAT configuration: " + problems.front();
    for (std::size_t i = 1; i < problems.size(); ++i) message += "; " + problems[i];
    throw std::invalid_argument(message);
  }
  impl_ = std::make_unique<Impl>(std::move(config));
}
ReferenceNat::~ReferenceNat() = default;

void ReferenceNat::process(Bytes packet, Side side, TimePoint now, Output& out) {
  impl_->process(packet, side, now, out);
}
void ReferenceNat::advance(TimePoint now, Output& out) { impl_->advance(now, out); }
void ReferenceNat::reset() { impl_->reset(); }
void ReferenceNat::restart() {
  impl_->restart();
}
void ReferenceNat::add_alg(std::unique_ptr<AlgHook> alg) { impl_->algs_.push_back(std::move(alg)); }
const NatConfig& ReferenceNat::config() const { return impl_->config_; }
std::vector<MappingInfo> ReferenceNat::mappings() const { return impl_->mapping_snapshot(); }
std::vector<SessionInfo> ReferenceNat::sessions() const { return impl_->session_snapshot(); }

NatStats ReferenceNat::stats() const {
  NatStats stats = impl_->stats_;
  const auto mappings = impl_->mapping_snapshot();
  stats.mappings = mappings.size();
  stats.sessions = impl_->session_snapshot().size();
  stats.pending_fragments = impl_->pending_fragment_count();
  stats.held_syns = impl_->held_syn_count();
  return stats;
}

std::vector<MappingInfo> ReferenceNat::Impl::mapping_snapshot() const {
  std::vector<MappingInfo> result;
  for (std::uint32_t id = 0; id < mappings_.size(); ++id) {
    const MappingRecord& mapping = mappings_[id];
    if (!mapping.in_use) continue;
    MappingInfo info{mapping.protocol, mapping.internal, mapping.external, mapping.remote, 0, TimePoint{}};
    for (std::uint32_t s = mapping.first_session; s != kNone; s = sessions_[s].next) {
      if (!session_alive(s)) continue;
      ++info.sessions;
      info.expires_at = std::max(info.expires_at, sessions_[s].expires_at);
    }
    if (info.sessions > 0) result.push_back(info);
  }
  return result;
}

std::vector<SessionInfo> ReferenceNat::Impl::session_snapshot() const {
  std::vector<SessionInfo> result;
  for (std::uint32_t id = 0; id < sessions_.size(); ++id) {
    if (!session_alive(id)) continue;
    const SessionRecord& session = sessions_[id];
    const MappingRecord& mapping = mappings_[session.mapping];
    result.push_back(SessionInfo{session.protocol, mapping.internal, mapping.external, session.remote,
                                 to_string(session.tcp), session.expires_at});
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Dispatch

std::vector<std::uint8_t>& ReferenceNat::Impl::begin_emit(Output& out, Side to, EmitKind kind, Bytes source) {
  std::vector<std::uint8_t>& buffer = out.emit(to, kind);
  buffer.assign(source.begin(), source.end());
  ++stats_.packets_out;
  return buffer;
}

bool ReferenceNat::Impl::is_external_address(Ipv4Address address) const {
  return std::find(config_.external_addresses.begin(), config_.external_addresses.end(), address) !=
         config_.external_addresses.end();
}

void ReferenceNat::Impl::process(Bytes packet, Side side, TimePoint now, Output& out) {
  out.clear();
  if (now > now_) now_ = now;
  // Reclaim expired state first (O(1) amortized); held SYNs and fragment timers wait for advance().
  reclaim_expired();
  ++stats_.packets_in;

  const ParseResult parsed = parse_packet(packet, ParseOptions{});
  if (!parsed.ok()) {
    out.drop(DropReason::malformed, parsed.error);
    ++stats_.dropped;
    return;
  }
  process_parsed(parsed.packet, side, out, false);
  if (out.drop_reason() != DropReason::none) ++stats_.dropped;
}

void ReferenceNat::Impl::process_parsed(const PacketView& view, Side side, Output& out, bool hairpin_pass) {
  const Ipv4View& ip = view.ip;
  if (side == Side::outside && !is_external_address(ip.destination())) {
    out.drop(DropReason::not_for_nat);
    return;
  }
  if (side == Side::inside && ip.destination() == config_.inside_address) {
    out.drop(DropReason::not_for_nat);
    return;
  }
  if (side == Side::inside && config_.drop_outbound_to_inside_prefix && config_.inside_prefix_length > 0) {
    const std::uint32_t mask = config_.inside_prefix_length >= 32
                                   ? 0xffffffffu
                                   : ~(0xffffffffu >> config_.inside_prefix_length);
    if ((ip.destination() & mask) == (config_.inside_prefix & mask) && !is_external_address(ip.destination())) {
      out.drop(DropReason::to_inside_prefix);
      return;
    }
  }
  if (!hairpin_pass && config_.decrement_ttl && ip.ttl() <= 1) {
    if (config_.icmp_behavior.generate_time_exceeded && may_generate_icmp_about(view)) {
      const Ipv4Address source = side == Side::inside ? config_.inside_address : ip.destination();
      generate_icmp_error(view, icmp_type::time_exceeded, 0, 0, source, side, out);
    }
    out.drop(DropReason::ttl_expired);
    return;
  }
  if (ip.is_fragment() && handle_fragment(view, side, out)) return;

  switch (view.kind) {
    case TransportKind::udp:
    case TransportKind::tcp:
      if (side == Side::inside) {
        outbound_transport(view, out);
      } else {
        inbound_transport(view, out, hairpin_pass);
      }
      break;
    case TransportKind::icmp_query:
      if (side == Side::inside) {
        outbound_icmp_query(view, out);
      } else {
        inbound_icmp_query(view, out);
      }
      break;
    case TransportKind::icmp_error:
      if (side == Side::inside) {
        outbound_icmp_error(view, out);
      } else {
        inbound_icmp_error(view, out, hairpin_pass);
      }
      break;
    case TransportKind::icmp_other:
      if (side == Side::outside) {
        inbound_icmp_other(view, out);
      } else {
        out.drop(DropReason::icmp_unsupported);
      }
      break;
    case TransportKind::none:
      out.drop(view.ip.protocol() == ip_protocol::udp || view.ip.protocol() == ip_protocol::tcp ||
                       view.ip.protocol() == ip_protocol::icmp
                   ? DropReason::malformed
                   : DropReason::unsupported_protocol);
      break;
  }
}

// ---------------------------------------------------------------------------------------------------
// Mappings and sessions

Protocol ReferenceNat::Impl::protocol_class(Protocol protocol) const {
  if (config_.protocol_independent_mapping && protocol == Protocol::tcp) return Protocol::udp;
  return protocol;
}

const ProtocolBehavior& ReferenceNat::Impl::behavior(Protocol protocol) const {
  switch (protocol) {
    case Protocol::tcp: return config_.tcp;
    case Protocol::icmp: return config_.icmp;
    case Protocol::udp: break;
  }
  return config_.udp;
}

namespace {
std::uint64_t pack(Endpoint endpoint) { return (std::uint64_t{endpoint.address} << 16) | endpoint.port; }
Endpoint key_remote(MappingBehavior keyed_by, Endpoint remote) {
  switch (keyed_by) {
    case MappingBehavior::endpoint_independent: return Endpoint{};
    case MappingBehavior::address_dependent: return Endpoint{remote.address, 0};
    case MappingBehavior::address_and_port_dependent: return remote;
  }
  return remote;
}
}  // namespace

std::uint32_t ReferenceNat::Impl::forward_hash(Protocol cls, Endpoint internal, MappingBehavior keyed_by,
                                               Endpoint remote) const {
  const Endpoint r = key_remote(keyed_by, remote);
  return mix_hash(pack(internal) | (std::uint64_t(cls) << 48) | (std::uint64_t(keyed_by) << 56), pack(r));
}

std::uint32_t ReferenceNat::Impl::find_mapping_keyed(Protocol cls, Endpoint internal, Endpoint remote,
                                                     MappingBehavior keyed_by) const {
  const Endpoint r = key_remote(keyed_by, remote);
  return forward_index_.find(forward_hash(cls, internal, keyed_by, remote), [&](std::uint32_t id) {
    const MappingRecord& m = mappings_[id];
    return m.protocol == cls && m.keyed_by == keyed_by && m.internal == internal && m.remote == r;
  });
}

std::uint32_t ReferenceNat::Impl::find_mapping(Protocol protocol, Endpoint internal, Endpoint remote) const {
  const Protocol cls = protocol_class(protocol);
  const MappingBehavior configured = behavior(protocol).mapping;
  std::uint32_t id = find_mapping_keyed(cls, internal, remote, configured);
  if (id == kNone && config_.ports.change_mapping_on_collision &&
      configured != MappingBehavior::address_and_port_dependent) {
    id = find_mapping_keyed(cls, internal, remote, MappingBehavior::address_and_port_dependent);
  }
  return id;
}

std::uint32_t ReferenceNat::Impl::find_mapping_by_external(Protocol cls, Endpoint external) const {
  return reverse_index_.find(mix_hash(pack(external), std::uint64_t(cls)), [&](std::uint32_t id) {
    return mappings_[id].protocol == cls && mappings_[id].external == external;
  });
}

namespace {
std::uint32_t session_hash(Protocol protocol, Endpoint external, Endpoint remote) {
  return mix_hash(pack(external) | (std::uint64_t(protocol) << 48), pack(remote));
}
std::uint32_t flow_hash(Protocol protocol, Endpoint internal, Endpoint remote) {
  return mix_hash(pack(internal) | (std::uint64_t(protocol) << 48) | (1ull << 56), pack(remote));
}
}  // namespace

std::uint32_t ReferenceNat::Impl::find_flow(Protocol protocol, Endpoint internal, Endpoint remote) const {
  const std::uint32_t id = flow_index_.find(flow_hash(protocol, internal, remote), [&](std::uint32_t candidate) {
    const SessionRecord& s = sessions_[candidate];
    return s.protocol == protocol && s.remote == remote && mappings_[s.mapping].internal == internal;
  });
  return id != kNone && session_alive(id) ? id : kNone;
}

std::uint32_t ReferenceNat::Impl::find_session(Protocol protocol, Endpoint external, Endpoint remote) const {
  const std::uint32_t id =
      session_index_.find(session_hash(protocol, external, remote), [&](std::uint32_t candidate) {
        const SessionRecord& s = sessions_[candidate];
        return s.protocol == protocol && s.remote == remote && mappings_[s.mapping].external == external;
      });
  return id != kNone && session_alive(id) ? id : kNone;
}

bool ReferenceNat::Impl::session_alive(std::uint32_t session) const {
  const SessionRecord& s = sessions_[session];
  return s.in_use && s.expires_at > now_;
}

Ipv4Address ReferenceNat::Impl::choose_external_address(Ipv4Address internal_host) {
  const auto& pool = config_.external_addresses;
  if (pool.size() == 1) return pool.front();
  if (config_.pooling == Pooling::paired) {
    auto it = paired_pool_.find(internal_host);
    if (it != paired_pool_.end()) return it->second.first;
    const Ipv4Address chosen = pool[next_pool_index_++ % pool.size()];
    paired_pool_.emplace(internal_host, std::make_pair(chosen, 0u));
    return chosen;
  }
  return pool[rng_() % pool.size()];
}

detail::PortAllocator& ReferenceNat::Impl::allocator(Ipv4Address external, Protocol cls) {
  auto& slot = allocators_[{external, static_cast<int>(cls)}];
  if (!slot) slot = std::make_unique<detail::PortAllocator>(config_.ports);
  return *slot;
}

std::uint32_t ReferenceNat::Impl::obtain_mapping(Protocol protocol, Endpoint internal, Endpoint remote) {
  const std::uint32_t existing = find_mapping(protocol, internal, remote);
  if (existing != kNone) return existing;
  if (live_sessions_ >= config_.max_sessions) return kNone;
  if (config_.max_mappings_per_host != 0 && mappings_per_host_[internal.address] >= config_.max_mappings_per_host) {
    return kNone;
  }

  const Protocol cls = protocol_class(protocol);
  MappingBehavior keyed_by = behavior(protocol).mapping;
  PortRequest request;
  request.internal_port = internal.port;
  request.query_identifier = protocol == Protocol::icmp;
  request.may_overload =
      request.query_identifier ? config_.icmp_behavior.identifier_overloading : config_.ports.overloading;
  if (config_.ports.contiguity && internal.port > 0) {
    const std::uint32_t neighbour =
        find_mapping(protocol, Endpoint{internal.address, static_cast<std::uint16_t>(internal.port - 1)}, remote);
    if (neighbour != kNone) request.contiguous_with = mappings_[neighbour].external.port;
  }

  Ipv4Address external_address = choose_external_address(internal.address);
  std::optional<std::uint16_t> port;
  const auto& pool = config_.external_addresses;
  for (std::size_t attempt = 0; attempt < pool.size() && !port; ++attempt) {
    if (attempt > 0) {
      // Paired pooling keeps a host on its address (RFC 7857 §4): no spilling to another one, unless
      // the soft-APP knob allows it.
      if (config_.pooling == Pooling::paired && !config_.paired_pool_spill) break;
      external_address = pool[(std::find(pool.begin(), pool.end(), external_address) - pool.begin() + 1) % pool.size()];
    }
    PortAllocator& ports = allocator(external_address, cls);
    // RFC 4787 REQ-11 violation knob: a NAT whose mapping turns symmetric when its preferred port is taken.
    if (config_.ports.change_mapping_on_collision && keyed_by != MappingBehavior::address_and_port_dependent &&
        config_.ports.preserve_port && ports.in_use(internal.port)) {
      keyed_by = MappingBehavior::address_and_port_dependent;
    }
    port = ports.allocate(request, rng_);
  }
  if (!port) return kNone;

  std::uint32_t id;
  if (!free_mappings_.empty()) {
    id = free_mappings_.back();
    free_mappings_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(mappings_.size());
    mappings_.emplace_back();
  }
  MappingRecord& mapping = mappings_[id];
  mapping = MappingRecord{};
  mapping.internal = internal;
  mapping.external = Endpoint{external_address, *port};
  mapping.remote = key_remote(keyed_by, remote);
  mapping.protocol = cls;
  mapping.keyed_by = keyed_by;
  mapping.in_use = true;
  forward_index_.insert(forward_hash(cls, internal, keyed_by, remote), id);
  reverse_index_.insert(mix_hash(pack(mapping.external), std::uint64_t(cls)), id);
  if (config_.pooling == Pooling::paired && pool.size() > 1) ++paired_pool_[internal.address].second;
  ++mappings_per_host_[internal.address];
  ++stats_.mappings_created;
  return id;
}

std::uint32_t ReferenceNat::Impl::create_session(Protocol protocol, std::uint32_t mapping_id, Endpoint remote) {
  std::uint32_t id;
  if (!free_sessions_.empty()) {
    id = free_sessions_.back();
    free_sessions_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(sessions_.size());
    sessions_.emplace_back();
  }
  SessionRecord& session = sessions_[id];
  const std::uint32_t generation = session.generation + 1;
  session = SessionRecord{};
  session.generation = generation;
  session.mapping = mapping_id;
  session.remote = remote;
  session.protocol = protocol;
  session.in_use = true;
  MappingRecord& mapping = mappings_[mapping_id];
  session.next = mapping.first_session;
  if (mapping.first_session != kNone) sessions_[mapping.first_session].prev = id;
  mapping.first_session = id;
  ++mapping.session_count;

  const std::uint32_t hash = session_hash(protocol, mapping.external, remote);
  // A port-overloading NAT can meet an existing session with the same external key; the newer one
  // shadows it, which is exactly how overloading loses the older host's replies.
  const std::uint32_t shadowed = session_index_.find(hash, [&](std::uint32_t candidate) {
    const SessionRecord& s = sessions_[candidate];
    return s.protocol == protocol && s.remote == remote && mappings_[s.mapping].external == mapping.external;
  });
  if (shadowed != kNone) {
    session_index_.replace(hash, shadowed, id);
  } else {
    session_index_.insert(hash, id);
  }
  flow_index_.insert(flow_hash(protocol, mapping.internal, remote), id);
  session.expires_at = now_ + session_timeout(session);
  wheel_.schedule(id, session.generation, session.expires_at);
  ++live_sessions_;
  ++stats_.sessions_created;
  return id;
}

void ReferenceNat::Impl::remove_session(std::uint32_t id) {
  SessionRecord& session = sessions_[id];
  if (!session.in_use) return;
  const std::uint32_t mapping_id = session.mapping;
  MappingRecord& mapping = mappings_[mapping_id];
  session_index_.erase(session_hash(session.protocol, mapping.external, session.remote), id);
  flow_index_.erase(flow_hash(session.protocol, mapping.internal, session.remote), id);
  if (session.prev != kNone) sessions_[session.prev].next = session.next;
  if (session.next != kNone) sessions_[session.next].prev = session.prev;
  if (mapping.first_session == id) mapping.first_session = session.next;
  release_alg_flow(id);
  session.in_use = false;
  ++session.generation;
  free_sessions_.push_back(id);
  --live_sessions_;
  if (--mapping.session_count == 0) remove_mapping(mapping_id);
}

void ReferenceNat::Impl::remove_mapping(std::uint32_t id) {
  MappingRecord& mapping = mappings_[id];
  if (!mapping.in_use) return;
  while (mapping.first_session != kNone) {
    // remove_session() calls back here when the count reaches zero; detach first to avoid recursion.
    const std::uint32_t s = mapping.first_session;
    if (mapping.session_count == 1) {
      SessionRecord& session = sessions_[s];
      session_index_.erase(session_hash(session.protocol, mapping.external, session.remote), s);
      flow_index_.erase(flow_hash(session.protocol, mapping.internal, session.remote), s);
      release_alg_flow(s);
      session.in_use = false;
      ++session.generation;
      free_sessions_.push_back(s);
      --live_sessions_;
      mapping.first_session = kNone;
      mapping.session_count = 0;
      break;
    }
    remove_session(s);
  }
  forward_index_.erase(forward_hash(mapping.protocol, mapping.internal, mapping.keyed_by, mapping.remote), id);
  reverse_index_.erase(mix_hash(pack(mapping.external), std::uint64_t(mapping.protocol)), id);
  allocator(mapping.external.address, mapping.protocol).release(mapping.external.port);
  if (auto it = paired_pool_.find(mapping.internal.address); it != paired_pool_.end()) {
    if (it->second.second <= 1) {
      paired_pool_.erase(it);
    } else {
      --it->second.second;
    }
  }
  if (auto it = mappings_per_host_.find(mapping.internal.address); it != mappings_per_host_.end()) {
    if (--it->second == 0) mappings_per_host_.erase(it);
  }
  mapping.in_use = false;
  free_mappings_.push_back(id);
}

Duration ReferenceNat::Impl::session_timeout(const SessionRecord& session) const {
  switch (session.protocol) {
    case Protocol::udp:
      for (const PortTimer& timer : config_.udp_timers.per_destination_port) {
        if (timer.destination_port == session.remote.port) return timer.timeout;
      }
      return config_.udp_timers.mapping;
    case Protocol::icmp:
      return config_.icmp_behavior.query_timeout;
    case Protocol::tcp:
      switch (session.tcp) {
        case TcpState::established:
        case TcpState::fin_out:
        case TcpState::fin_in:
          // One FIN is a half-close: the connection still carries data the other way (RFC 5382 REQ-2).
          return session.tcp == TcpState::established ? config_.tcp_behavior.established
                                                      : std::max(config_.tcp_behavior.transitory,
                                                                 config_.tcp_behavior.established);
        case TcpState::reset:
          return config_.tcp_behavior.rst_linger;
        default:
          return config_.tcp_behavior.transitory;
      }
  }
  return config_.udp_timers.mapping;
}

void ReferenceNat::Impl::refresh(std::uint32_t session) {
  sessions_[session].expires_at = now_ + session_timeout(sessions_[session]);
}

void ReferenceNat::Impl::refresh_filtered(std::uint32_t mapping_id) {
  if (!config_.filtered_inbound_refreshes || mapping_id == kNone) return;  // violates RFC 7857 §7 when on
  for (std::uint32_t s = mappings_[mapping_id].first_session; s != kNone; s = sessions_[s].next) {
    if (session_alive(s)) refresh(s);
  }
}

bool ReferenceNat::Impl::filter_allows(std::uint32_t mapping_id, Protocol protocol, Endpoint remote) const {
  const MappingRecord& mapping = mappings_[mapping_id];
  switch (behavior(protocol).filtering) {
    case FilteringBehavior::endpoint_independent:
      return true;
    case FilteringBehavior::address_dependent:
      for (std::uint32_t s = mapping.first_session; s != kNone; s = sessions_[s].next) {
        if (session_alive(s) && !sessions_[s].expected && sessions_[s].remote.address == remote.address) return true;
      }
      return false;
    case FilteringBehavior::address_and_port_dependent:
      for (std::uint32_t s = mapping.first_session; s != kNone; s = sessions_[s].next) {
        if (session_alive(s) && !sessions_[s].expected && sessions_[s].remote == remote) return true;
      }
      return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// UDP and TCP

namespace {
Protocol protocol_of(const PacketView& view) {
  return view.kind == TransportKind::tcp ? Protocol::tcp : Protocol::udp;
}
Endpoint source_of(const PacketView& view) {
  const std::uint16_t port = view.kind == TransportKind::tcp ? view.tcp.source_port() : view.udp.source_port();
  return Endpoint{view.ip.source(), port};
}
Endpoint destination_of(const PacketView& view) {
  const std::uint16_t port =
      view.kind == TransportKind::tcp ? view.tcp.destination_port() : view.udp.destination_port();
  return Endpoint{view.ip.destination(), port};
}
}  // namespace

bool ReferenceNat::Impl::decrement_ttl(std::vector<std::uint8_t>& packet) {
  if (!config_.decrement_ttl) return true;
  const std::uint16_t old_word = load16(&packet[kIpTtl]);
  packet[kIpTtl] = static_cast<std::uint8_t>(packet[kIpTtl] - 1);
  patch_checksum16(&packet[kIpChecksum], old_word, load16(&packet[kIpTtl]));
  return true;
}

void ReferenceNat::Impl::outbound_transport(const PacketView& view, Output& out) {
  const Protocol protocol = protocol_of(view);
  const Endpoint internal = source_of(view);
  const Endpoint remote = destination_of(view);
  const bool to_self = is_external_address(remote.address);
  if (to_self && !config_.hairpin.enabled) {
    out.drop(DropReason::hairpin_disabled);
    return;
  }
  const bool is_syn = protocol == Protocol::tcp && view.tcp.has(tcp_flag::syn) && !view.tcp.has(tcp_flag::ack);

  std::uint32_t session_id = find_flow(protocol, internal, remote);
  std::uint32_t mapping_id = kNone;
  if (session_id != kNone) {
    mapping_id = sessions_[session_id].mapping;
  } else {
    mapping_id = find_mapping(protocol, internal, remote);
    if (mapping_id != kNone) session_id = find_session(protocol, mappings_[mapping_id].external, remote);
  }
  const bool new_session = session_id == kNone;
  if (new_session && protocol == Protocol::tcp && !is_syn) {
    out.drop(DropReason::tcp_no_session);
    return;
  }
  if (mapping_id == kNone) {
    mapping_id = obtain_mapping(protocol, internal, remote);
    if (mapping_id == kNone) {
      if (config_.icmp_behavior.unreachable_on_session_failure && may_generate_icmp_about(view)) {
        generate_icmp_error(view, icmp_type::destination_unreachable, 13, 0, config_.inside_address, Side::inside,
                            out);
      }
      out.drop(DropReason::resources_exhausted);
      return;
    }
  }
  if (new_session) {
    if (live_sessions_ >= config_.max_sessions) {
      if (config_.icmp_behavior.unreachable_on_session_failure && may_generate_icmp_about(view)) {
        generate_icmp_error(view, icmp_type::destination_unreachable, 13, 0, config_.inside_address, Side::inside,
                            out);
      }
      if (mappings_[mapping_id].session_count == 0) remove_mapping(mapping_id);
      out.drop(DropReason::resources_exhausted);
      return;
    }
    session_id = create_session(protocol, mapping_id, remote);
    if (!algs_.empty()) claim_for_algs(session_id);
  } else if (sessions_[session_id].expected) {
    activate_expectation(session_id);
  }
  if (protocol == Protocol::tcp && !tcp_outbound_allowed(session_id, view.tcp, new_session)) {
    out.drop(DropReason::tcp_state);
    return;
  }
  if (protocol == Protocol::udp ? config_.udp_timers.refresh_outbound : true) refresh(session_id);

  const Endpoint external = mappings_[mapping_id].external;
  std::vector<std::vector<std::uint8_t>> released;
  if (is_syn && !held_syns_.empty()) released = cancel_held_syn(external, remote);

  const Side to = to_self ? Side::inside : Side::outside;
  std::vector<std::uint8_t>& packet =
      begin_emit(out, to, to_self ? EmitKind::hairpinned : EmitKind::translated, view.ip.bytes);
  decrement_ttl(packet);
  std::uint8_t* ip = packet.data();
  std::uint8_t* transport = ip + view.transport_offset;
  const ChecksumKind kind = protocol == Protocol::udp ? ChecksumKind::udp : ChecksumKind::standard;
  rewrite_address(ip, kIpSource, external.address, transport, view.ip.protocol());
  rewrite_port(transport, external.port, transport + transport_checksum_offset(view.ip.protocol()), kind);
  if (sessions_[session_id].alg_flow != kNone) run_alg(packet, session_id, Side::inside);
  if (config_.alg.generic_payload_rewrite) apply_algs(packet, protocol, internal, external, remote);

  if (!to_self) {
    if (view.ip.is_fragment()) assign_outbound_fragment_id(view, packet);
    enforce_outside_mtu(view, out);
    // Last: flushing buffered fragments emits more packets, which invalidates `packet`.
    if (view.ip.is_fragment()) {
      remember_fragment_translation(view, external.address, remote.address, Side::outside, EmitKind::translated, out);
    }
    for (const auto& syn : released) {
      // RFC 5382 REQ-4 violation: the held SYN goes in now that the outbound SYN opened the session.
      const ParseResult held = parse_packet(syn, ParseOptions{false});
      if (held.ok() && held.packet.kind == TransportKind::tcp) inbound_transport(held.packet, out, false);
    }
    return;
  }

  // Hairpinning (RFC 4787 §6): the translated packet re-enters as if it came from outside.
  std::vector<std::uint8_t> once_translated = std::move(packet);
  out.discard_last();
  const ParseResult again = parse_packet(once_translated, ParseOptions{});
  if (!again.ok()) {
    out.drop(DropReason::malformed, again.error);
    return;
  }
  inbound_transport(again.packet, out, true);
  if (config_.hairpin.source == HairpinSource::internal_endpoint && out.packets().size() > 0) {
    // Violates REQ-9a: the hairpinned packet shows the sender's inside endpoint.
    std::vector<std::uint8_t>& delivered = out.last_bytes();
    std::uint8_t* dip = delivered.data();
    std::uint8_t* dtransport = dip + again.packet.transport_offset;
    rewrite_address(dip, kIpSource, internal.address, dtransport, view.ip.protocol());
    rewrite_port(dtransport, internal.port, dtransport + transport_checksum_offset(view.ip.protocol()), kind);
  }
}

void ReferenceNat::Impl::inbound_transport(const PacketView& view, Output& out, bool hairpin_pass) {
  const Protocol protocol = protocol_of(view);
  const Endpoint remote = source_of(view);
  const Endpoint external = destination_of(view);
  const Protocol cls = protocol_class(protocol);
  const bool is_syn = protocol == Protocol::tcp && view.tcp.has(tcp_flag::syn) && !view.tcp.has(tcp_flag::ack);

  std::uint32_t session_id = find_session(protocol, external, remote);
  std::uint32_t mapping_id = session_id != kNone ? sessions_[session_id].mapping : kNone;
  bool stateless_pass = false;
  if (session_id != kNone && sessions_[session_id].expected) activate_expectation(session_id);
  if (session_id == kNone && !algs_.empty()) {
    mapping_id = find_mapping_by_external(cls, external);
    if (mapping_id != kNone && (protocol != Protocol::tcp || is_syn)) {
      session_id = take_expectation(mapping_id, protocol, remote);
    }
  }
  if (session_id == kNone) {
    mapping_id = find_mapping_by_external(cls, external);
    if (mapping_id == kNone && config_.protocol_independent_filtering) {
      // RFC 7857 §6 violation: a mapping of the other protocol lets this packet in.
      const Protocol other = cls == Protocol::udp ? Protocol::tcp : Protocol::udp;
      mapping_id = find_mapping_by_external(other, external);
      stateless_pass = mapping_id != kNone && filter_allows(mapping_id, protocol, remote);
      if (!stateless_pass) mapping_id = kNone;
    }
    const bool allowed = mapping_id != kNone && (stateless_pass || filter_allows(mapping_id, protocol, remote));
    if (protocol == Protocol::tcp && !stateless_pass) {
      if (!is_syn) {
        out.drop(mapping_id == kNone ? DropReason::no_mapping : DropReason::tcp_no_session);
        return;
      }
      if (!allowed || !config_.tcp_behavior.pass_inbound_initiated) {
        if (!allowed) refresh_filtered(mapping_id);
        if (hairpin_pass) {
          out.drop(DropReason::filtered);
          return;
        }
        handle_unsolicited_syn(view, out);
        return;
      }
    } else if (!allowed) {
      refresh_filtered(mapping_id);
      out.drop(mapping_id == kNone ? DropReason::no_mapping : DropReason::filtered);
      return;
    }
    if (!stateless_pass) {
      if (live_sessions_ >= config_.max_sessions) {
        out.drop(DropReason::resources_exhausted);
        return;
      }
      session_id = create_session(protocol, mapping_id, remote);
      if (!algs_.empty()) claim_for_algs(session_id);
    }
  }
  if (protocol == Protocol::tcp && session_id != kNone && !tcp_inbound_allowed(session_id, view.tcp)) {
    out.drop(DropReason::tcp_state);
    return;
  }
  if (session_id != kNone && (protocol == Protocol::tcp || config_.udp_timers.refresh_inbound)) refresh(session_id);

  const Endpoint internal = mappings_[mapping_id].internal;
  std::vector<std::uint8_t>& packet =
      begin_emit(out, Side::inside, hairpin_pass ? EmitKind::hairpinned : EmitKind::translated, view.ip.bytes);
  if (!hairpin_pass) decrement_ttl(packet);
  std::uint8_t* ip = packet.data();
  std::uint8_t* transport = ip + view.transport_offset;
  const ChecksumKind kind = protocol == Protocol::udp ? ChecksumKind::udp : ChecksumKind::standard;
  rewrite_address(ip, kIpDestination, internal.address, transport, view.ip.protocol());
  rewrite_port(transport + 2, internal.port, transport + transport_checksum_offset(view.ip.protocol()), kind);
  if (session_id != kNone && sessions_[session_id].alg_flow != kNone) run_alg(packet, session_id, Side::outside);
  if (view.ip.is_fragment()) {
    remember_fragment_translation(view, remote.address, internal.address, Side::inside, EmitKind::translated, out);
  }
}

bool ReferenceNat::Impl::tcp_outbound_allowed(std::uint32_t session_id, const TcpView& tcp, bool new_session) {
  SessionRecord& session = sessions_[session_id];
  const bool syn = tcp.has(tcp_flag::syn);
  const bool ack = tcp.has(tcp_flag::ack);
  if (tcp.has(tcp_flag::rst)) {
    if (!config_.tcp_behavior.translate_rst) return false;  // violates RFC 7857 §2.2
    session.tcp = TcpState::reset;
    return true;
  }
  if (new_session) {
    session.tcp = TcpState::syn_out;
    return true;
  }
  switch (session.tcp) {
    case TcpState::syn_out:
      break;  // retransmitted SYN or data before the answer: let it through
    case TcpState::syn_in:
      if (syn) session.tcp = TcpState::established;  // SYN-ACK, or simultaneous open from outside first
      break;
    case TcpState::established:
      if (tcp.has(tcp_flag::fin) && config_.tcp_behavior.track_fin) session.tcp = TcpState::fin_out;
      break;
    case TcpState::fin_in:
      if (tcp.has(tcp_flag::fin)) session.tcp = TcpState::fin_both;
      break;
    case TcpState::fin_out:
      if (config_.tcp_behavior.drop_after_fin && !tcp.payload().empty()) return false;
      break;
    case TcpState::fin_both:
      if (syn && !ack) session.tcp = TcpState::syn_out;  // a new connection on the same 5-tuple
      break;
    case TcpState::reset:
      session.tcp = syn && !ack ? TcpState::syn_out : TcpState::established;
      break;
    case TcpState::none:
      session.tcp = TcpState::syn_out;
      break;
  }
  return true;
}

bool ReferenceNat::Impl::tcp_inbound_allowed(std::uint32_t session_id, const TcpView& tcp) {
  SessionRecord& session = sessions_[session_id];
  const bool syn = tcp.has(tcp_flag::syn);
  const bool ack = tcp.has(tcp_flag::ack);
  if (tcp.has(tcp_flag::rst)) {
    if (!config_.tcp_behavior.translate_rst) return false;  // violates RFC 7857 §2.2
    session.tcp = TcpState::reset;
    return true;
  }
  switch (session.tcp) {
    case TcpState::none:
      session.tcp = TcpState::syn_in;  // allowed inbound-initiated connection
      break;
    case TcpState::syn_out:
      if (syn && !ack && !config_.tcp_behavior.simultaneous_open) return false;  // violates RFC 5382 REQ-2a
      if (syn) session.tcp = TcpState::established;
      break;
    case TcpState::syn_in:
      break;
    case TcpState::established:
      if (tcp.has(tcp_flag::fin) && config_.tcp_behavior.track_fin) session.tcp = TcpState::fin_in;
      break;
    case TcpState::fin_out:
      if (config_.tcp_behavior.drop_after_fin && !tcp.payload().empty()) return false;  // violates half-close
      if (tcp.has(tcp_flag::fin)) session.tcp = TcpState::fin_both;
      break;
    case TcpState::fin_in:
    case TcpState::fin_both:
      break;
    case TcpState::reset:
      if (!(syn && !ack)) session.tcp = TcpState::established;
      break;
  }
  return true;
}

void ReferenceNat::Impl::handle_unsolicited_syn(const PacketView& view, Output& out) {
  const Endpoint remote = source_of(view);
  const Endpoint external = destination_of(view);
  UnsolicitedSyn answer = config_.tcp_behavior.unsolicited_syn;
  if (answer == UnsolicitedSyn::silent_drop && config_.tcp_behavior.silent_drop_rsts_mapped_ports &&
      find_mapping_by_external(protocol_class(Protocol::tcp), external) != kNone) {
    answer = UnsolicitedSyn::immediate_rst;  // violates RFC 5382 REQ-4a: the stealth policy leaks
  }
  switch (answer) {
    case UnsolicitedSyn::silent_drop:
      out.drop(DropReason::unsolicited_syn_dropped);
      return;
    case UnsolicitedSyn::immediate_port_unreachable:
      if (may_generate_icmp_about(view)) {
        generate_icmp_error(view, icmp_type::destination_unreachable, 3, 0, external.address, Side::outside, out);
      }
      out.drop(DropReason::unsolicited_syn_dropped);
      return;
    case UnsolicitedSyn::immediate_rst: {
      // A RST|ACK from the external endpoint acknowledging the SYN (violates REQ-4's 6 s silence).
      std::vector<std::uint8_t>& rst = out.emit(Side::outside, EmitKind::generated_icmp);
      rst.assign(40, 0);
      rst[0] = 0x45;
      store16(&rst[2], 40);
      rst[8] = 64;
      rst[9] = ip_protocol::tcp;
      store32(&rst[12], external.address);
      store32(&rst[16], remote.address);
      store16(&rst[20], external.port);
      store16(&rst[22], remote.port);
      store32(&rst[28], view.tcp.sequence() + 1);
      rst[32] = 0x50;
      rst[33] = tcp_flag::rst | tcp_flag::ack;
      recompute_checksums(rst);
      ++stats_.packets_out;
      out.drop(DropReason::unsolicited_syn_dropped);
      return;
    }
    case UnsolicitedSyn::hold_then_port_unreachable:
      break;
  }
  for (const detail::HeldSyn& held : held_syns_) {
    if (!held.cancelled && held.external == external && held.remote == remote) {
      out.drop(DropReason::unsolicited_syn_held);  // a retransmission: the first one is already held
      return;
    }
  }
  constexpr std::size_t kMaxHeldSyns = 4096;  // bounded so a SYN flood cannot grow state without limit
  if (held_syns_.size() >= kMaxHeldSyns) {
    out.drop(DropReason::unsolicited_syn_dropped);
    return;
  }
  held_syns_.push_back(detail::HeldSyn{now_ + config_.tcp_behavior.unsolicited_syn_hold, external, remote, false,
                                       std::vector<std::uint8_t>(view.ip.bytes.begin(), view.ip.bytes.end())});
  out.drop(DropReason::unsolicited_syn_held);
}

std::vector<std::vector<std::uint8_t>> ReferenceNat::Impl::cancel_held_syn(Endpoint external, Endpoint remote) {
  std::vector<std::vector<std::uint8_t>> released;
  for (detail::HeldSyn& held : held_syns_) {
    if (held.cancelled || held.external != external || held.remote != remote) continue;
    held.cancelled = true;
    if (config_.tcp_behavior.release_held_syn) released.push_back(std::move(held.packet));
  }
  return released;
}

void ReferenceNat::Impl::apply_algs(std::vector<std::uint8_t>& packet, Protocol protocol, Endpoint internal,
                                    Endpoint external, Endpoint remote) {
  (void)remote;
  const std::size_t before = packet.size();
  bool touched = false;
  {
    // RFC 4787 REQ-10 / RFC 5382 REQ-6 violation: rewrite the inside address wherever its four bytes
    // appear in the payload (same length, so TCP sequence numbers stay valid).
    const ParseResult parsed = parse_packet(packet, ParseOptions{false});
    if (parsed.ok() && (parsed.packet.kind == TransportKind::udp || parsed.packet.kind == TransportKind::tcp)) {
      const Bytes payload = parsed.packet.kind == TransportKind::udp ? parsed.packet.udp.payload()
                                                                     : parsed.packet.tcp.payload();
      const std::size_t start = static_cast<std::size_t>(payload.data() - packet.data());
      std::uint8_t needle[4];
      store32(needle, internal.address);
      for (std::size_t i = start; i + 4 <= start + payload.size(); ++i) {
        if (std::memcmp(&packet[i], needle, 4) == 0) {
          store32(&packet[i], external.address);
          touched = true;
        }
      }
    }
  }
  if (touched || packet.size() != before) {
    if (packet.size() >= 4) store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
    if (protocol == Protocol::udp && packet.size() >= 28) {
      const std::size_t header = (packet[0] & 0x0f) * 4u;
      store16(&packet[header + 4], static_cast<std::uint16_t>(packet.size() - header));
    }
    recompute_checksums(packet);
  }
}

void ReferenceNat::Impl::enforce_outside_mtu(const PacketView& original, Output& out) {
  // The packet just emitted outside may be larger than the outside link allows (RFC 4787 REQ-13).
  if (out.last_bytes().size() <= config_.fragments.outside_mtu) return;
  std::vector<std::uint8_t> whole = std::move(out.last_bytes());
  out.discard_last();
  emit_outside(whole, EmitKind::translated, original, out);
}

// ---------------------------------------------------------------------------------------------------
// Timers

void ReferenceNat::Impl::reclaim_expired() {
  wheel_.advance(now_, [this](const TimerWheel::Entry& entry) {
    SessionRecord& session = sessions_[entry.id];
    if (!session.in_use || session.generation != entry.generation) return;
    if (session.expires_at <= now_) {
      remove_session(entry.id);
      ++stats_.mappings_expired;
    } else {
      wheel_.schedule(entry.id, entry.generation, session.expires_at);
    }
  });
}

void ReferenceNat::Impl::run_timers(TimePoint now, Output& out) {
  while (!held_syns_.empty() && held_syns_.front().deadline <= now) {
    detail::HeldSyn held = std::move(held_syns_.front());
    held_syns_.pop_front();
    if (held.cancelled) continue;
    // RFC 5382 REQ-4: no outbound SYN arrived within the hold time, so answer with port unreachable.
    const ParseResult parsed = parse_packet(held.packet, ParseOptions{false});
    if (parsed.ok() && may_generate_icmp_about(parsed.packet)) {
      generate_icmp_error(parsed.packet, icmp_type::destination_unreachable, 3, 0, held.external.address,
                          Side::outside, out);
    }
  }
  expire_fragments(now);
}

void ReferenceNat::Impl::advance(TimePoint now, Output& out) {
  out.clear();
  if (now > now_) now_ = now;
  reclaim_expired();
  run_timers(now_, out);
}

}  // namespace natcert::ref
