#include "natcert/harness/types.hpp"

#include <charconv>
#include <stdexcept>

namespace natcert::harness {

std::string to_string(Endpoint endpoint) {
  return ref::format_ipv4(endpoint.address) + ":" + std::to_string(endpoint.port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto address = ref::parse_ipv4_address(text.substr(0, colon));
  if (!address) return std::nullopt;
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc{} || end != port_text.data() + port_text.size() || port_text.empty() || port > 65535) {
    return std::nullopt;
  }
  return Endpoint{*address, static_cast<std::uint16_t>(port)};
}

Ipv4Address ipv4(std::string_view text) {
  const auto address = ref::parse_ipv4_address(text);
  if (!address) throw std::invalid_argument("not an IPv4 address: " + std::string(text));
  return *address;
}

std::string format_duration(Duration duration) {
  using namespace std::chrono;
  const auto ns = duration.count();
  if (ns < 0) {
    std::string out = "-";
    out += format_duration(-duration);
    return out;
  }
  if (ns == 0) return "0 s";
  if (duration < microseconds(1)) return std::to_string(ns) + " ns";
  if (duration < milliseconds(1)) return std::to_string(duration_cast<microseconds>(duration).count()) + " us";
  if (duration < seconds(1)) return std::to_string(duration_cast<milliseconds>(duration).count()) + " ms";
  const auto ms = duration_cast<milliseconds>(duration).count();
  if (duration < minutes(1)) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    std::string fraction = std::to_string(ms % 1000);
    fraction.insert(0, 3 - fraction.size(), '0');
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    return std::to_string(ms / 1000) + "." + fraction + " s";
  }
  const auto total_s = ms / 1000;
  std::string out;
  auto part = [&out](long long value, const char* unit) {
    if (!out.empty()) out += ' ';
    out += std::to_string(value);
    out += unit;
  };
  if (total_s >= 3600) part(total_s / 3600, " h");
  if ((total_s / 60) % 60 != 0) part((total_s / 60) % 60, " min");
  if (total_s % 60 != 0) part(total_s % 60, " s");
  return out;
}

}  // namespace natcert::harness
