#include <gtest/gtest.h>

#include "natcert/harness/craft.hpp"
#include "natcert/harness/matcher.hpp"

using namespace natcert::harness;

namespace {

const Endpoint x{0x0A00000Au, 40000};
const Endpoint y{0xC633640Au, 3478};
const Endpoint z{0xC633640Bu, 3478};

}  // namespace

TEST(Matcher, TypedMatchersSelectTheirProtocol) {
  const Packet u = udp(x, y, "a");
  const Packet t = tcp(x, y, {.flags = tcp_flag::syn});
  const Packet e = icmp_echo(x.address, y.address, 1, 1);
  const Packet err = icmp_error(y.address, x.address, 3, 3, u);
  EXPECT_TRUE(match::udp().matches(u));
  EXPECT_FALSE(match::udp().matches(t));
  EXPECT_TRUE(match::tcp().matches(t));
  EXPECT_TRUE(match::icmp().matches(e));
  EXPECT_TRUE(match::icmp().matches(err));
  EXPECT_TRUE(match::icmp_echo_request().matches(e));
  EXPECT_FALSE(match::icmp_echo_reply().matches(e));
  EXPECT_TRUE(match::icmp_error().matches(err));
  EXPECT_TRUE(match::icmp_error(3).matches(err));
  EXPECT_TRUE(match::icmp_error(3, 3).matches(err));
  EXPECT_FALSE(match::icmp_error(3, 1).matches(err));
  EXPECT_FALSE(match::icmp_error().matches(e));
  EXPECT_TRUE(match::ip().matches(u));
  EXPECT_TRUE(match::protocol(17).matches(u));
}

TEST(Matcher, EndpointsPortsAndPayload) {
  const Packet u = udp(x, y, "hello");
  EXPECT_TRUE(match::udp().from(x).to(y).matches(u));
  EXPECT_FALSE(match::udp().from(y).matches(u));
  EXPECT_FALSE(match::udp().to(z).matches(u));
  EXPECT_TRUE(match::udp().from(x.address).to(y.address).matches(u));
  EXPECT_TRUE(match::udp().from_port(40000).to_port(3478).matches(u));
  EXPECT_TRUE(match::udp().payload("hello").matches(u));
  EXPECT_FALSE(match::udp().payload("hell").matches(u));
  EXPECT_TRUE(match::udp().payload_contains("ell").matches(u));
  EXPECT_TRUE(match::any().from(x).matches(u));
  // ICMP query identifiers play the port's role.
  EXPECT_TRUE(match::icmp_echo_request().from(Endpoint{x.address, 77}).matches(icmp_echo(x.address, y.address, 77, 1)));
}

TEST(Matcher, TcpFlags) {
  const Packet synack = tcp(x, y, {.flags = tcp_flag::syn | tcp_flag::ack});
  EXPECT_TRUE(match::tcp().flags(tcp_flag::syn | tcp_flag::ack).matches(synack));
  EXPECT_FALSE(match::tcp().flags(tcp_flag::syn).matches(synack));  // exact by default
  EXPECT_TRUE(match::tcp().flags(tcp_flag::syn, tcp_flag::syn | tcp_flag::rst).matches(synack));
  EXPECT_FALSE(match::tcp().flags(tcp_flag::rst, tcp_flag::rst).matches(synack));
}

TEST(Matcher, QuotingLooksInsideIcmpErrors) {
  const Packet err = icmp_error(y.address, x.address, 3, 3, udp(x, y));
  EXPECT_TRUE(match::icmp_error(3, 3).quoting(x, y).matches(err));
  EXPECT_FALSE(match::icmp_error(3, 3).quoting(y, x).matches(err));
}

TEST(Matcher, MalformedPacketsOnlyMatchAnyAndMalformed) {
  const Packet garbage{0x45, 0x00, 0x00, 0x1c, 0xde, 0xad};
  EXPECT_FALSE(match::ip().matches(garbage));
  EXPECT_FALSE(match::udp().matches(garbage));
  EXPECT_TRUE(match::any().matches(garbage));
  EXPECT_TRUE(match::malformed().matches(garbage));
  EXPECT_FALSE(match::malformed().matches(udp(x, y)));

  Packet bad_checksum = udp(x, y, "hello");
  bad_checksum.back() ^= 0x01;
  EXPECT_FALSE(match::udp().matches(bad_checksum));
  EXPECT_TRUE(match::malformed().matches(bad_checksum));
  EXPECT_TRUE(match::udp().from(x).any_checksum().matches(bad_checksum));
}

TEST(Matcher, Combinators) {
  const Packet u = udp(x, y);
  const Packet err = icmp_error(y.address, x.address, 3, 3, u);
  const Matcher either = match::udp().to(y) || match::icmp_error();
  EXPECT_TRUE(either.matches(u));
  EXPECT_TRUE(either.matches(err));
  EXPECT_FALSE(either.matches(tcp(x, y, {})));
  EXPECT_TRUE((match::udp() && match::ip().from(x.address)).matches(u));
  EXPECT_FALSE((!match::udp()).matches(u));
  EXPECT_TRUE(either.from(y.address).matches(err));
  EXPECT_FALSE(either.from(y.address).matches(u));
  EXPECT_EQ(either.description(), "(UDP to 198.51.100.10:3478) or (ICMP error)");
}

TEST(Matcher, WhereAndFragments) {
  const auto pieces = fragment(udp(x, y, std::string(100, 'a')), 48);
  ASSERT_GE(pieces.size(), 2u);
  EXPECT_TRUE(match::fragment().matches(pieces[0]));
  EXPECT_TRUE(match::udp().matches(pieces[0]));  // a first fragment still shows its UDP header
  EXPECT_FALSE(match::udp().whole().matches(pieces[0]));
  EXPECT_FALSE(match::udp().matches(pieces[1]));
  EXPECT_TRUE(match::fragment().from(x.address).matches(pieces[1]));
  const Matcher low_ttl = match::ip().where("with TTL below 10", [](const natcert::ref::PacketView& p) {
    return p.ip.ttl() < 10;
  });
  EXPECT_TRUE(low_ttl.matches(udp(x, y, "", {.ttl = 3})));
  EXPECT_FALSE(low_ttl.matches(udp(x, y)));
  EXPECT_TRUE(match::ip().ttl(3).matches(udp(x, y, "", {.ttl = 3})));
  EXPECT_EQ(low_ttl.description(), "IPv4 packet with TTL below 10");
}
