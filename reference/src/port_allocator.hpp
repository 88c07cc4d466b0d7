// External port (or ICMP identifier) allocation for one external address and one protocol:
// preservation, parity (RFC 4787 REQ-4), range class (REQ-3a), contiguity (§4.2.4), random
// (RFC 6056 / RFC 7857 §9) or sequential choice, and the port-overloading violation (REQ-3).
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>

#include "natcert/reference/config.hpp"

namespace natcert::ref::detail {

struct PortRequest {
  std::uint16_t internal_port = 0;
  std::optional<std::uint16_t> contiguous_with;  // external port of internal_port-1's mapping, if any
  bool query_identifier = false;                  // ICMP identifiers ignore range class and parity
  bool may_overload = false;                      // the overloading violations (RFC 4787 REQ-3, RFC 5508 REQ-1)
};

class PortAllocator {
 public:
  explicit PortAllocator(const PortAssignment& policy) : policy_(policy), used_(std::make_unique<Bits>()) {}

  // Returns a free port for the request, or nothing when the range is exhausted. With overloading on,
  // a preserved port is handed out even if another mapping holds it.
  std::optional<std::uint16_t> allocate(const PortRequest& request, std::mt19937_64& rng);
  void release(std::uint16_t port);
  bool in_use(std::uint16_t port) const { return (*used_)[port]; }
  void clear() {
    used_->reset();
    extra_holders_.clear();
  }
  // clear(), and sequential assignment starts again where a new allocator starts.
  void rewind() {
    clear();
    sequential_cursor_ = 0;
  }

 private:
  using Bits = std::bitset<65536>;
  bool acceptable(std::uint16_t port, const PortRequest& request, std::uint16_t low, std::uint16_t high) const;
  std::optional<std::uint16_t> search(const PortRequest& request, std::uint16_t low, std::uint16_t high,
                                      std::mt19937_64& rng);
  void take(std::uint16_t port);

  const PortAssignment& policy_;
  std::unique_ptr<Bits> used_;
  std::unordered_map<std::uint16_t, std::uint32_t> extra_holders_;  // port-overloading violation only
  std::uint16_t sequential_cursor_ = 0;
};

}  // namespace natcert::ref::detail
