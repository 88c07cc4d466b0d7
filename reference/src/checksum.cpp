// Internet checksum (RFC 1071) and incremental update (RFC 1624).
#include "natcert/reference/checksum.hpp"

#include <bit>
#include <cstring>

namespace natcert::ref {
namespace {

// Reads 8 bytes as a big-endian integer without alignment requirements.
std::uint64_t load64_big_endian(const std::uint8_t* p) {
  std::uint64_t value;
  std::memcpy(&value, p, sizeof value);
  if constexpr (std::endian::native == std::endian::little) {
    value = __builtin_bswap64(value);
  }
  return value;
}

// Selects the 16-bit words at bits 0..15 and 32..47 of a 64-bit block.
constexpr std::uint64_t alternate_words = 0x0000'FFFF'0000'FFFFULL;

// Each 8-byte block adds at most 2 * 0xFFFF to each 32-bit lane, so 32768 blocks could never overflow a
// lane; flushing the lanes every 16384 blocks (128 KiB) leaves a comfortable margin.
constexpr std::size_t blocks_per_flush = 16384;

// Folds end-around carries until the value fits in 32 bits (only reachable for inputs far larger than
// an IP datagram, since the exact word sum of 64 KiB stays below 2^32).
std::uint32_t fold_to_32(std::uint64_t sum) {
  while (sum > 0xFFFF'FFFFULL) {
    sum = (sum & 0xFFFF'FFFFULL) + (sum >> 32);
  }
  return static_cast<std::uint32_t>(sum);
}

}  // namespace

// Sums eight bytes per step with two 32-bit lanes in a 64-bit register ("SWAR"): the lanes accumulate
// alternate big-endian 16-bit words, so lane_high + lane_low is exactly the plain sum of all 16-bit
// words. The result therefore matches a naive word-by-word loop bit for bit, not just modulo 0xFFFF.
std::uint32_t ones_complement_sum(Bytes data, std::uint32_t initial) {
  std::uint64_t total = initial;
  const std::uint8_t* p = data.data();
  std::size_t remaining = data.size();

  if (remaining <= 64) {
    // Headers (the per-packet case): plain 32-bit words are cheaper than setting up the lanes.
    for (; remaining >= 4; remaining -= 4, p += 4) {
      std::uint32_t word;
      std::memcpy(&word, p, sizeof word);
      if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap32(word);
      total += (word >> 16) + (word & 0xFFFF);
    }
  }
  while (remaining >= 8) {
    std::size_t blocks = remaining / 8;
    if (blocks > blocks_per_flush) {
      blocks = blocks_per_flush;
    }
    std::uint64_t lanes = 0;
    for (std::size_t i = 0; i < blocks; ++i, p += 8) {
      const std::uint64_t block = load64_big_endian(p);
      lanes += (block & alternate_words) + ((block >> 16) & alternate_words);
    }
    total += (lanes >> 32) + (lanes & 0xFFFF'FFFFULL);
    remaining -= blocks * 8;
  }
  for (; remaining >= 2; remaining -= 2, p += 2) {
    total += load16(p);
  }
  if (remaining == 1) {
    total += std::uint32_t{p[0]} << 8;  // odd trailing byte padded with zero
  }
  return fold_to_32(total);
}

std::uint16_t fold_checksum(std::uint32_t sum) {
  return static_cast<std::uint16_t>(~fold16(sum));
}

std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                                std::uint16_t transport_length) {
  return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + protocol + transport_length;
}

}  // namespace natcert::ref
