// Vocabulary shared by every harness header: sides, endpoints, byte buffers and durations.
// The harness reuses the reference NAT's types so packets and endpoints mean the same thing everywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/reference/nat.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::harness {

using ref::Bytes;        // std::span<const std::uint8_t>
using ref::Endpoint;     // {address, port}; for ICMP queries the port is the identifier
using ref::Ipv4Address;  // host byte order
using ref::Side;         // Side::inside, Side::outside

// Raw IPv4 packet (or any byte string) owned by the caller.
using Packet = std::vector<std::uint8_t>;

// Time on the testbed's clock: virtual in-process, real on the wire. Always measured from session start.
using Duration = std::chrono::nanoseconds;

// Default windows for expectations. Generous for real links, free on virtual time.
inline constexpr Duration reply_window = std::chrono::seconds(1);    // a reply that should come "at once"
inline constexpr Duration silence_window = std::chrono::seconds(2);  // how long "nothing arrives" is watched

// "198.51.100.10:3478".
std::string to_string(Endpoint endpoint);
// Parses "a.b.c.d:port"; nullopt on anything else.
std::optional<Endpoint> parse_endpoint(std::string_view text);
// Parses a dotted quad; throws std::invalid_argument on bad text (for literals in test code).
Ipv4Address ipv4(std::string_view text);
// Human-readable duration: "150 ms", "2 s", "2 min 5 s".
std::string format_duration(Duration duration);

}  // namespace natcert::harness
