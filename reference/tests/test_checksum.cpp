// Internet checksum: the fast sum against a naive byte-wise oracle, RFC examples, and incremental
// updates (RFC 1624) against full recomputation on randomly rewritten packets.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "natcert/reference/checksum.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::ref {
namespace {

using ByteVector = std::vector<std::uint8_t>;

// The textbook loop, one big-endian 16-bit word at a time, never folded (inputs here stay far below
// the size where a 64-bit accumulator could overflow).
std::uint64_t naive_sum(const ByteVector& data, std::size_t begin, std::size_t end) {
  std::uint64_t sum = 0;
  std::size_t i = begin;
  for (; i + 1 < end; i += 2) {
    sum += (std::uint64_t{data[i]} << 8) | data[i + 1];
  }
  if (i < end) {
    sum += std::uint64_t{data[i]} << 8;
  }
  return sum;
}

std::uint16_t naive_checksum(std::uint64_t sum) {
  while (sum > 0xFFFF) {
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

ByteVector random_bytes(std::mt19937& rng, std::size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  ByteVector data(size);
  for (auto& b : data) {
    b = static_cast<std::uint8_t>(byte(rng));
  }
  return data;
}

Bytes view(const ByteVector& data) {
  return {data.data(), data.size()};
}

TEST(OnesComplementSum, MatchesNaiveSumExactlyForAnyLengthAndAlignment) {
  std::mt19937 rng(1071);
  for (int round = 0; round < 3000; ++round) {
    const ByteVector data = random_bytes(rng, 1 + rng() % 1600);
    const std::size_t begin = rng() % std::min<std::size_t>(data.size(), 9);  // unaligned starts
    const std::size_t end = begin + rng() % (data.size() - begin + 1);
    const Bytes slice = view(data).subspan(begin, end - begin);
    const std::uint32_t initial = (round % 3 == 0) ? 0 : static_cast<std::uint32_t>(rng() % 0x40000);
    ASSERT_EQ(ones_complement_sum(slice, initial), naive_sum(data, begin, end) + initial)
        << "length " << slice.size() << " offset " << begin;
  }
}

TEST(OnesComplementSum, AllOnesStressesTheAccumulatorLanes) {
  // 0xFF bytes maximise every lane addition; 300 KiB crosses several lane flushes.
  for (std::size_t size : {8u, 64u, 65535u, 65536u, 131072u, 131080u, 300001u}) {
    const ByteVector data(size, 0xFF);
    const std::uint64_t expected = naive_sum(data, 0, data.size());
    const std::uint32_t sum = ones_complement_sum(view(data));
    if (expected <= 0xFFFF'FFFFu) {
      EXPECT_EQ(sum, expected) << size;
    }
    EXPECT_EQ(fold_checksum(sum), naive_checksum(expected)) << size;
  }
}

TEST(OnesComplementSum, LargeInitialValueIsFoldedNotLost) {
  const ByteVector data(70000, 0xFF);
  const std::uint32_t initial = 0xFFFF'FFF0u;
  const std::uint64_t expected = naive_sum(data, 0, data.size()) + initial;
  EXPECT_EQ(fold_checksum(ones_complement_sum(view(data), initial)), naive_checksum(expected));
}

TEST(OnesComplementSum, EmptyAndOddLengths) {
  EXPECT_EQ(ones_complement_sum({}), 0u);
  EXPECT_EQ(ones_complement_sum({}, 1234), 1234u);
  const ByteVector odd = {0x12, 0x34, 0x56};
  EXPECT_EQ(ones_complement_sum(view(odd)), 0x1234u + 0x5600u);  // trailing byte padded with zero
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2.
  const ByteVector data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ones_complement_sum(view(data)), 0x2ddf0u);
  EXPECT_EQ(internet_checksum(view(data)), static_cast<std::uint16_t>(~0xddf2));
}

TEST(Checksum, KnownIpv4Header) {
  // 192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF; the well-known example with checksum 0xb861.
  ByteVector header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(view(header)), 0xb861);
  store16(&header[10], 0xb861);
  EXPECT_EQ(internet_checksum(view(header)), 0);  // a correct header sums to all ones
}

TEST(Checksum, FoldHandlesCarriesAndZero) {
  EXPECT_EQ(fold_checksum(0), 0xFFFF);
  EXPECT_EQ(fold_checksum(0xFFFF), 0);
  EXPECT_EQ(fold_checksum(0x1FFFE), 0);  // 0xFFFE + 1 carry
  EXPECT_EQ(fold_checksum(0xFFFF'FFFFu), 0);
  EXPECT_EQ(fold_checksum(0x0001'0000u), 0xFFFE);
}

TEST(Checksum, LoadStoreAreBigEndian) {
  std::uint8_t buffer[4] = {};
  store32(buffer, 0x0A0B0C0D);
  EXPECT_EQ(buffer[0], 0x0A);
  EXPECT_EQ(buffer[3], 0x0D);
  EXPECT_EQ(load32(buffer), 0x0A0B0C0Du);
  EXPECT_EQ(load16(buffer + 2), 0x0C0D);
}

TEST(PseudoHeader, EqualsSumOfSerialisedPseudoHeader) {
  std::mt19937 rng(768);
  for (int round = 0; round < 1000; ++round) {
    const std::uint32_t src = rng(), dst = rng();
    const auto protocol = static_cast<std::uint8_t>(rng());
    const auto length = static_cast<std::uint16_t>(rng());
    ByteVector pseudo(12, 0);
    store32(&pseudo[0], src);
    store32(&pseudo[4], dst);
    pseudo[9] = protocol;
    store16(&pseudo[10], length);
    ASSERT_EQ(pseudo_header_sum(src, dst, protocol, length), naive_sum(pseudo, 0, pseudo.size()));
  }
}

TEST(ChecksumAdjust, Rfc1624Example) {
  // RFC 1624 §4: eqn. 3 yields 0x0000 here, where the older RFC 1141 formula gives the wrong 0xFFFF.
  EXPECT_EQ(checksum_adjust16(0xDD2F, 0x5555, 0x3285), 0x0000);
}

TEST(ChecksumAdjust, EqualsFullRecomputationForRandomWordChanges) {
  std::mt19937 rng(1624);
  for (int round = 0; round < 20000; ++round) {
    ByteVector data = random_bytes(rng, 4 + 2 * (rng() % 30));
    data[0] |= 0x40;  // never all zero: there full recomputation gives 0xFFFF, eqn. 3 gives 0
    const std::uint16_t before = internet_checksum(view(data));
    if (round % 2 == 0) {
      const std::size_t at = 2 + 2 * (rng() % ((data.size() - 2) / 2));
      const std::uint16_t old_word = load16(&data[at]);
      // Bias towards the extremes where one's complement arithmetic has its corner cases.
      const std::uint16_t new_word = (round % 7 == 0) ? 0 : (round % 11 == 0) ? 0xFFFF : rng();
      store16(&data[at], new_word);
      ASSERT_EQ(checksum_adjust16(before, old_word, new_word), internet_checksum(view(data)));
    } else {
      const std::size_t at = 2 * (rng() % ((data.size() - 2) / 2));  // 32-bit values at any word
      if (at == 0) {
        continue;  // keep the non-zero guard byte
      }
      const std::uint32_t old_value = load32(&data[at]);
      const std::uint32_t new_value = (round % 13 == 1) ? 0 : rng();
      store32(&data[at], new_value);
      ASSERT_EQ(checksum_adjust32(before, old_value, new_value), internet_checksum(view(data)));
    }
  }
}

TEST(PatchChecksum, StandardStoresTheAdjustedValue) {
  std::uint8_t field[2];
  store16(field, 0xDD2F);
  patch_checksum16(field, 0x5555, 0x3285);
  EXPECT_EQ(load16(field), 0x0000);
  store16(field, 0x1234);
  patch_checksum32(field, 0x0A000001, 0xC0A80001);
  EXPECT_EQ(load16(field), checksum_adjust32(0x1234, 0x0A000001, 0xC0A80001));
}

TEST(PatchChecksum, UdpKeepsZeroAndNeverStoresZero) {
  std::uint8_t field[2] = {0, 0};
  patch_checksum16(field, 0x1111, 0x2222, ChecksumKind::udp);
  EXPECT_EQ(load16(field), 0);  // "no checksum" stays "no checksum"
  patch_checksum32(field, 0x11111111, 0x22222222, ChecksumKind::udp);
  EXPECT_EQ(load16(field), 0);

  store16(field, 0xDD2F);
  patch_checksum16(field, 0x5555, 0x3285, ChecksumKind::udp);
  EXPECT_EQ(load16(field), 0xFFFF);  // computed 0 is transmitted as 0xFFFF

  // And back: 0xFFFF is a valid stored checksum (the one's complement twin of 0).
  patch_checksum16(field, 0x3285, 0x5555, ChecksumKind::udp);
  EXPECT_EQ(load16(field), 0xDD2F);
}

// ---------------------------------------------------------------------------------------------------
// NAT-style rewrites on whole packets: patch incrementally, compare with recompute_checksums.

// A minimal IPv4 builder, independent of libtins, so these tests exercise only natcert code.
ByteVector make_packet(std::mt19937& rng, std::uint8_t protocol, std::size_t payload_size) {
  std::size_t transport_header = protocol == ip_protocol::tcp ? 20 : 8;
  ByteVector packet = random_bytes(rng, 20 + transport_header + payload_size);
  packet[0] = 0x45;
  store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  store16(&packet[6], 0x4000);  // DF, not a fragment
  packet[9] = protocol;
  std::uint8_t* transport = &packet[20];
  if (protocol == ip_protocol::udp) {
    store16(transport + 4, static_cast<std::uint16_t>(packet.size() - 20));
  }
  if (protocol == ip_protocol::tcp) {
    transport[12] = 0x50;
  }
  if (protocol == ip_protocol::icmp) {
    transport[0] = icmp_type::echo_request;
  }
  recompute_checksums({packet.data(), packet.size()}, /*keep_zero_udp=*/false);
  return packet;
}

struct Rewrite {
  bool source_side;  // rewrite source address/port (SNAT) or destination (DNAT)
  std::uint32_t new_address;
  std::uint16_t new_port;
};

// What a NAT's hot path does: change address and port, patching each checksum for each change.
void apply_incrementally(ByteVector& packet, const Rewrite& rewrite) {
  std::uint8_t* ip = packet.data();
  std::uint8_t* transport = ip + 20;
  const std::uint8_t protocol = ip[9];
  std::uint8_t* address_field = ip + (rewrite.source_side ? 12 : 16);
  const std::uint32_t old_address = load32(address_field);
  store32(address_field, rewrite.new_address);
  patch_checksum32(ip + 10, old_address, rewrite.new_address);

  if (protocol == ip_protocol::icmp) {  // an echo's identifier plays the port's role, no pseudo header
    const std::uint16_t old_id = load16(transport + 4);
    store16(transport + 4, rewrite.new_port);
    patch_checksum16(transport + 2, old_id, rewrite.new_port);
    return;
  }
  const bool udp = protocol == ip_protocol::udp;
  std::uint8_t* checksum = transport + (udp ? 6 : 16);
  const ChecksumKind kind = udp ? ChecksumKind::udp : ChecksumKind::standard;
  std::uint8_t* port_field = transport + (rewrite.source_side ? 0 : 2);
  const std::uint16_t old_port = load16(port_field);
  store16(port_field, rewrite.new_port);
  patch_checksum32(checksum, old_address, rewrite.new_address, kind);
  patch_checksum16(checksum, old_port, rewrite.new_port, kind);
}

void apply_from_scratch(ByteVector& packet, const Rewrite& rewrite) {
  store32(&packet[rewrite.source_side ? 12 : 16], rewrite.new_address);
  const bool icmp = packet[9] == ip_protocol::icmp;
  store16(&packet[20 + (icmp ? 4 : rewrite.source_side ? 0 : 2)], rewrite.new_port);
  recompute_checksums({packet.data(), packet.size()}, /*keep_zero_udp=*/true);
}

TEST(IncrementalUpdate, EqualsRecomputationForRandomNatRewrites) {
  std::mt19937 rng(5508);
  const std::uint8_t protocols[] = {ip_protocol::udp, ip_protocol::tcp, ip_protocol::icmp};
  int zero_udp_checked = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::uint8_t protocol = protocols[round % 3];
    ByteVector packet = make_packet(rng, protocol, rng() % 64);
    if (protocol == ip_protocol::udp && round % 4 == 0) {
      store16(&packet[26], 0);  // sender sent no UDP checksum
      ++zero_udp_checked;
    }
    const Rewrite rewrite{rng() % 2 == 0, static_cast<std::uint32_t>(rng()),
                          static_cast<std::uint16_t>(rng())};
    ByteVector incremental = packet;
    ByteVector scratch = packet;
    apply_incrementally(incremental, rewrite);
    apply_from_scratch(scratch, rewrite);
    ASSERT_EQ(incremental, scratch) << "round " << round;
    const ParseOptions verify_all{.verify_ip_checksum = true, .verify_transport_checksum = true};
    ASSERT_TRUE(parse_packet({incremental.data(), incremental.size()}, verify_all).ok());
  }
  EXPECT_GT(zero_udp_checked, 1000);
}

TEST(IncrementalUpdate, UdpResultOfZeroBecomesFfffLikeRecomputation) {
  // Craft packets whose UDP checksum after the rewrite is exactly 0 (sent as 0xFFFF), and packets
  // that start from a stored 0xFFFF: both directions of the UDP corner case.
  std::mt19937 rng(768768);
  for (int round = 0; round < 2000; ++round) {
    ByteVector packet = make_packet(rng, ip_protocol::udp, 2 + 2 * (rng() % 16));
    const Rewrite rewrite{round % 2 == 0, static_cast<std::uint32_t>(rng()),
                          static_cast<std::uint16_t>(rng())};

    // Choose the last payload word so that the rewritten packet's checksum computes to 0.
    ByteVector target = packet;
    const std::size_t last_word = target.size() - 2;
    store16(&target[last_word], 0);
    apply_from_scratch(target, rewrite);
    store16(&target[26], 0);
    const std::uint32_t sum = ones_complement_sum(
        {&target[20], target.size() - 20},
        pseudo_header_sum(load32(&target[12]), load32(&target[16]), ip_protocol::udp, load16(&target[24])));
    store16(&packet[last_word], static_cast<std::uint16_t>(fold_checksum(sum)));
    recompute_checksums({packet.data(), packet.size()}, false);

    ByteVector incremental = packet;
    ByteVector scratch = packet;
    apply_incrementally(incremental, rewrite);
    apply_from_scratch(scratch, rewrite);
    ASSERT_EQ(load16(&scratch[26]), 0xFFFF) << "round " << round;
    ASSERT_EQ(incremental, scratch) << "round " << round;

    // Reverse rewrite starting from the stored 0xFFFF.
    const Rewrite back{rewrite.source_side, load32(&packet[rewrite.source_side ? 12 : 16]),
                       load16(&packet[rewrite.source_side ? 20 : 22])};
    apply_incrementally(incremental, back);
    ASSERT_EQ(incremental, packet) << "round " << round;
  }
}

TEST(IncrementalUpdate, TtlDecrementMatchesRecomputation) {
  std::mt19937 rng(1812);
  for (int round = 0; round < 5000; ++round) {
    ByteVector packet = make_packet(rng, ip_protocol::udp, rng() % 16);
    if (packet[8] == 0) {
      packet[8] = 1;
    }
    recompute_checksums({packet.data(), packet.size()}, false);
    ByteVector scratch = packet;
    const std::uint16_t old_word = load16(&packet[8]);  // TTL shares a word with the protocol
    --packet[8];
    patch_checksum16(&packet[10], old_word, load16(&packet[8]));
    --scratch[8];
    recompute_checksums({scratch.data(), scratch.size()}, true);
    ASSERT_EQ(packet, scratch);
  }
}

}  // namespace
}  // namespace natcert::ref
