// Decoding packets the DUT emitted, with the reference parser (bounds-checked, never trusts input).
#pragma once

#include <memory>
#include <string>

#include "natcert/harness/types.hpp"

namespace natcert::harness {

// One-line summary for evidence and logs, e.g.
//   "UDP 203.0.113.1:40000 > 198.51.100.10:3478 ttl=63 id=0x1a2b len=12"
//   "TCP 198.51.100.10:80 > 10.0.0.10:40000 [SA] seq=7 ack=1001 win=65535 len=0"
//   "ICMP 3/3 port-unreachable 203.0.113.1 > 198.51.100.10 quoting UDP 198.51.100.10:53 > 203.0.113.1:40000"
//   "IPv4 fragment proto=17 10.0.0.10 > 198.51.100.10 id=0x1234 off=1480 len=548"
//   "malformed: bad IPv4 header checksum (45 00 00 1c ...)"
// Transport checksum problems are appended ("; bad UDP checksum").
std::string summarize(Bytes packet);

// A packet the harness captured from the DUT, as handed to a procedure. Copies share the bytes, so
// the views stay valid for as long as any copy lives. Parsed leniently (transport checksums are not
// required to verify) so accessors work on imperfect packets; checksums_ok() says whether they do.
class Observed {
 public:
  Observed(Side side, Duration at, Packet bytes);
  Observed() : Observed(Side::inside, Duration{}, Packet{}) {}  // an empty (malformed) packet

  Side side() const { return side_; }
  Duration at() const { return at_; }  // since the session started
  Bytes bytes() const { return {raw_->data(), raw_->size()}; }
  Packet copy() const { return *raw_; }

  bool well_formed() const { return parsed_.ok(); }
  ref::ParseError error() const { return parsed_.error; }
  bool checksums_ok() const { return checksums_ok_; }
  // The parsed view; only meaningful when well_formed().
  const ref::PacketView& view() const { return parsed_.packet; }
  ref::TransportKind kind() const { return parsed_.packet.kind; }

  // Outer addresses with ports (UDP/TCP), identifier (ICMP query) or 0 (anything else).
  Endpoint source() const;
  Endpoint destination() const;
  // Transport payload (UDP/TCP data, ICMP body); empty when not decodable.
  Bytes payload() const;
  std::string payload_text() const;
  std::string summary() const { return summarize(bytes()); }

 private:
  Side side_;
  Duration at_;
  std::shared_ptr<const Packet> raw_;
  ref::ParseResult parsed_;
  bool checksums_ok_ = false;
};

}  // namespace natcert::harness
