// Pieces of the RFC 9693 methodology that need no network: the RFC 4814 pseudorandom port pairs and
// the binary search for the highest passing rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace natcert::wirebench {

// RFC 4814 §4.5 pseudorandom ports; RFC 9693 widens the source range to 1024-65535 so that a single
// tester address can offer enough distinct four-tuples. Ranges are inclusive.
struct PortRanges {
  std::uint16_t source_min = 1024;
  std::uint16_t source_max = 65535;
  std::uint16_t destination_min = 1;
  std::uint16_t destination_max = 49151;
};

struct PortPair {
  std::uint16_t source = 0;
  std::uint16_t destination = 0;
  bool operator==(const PortPair&) const = default;
};

// `count` distinct (source, destination) pairs, each port uniformly distributed over its range,
// deterministic for a seed. Throws std::invalid_argument when the ranges hold fewer pairs than
// `count` or a range is empty.
std::vector<PortPair> unique_port_pairs(std::size_t count, std::uint64_t seed, const PortRanges& ranges = {});

struct SearchResult {
  double rate = 0;              // highest rate that passed (0: none did)
  double lowest_failure = 0;    // lowest rate that failed (0: none did)
  std::size_t trials = 0;
  bool at_ceiling = false;      // the upper bound itself passed: the DUT may do more
};

// RFC 2544 / RFC 9693 binary search: tries `high` first (done when it passes), then `low` (and
// low/8 once when that fails), then halves the interval between the highest pass and the lowest
// failure until it is within `precision` (relative to the failure) or `max_trials` ran.
SearchResult binary_search_rate(double low, double high, double precision, std::size_t max_trials,
                                const std::function<bool(double)>& trial);

}  // namespace natcert::wirebench
