// SIP (RFC 3261) and SDP (RFC 4566) rewriting for the reference SIP ALG, as pure functions over text so
// they are unit-tested and fuzzed without a NAT. They never trust their input: a message that is not a
// well-formed SIP message with a sane Content-Length is left alone (nullopt), never half-rewritten.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/reference/packet.hpp"

namespace natcert::ref::sip {

// One address:port substitution: wherever the message names `from` (Via sent-by, Contact, SDP c=/o=),
// it names `to` afterwards.
struct Translation {
  Ipv4Address from_address = 0;
  std::uint16_t from_port = 0;  // the SIP signalling port (Via, Contact)
  Ipv4Address to_address = 0;
  std::uint16_t to_port = 0;
};

// Where the SDP of the message asks for media on `from_address`: each RTP port it offers.
// Returns the port to advertise instead (the external port of the mapping created for it), or nullopt
// when none could be created (then the message is left alone).
using MediaMapper = std::function<std::optional<std::uint16_t>(std::uint16_t media_port)>;

// What a mutant ALG gets wrong on purpose (reference knob alg.sip-mutant).
enum class Mutant : std::uint8_t {
  none,
  wrong_sdp_address,     // SDP c= names the inside address's neighbour instead of the external one
  stale_content_length,  // Content-Length keeps the original body length
  no_media_expectation,  // m= keeps the inside media port and nothing is opened for the media (the ALG's part)
};

struct Rewritten {
  std::string message;
  std::vector<std::uint16_t> media_ports;  // inside RTP ports the SDP advertised (mapped by the mapper)
};

// Rewrites a SIP message sent from `t.from_address:t.from_port`. With `mapper`, SDP media on the
// from-address are mapped (outbound); without it only Via/Contact are rewritten (inbound responses).
// nullopt: not a SIP message this ALG understands, or nothing to rewrite.
std::optional<Rewritten> rewrite(std::string_view message, const Translation& t, const MediaMapper& mapper,
                                 Mutant mutant = Mutant::none);

// Pieces exposed for the unit tests and the fuzzer.
bool is_sip_start_line(std::string_view line);
// "123" -> 123; empty, signs, non-digits or more than 7 digits -> nullopt.
std::optional<std::size_t> parse_content_length(std::string_view value);
// The header name's canonical long form ("v" -> "via", "Contact" -> "contact"); lower case.
std::string canonical_header(std::string_view name);

}  // namespace natcert::ref::sip
