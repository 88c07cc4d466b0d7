// Demultiplexing captured packets to the sessions (tests) waiting for them, so tests share one DUT
// concurrently.
//
// Every session owns a disjoint slice of the port ranges (PortRanges): its emulated hosts use only
// those ports, so a packet the DUT emits towards an emulated host belongs to the session owning
//   - UDP/TCP: the destination port (the emulated host's own port);
//   - ICMP query (echo ...): the session that sent a query with that identifier, else the identifier's slice;
//   - ICMP error: the quoted packet's source port (the emulated host sent the quoted packet) or its
//     destination port, when they do not point at two different sessions;
//   - a non-first fragment: the session that owned the first fragment of the same datagram.
// Packets no session owns go to a shared pool per side, which every session's receive() also
// searches (only packets captured after it opened). Nothing captured is lost: the pcap has it all.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "natcert/harness/matcher.hpp"
#include "natcert/harness/testbed.hpp"

namespace natcert::harness::netns {

using Clock = std::chrono::steady_clock;

class Demux {
 public:
  // Splits the full PortRanges into `slices` disjoint slices.
  explicit Demux(std::size_t slices);

  std::size_t slices() const { return slices_; }
  // Claims the least recently used free slice for a new session; nullopt when all are taken.
  std::optional<std::size_t> open(Clock::time_point start);
  void close(std::size_t slice);
  PortRanges ports(std::size_t slice) const;

  // Called before a session sends: remembers ICMP query identifiers it uses.
  void note_sent(std::size_t slice, Bytes packet);
  // From a capture thread: a packet addressed to an emulated host on `side`.
  void deliver(Side side, Clock::time_point at, Packet bytes);

  // First queued (own queue, then the shared pool) packet matching, waiting until `deadline`.
  std::optional<Captured> receive(std::size_t slice, Side side, const Matcher& matcher, Clock::time_point deadline);
  std::vector<Captured> drain(std::size_t slice, Side side);

  std::uint64_t delivered() const;
  std::uint64_t unclaimed() const;

 private:
  struct Entry {
    Clock::time_point at;
    Packet bytes;
  };
  struct SessionState {
    bool active = false;
    Clock::time_point start{};
    std::deque<Entry> queues[2];
  };
  using FragmentKey = std::tuple<std::uint32_t, std::uint32_t, std::uint8_t, std::uint16_t>;

  std::optional<std::size_t> slice_of_port(std::uint16_t port) const;  // active sessions only
  std::optional<std::size_t> owner(Side side, const Packet& bytes, Clock::time_point at);
  Captured to_captured(std::size_t slice, Side side, Entry entry) const;

  std::size_t slices_;
  std::uint32_t high_size_;
  std::uint32_t low_size_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<SessionState> sessions_;
  std::deque<std::size_t> free_;
  std::map<std::uint16_t, std::size_t> icmp_ids_;
  std::map<FragmentKey, std::pair<std::size_t, Clock::time_point>> fragments_;
  std::deque<Entry> pool_[2];
  std::uint64_t delivered_ = 0;
  std::uint64_t unclaimed_ = 0;
};

}  // namespace natcert::harness::netns
