// Internet checksum (RFC 1071) and its incremental update (RFC 1624).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace natcert::ref {

using Bytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

// Big-endian field access. Callers guarantee the bounds (views check them once at parse time).
inline std::uint16_t load16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
inline std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t* p, std::uint32_t v) {
  store16(p, static_cast<std::uint16_t>(v >> 16));
  store16(p + 2, static_cast<std::uint16_t>(v));
}

// One's-complement sum of `data` (odd trailing byte padded with zero) added to `initial`, not folded.
std::uint32_t ones_complement_sum(Bytes data, std::uint32_t initial = 0);

// Folds a 32-bit accumulator into 16 bits and complements it: the value to store in a checksum field.
std::uint16_t fold_checksum(std::uint32_t sum);

// Checksum of `data` as stored in a header whose checksum field is zero while computing.
inline std::uint16_t internet_checksum(Bytes data, std::uint32_t initial = 0) {
  return fold_checksum(ones_complement_sum(data, initial));
}

// Sum of the IPv4 pseudo-header used by UDP and TCP checksums.
std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                                std::uint16_t transport_length);

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Returns the new checksum when one 16-bit word changes.
// Defined inline: these sit on the NAT's per-packet path.
inline std::uint16_t fold16(std::uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}
inline std::uint16_t checksum_adjust16(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word) {
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~checksum)} +
                            std::uint32_t{static_cast<std::uint16_t>(~old_word)} + new_word;
  return static_cast<std::uint16_t>(~fold16(sum));
}
inline std::uint16_t checksum_adjust32(std::uint16_t checksum, std::uint32_t old_value, std::uint32_t new_value) {
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~checksum)} +
                            std::uint32_t{static_cast<std::uint16_t>(~(old_value >> 16))} +
                            std::uint32_t{static_cast<std::uint16_t>(~old_value)} + (new_value >> 16) +
                            (new_value & 0xffff);
  return static_cast<std::uint16_t>(~fold16(sum));
}

// Which flavour of checksum field is being patched: UDP transmits "no checksum" as 0 and a computed 0
// as 0xFFFF, so a zero UDP checksum must stay zero and a result of zero must become 0xFFFF.
enum class ChecksumKind : std::uint8_t { standard, udp };

// Incrementally patches the checksum stored (big-endian) at `field` for a 16- or 32-bit change.
inline void patch_checksum16(std::uint8_t* field, std::uint16_t old_word, std::uint16_t new_word,
                             ChecksumKind kind = ChecksumKind::standard) {
  const std::uint16_t stored = load16(field);
  if (kind == ChecksumKind::udp && stored == 0) return;  // the sender did not compute one
  std::uint16_t adjusted = checksum_adjust16(stored, old_word, new_word);
  if (kind == ChecksumKind::udp && adjusted == 0) adjusted = 0xffff;
  store16(field, adjusted);
}
inline void patch_checksum32(std::uint8_t* field, std::uint32_t old_value, std::uint32_t new_value,
                             ChecksumKind kind = ChecksumKind::standard) {
  const std::uint16_t stored = load16(field);
  if (kind == ChecksumKind::udp && stored == 0) return;
  std::uint16_t adjusted = checksum_adjust32(stored, old_value, new_value);
  if (kind == ChecksumKind::udp && adjusted == 0) adjusted = 0xffff;
  store16(field, adjusted);
}

}  // namespace natcert::ref
