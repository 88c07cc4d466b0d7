// Next-hop selection, the ARP cache and the packets waiting for an ARP answer: the daemon's layer-2
// bookkeeping, pure (no sockets, no clock) so it is unit-tested without privileges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "frames.hpp"
#include "natcert/reference/config.hpp"

namespace natcert::ref::daemon {

struct Subnet {
  Ipv4Address network = 0;
  unsigned prefix_length = 0;
  bool contains(Ipv4Address address) const {
    const Ipv4Address mask = prefix_length == 0 ? 0 : ~Ipv4Address{0} << (32 - prefix_length);
    return (address & mask) == (network & mask);
  }
};

// On-link destinations are their own next hop; others go to the gateway, or are treated as on-link
// when there is none (gateway 0).
inline Ipv4Address next_hop(Ipv4Address destination, const Subnet& link, Ipv4Address gateway) {
  return gateway == 0 || link.contains(destination) ? destination : gateway;
}

// IPv4 → MAC for one interface. Entries are learnt from every ARP request and reply seen and never
// expire (a neighbour that changes its MAC announces it by ARP). Bounded: when full, a new neighbour
// replaces an arbitrary old one.
class ArpCache {
 public:
  explicit ArpCache(std::size_t capacity = 65536) : capacity_(capacity) { entries_.reserve(capacity < 1024 ? capacity : 1024); }

  const MacAddress* find(Ipv4Address address) const {
    if (address == last_address_ && last_ != nullptr) return last_;
    const auto it = entries_.find(address);
    if (it == entries_.end()) return nullptr;
    last_address_ = address;
    last_ = &it->second;
    return last_;
  }
  // Returns true when the entry is new or its MAC changed.
  bool learn(Ipv4Address address, const MacAddress& mac);
  void clear() {
    entries_.clear();
    last_ = nullptr;
  }
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<Ipv4Address, MacAddress> entries_;
  mutable Ipv4Address last_address_ = 0;
  mutable const MacAddress* last_ = nullptr;
};

// IP packets waiting for their next hop's MAC. Off the established path: allocation is fine here.
// Bounded per next hop (the oldest packet goes first) and in the number of next hops; a next hop is
// asked `max_requests` times, `retry_interval` apart, then its queue is dropped.
class PendingResolutions {
 public:
  struct Limits {
    std::size_t packets_per_hop = 32;
    std::size_t hops = 1024;
    unsigned max_requests = 3;
    Duration retry_interval = std::chrono::seconds(1);
  };
  enum class Queued {
    first,           // a new next hop: send an ARP request now
    queued,          // a request is outstanding already
    dropped_oldest,  // queued, and the queue's oldest packet was dropped to make room
    no_room,         // too many unresolved next hops: the packet was dropped
  };

  PendingResolutions() : PendingResolutions(Limits{}) {}
  explicit PendingResolutions(Limits limits) : limits_(limits) {}

  Queued enqueue(Ipv4Address hop, std::span<const std::uint8_t> packet, TimePoint now);
  // The packets waiting for `hop`, oldest first; the entry is gone afterwards (empty if none).
  std::deque<std::vector<std::uint8_t>> resolve(Ipv4Address hop);
  // Next hops due for another request are appended to `retry`; returns how many packets were
  // dropped because their next hop never answered.
  std::size_t tick(TimePoint now, std::vector<Ipv4Address>& retry);
  std::size_t hops() const { return entries_.size(); }
  std::size_t packets(Ipv4Address hop) const;
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::deque<std::vector<std::uint8_t>> packets;
    unsigned requests_sent = 0;
    TimePoint next_request{};
  };
  Limits limits_;
  std::unordered_map<Ipv4Address, Entry> entries_;
};

}  // namespace natcert::ref::daemon
