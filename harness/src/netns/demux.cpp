#include "netns/demux.hpp"

#include <algorithm>

namespace natcert::harness::netns {
namespace {

constexpr PortRanges kFull{};
constexpr std::size_t kPoolLimit = 8192;
constexpr auto kPoolAge = std::chrono::seconds(120);
constexpr auto kFragmentAge = std::chrono::seconds(30);

std::size_t index(Side side) { return side == Side::inside ? 0 : 1; }

}  // namespace

Demux::Demux(std::size_t slices) : slices_(std::max<std::size_t>(1, slices)), sessions_(slices_) {
  high_size_ = static_cast<std::uint32_t>((unsigned{kFull.high_last} - kFull.high_first + 1) / slices_);
  low_size_ = static_cast<std::uint32_t>((unsigned{kFull.low_last} - kFull.low_first + 1) / slices_);
  if (low_size_ == 0) low_size_ = 1;
  for (std::size_t i = 0; i < slices_; ++i) free_.push_back(i);
}

std::optional<std::size_t> Demux::open(Clock::time_point start) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.empty()) return std::nullopt;
  const std::size_t slice = free_.front();
  free_.pop_front();
  auto& state = sessions_[slice];
  state.active = true;
  state.start = start;
  state.queues[0].clear();
  state.queues[1].clear();
  return slice;
}

void Demux::close(std::size_t slice) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& state = sessions_[slice];
  state.active = false;
  state.queues[0].clear();
  state.queues[1].clear();
  for (auto it = icmp_ids_.begin(); it != icmp_ids_.end();) it = it->second == slice ? icmp_ids_.erase(it) : std::next(it);
  free_.push_back(slice);  // reused last: ports of a finished test rest as long as possible
}

PortRanges Demux::ports(std::size_t slice) const {
  PortRanges ranges;
  ranges.high_first = static_cast<std::uint16_t>(kFull.high_first + slice * high_size_);
  ranges.high_last = static_cast<std::uint16_t>(ranges.high_first + high_size_ - 1);
  const std::size_t low_slices = (unsigned{kFull.low_last} - kFull.low_first + 1) / low_size_;
  const std::size_t low_slice = slice % std::max<std::size_t>(1, low_slices);
  ranges.low_first = static_cast<std::uint16_t>(kFull.low_first + low_slice * low_size_);
  ranges.low_last = static_cast<std::uint16_t>(ranges.low_first + low_size_ - 1);
  return ranges;
}

std::optional<std::size_t> Demux::slice_of_port(std::uint16_t port) const {
  std::size_t slice = slices_;
  if (port >= kFull.high_first && port <= kFull.high_last) {
    slice = (port - kFull.high_first) / high_size_;
  } else if (port >= kFull.low_first && port <= kFull.low_last) {
    slice = (port - kFull.low_first) / low_size_;
  }
  if (slice >= slices_ || !sessions_[slice].active) return std::nullopt;
  const PortRanges ranges = ports(slice);
  const bool inside_slice = (port >= ranges.high_first && port <= ranges.high_last) ||
                            (port >= ranges.low_first && port <= ranges.low_last);
  if (!inside_slice) return std::nullopt;
  return slice;
}

void Demux::note_sent(std::size_t slice, Bytes packet) {
  const auto parsed = ref::parse_packet(packet, ref::ParseOptions{.verify_ip_checksum = false});
  if (!parsed.ok() || parsed.packet.kind != ref::TransportKind::icmp_query) return;
  std::lock_guard<std::mutex> lock(mutex_);
  icmp_ids_[parsed.packet.icmp.identifier()] = slice;
}

std::optional<std::size_t> Demux::owner(Side side, const Packet& bytes, Clock::time_point at) {
  const auto parsed = ref::parse_packet(bytes, ref::ParseOptions{.verify_ip_checksum = false});
  if (!parsed.ok()) return std::nullopt;
  const auto& view = parsed.packet;
  const FragmentKey key{view.ip.source(), view.ip.destination(), view.ip.protocol(), view.ip.identification()};
  std::optional<std::size_t> found;
  // Only unambiguous evidence assigns a packet; anything else goes to the shared pool, where the
  // session whose matcher accepts it finds it. (A DUT that picks external ports at random may pick
  // one inside another session's slice, so a translated source port proves nothing.)
  switch (view.kind) {
    case ref::TransportKind::udp:
      found = slice_of_port(view.udp.destination_port());
      break;
    case ref::TransportKind::tcp:
      found = slice_of_port(view.tcp.destination_port());
      break;
    case ref::TransportKind::icmp_query: {
      // An identifier an emulated host used is the strongest evidence. Failing that, on the inside
      // the identifier is one an emulated host chose (its slice owns it); on the outside a request's
      // identifier is the DUT's choice (it translates identifiers like ports, at random for some) and
      // proves nothing, while a reply's is the one the emulated outside host chose.
      const auto it = icmp_ids_.find(view.icmp.identifier());
      if (it != icmp_ids_.end() && sessions_[it->second].active) {
        found = it->second;
      } else if (side == Side::inside || view.icmp.type() == 0) {
        found = slice_of_port(view.icmp.identifier());
      }
      break;
    }
    case ref::TransportKind::icmp_error:
      // On the outside a quoted ICMP query carries the identifier the DUT chose: no evidence.
      if (side == Side::outside && view.embedded.ip.bytes.size() >= 20 && view.embedded.ip.protocol() == 1) break;
      if (view.embedded.has_ports()) {
        // The quoted packet is one an emulated host sent (source) or one sent to it (destination):
        // either port may be the session's; when both are owned by different sessions, it is ambiguous.
        const auto by_source = slice_of_port(view.embedded.source_port());
        const auto by_destination = slice_of_port(view.embedded.destination_port());
        if (by_source && by_destination && *by_source != *by_destination) break;
        found = by_source ? by_source : by_destination;
      }
      break;
    case ref::TransportKind::none:
      if (!view.ip.is_first_fragment_or_whole()) {
        const auto it = fragments_.find(key);
        if (it != fragments_.end() && sessions_[it->second.first].active) found = it->second.first;
      }
      break;
    default:
      break;
  }
  if (found && view.ip.is_fragment() && view.ip.is_first_fragment_or_whole()) {
    for (auto it = fragments_.begin(); it != fragments_.end();) {
      it = at - it->second.second > kFragmentAge ? fragments_.erase(it) : std::next(it);
    }
    fragments_[key] = {*found, at};
  }
  return found;
}

void Demux::deliver(Side side, Clock::time_point at, Packet bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto slice = owner(side, bytes, at);
    if (slice) {
      sessions_[*slice].queues[index(side)].push_back(Entry{at, std::move(bytes)});
      ++delivered_;
    } else {
      auto& pool = pool_[index(side)];
      while (!pool.empty() && (pool.size() >= kPoolLimit || at - pool.front().at > kPoolAge)) pool.pop_front();
      pool.push_back(Entry{at, std::move(bytes)});
      ++unclaimed_;
    }
  }
  arrived_.notify_all();
}

Captured Demux::to_captured(std::size_t slice, Side side, Entry entry) const {
  return Captured{side, std::chrono::duration_cast<Duration>(entry.at - sessions_[slice].start), std::move(entry.bytes)};
}

std::optional<Captured> Demux::receive(std::size_t slice, Side side, const Matcher& matcher, Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto& state = sessions_[slice];
  for (;;) {
    auto& queue = state.queues[index(side)];
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (matcher.matches(it->bytes)) {
        Entry entry = std::move(*it);
        queue.erase(it);
        return to_captured(slice, side, std::move(entry));
      }
    }
    auto& pool = pool_[index(side)];
    for (auto it = pool.begin(); it != pool.end(); ++it) {
      if (it->at >= state.start && matcher.matches(it->bytes)) {
        Entry entry = std::move(*it);
        pool.erase(it);
        return to_captured(slice, side, std::move(entry));
      }
    }
    if (Clock::now() >= deadline) return std::nullopt;
    arrived_.wait_until(lock, deadline);
  }
}

std::vector<Captured> Demux::drain(std::size_t slice, Side side) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& queue = sessions_[slice].queues[index(side)];
  std::vector<Captured> out;
  for (auto& entry : queue) out.push_back(to_captured(slice, side, std::move(entry)));
  queue.clear();
  return out;
}

std::uint64_t Demux::delivered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return delivered_;
}

std::uint64_t Demux::unclaimed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return unclaimed_;
}

}  // namespace natcert::harness::netns
