// The text side of the reference FTP ALG (RFC 959 PORT and 227, RFC 2428 EPRT and 229): finding the
// endpoint an FTP control line announces and writing a replacement. Pure functions, exposed for the
// unit tests and the fuzzers; the ALG itself (alg_ftp.cpp) decides which lines to rewrite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "natcert/reference/packet.hpp"

namespace natcert::ref::ftp {

enum class Message : std::uint8_t {
  port,                    // client: "PORT h1,h2,h3,h4,p1,p2"
  eprt,                    // client: "EPRT |1|a.b.c.d|port|" (IPv4 only; any delimiter 33..126)
  passive_reply,           // server: "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)."
  extended_passive_reply,  // server: "229 Entering Extended Passive Mode (|||port|)"
};

struct Announcement {
  Message message = Message::port;
  std::size_t begin = 0;  // the endpoint text inside the line: [begin, end)
  std::size_t end = 0;
  Ipv4Address address = 0;  // 0 for 229, which carries a port only
  std::uint16_t port = 0;
  char delimiter = '|';  // EPRT/229 delimiter, kept when rewriting
};

// Parses one control line without its line end ("\r\n" or "\n" already removed). Client commands
// are recognised when `from_client`, server replies otherwise. Anything malformed (missing fields,
// octets above 255, ports above 65535 or 0, non-digits, too many digits, IPv6 EPRT) gives nullopt.
std::optional<Announcement> parse_line(std::string_view line, bool from_client);

// The endpoint text for `message` announcing address:port ("203,0,113,1,156,64", "|1|203.0.113.1|40000|",
// "|||40000|"); `delimiter` is used by EPRT and 229.
std::string format_endpoint(Message message, Ipv4Address address, std::uint16_t port, char delimiter = '|');

// "EPSV ALL" (RFC 2428 §4): the client will only use EPSV, so no address needs rewriting.
bool is_epsv_all(std::string_view line);

}  // namespace natcert::ref::ftp
