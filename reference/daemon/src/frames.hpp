// Ethernet and ARP frames as the daemon sees and sends them: pure functions over byte spans, no I/O,
// so they are unit-tested without privileges.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "natcert/reference/packet.hpp"

namespace natcert::ref::daemon {

using MacAddress = std::array<std::uint8_t, 6>;
inline constexpr MacAddress kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::string format_mac(const MacAddress& mac);  // "aa:bb:cc:dd:ee:ff"

inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kArpFrameSize = kEthernetHeaderSize + 28;
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;

struct EthernetHeader {
  MacAddress destination{};
  MacAddress source{};
  std::uint16_t ether_type = 0;
};
// Nullopt when the frame is shorter than an Ethernet header.
std::optional<EthernetHeader> parse_ethernet(std::span<const std::uint8_t> frame);
void write_ethernet(std::uint8_t* out, const MacAddress& destination, const MacAddress& source,
                    std::uint16_t ether_type);

enum class ArpOperation : std::uint16_t { request = 1, reply = 2 };
struct ArpMessage {
  ArpOperation operation = ArpOperation::request;
  MacAddress sender_mac{};
  Ipv4Address sender_ip = 0;
  MacAddress target_mac{};
  Ipv4Address target_ip = 0;
};
// Parses the ARP payload (after the Ethernet header); only Ethernet/IPv4 ARP is accepted.
std::optional<ArpMessage> parse_arp(std::span<const std::uint8_t> payload);
// Writes a whole ARP frame (Ethernet header included, kArpFrameSize bytes).
void write_arp_frame(std::uint8_t* out, const MacAddress& ethernet_destination, const ArpMessage& message);

// The request asking who has `target` (broadcast), and the reply telling `request`'s sender that
// `our_ip` is at `our_mac` (unicast to the sender).
ArpMessage arp_request(const MacAddress& our_mac, Ipv4Address our_ip, Ipv4Address target);
ArpMessage arp_reply(const ArpMessage& request, const MacAddress& our_mac, Ipv4Address our_ip);

// A packet the local kernel sent with checksum offload (TP_STATUS_CSUMNOTREADY) carries only the
// pseudo-header sum in its UDP/TCP checksum field. Computes the real checksum in place; returns false
// (and leaves the packet alone) when it is not a complete, unfragmented UDP or TCP datagram.
bool complete_transport_checksum(std::span<std::uint8_t> packet);

}  // namespace natcert::ref::daemon
