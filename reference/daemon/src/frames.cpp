#include "frames.hpp"

#include <cstdio>
#include <cstring>

namespace natcert::ref::daemon {

namespace {

void write_mac(std::uint8_t* out, const MacAddress& mac) { std::memcpy(out, mac.data(), mac.size()); }
MacAddress read_mac(const std::uint8_t* in) {
  MacAddress mac;
  std::memcpy(mac.data(), in, mac.size());
  return mac;
}

}  // namespace

std::string format_mac(const MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

std::optional<EthernetHeader> parse_ethernet(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderSize) return std::nullopt;
  return EthernetHeader{read_mac(&frame[0]), read_mac(&frame[6]), load16(&frame[12])};
}

void write_ethernet(std::uint8_t* out, const MacAddress& destination, const MacAddress& source,
                    std::uint16_t ether_type) {
  write_mac(out, destination);
  write_mac(out + 6, source);
  store16(out + 12, ether_type);
}

std::optional<ArpMessage> parse_arp(std::span<const std::uint8_t> payload) {
  if (payload.size() < 28) return std::nullopt;
  if (load16(&payload[0]) != 1 || load16(&payload[2]) != kEtherTypeIpv4 || payload[4] != 6 || payload[5] != 4) {
    return std::nullopt;
  }
  const auto operation = load16(&payload[6]);
  if (operation != 1 && operation != 2) return std::nullopt;
  return ArpMessage{static_cast<ArpOperation>(operation), read_mac(&payload[8]), load32(&payload[14]),
                    read_mac(&payload[18]), load32(&payload[24])};
}

void write_arp_frame(std::uint8_t* out, const MacAddress& ethernet_destination, const ArpMessage& message) {
  write_ethernet(out, ethernet_destination, message.sender_mac, kEtherTypeArp);
  std::uint8_t* arp = out + kEthernetHeaderSize;
  store16(arp + 0, 1);  // hardware type: Ethernet
  store16(arp + 2, kEtherTypeIpv4);
  arp[4] = 6;
  arp[5] = 4;
  store16(arp + 6, static_cast<std::uint16_t>(message.operation));
  write_mac(arp + 8, message.sender_mac);
  store32(arp + 14, message.sender_ip);
  write_mac(arp + 18, message.target_mac);
  store32(arp + 24, message.target_ip);
}

ArpMessage arp_request(const MacAddress& our_mac, Ipv4Address our_ip, Ipv4Address target) {
  return ArpMessage{ArpOperation::request, our_mac, our_ip, MacAddress{}, target};
}

ArpMessage arp_reply(const ArpMessage& request, const MacAddress& our_mac, Ipv4Address our_ip) {
  return ArpMessage{ArpOperation::reply, our_mac, our_ip, request.sender_mac, request.sender_ip};
}

bool complete_transport_checksum(std::span<std::uint8_t> packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return false;
  const std::size_t header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  const std::size_t total = load16(&packet[2]);
  if (header < 20 || total < header || total > packet.size()) return false;
  if ((load16(&packet[6]) & 0x3fff) != 0) return false;  // a fragment (MF set or offset non-zero)
  const std::uint8_t protocol = packet[9];
  std::size_t field = 0;
  if (protocol == ip_protocol::udp) {
    field = header + 6;
  } else if (protocol == ip_protocol::tcp) {
    field = header + 16;
  } else {
    return false;
  }
  if (field + 2 > total) return false;
  const auto segment = packet.subspan(header, total - header);
  store16(&packet[field], 0);
  const auto pseudo = pseudo_header_sum(load32(&packet[12]), load32(&packet[16]), protocol,
                                        static_cast<std::uint16_t>(segment.size()));
  std::uint16_t checksum = internet_checksum(segment, pseudo);
  if (checksum == 0 && protocol == ip_protocol::udp) checksum = 0xffff;  // 0 means "no checksum" in UDP
  store16(&packet[field], checksum);
  return true;
}

}  // namespace natcert::ref::daemon
