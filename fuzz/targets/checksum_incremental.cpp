// RFC 1624 incremental checksum updates (reference/include/natcert/reference/checksum.hpp), the
// primitive every translation uses. The input is a buffer and a list of 16- and 32-bit rewrites at
// even offsets; after each rewrite the patched checksum must verify over the new data exactly as a
// full recomputation does, for the standard and the UDP flavour (0 means "no checksum" and stays 0;
// a computed 0 is sent as 0xFFFF).
#include <algorithm>

#include "fuzz_support.hpp"

using namespace natcert;
using fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  const bool udp = in.flag();
  const std::size_t changes = in.pick(8);
  std::uint8_t rewrites[8][6] = {};
  for (std::size_t i = 0; i < changes; ++i) {
    for (auto& byte : rewrites[i]) byte = in.u8();
  }
  const ref::Bytes initial = in.rest();
  if (initial.size() < 4) return 0;
  fuzz::Packet buffer(initial.begin(), initial.end());
  buffer.resize(buffer.size() & ~std::size_t{1});  // whole 16-bit words, as in real headers

  // The checksum field is the first word; store the correct checksum (or 0 for "none", UDP only).
  const bool none = udp && buffer[0] == 0 && buffer[1] == 0;
  ref::store16(buffer.data(), 0);
  std::uint16_t stored = ref::internet_checksum(buffer);
  if (udp && stored == 0) stored = 0xffff;
  if (none) stored = 0;
  ref::store16(buffer.data(), stored);
  const auto kind = udp ? ref::ChecksumKind::udp : ref::ChecksumKind::standard;

  for (std::size_t i = 0; i < changes; ++i) {
    const std::uint8_t* rewrite = rewrites[i];
    const bool wide = (rewrite[0] & 1) != 0;
    const std::size_t words = buffer.size() / 2 - 1;  // never the checksum field itself
    const std::size_t width = wide ? 4u : 2u;
    if (words * 2 < width) continue;
    const std::size_t at = 2 + (rewrite[1] % (words - (width / 2) + 1)) * 2;
    if (wide) {
      const std::uint32_t old_value = ref::load32(&buffer[at]);
      const std::uint32_t new_value = ref::load32(&rewrite[2]);
      ref::store32(&buffer[at], new_value);
      ref::patch_checksum32(buffer.data(), old_value, new_value, kind);
    } else {
      const std::uint16_t old_value = ref::load16(&buffer[at]);
      const std::uint16_t new_value = ref::load16(&rewrite[2]);
      ref::store16(&buffer[at], new_value);
      ref::patch_checksum16(buffer.data(), old_value, new_value, kind);
    }
    const std::uint16_t patched = ref::load16(buffer.data());
    if (none) {
      check(patched == 0, "a UDP \"no checksum\" was patched into a value");
      continue;
    }
    // All-zero data sums to +0, the one case where eqn. 3 yields 0x0000 instead of 0xFFFF (RFC 1624
    // §3 discusses the two zeros). No header the NAT patches is all zero (IPv4 version, pseudo-header
    // addresses), so the case is skipped rather than "fixed" at a cost on every packet.
    if (std::all_of(buffer.begin() + 2, buffer.end(), [](std::uint8_t byte) { return byte == 0; })) continue;
    check(ref::internet_checksum(buffer) == 0, "an incrementally patched checksum does not verify");
    ref::store16(buffer.data(), 0);
    std::uint16_t full = ref::internet_checksum(buffer);
    if (udp && full == 0) full = 0xffff;
    ref::store16(buffer.data(), patched);
    check(patched == full, "incremental update differs from recomputation");
  }
  return 0;
}
