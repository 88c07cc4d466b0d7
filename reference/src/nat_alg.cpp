// ALG plumbing of the reference NAT (RFC 3027): which ALG owns a flow, running it on translated
// packets, TCP sequence/acknowledgement corrections after a length change, and expectations (the
// connections a payload announced, e.g. FTP data or SIP media).
#include <algorithm>

#include "engine.hpp"

namespace natcert::ref {

using detail::kNone;
using detail::SequenceAdjust;

class ReferenceNat::Impl::AlgContextImpl final : public AlgContext {
 public:
  explicit AlgContextImpl(Impl& impl) : impl_(impl) {}
  TimePoint now() const override { return impl_.now_; }
  std::optional<Endpoint> expect(const AlgExpectation& expectation) override { return impl_.alg_expect(expectation); }

 private:
  Impl& impl_;
};

namespace {

constexpr std::size_t kIpTotalLength = 2;
constexpr std::size_t kIpFlagsFragment = 6;
constexpr std::size_t kIpChecksum = 10;
constexpr std::size_t kTcpSequence = 4;
constexpr std::size_t kTcpAcknowledgement = 8;
constexpr std::size_t kTcpDataOffset = 12;
constexpr std::size_t kTcpFlags = 13;
constexpr std::size_t kTcpChecksum = 16;
constexpr std::size_t kUdpLength = 4;

// Serial-number arithmetic (RFC 1982) on 32-bit TCP sequence numbers.
bool sequence_after(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }

std::int32_t sequence_offset(const SequenceAdjust& adjust, std::uint32_t sequence) {
  return sequence_after(sequence, adjust.correction_pos) ? adjust.offset_after : adjust.offset_before;
}

// An acknowledgement is in the receiver's view of the other direction's numbering, already shifted.
std::int32_t acknowledgement_offset(const SequenceAdjust& adjust, std::uint32_t acknowledgement) {
  return sequence_after(acknowledgement - static_cast<std::uint32_t>(adjust.offset_before), adjust.correction_pos)
             ? adjust.offset_after
             : adjust.offset_before;
}

void record_length_change(SequenceAdjust& adjust, std::uint32_t sequence, std::int32_t change) {
  // A retransmission of the segment already corrected (sequence == correction_pos) keeps the record.
  if (adjust.offset_before == adjust.offset_after || sequence_after(sequence, adjust.correction_pos)) {
    adjust.correction_pos = sequence;
    adjust.offset_before = adjust.offset_after;
    adjust.offset_after += change;
  }
}

void recompute_ip_header_checksum(std::vector<std::uint8_t>& packet, std::size_t header) {
  store16(&packet[kIpChecksum], 0);
  store16(&packet[kIpChecksum], internet_checksum(Bytes(packet.data(), header)));
}

}  // namespace

void ReferenceNat::Impl::claim_for_algs(std::uint32_t session_id) {
  const detail::SessionRecord& session = sessions_[session_id];
  if (session.protocol == Protocol::icmp || session.alg_flow != kNone) return;
  const detail::MappingRecord& mapping = mappings_[session.mapping];
  const AlgFlow flow{session.protocol, mapping.internal, mapping.external, session.remote};
  for (auto& alg : algs_) {
    std::unique_ptr<AlgFlowState> state = alg->claim(flow);
    if (!state) continue;
    std::uint32_t slot;
    if (!free_alg_flows_.empty()) {
      slot = free_alg_flows_.back();
      free_alg_flows_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(alg_flows_.size());
      alg_flows_.emplace_back();
    }
    detail::AlgFlowRecord& record = alg_flows_[slot];
    record.hook = alg.get();
    record.state = std::move(state);
    record.adjust[0] = SequenceAdjust{};
    record.adjust[1] = SequenceAdjust{};
    sessions_[session_id].alg_flow = slot;
    return;
  }
}

void ReferenceNat::Impl::release_alg_flow(std::uint32_t session_id) {
  detail::SessionRecord& session = sessions_[session_id];
  if (session.alg_flow == kNone) return;
  detail::AlgFlowRecord& record = alg_flows_[session.alg_flow];
  record.state.reset();
  record.hook = nullptr;
  free_alg_flows_.push_back(session.alg_flow);
  session.alg_flow = kNone;
}

void ReferenceNat::Impl::run_alg(std::vector<std::uint8_t>& packet, std::uint32_t session_id, Side from) {
  if (packet.size() < 20) return;
  const std::size_t header = (packet[0] & 0x0fu) * 4u;
  // ALGs see whole datagrams only: a fragmented control message passes untouched.
  if ((load16(&packet[kIpFlagsFragment]) & 0x3fffu) != 0) return;
  const std::size_t total = std::min<std::size_t>(load16(&packet[kIpTotalLength]), packet.size());
  const bool tcp = sessions_[session_id].protocol == Protocol::tcp;
  std::size_t payload_start = header + 8;
  if (tcp) {
    if (total < header + 20) return;
    payload_start = header + (packet[header + kTcpDataOffset] >> 4) * 4u;
  }
  if (total < payload_start) return;
  const int way = from == Side::inside ? 0 : 1;
  const AlgFaults faults = alg_flows_[sessions_[session_id].alg_flow].hook->faults();

  if (tcp) {
    const std::uint8_t flags = packet[header + kTcpFlags];
    if ((flags & tcp_flag::syn) != 0 && (flags & tcp_flag::ack) == 0) {
      // A new connection on this 5-tuple starts without corrections.
      alg_flows_[sessions_[session_id].alg_flow].adjust[0] = SequenceAdjust{};
      alg_flows_[sessions_[session_id].alg_flow].adjust[1] = SequenceAdjust{};
    }
  }

  std::int32_t length_change = 0;
  bool payload_changed = false;
  if (payload_start < total) {
    alg_payload_.assign(packet.begin() + static_cast<std::ptrdiff_t>(payload_start),
                        packet.begin() + static_cast<std::ptrdiff_t>(total));
    const detail::SessionRecord& session = sessions_[session_id];
    const detail::MappingRecord& mapping = mappings_[session.mapping];
    const AlgFlow flow{session.protocol, mapping.internal, mapping.external, session.remote};
    detail::AlgFlowRecord& record = alg_flows_[session.alg_flow];
    AlgContextImpl context(*this);
    // The ALG may register expectations, which adds sessions: no session reference survives this call.
    record.hook->on_payload(*record.state, flow, from, alg_payload_, context);
    const std::size_t old_size = total - payload_start;
    payload_changed = alg_payload_.size() != old_size ||
                      !std::equal(alg_payload_.begin(), alg_payload_.end(),
                                  packet.begin() + static_cast<std::ptrdiff_t>(payload_start));
    if (payload_changed && payload_start + alg_payload_.size() > 0xffffu) payload_changed = false;  // cannot grow
    if (payload_changed) {
      length_change = static_cast<std::int32_t>(alg_payload_.size()) - static_cast<std::int32_t>(old_size);
      packet.resize(payload_start);
      packet.insert(packet.end(), alg_payload_.begin(), alg_payload_.end());
      store16(&packet[kIpTotalLength], static_cast<std::uint16_t>(packet.size()));
      if (!tcp) store16(&packet[header + kUdpLength], static_cast<std::uint16_t>(packet.size() - header));
    }
  }

  std::uint8_t* transport = packet.data() + header;
  if (tcp) {
    detail::AlgFlowRecord& record = alg_flows_[sessions_[session_id].alg_flow];
    const std::uint32_t sequence = load32(transport + kTcpSequence);
    const std::uint32_t acknowledgement = load32(transport + kTcpAcknowledgement);
    if (length_change != 0) {
      record_length_change(record.adjust[way], sequence, faults.wrong_sequence_delta ? -length_change : length_change);
    }
    const std::uint32_t new_sequence =
        sequence + static_cast<std::uint32_t>(sequence_offset(record.adjust[way], sequence));
    std::uint32_t new_acknowledgement = acknowledgement;
    if ((transport[kTcpFlags] & tcp_flag::ack) != 0) {
      new_acknowledgement =
          acknowledgement - static_cast<std::uint32_t>(acknowledgement_offset(record.adjust[1 - way], acknowledgement));
    }
    store32(transport + kTcpSequence, new_sequence);
    store32(transport + kTcpAcknowledgement, new_acknowledgement);
    if (!payload_changed) {
      patch_checksum32(transport + kTcpChecksum, sequence, new_sequence);
      patch_checksum32(transport + kTcpChecksum, acknowledgement, new_acknowledgement);
    }
  }
  if (payload_changed) {
    if (faults.stale_checksum) {
      recompute_ip_header_checksum(packet, header);  // the transport checksum keeps its old value
    } else {
      recompute_checksums(packet);
    }
  }
}

std::optional<Endpoint> ReferenceNat::Impl::alg_expect(const AlgExpectation& expectation) {
  if (expectation.protocol == Protocol::icmp) return std::nullopt;
  const std::uint32_t mapping_id = obtain_mapping(expectation.protocol, expectation.internal, expectation.remote);
  if (mapping_id == kNone) return std::nullopt;
  const Endpoint external = mappings_[mapping_id].external;
  const std::uint32_t existing = find_session(expectation.protocol, external, expectation.remote);
  if (existing != kNone) {
    if (sessions_[existing].expected) {
      sessions_[existing].expires_at = std::max(sessions_[existing].expires_at, now_ + expectation.lifetime);
    }
    return external;
  }
  if (live_sessions_ >= config_.max_sessions) {
    if (mappings_[mapping_id].session_count == 0) remove_mapping(mapping_id);
    return std::nullopt;
  }
  // The expectation is a session that holds the mapping; it is not claimed by ALGs and does not open
  // the filter for anyone but its own remote until a packet uses it.
  const std::uint32_t id = create_session(expectation.protocol, mapping_id, expectation.remote);
  detail::SessionRecord& session = sessions_[id];
  session.expected = true;
  session.expires_at = now_ + expectation.lifetime;
  wheel_.schedule(id, session.generation, session.expires_at);
  return external;
}

std::uint32_t ReferenceNat::Impl::take_expectation(std::uint32_t mapping_id, Protocol protocol, Endpoint remote) {
  for (std::uint32_t s = mappings_[mapping_id].first_session; s != kNone; s = sessions_[s].next) {
    const detail::SessionRecord& candidate = sessions_[s];
    if (!candidate.expected || candidate.protocol != protocol || !session_alive(s)) continue;
    if (candidate.remote.address != 0 && candidate.remote.address != remote.address) continue;
    if (candidate.remote.port != 0 && candidate.remote.port != remote.port) continue;
    if (live_sessions_ >= config_.max_sessions) return kNone;
    // The new session first, so the mapping never drops to zero sessions.
    const std::uint32_t id = create_session(protocol, mapping_id, remote);
    remove_session(s);
    if (!algs_.empty()) claim_for_algs(id);
    return id;
  }
  return kNone;
}

void ReferenceNat::Impl::activate_expectation(std::uint32_t session_id) {
  sessions_[session_id].expected = false;
  refresh(session_id);
  if (!algs_.empty()) claim_for_algs(session_id);
}

}  // namespace natcert::ref
