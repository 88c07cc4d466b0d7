#include "port_allocator.hpp"

namespace natcert::ref::detail {

namespace {
constexpr std::uint16_t kLowClassEnd = 1023;
}  // namespace

bool PortAllocator::acceptable(std::uint16_t port, const PortRequest& request, std::uint16_t low,
                               std::uint16_t high) const {
  if (port < low || port > high || port == 0) return false;
  if (!request.query_identifier && policy_.preserve_parity && (port & 1) != (request.internal_port & 1)) {
    return false;
  }
  return !(*used_)[port];
}

void PortAllocator::take(std::uint16_t port) { (*used_)[port] = true; }

void PortAllocator::release(std::uint16_t port) {
  // An overloaded port stays in use while any of its holders remains.
  if (auto extra = extra_holders_.find(port); extra != extra_holders_.end()) {
    if (--extra->second == 0) extra_holders_.erase(extra);
    return;
  }
  (*used_)[port] = false;
}

std::optional<std::uint16_t> PortAllocator::allocate(const PortRequest& request, std::mt19937_64& rng) {
  std::uint16_t low = policy_.min_port;
  std::uint16_t high = policy_.max_port;
  if (request.query_identifier) {
    low = 1;
    high = 65535;
  } else if (policy_.preserve_range_class) {
    // RFC 4787 REQ-3a: keep 0-1023 sources in 1-1023 and 1024-65535 sources in 1024-65535, as far as
    // the configured range allows.
    const bool low_class = request.internal_port <= kLowClassEnd;
    const std::uint16_t class_low = low_class ? 1 : kLowClassEnd + 1;
    const std::uint16_t class_high = low_class ? kLowClassEnd : 65535;
    if (std::max(low, class_low) <= std::min(high, class_high)) {
      low = std::max(low, class_low);
      high = std::min(high, class_high);
    }
  }

  if (policy_.preserve_port || request.query_identifier) {
    const std::uint16_t preferred = request.internal_port;
    if (acceptable(preferred, request, low, high)) {
      take(preferred);
      return preferred;
    }
    if (request.may_overload && preferred >= low && preferred <= high &&
        preferred != 0) {
      ++extra_holders_[preferred];
      return preferred;
    }
  }
  if (policy_.contiguity && request.contiguous_with && *request.contiguous_with < 65535) {
    const auto next = static_cast<std::uint16_t>(*request.contiguous_with + 1);
    if (acceptable(next, request, low, high)) {
      take(next);
      return next;
    }
  }
  return search(request, low, high, rng);
}

std::optional<std::uint16_t> PortAllocator::search(const PortRequest& request, std::uint16_t low,
                                                   std::uint16_t high, std::mt19937_64& rng) {
  if (low == 0) low = 1;
  if (low > high) return std::nullopt;
  const std::uint32_t span = std::uint32_t{high} - low + 1;
  std::uint32_t start;
  if (policy_.allocation == PortAllocation::random) {
    start = static_cast<std::uint32_t>(rng() % span);
  } else {
    start = sequential_cursor_ >= low && sequential_cursor_ <= high ? sequential_cursor_ - low : 0;
  }
  for (std::uint32_t step = 0; step < span; ++step) {
    const auto port = static_cast<std::uint16_t>(low + (start + step) % span);
    if (acceptable(port, request, low, high)) {
      take(port);
      sequential_cursor_ = static_cast<std::uint16_t>(port == high ? low : port + 1);
      return port;
    }
  }
  return std::nullopt;
}

}  // namespace natcert::ref::detail
