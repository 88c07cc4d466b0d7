#include "natcert/harness/result.hpp"

#include <ctime>

namespace natcert::harness {

std::string_view to_string(Direction direction) {
  return direction == Direction::sent ? "sent" : "captured";
}

std::size_t Tally::total() const {
  std::size_t sum = 0;
  for (auto count : counts) sum += count;
  return sum;
}

Tally tally(const RunResult& run) {
  Tally out;
  for (const auto& test : run.tests) ++out.counts[static_cast<std::size_t>(test.verdict)];
  return out;
}

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[32];
  const std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(buffer, length);
}

}  // namespace natcert::harness
