// RFC 5382 §4.2: valid TCP sequences for internally initiated connections (REQ-2) and simultaneous
// open (REQ-2a). Every segment is scripted by the harness and must come out of the DUT translated.
#include <functional>
#include <vector>

#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

using harness::tcp_option::join;
using harness::tcp_option::mss;
using harness::tcp_option::sack_permitted;
using harness::tcp_option::timestamps;
using harness::tcp_option::window_scale;

struct Sequence {
  const char* name;
  std::function<void(TcpConnection&)> script;
};

// Each sequence runs on its own connection (fresh X:x and Y:y); the check lists every failed step.
void run_sequences(TestContext& ctx, const std::vector<Sequence>& sequences) {
  std::vector<std::string> failures;
  std::string passed;
  for (const Sequence& sequence : sequences) {
    TcpConnection connection = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
    ctx.log(std::string("sequence: ") + sequence.name);
    sequence.script(connection);
    if (connection.ok()) {
      passed += (passed.empty() ? "" : ", ") + std::string(sequence.name);
    } else {
      failures.push_back(std::string(sequence.name) + ": " + connection.first_failure());
    }
  }
  std::string observed = failures.empty() ? "every segment of every sequence translated (" + passed + ")" : "";
  for (const std::string& failure : failures) observed += (observed.empty() ? "" : " | ") + failure;
  ctx.check("RFC5382-REQ-2", failures.empty(),
            "every segment forwarded and translated (ports/addresses rewritten, sequence numbers, flags, options "
            "and payload kept, checksums valid)",
            observed);
}

void inside_initiated_sequences(TestContext& ctx) {
  run_sequences(
      ctx,
      {
          {"handshake with options, data, retransmission, half-close by the inside",
           [](TcpConnection& c) {
             c.send(Side::inside, tcp_flag::syn, {}, join({mss(1460), sack_permitted(), timestamps(100, 0), window_scale(7)}),
                    "inside SYN with MSS, SACK-permitted, timestamps, window scale");
             c.retransmit(Side::inside, "inside SYN retransmitted");
             c.send(Side::outside, tcp_flag::syn | tcp_flag::ack, {},
                    join({mss(1400), sack_permitted(), timestamps(900, 100), window_scale(2)}), "outside SYN-ACK with options");
             c.send(Side::inside, tcp_flag::ack, {}, timestamps(101, 900), "inside ACK of SYN-ACK");
             c.data(Side::inside, "GET / HTTP/1.0\r\n\r\n", timestamps(102, 900));
             c.retransmit(Side::inside, "inside data retransmitted");
             c.ack(Side::outside);
             c.data(Side::outside, "HTTP/1.0 200 OK\r\n\r\n", timestamps(901, 102));
             c.ack(Side::inside);
             c.fin(Side::inside);
             c.ack(Side::outside);
             c.data(Side::outside, "data after the inside's FIN (half-close)");
             c.ack(Side::inside);
             c.fin(Side::outside);
             c.ack(Side::inside);
           }},
          {"half-close by the outside",
           [](TcpConnection& c) {
             c.handshake();
             c.fin(Side::outside);
             c.ack(Side::inside);
             c.data(Side::inside, "data after the outside's FIN (half-close)");
             c.ack(Side::outside);
             c.fin(Side::inside);
             c.ack(Side::outside);
           }},
          {"simultaneous close",
           [](TcpConnection& c) {
             c.handshake();
             c.data(Side::inside, "bye");
             c.ack(Side::outside);
             c.simultaneous_close();
           }},
          {"connection refused (RST-ACK answers the SYN)",
           [](TcpConnection& c) {
             c.send(Side::inside, tcp_flag::syn, {}, {}, "inside SYN");
             c.reset(Side::outside);
           }},
          {"RST from the inside when established",
           [](TcpConnection& c) {
             c.handshake();
             c.data(Side::outside, "x");
             c.reset(Side::inside);
           }},
          {"RST from the outside when established",
           [](TcpConnection& c) {
             c.handshake();
             c.data(Side::inside, "x");
             c.reset(Side::outside);
           }},
          {"RST from the outside during the inside's half-close",
           [](TcpConnection& c) {
             c.handshake();
             c.fin(Side::inside);
             c.ack(Side::outside);
             c.reset(Side::outside);
           }},
      });
}

void outside_initiated_sequences(TestContext& ctx) {
  // The inside host first talks to Y1:y1, which creates X':x'; Y1 then connects to X':x' from another
  // port. Endpoint-independent and address-dependent filtering (REQ-3's two recommendations) admit that
  // SYN; a DUT that filters it does not permit the connection, and REQ-2 then asks nothing.
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint y1 = ctx.outside_endpoint(0);
  const TcpConnection existing = established(ctx, x, y1, "creates X':x'");
  ctx.bind("X'", *existing.external());

  TcpConnection c = TcpConnection::through(ctx, x, Endpoint{y1.address, ctx.fresh_port()}, existing.external());
  if (!c.probe(Side::outside, tcp_flag::syn, "outside SYN to X':x' from Y1 on another port")) {
    ctx.skip("the DUT's filter does not admit a SYN from Y1 on another port (address-and-port-dependent "
             "filtering, see rfc5382.req3.filtering.tcp), so no externally initiated connection is permitted");
  }
  c.send(Side::inside, tcp_flag::syn | tcp_flag::ack, {}, join({mss(1460), sack_permitted()}), "inside SYN-ACK");
  c.send(Side::outside, tcp_flag::ack, {}, {}, "outside ACK of SYN-ACK");
  c.data(Side::outside, "request");
  c.ack(Side::inside);
  c.data(Side::inside, "response");
  c.retransmit(Side::inside, "inside data retransmitted");
  c.ack(Side::outside);
  c.fin(Side::inside);
  c.ack(Side::outside);
  c.data(Side::outside, "data after the inside's FIN (half-close)");
  c.ack(Side::inside);
  c.fin(Side::outside);
  c.ack(Side::inside);

  // A second externally initiated connection, ended by the inside with a RST.
  TcpConnection refused = TcpConnection::through(ctx, x, Endpoint{y1.address, ctx.fresh_port()}, existing.external());
  refused.send(Side::outside, tcp_flag::syn, {}, {}, "outside SYN (second connection)");
  refused.reset(Side::inside);

  std::string observed = c.ok() && refused.ok() ? "every segment of both connections translated" : "";
  if (!c.ok()) observed = "connection from Y1: " + c.first_failure();
  if (!refused.ok()) observed += (observed.empty() ? "" : " | ") + ("connection refused with RST: " + refused.first_failure());
  ctx.check("RFC5382-REQ-2", c.ok() && refused.ok(),
            "an externally initiated connection the filter admits carries every valid segment, translated", observed);
}

void simultaneous_open(TestContext& ctx) {
  TcpConnection c = TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
  c.simultaneous_open();
  if (c.ok()) {
    c.data(Side::inside, "hello from inside");
    c.data(Side::outside, "hello from outside");
    c.ack(Side::inside);
  }
  if (c.external()) ctx.bind("X'", *c.external());
  ctx.check("RFC5382-REQ-2a", c.ok(),
            "both SYNs and both SYN-ACKs forwarded and translated, then data both ways",
            c.ok() ? "simultaneous open completed, data passed both ways" : c.describe_failures());
}

}  // namespace

void register_internal_connections(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req2.inside-initiated-sequences",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-2", Level::must}},
      .title = "Valid TCP sequences of inside-initiated connections pass",
      .procedure = "Scripted TCP endpoints drive seven inside-initiated connections through the DUT: a handshake "
                   "with MSS, SACK-permitted, timestamps and window scale, a retransmitted SYN and a retransmitted "
                   "data segment, data both ways and a half-close by the inside (the outside keeps sending); a "
                   "half-close by the outside; a simultaneous close (both FINs cross); a SYN answered with RST-ACK; "
                   "RST from either side when established; RST during a half-close. Every segment must come out "
                   "on the other side translated: addresses and ports rewritten, sequence and acknowledgement "
                   "numbers, flags, option kinds and payload kept, checksums valid.",
      .rfc_quote = "REQ-2:  A NAT MUST support all valid sequences of TCP packets (defined in [RFC0793]) for "
                   "connections initiated both internally as well as externally when the connection is "
                   "permitted by the NAT.",
      .run = inside_initiated_sequences,
      .mutants = {{"no-half-close", "rfc-strict,tcp.drop-after-fin=true", Verdict::fail,
                   "drops data sent after the first FIN"}},
  });
  // tcp.pass-inbound-initiated=false is not a mutant of the next test: black-box, a NAT that refuses
  // an inbound SYN its filter admits looks exactly like one whose filter does not admit it (SKIP).
  registry.add(TestCase{
      .id = "rfc5382.req2.outside-initiated-sequences",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-2", Level::must}},
      .title = "Valid TCP sequences of outside-initiated connections pass",
      .procedure = "X:x connects to Y1:y1, which creates X':x'. Y1 then opens a connection to X':x' from another "
                   "port (endpoint-independent and address-dependent filtering admit it; the test SKIPs when the "
                   "DUT filters it): SYN, SYN-ACK with options, ACK, data both ways with a retransmission, a "
                   "half-close by the inside with the outside still sending, both FINs acknowledged. A second "
                   "connection from Y1 is refused by X with a RST. Every segment must come out translated.",
      .rfc_quote = "REQ-2:  A NAT MUST support all valid sequences of TCP packets (defined in [RFC0793]) for "
                   "connections initiated both internally as well as externally when the connection is "
                   "permitted by the NAT.",
      .run = outside_initiated_sequences,
      .mutants = {{"no-half-close", "rfc-strict,tcp.drop-after-fin=true", Verdict::fail,
                   "drops data sent after the first FIN"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req2a.simultaneous-open",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-2a", Level::must}},
      .title = "TCP simultaneous open",
      .procedure = "X:x sends a SYN to Y:y, which teaches the harness X':x'; Y sends its own SYN to X':x' that "
                   "acknowledges nothing (the SYNs cross), then X and Y each send a SYN-ACK. All four segments "
                   "must be forwarded and translated, then data must pass both ways.",
      .rfc_quote = "a) In addition to handling the TCP 3-way handshake mode of connection initiation, A NAT MUST "
                   "handle the TCP simultaneous-open mode of connection initiation.",
      .run = simultaneous_open,
      .mutants = {{"no-simultaneous-open", "rfc-strict,tcp.simultaneous-open=false", Verdict::fail,
                   "drops an inbound SYN on a connection opened by an outbound SYN"}},
  });
}

}  // namespace natcert::suites::rfc5382
