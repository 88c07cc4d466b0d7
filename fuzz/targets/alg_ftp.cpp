// The FTP ALG (RFC 959 PORT/227, RFC 2428 EPRT/229): its control-line parser and rewriter, and the ALG
// inside the reference NAT fed a two-sided control stream. Input: a mode byte, then text.
//   - parser: an accepted line's endpoint lies inside it; writing the same endpoint back with
//     format_endpoint() and parsing again gives the same announcement (the rewrite is lossless);
//   - stream: a TCP control connection to port 21 carries the text split into segments from both
//     sides; every translated segment leaves with valid checksums and lengths (NatDriver), and the
//     NAT keeps translating the connection's later segments.
#include <algorithm>

#include "nat_driver.hpp"
#include "natcert/reference/alg_ftp.hpp"

using namespace natcert;
using fuzz::check;

namespace {

void check_parser(std::string_view line, bool from_client) {
  const auto found = ref::ftp::parse_line(line, from_client);
  (void)ref::ftp::is_epsv_all(line);
  if (!found) return;
  check(found->begin <= found->end && found->end <= line.size(), "announcement outside the line");
  std::string rewritten(line.substr(0, found->begin));
  rewritten += ref::ftp::format_endpoint(found->message, found->address, found->port, found->delimiter);
  rewritten += line.substr(found->end);
  const auto again = ref::ftp::parse_line(rewritten, from_client);
  check(again.has_value(), "a rewritten announcement no longer parses");
  check(again->message == found->message && again->address == found->address && again->port == found->port,
        "a rewritten announcement parses to another endpoint");
}

void check_stream(fuzz::ByteReader& in) {
  fuzz::NatDriver driver("rfc-strict,alg.ftp=true");
  const ref::Endpoint client{fuzz::kInsideHost, 40000};
  const ref::Endpoint server{fuzz::kOutsideHost, 21};
  std::uint32_t client_seq = 1000;
  std::uint32_t server_seq = 5000;
  auto segment = [&](bool from_client, std::uint8_t flags, fuzz::Bytes payload, ref::Endpoint external) {
    const fuzz::IpHeader ip{from_client ? client.address : server.address,
                            from_client ? server.address : external.address};
    const fuzz::TcpHeader tcp{from_client ? client.port : server.port, from_client ? server.port : external.port,
                              from_client ? client_seq : server_seq, from_client ? server_seq : client_seq, flags};
    (from_client ? client_seq : server_seq) += static_cast<std::uint32_t>(payload.size());
    return driver.send(fuzz::tcp_packet(ip, tcp, payload), from_client ? ref::Side::inside : ref::Side::outside);
  };
  const ref::Output& syn = segment(true, ref::tcp_flag::syn, {}, {});
  if (syn.packets().empty()) return;
  const ref::ParseResult left = ref::parse_packet(syn.packets()[0].bytes);
  const ref::Endpoint external{left.packet.ip.source(), left.packet.tcp.source_port()};
  ++client_seq;
  segment(false, ref::tcp_flag::syn | ref::tcp_flag::ack, {}, external);
  ++server_seq;
  while (!in.empty()) {
    const bool from_client = in.flag();
    const fuzz::Bytes payload = in.bytes(200);
    const ref::Output& out = segment(from_client, ref::tcp_flag::psh | ref::tcp_flag::ack, payload, external);
    for (const auto& emitted : out.packets()) {
      if (emitted.kind != ref::EmitKind::translated) continue;
      check(fuzz::checksums_valid(emitted.bytes), "the FTP ALG left a segment with a bad checksum");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  const std::uint8_t mode = in.u8();
  if (mode % 2 == 0) {
    check_parser(fuzz::text(in.rest()), (mode & 2) != 0);
  } else {
    check_stream(in);
  }
  return 0;
}
