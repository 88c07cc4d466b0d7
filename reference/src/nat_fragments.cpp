// Fragments in the reference NAT: in-order-only, any-order (buffer until the header fragment
// arrives) and full reassembly (RFC 4787 REQ-14, REQ-14a), and the outside MTU with DF handling
// (REQ-13, REQ-13a).
#include <algorithm>

#include "engine.hpp"

namespace natcert::ref {

namespace detail {
void rewrite_address(std::uint8_t* ip, std::size_t field, Ipv4Address value, std::uint8_t* transport,
                     std::uint8_t protocol);
}  // namespace detail

using namespace detail;

namespace {

FragmentKey key_of(const Ipv4View& ip, Side side) {
  return FragmentKey{ip.source(), ip.destination(), ip.identification(), ip.protocol(), side};
}

std::uint16_t fragment_offset_of(const std::vector<std::uint8_t>& fragment) {
  return static_cast<std::uint16_t>((load16(&fragment[6]) & 0x1fff) * 8);
}
std::size_t header_length_of(const std::vector<std::uint8_t>& fragment) { return (fragment[0] & 0x0f) * 4u; }
bool more_fragments_of(const std::vector<std::uint8_t>& fragment) { return (fragment[6] & 0x20) != 0; }

void set_identification(std::vector<std::uint8_t>& packet, std::uint16_t id) {
  store16(&packet[4], id);
  store16(&packet[10], 0);
  store16(&packet[10], internet_checksum(Bytes(packet.data(), header_length_of(packet))));
}

// Rebuilds the datagram from its fragments when they cover it exactly; empty when incomplete or when
// fragments overlap (overlaps are refused: they are a classic evasion and DoS vector).
enum class Assembly { incomplete, complete, overlapping };
Assembly assemble(std::vector<std::vector<std::uint8_t>>& fragments, std::vector<std::uint8_t>& datagram) {
  std::sort(fragments.begin(), fragments.end(),
            [](const auto& a, const auto& b) { return fragment_offset_of(a) < fragment_offset_of(b); });
  std::size_t covered = 0;
  bool saw_last = false;
  for (const auto& fragment : fragments) {
    const std::size_t offset = fragment_offset_of(fragment);
    const std::size_t length = fragment.size() - header_length_of(fragment);
    if (offset < covered) return Assembly::overlapping;
    if (offset > covered) return Assembly::incomplete;
    covered = offset + length;
    if (!more_fragments_of(fragment)) {
      saw_last = true;
      break;
    }
  }
  if (!saw_last || fragment_offset_of(fragments.front()) != 0) return Assembly::incomplete;
  const std::vector<std::uint8_t>& first = fragments.front();
  const std::size_t header = header_length_of(first);
  if (header + covered > 65535) return Assembly::overlapping;
  datagram.assign(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(header));
  for (const auto& fragment : fragments) {
    datagram.insert(datagram.end(), fragment.begin() + static_cast<std::ptrdiff_t>(header_length_of(fragment)),
                    fragment.end());
    if (datagram.size() >= header + covered) break;
  }
  store16(&datagram[2], static_cast<std::uint16_t>(datagram.size()));
  store16(&datagram[6], static_cast<std::uint16_t>(load16(&datagram[6]) & 0x4000));  // keep DF only
  store16(&datagram[10], 0);
  store16(&datagram[10], internet_checksum(Bytes(datagram.data(), header)));
  return Assembly::complete;
}

}  // namespace

bool ReferenceNat::Impl::make_fragment_room() {
  if (fragments_.size() < config_.fragments.max_pending_datagrams) return true;
  if (!config_.fragments.evict_oldest_when_full) return false;
  // REQ-14a: the oldest incomplete datagram goes first, so a flood cannot starve in-order traffic.
  auto victim = fragments_.end();
  for (auto it = fragments_.begin(); it != fragments_.end(); ++it) {
    const bool better = victim == fragments_.end() || (!it->second.translated && victim->second.translated) ||
                        (it->second.translated == victim->second.translated &&
                         it->second.deadline < victim->second.deadline);
    if (better) victim = it;
  }
  fragments_.erase(victim);
  return true;
}

bool ReferenceNat::Impl::handle_fragment(const PacketView& view, Side side, Output& out) {
  const FragmentBehavior& policy = config_.fragments;
  const FragmentHandling mode = side == Side::outside ? policy.inbound : policy.outbound;
  if (mode == FragmentHandling::none) {
    out.drop(DropReason::fragment_dropped);  // "Receive Fragments None": violates RFC 4787 REQ-14
    return true;
  }
  const FragmentKey key = key_of(view.ip, side);
  auto found = fragments_.find(key);

  if (mode == FragmentHandling::reassemble) {
    if (found == fragments_.end()) {
      if (!make_fragment_room()) {
        out.drop(DropReason::fragment_dropped);  // REQ-14a: bounded state under a fragment flood
        return true;
      }
      found = fragments_.emplace(key, FragmentFlow{}).first;
      found->second.deadline = now_ + policy.reassembly_timeout;
    }
    FragmentFlow& flow = found->second;
    if (flow.buffered.size() >= policy.max_fragments_per_datagram) {
      fragments_.erase(found);
      out.drop(DropReason::fragment_dropped);
      return true;
    }
    flow.buffered.emplace_back(view.ip.bytes.begin(), view.ip.bytes.end());
    std::vector<std::uint8_t> datagram;
    const Assembly result = assemble(flow.buffered, datagram);
    if (result == Assembly::incomplete) {
      out.drop(DropReason::fragment_buffered);
      return true;
    }
    fragments_.erase(found);
    if (result == Assembly::overlapping) {
      out.drop(DropReason::fragment_dropped);
      return true;
    }
    const ParseResult parsed = parse_packet(datagram, ParseOptions{});
    if (!parsed.ok()) {
      out.drop(DropReason::malformed, parsed.error);
      return true;
    }
    process_parsed(parsed.packet, side, out, false);
    return true;
  }

  if (view.ip.is_first_fragment_or_whole()) {
    if (view.kind == TransportKind::none) {
      out.drop(DropReason::fragment_dropped);  // a tiny first fragment: no ports to translate with
      return true;
    }
    return false;  // translated like any packet; remember_fragment_translation() follows
  }
  if (found != fragments_.end() && found->second.translated) {
    forward_fragment(std::vector<std::uint8_t>(view.ip.bytes.begin(), view.ip.bytes.end()), found->second, out);
    return true;
  }
  if (mode == FragmentHandling::in_order_only) {
    out.drop(DropReason::fragment_dropped);  // violates RFC 4787 REQ-14
    return true;
  }
  if (found == fragments_.end()) {
    if (!make_fragment_room()) {
      out.drop(DropReason::fragment_dropped);
      return true;
    }
    found = fragments_.emplace(key, FragmentFlow{}).first;
    found->second.deadline = now_ + policy.reassembly_timeout;
  }
  if (found->second.buffered.size() >= policy.max_fragments_per_datagram) {
    out.drop(DropReason::fragment_dropped);
    return true;
  }
  found->second.buffered.emplace_back(view.ip.bytes.begin(), view.ip.bytes.end());
  out.drop(DropReason::fragment_buffered);
  return true;
}

void ReferenceNat::Impl::remember_fragment_translation(const PacketView& original, Ipv4Address new_source,
                                                       Ipv4Address new_destination, Side to, EmitKind kind,
                                                       Output& out) {
  const Side from = to == Side::outside ? Side::inside : Side::outside;
  const FragmentKey key = key_of(original.ip, from);
  auto found = fragments_.find(key);
  if (found == fragments_.end()) {
    if (!make_fragment_room()) return;  // later fragments of this datagram will be dropped
    found = fragments_.emplace(key, FragmentFlow{}).first;
  }
  FragmentFlow& flow = found->second;
  flow.translated = true;
  flow.new_source = new_source;
  flow.new_destination = new_destination;
  flow.to = to;
  flow.kind = kind;
  flow.deadline = now_ + config_.fragments.reassembly_timeout;
  std::vector<std::vector<std::uint8_t>> waiting;
  waiting.swap(flow.buffered);
  for (auto& fragment : waiting) forward_fragment(std::move(fragment), flow, out);
}

void ReferenceNat::Impl::assign_outbound_fragment_id(const PacketView& original, std::vector<std::uint8_t>& packet) {
  if (config_.fragments.outbound_ids != FragmentIds::unique) return;
  const FragmentKey key = key_of(original.ip, Side::inside);
  auto found = fragments_.find(key);
  if (found == fragments_.end()) {
    if (!make_fragment_room()) return;  // later fragments of this datagram will be dropped anyway
    found = fragments_.emplace(key, FragmentFlow{}).first;
    found->second.deadline = now_ + config_.fragments.reassembly_timeout;
  }
  // One ID per datagram (a repeated header fragment keeps it), from one counter for the whole NAT:
  // two inside hosts that picked the same ID no longer share (X', Y, protocol, ID) outside.
  if (!found->second.new_id) found->second.new_id = next_fragment_id_++;
  set_identification(packet, *found->second.new_id);
}

void ReferenceNat::Impl::forward_fragment(std::vector<std::uint8_t> fragment, const FragmentFlow& flow,
                                          Output& out) {
  rewrite_address(fragment.data(), 12, flow.new_source, nullptr, fragment[9]);
  rewrite_address(fragment.data(), 16, flow.new_destination, nullptr, fragment[9]);
  decrement_ttl(fragment);
  if (flow.new_id && flow.to == Side::outside) set_identification(fragment, *flow.new_id);
  if (flow.to == Side::outside && fragment.size() > config_.fragments.outside_mtu) {
    const ParseResult parsed = parse_packet(fragment, ParseOptions{false});
    if (parsed.ok()) emit_outside(fragment, flow.kind, parsed.packet, out);
    return;
  }
  std::vector<std::uint8_t>& slot = out.emit(flow.to, flow.kind);
  slot = std::move(fragment);
  ++stats_.packets_out;
}

void ReferenceNat::Impl::emit_outside(std::vector<std::uint8_t>& packet, EmitKind kind, const PacketView& original,
                                      Output& out) {
  const std::size_t mtu = config_.fragments.outside_mtu;
  if (packet.size() <= mtu) {
    std::vector<std::uint8_t>& slot = out.emit(Side::outside, kind);
    slot = std::move(packet);
    ++stats_.packets_out;
    return;
  }
  const bool dont_fragment = (packet[6] & 0x40) != 0;
  if (dont_fragment || config_.fragments.oversize == OversizeHandling::drop) {
    if (dont_fragment && config_.icmp_behavior.generate_fragmentation_needed && may_generate_icmp_about(original)) {
      // RFC 4787 REQ-13 / RFC 1191: "fragmentation needed and DF set" with the next-hop MTU.
      generate_icmp_error(original, icmp_type::destination_unreachable, 4, static_cast<std::uint32_t>(mtu),
                          config_.inside_address, Side::inside, out);
    }
    out.drop(DropReason::too_big);
    return;
  }

  // RFC 791 fragmentation. Options with the "copied" flag go into every fragment; the others stay in
  // the first one only.
  const std::size_t header = header_length_of(packet);
  std::vector<std::uint8_t> copied_options;
  for (std::size_t i = 20; i < header;) {
    const std::uint8_t option = packet[i];
    if (option == 0) break;
    if (option == 1) {
      ++i;
      continue;
    }
    const std::size_t length = i + 1 < header ? packet[i + 1] : 0;
    if (length < 2 || i + length > header) break;
    if ((option & 0x80) != 0) copied_options.insert(copied_options.end(), &packet[i], &packet[i] + length);
    i += length;
  }
  while (copied_options.size() % 4 != 0) copied_options.push_back(0);

  const std::size_t base_offset = fragment_offset_of(packet);
  const bool base_more = more_fragments_of(packet);
  const std::size_t payload = packet.size() - header;
  std::vector<std::vector<std::uint8_t>> pieces;
  for (std::size_t done = 0; done < payload;) {
    const std::size_t this_header = done == 0 ? header : 20 + copied_options.size();
    std::size_t chunk = ((mtu - this_header) / 8) * 8;
    const bool last = done + chunk >= payload;
    if (last) chunk = payload - done;
    std::vector<std::uint8_t> piece(this_header + chunk);
    if (done == 0) {
      std::copy_n(packet.begin(), header, piece.begin());
    } else {
      std::copy_n(packet.begin(), 20, piece.begin());
      std::copy(copied_options.begin(), copied_options.end(), piece.begin() + 20);
      piece[0] = static_cast<std::uint8_t>(0x40 | (this_header / 4));
    }
    std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(header + done), chunk,
                piece.begin() + static_cast<std::ptrdiff_t>(this_header));
    store16(&piece[2], static_cast<std::uint16_t>(piece.size()));
    const bool more = !last || base_more;
    store16(&piece[6], static_cast<std::uint16_t>((more ? 0x2000 : 0) | ((base_offset + done) / 8)));
    store16(&piece[10], 0);
    store16(&piece[10], internet_checksum(Bytes(piece.data(), this_header)));
    pieces.push_back(std::move(piece));
    done += chunk;
  }
  if (config_.fragments.oversize == OversizeHandling::fragment_reversed) std::reverse(pieces.begin(), pieces.end());
  for (auto& piece : pieces) {
    std::vector<std::uint8_t>& slot = out.emit(Side::outside, EmitKind::fragment);
    slot = std::move(piece);
    ++stats_.packets_out;
  }
}

void ReferenceNat::Impl::expire_fragments(TimePoint now) {
  // The table is bounded by fragments.max_pending_datagrams, so this walk is bounded too.
  for (auto it = fragments_.begin(); it != fragments_.end();) {
    it = it->second.deadline <= now ? fragments_.erase(it) : std::next(it);
  }
}

}  // namespace natcert::ref
