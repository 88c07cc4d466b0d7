#include "natcert/wirebench/search.hpp"

#include <random>
#include <string>
#include <unordered_set>

namespace natcert::wirebench {

std::vector<PortPair> unique_port_pairs(std::size_t count, std::uint64_t seed, const PortRanges& ranges) {
  if (ranges.source_min > ranges.source_max || ranges.destination_min > ranges.destination_max) {
    throw std::invalid_argument("empty port range");
  }
  const std::uint64_t sources = std::uint64_t{ranges.source_max} - ranges.source_min + 1;
  const std::uint64_t destinations = std::uint64_t{ranges.destination_max} - ranges.destination_min + 1;
  if (count > sources * destinations) {
    throw std::invalid_argument(std::to_string(count) + " connections need more distinct port pairs than the ranges hold (" +
                                std::to_string(sources * destinations) + ")");
  }
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<unsigned> source(ranges.source_min, ranges.source_max);
  std::uniform_int_distribution<unsigned> destination(ranges.destination_min, ranges.destination_max);
  std::vector<PortPair> pairs;
  pairs.reserve(count);
  std::unordered_set<std::uint32_t> seen;
  seen.reserve(count * 2);
  // Rejection keeps every port uniform; near-full ranges would need many draws, so they are bounded.
  std::uint64_t draws = 0;
  const std::uint64_t max_draws = 64 * std::uint64_t{count} + 1024;
  while (pairs.size() < count) {
    if (++draws > max_draws) throw std::invalid_argument("port ranges too small for " + std::to_string(count) + " connections");
    PortPair pair{static_cast<std::uint16_t>(source(random)), static_cast<std::uint16_t>(destination(random))};
    if (seen.insert((std::uint32_t{pair.source} << 16) | pair.destination).second) pairs.push_back(pair);
  }
  return pairs;
}

SearchResult binary_search_rate(double low, double high, double precision, std::size_t max_trials,
                                const std::function<bool(double)>& trial) {
  SearchResult result;
  if (high <= 0 || max_trials == 0) return result;
  if (low <= 0 || low > high) low = high / 64;
  auto run = [&](double rate) {
    ++result.trials;
    const bool passed = trial(rate);
    if (passed) {
      if (rate > result.rate) result.rate = rate;
    } else if (result.lowest_failure == 0 || rate < result.lowest_failure) {
      result.lowest_failure = rate;
    }
    return passed;
  };
  if (run(high)) {
    result.at_ceiling = true;
    return result;
  }
  if (result.trials < max_trials && !run(low) && result.trials < max_trials) {
    low /= 8;
    if (!run(low)) return result;
  }
  if (result.rate == 0) return result;
  while (result.trials < max_trials && result.lowest_failure - result.rate > precision * result.lowest_failure) {
    run((result.rate + result.lowest_failure) / 2);
  }
  return result;
}

}  // namespace natcert::wirebench
