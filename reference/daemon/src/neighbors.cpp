#include "neighbors.hpp"

namespace natcert::ref::daemon {

bool ArpCache::learn(Ipv4Address address, const MacAddress& mac) {
  if (address == 0) return false;
  if (const auto it = entries_.find(address); it != entries_.end()) {
    if (it->second == mac) return false;
    it->second = mac;
    return true;
  }
  if (capacity_ == 0) return false;
  if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
  last_ = nullptr;  // the erase above may have freed the memoised entry
  entries_.emplace(address, mac);
  return true;
}

PendingResolutions::Queued PendingResolutions::enqueue(Ipv4Address hop, std::span<const std::uint8_t> packet,
                                                       TimePoint now) {
  auto it = entries_.find(hop);
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.hops || limits_.packets_per_hop == 0) return Queued::no_room;
    Entry entry;
    entry.packets.emplace_back(packet.begin(), packet.end());
    entry.requests_sent = 1;
    entry.next_request = now + limits_.retry_interval;
    entries_.emplace(hop, std::move(entry));
    return Queued::first;
  }
  auto& packets = it->second.packets;
  const bool full = packets.size() >= limits_.packets_per_hop;
  if (full) packets.pop_front();
  packets.emplace_back(packet.begin(), packet.end());
  return full ? Queued::dropped_oldest : Queued::queued;
}

std::deque<std::vector<std::uint8_t>> PendingResolutions::resolve(Ipv4Address hop) {
  const auto it = entries_.find(hop);
  if (it == entries_.end()) return {};
  auto packets = std::move(it->second.packets);
  entries_.erase(it);
  return packets;
}

std::size_t PendingResolutions::tick(TimePoint now, std::vector<Ipv4Address>& retry) {
  std::size_t dropped = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& entry = it->second;
    if (entry.next_request > now) {
      ++it;
      continue;
    }
    if (entry.requests_sent >= limits_.max_requests) {
      dropped += entry.packets.size();
      it = entries_.erase(it);
      continue;
    }
    ++entry.requests_sent;
    entry.next_request = now + limits_.retry_interval;
    retry.push_back(it->first);
    ++it;
  }
  return dropped;
}

std::size_t PendingResolutions::packets(Ipv4Address hop) const {
  const auto it = entries_.find(hop);
  return it == entries_.end() ? 0 : it->second.packets.size();
}

}  // namespace natcert::ref::daemon
