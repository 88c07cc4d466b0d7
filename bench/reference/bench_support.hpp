// Shared pieces of the reference NAT micro-benchmarks: hand-built packets (no libtins dependency), a
// configuration with room for millions of mappings, and the inside population.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "natcert/reference/nat.hpp"

namespace natcert::bench {

using namespace natcert::ref;

inline constexpr Ipv4Address kInsideBase = 0x0a000000;  // 10.0.0.0/8: room for millions of inside endpoints
inline constexpr Ipv4Address kRemote = 0xc6336410;      // 198.51.100.16

// A UDP packet with valid checksums.
std::vector<std::uint8_t> make_udp(Ipv4Address src, std::uint16_t sport, Ipv4Address dst, std::uint16_t dport,
                                   std::size_t payload = 64);

// rfc-strict defaults with 8M sessions and 80 external addresses (about 5M ports), arbitrary pooling.
NatConfig bench_config();

// Endpoint i of the inside population: distinct hosts and ports so every flow is its own mapping.
inline Ipv4Address host_of(std::size_t i) { return kInsideBase + 1 + static_cast<Ipv4Address>(i / 50000); }
inline std::uint16_t port_of(std::size_t i) { return static_cast<std::uint16_t>(10000 + i % 50000); }

// Outbound packets of flows [first, first + count).
std::vector<std::vector<std::uint8_t>> population(std::size_t first, std::size_t count);

// Heap in use, including large blocks malloc serves with mmap (table arrays at millions of sessions).
std::size_t heap_in_use();

}  // namespace natcert::bench
