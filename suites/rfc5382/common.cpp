#include "rfc5382/common.hpp"

namespace natcert::suites::rfc5382 {

TcpConnection established(TestContext& ctx, Endpoint inside, Endpoint outside, std::string_view purpose) {
  TcpConnection connection = TcpConnection::through(ctx, inside, outside);
  if (!connection.handshake()) {
    ctx.inconclusive("the TCP handshake " + harness::to_string(inside) + " > " + harness::to_string(outside) + " (" +
                     std::string(purpose) + ") did not complete through the DUT: " + connection.first_failure());
  }
  return connection;
}

std::string text(const std::optional<Endpoint>& endpoint) {
  return endpoint ? harness::to_string(*endpoint) : std::string("(unknown)");
}

FilteringProbe classify_tcp_filtering(TestContext& ctx, const TcpConnection& connection) {
  const Endpoint x = connection.peer(Side::inside).local;
  const Endpoint y1 = connection.peer(Side::outside).local;
  const Endpoint other_port{y1.address, ctx.fresh_port()};
  const Endpoint other_address{ctx.outside(1), y1.port};
  const auto syn_passes = [&](Endpoint from, const char* what) {
    TcpConnection probe = TcpConnection::through(ctx, x, from, connection.external());
    return probe.probe(Side::outside, tcp_flag::syn, what).has_value();
  };
  const bool port_change_passes = syn_passes(other_port, "SYN from Y1 on another port");
  const bool address_change_passes = syn_passes(other_address, "SYN from Y2 on port y1");
  return filtering_probe("SYN", other_port, port_change_passes, other_address, address_change_passes);
}

harness::Matcher answers_to(Endpoint to, Endpoint external) {
  return match::tcp().from(external).to(to) || match::icmp_error().to(to.address).quoting(to, external);
}

std::string UnsolicitedAnswer::describe(Duration sent_at) const {
  const auto one = [&](const Observed& answer) {
    return answer.summary() + " after " + harness::format_duration(answer.at() - sent_at);
  };
  if (early) return "answered early: " + one(*early);
  if (late) return "silent for 6 s, then " + one(*late);
  return "no answer at all";
}

}  // namespace natcert::suites::rfc5382
