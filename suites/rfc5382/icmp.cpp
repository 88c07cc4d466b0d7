// RFC 5382 §7.3: ICMP Destination Unreachable for TCP flows is translated (REQ-9) and no ICMP message
// ends a mapping or connection (REQ-10).
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {
namespace {

using ref::icmp_type::destination_unreachable;

struct IcmpKind {
  std::uint8_t type;
  std::uint8_t code;
  const char* name;
};

constexpr IcmpKind kUnreachable[] = {
    {3, 0, "net unreachable"},
    {3, 1, "host unreachable"},
    {3, 3, "port unreachable"},
    {3, 4, "fragmentation needed (MTU 1280)"},
    {3, 13, "communication administratively prohibited"},
};
constexpr std::uint16_t kNextHopMtu = 1280;

// An established connection and one of its data segments as the outside captured it (what an ICMP
// error from the outside quotes).
struct ConnectionWithSegment {
  TcpConnection connection;
  Observed segment;
};

ConnectionWithSegment connection_with_segment(TestContext& ctx) {
  TcpConnection c = established(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0), "the flow the ICMP is about");
  const auto segment = c.send(Side::inside, tcp_flag::psh | tcp_flag::ack, "segment the ICMP errors quote", {},
                              "inside data");
  if (!segment) ctx.inconclusive("the DUT did not forward data on the connection: " + c.first_failure());
  ctx.bind("X'", *c.external());
  return {std::move(c), *segment};
}

harness::Packet unreachable(const ConnectionWithSegment& flow, harness::Ipv4Address from, const IcmpKind& kind) {
  harness::IcmpErrorFields fields;
  if (kind.code == 4) fields.next_hop_mtu = kNextHopMtu;
  return harness::icmp_error(from, flow.connection.external()->address, kind.type, kind.code, flow.segment.bytes(),
                             fields);
}

void destination_unreachable_translated(TestContext& ctx) {
  const ConnectionWithSegment flow = connection_with_segment(ctx);
  const Endpoint x = flow.connection.peer(Side::inside).local;
  const Endpoint y = flow.connection.peer(Side::outside).local;
  const harness::Ipv4Address router = ctx.outside(1);
  std::string observed;
  bool all = true;
  for (const IcmpKind& kind : kUnreachable) {
    ctx.send(Side::outside, unreachable(flow, router, kind), std::string("ICMP ") + kind.name + " quoting the flow");
    harness::Matcher translated = match::icmp_error(kind.type, kind.code).to(x.address).quoting(x, y);
    if (kind.code == 4) {
      translated = translated.where("next-hop MTU 1280", [](const ref::PacketView& p) {
        return p.icmp.next_hop_mtu() == kNextHopMtu;
      });
    }
    const auto got = ctx.expect(Side::inside, translated, harness::reply_window,
                                std::string(kind.name) + " at X, quoting X:x > Y:y");
    all = all && got.has_value();
    observed += (observed.empty() ? "" : ", ") + std::string(kind.name) + (got ? " translated" : " not delivered");
  }
  ctx.drain(Side::inside);
  ctx.check("RFC5382-REQ-9", all,
            "each Destination Unreachable reaches X with its type, code (and MTU) kept and its quote restored to "
            "X:x > Y:y",
            observed);
}

void icmp_does_not_tear_down(TestContext& ctx) {
  ConnectionWithSegment flow = connection_with_segment(ctx);
  TcpConnection& c = flow.connection;
  const Endpoint y = c.peer(Side::outside).local;
  const harness::Ipv4Address router = ctx.outside(1);
  constexpr IcmpKind kOthers[] = {{11, 0, "time exceeded"}, {12, 0, "parameter problem"}, {4, 0, "source quench"}};
  std::size_t sent = 0;
  for (const harness::Ipv4Address from : {y.address, router}) {
    for (const IcmpKind& kind : kUnreachable) {
      ctx.send(Side::outside, unreachable(flow, from, kind), std::string("ICMP ") + kind.name + " quoting the flow");
      ++sent;
    }
    for (const IcmpKind& kind : kOthers) {
      ctx.send(Side::outside,
               harness::icmp_error(from, c.external()->address, kind.type, kind.code, flow.segment.bytes()),
               std::string("ICMP ") + kind.name + " quoting the flow");
      ++sent;
    }
  }
  ctx.send(Side::outside, harness::icmp_echo(y.address, c.external()->address, c.external()->port, 1),
           "echo request to X' with the mapping's port as identifier");
  ++sent;
  ctx.sleep(std::chrono::seconds(1));
  ctx.drain(Side::inside);
  ctx.drain(Side::outside);
  c.ack(Side::outside);
  c.data(Side::outside, "still connected?");
  c.data(Side::inside, "still connected");
  ctx.check("RFC5382-REQ-10", c.ok(),
            "after " + std::to_string(sent) + " ICMP messages about it the connection carries data both ways on "
                "the same X':x'",
            c.ok() ? "data passed both ways on " + text(c.external()) : c.first_failure());
}

}  // namespace

void register_icmp(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc5382.req9.icmp-destination-unreachable",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-9", Level::should}},
      .title = "ICMP Destination Unreachable about a TCP connection is translated",
      .procedure = "X:x and Y:y complete a handshake and X sends data. A router on the outside sends ICMP "
                   "Destination Unreachable (codes 0, 1, 3, 4 with next-hop MTU 1280, and 13) to X' quoting the "
                   "data segment as it left the NAT. Each must reach X with type and code (and the MTU) kept and "
                   "the quoted segment restored to X:x > Y:y.",
      .rfc_quote = "REQ-9:  If a NAT translates TCP, it SHOULD translate ICMP Destination Unreachable (Type 3) "
                   "messages.",
      .run = destination_unreachable_translated,
      .mutants = {{"no-inbound-errors", "rfc-strict,icmp.translate-inbound-errors=false", Verdict::warn,
                   "drops ICMP errors about mapped flows"}},
  });
  registry.add(TestCase{
      .id = "rfc5382.req10.icmp-no-teardown",
      .suite = kSuite,
      .requirements = {{"RFC5382-REQ-10", Level::must_not}},
      .title = "No ICMP message ends a TCP connection or its mapping",
      .procedure = "X:x and Y:y complete a handshake and X sends data. Y and an outside router then each send "
                   "Destination Unreachable (codes 0, 1, 3, 4, 13), Time Exceeded, Parameter Problem and Source "
                   "Quench quoting the connection, and Y an echo request to X' with the mapping's port as "
                   "identifier. The connection must then still carry data both ways, X's from the same X':x'.",
      .rfc_quote = "REQ-10:  Receipt of any sort of ICMP message MUST NOT terminate the NAT mapping or TCP "
                   "connection for which the ICMP was generated.",
      .run = icmp_does_not_tear_down,
      .mutants = {{"icmp-destroys", "rfc-strict,icmp.errors-destroy-mappings=true", Verdict::fail,
                   "an ICMP error about a flow deletes its mapping"}},
  });
}

}  // namespace natcert::suites::rfc5382
