// Matchers: composable, copyable predicates over captured packets, each with a human description
// that ends up in notes and reports. Build them from match::..., refine with member functions:
//
//   match::udp().from(y1).to(x_ext)                   "UDP from 198.51.100.10:3478 to 203.0.113.1:40000"
//   match::tcp().to(x).flags(tcp_flag::syn | tcp_flag::ack)
//   match::icmp_error(3, 3).quoting(x_ext, y1)
//   match::udp().to(x) || match::icmp_error()
//
// Packets are parsed with the reference parser. A packet that does not parse (or whose IP or
// transport checksum is wrong: a real host would discard it) never matches a typed matcher; it stays
// queued and ends up in the evidence as "malformed: <reason>". match::any() and match::malformed()
// see such packets. Matchers are values (thread-safe to copy and to call concurrently).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "natcert/harness/types.hpp"

namespace natcert::harness {

class Matcher {
 public:
  using Predicate = std::function<bool(const ref::PacketView&)>;

  // Matches every well-formed packet (same as match::ip()).
  Matcher();

  bool matches(Bytes packet) const;
  bool operator()(Bytes packet) const { return matches(packet); }
  const std::string& description() const { return description_; }

  // Refinements: each returns a new matcher with one more condition.
  // Endpoint forms compare address and port (UDP/TCP ports; ICMP query identifier); a packet without
  // ports never matches them. Address forms compare the outer IPv4 addresses only.
  Matcher from(Endpoint source) const;
  Matcher from(Ipv4Address source) const;
  Matcher to(Endpoint destination) const;
  Matcher to(Ipv4Address destination) const;
  Matcher from_port(std::uint16_t port) const;
  Matcher to_port(std::uint16_t port) const;
  Matcher payload(std::string_view exact) const;  // transport payload equals these bytes
  Matcher payload(Bytes exact) const;
  Matcher payload_contains(std::string_view text) const;
  // TCP: all bits of `set` are set and, within `mask` (default: all flags), no other bits are.
  Matcher flags(std::uint8_t set) const;
  Matcher flags(std::uint8_t set, std::uint8_t mask) const;
  // ICMP error quoting a packet with this source/destination (address and ports/identifier).
  Matcher quoting(Endpoint source, Endpoint destination) const;
  Matcher whole() const;         // not a fragment
  Matcher ttl(std::uint8_t ttl) const;
  // Checksums need not verify (for tests that look at broken packets on purpose). IP header included.
  Matcher any_checksum() const;
  // Arbitrary condition over the parsed packet.
  Matcher where(std::string description, Predicate predicate) const;

  friend Matcher operator&&(const Matcher& a, const Matcher& b);
  friend Matcher operator||(const Matcher& a, const Matcher& b);
  friend Matcher operator!(const Matcher& a);

 private:
  friend struct MatcherAccess;
  struct Node;
  std::shared_ptr<const Node> node_;
  std::string description_;
};

namespace match {
Matcher any();        // every captured packet, malformed ones included
Matcher malformed();  // only packets the reference parser rejects (or with bad checksums)
Matcher ip();         // every well-formed IPv4 packet
Matcher udp();
Matcher tcp();
Matcher icmp();       // any ICMP message
Matcher icmp_echo_request();
Matcher icmp_echo_reply();
Matcher icmp_query(std::uint8_t type);
Matcher icmp_error();  // any ICMP error (destination unreachable, time exceeded, parameter problem, ...)
Matcher icmp_error(std::uint8_t type);
Matcher icmp_error(std::uint8_t type, std::uint8_t code);
Matcher fragment();    // any IPv4 fragment (first, middle or last)
Matcher protocol(std::uint8_t ip_protocol);
}  // namespace match

}  // namespace natcert::harness
