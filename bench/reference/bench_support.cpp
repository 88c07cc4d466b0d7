#include "bench_support.hpp"

#include <malloc.h>

namespace natcert::bench {

std::vector<std::uint8_t> make_udp(Ipv4Address src, std::uint16_t sport, Ipv4Address dst, std::uint16_t dport,
                                   std::size_t payload) {
  std::vector<std::uint8_t> packet(28 + payload, 0xab);
  packet[0] = 0x45;
  packet[1] = 0;
  store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  store16(&packet[4], 1);
  store16(&packet[6], 0);
  packet[8] = 64;
  packet[9] = ip_protocol::udp;
  store32(&packet[12], src);
  store32(&packet[16], dst);
  store16(&packet[20], sport);
  store16(&packet[22], dport);
  store16(&packet[24], static_cast<std::uint16_t>(8 + payload));
  store16(&packet[26], 0);
  recompute_checksums(packet, false);
  return packet;
}

NatConfig bench_config() {
  NatConfig config = defaults();
  config.max_sessions = 8u * 1024u * 1024u;
  config.ports.preserve_port = false;
  config.external_addresses.clear();
  for (Ipv4Address a = 0xcb007101; a < 0xcb007101 + 80; ++a) config.external_addresses.push_back(a);
  config.pooling = Pooling::arbitrary;
  return config;
}

std::vector<std::vector<std::uint8_t>> population(std::size_t first, std::size_t count) {
  std::vector<std::vector<std::uint8_t>> packets;
  packets.reserve(count);
  for (std::size_t i = first; i < first + count; ++i) packets.push_back(make_udp(host_of(i), port_of(i), kRemote, 3478));
  return packets;
}

std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

}  // namespace natcert::bench
