#include <gtest/gtest.h>

#include <set>

#include "natcert/harness/craft.hpp"
#include "natcert/harness/decode.hpp"
#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/testcase.hpp"

using namespace natcert::harness;
using namespace std::chrono_literals;

namespace {

const TestCase& dummy() {
  static const TestCase test = [] {
    TestCase t;
    t.id = "unit.dummy";
    return t;
  }();
  return test;
}

const Ipv4Address kExternal = ipv4("203.0.113.1");

}  // namespace

TEST(InProcessTestbed, DescribesItself) {
  InProcessTestbed testbed("rfc-strict");
  EXPECT_EQ(testbed.kind(), "in-process");
  EXPECT_TRUE(testbed.virtual_time());
  const Addressing a = testbed.addressing();
  ASSERT_GE(a.inside.size(), 2u);
  ASSERT_GE(a.outside.size(), 2u);
  EXPECT_EQ(a.inside[0], ipv4("10.0.0.10"));
  EXPECT_EQ(a.inside[1], ipv4("10.0.0.11"));
  EXPECT_EQ(a.outside[0], ipv4("198.51.100.10"));
  EXPECT_EQ(a.third_party, ipv4("192.0.2.50"));
  EXPECT_EQ(a.nat_external, std::vector<Ipv4Address>{kExternal});
  EXPECT_EQ(a.nat_inside, ipv4("10.0.0.1"));
  bool found = false;
  for (const auto& [key, value] : testbed.dut_configuration()) {
    if (key == "udp.mapping") {
      found = true;
      EXPECT_EQ(value, "endpoint-independent");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_NE(testbed.describe().find("rfc-strict"), std::string::npos);
}

TEST(InProcessTestbed, RejectsBadConfigurations) {
  EXPECT_THROW(InProcessTestbed("no-such-preset"), std::invalid_argument);
  EXPECT_THROW(InProcessTestbed("rfc-strict,udp.mapping=cone"), std::invalid_argument);
}

TEST(InProcessSession, TranslatesAndQueuesPerSide) {
  InProcessTestbed testbed("rfc-strict");
  auto session = testbed.open_session(dummy(), 1);
  const Endpoint x{ipv4("10.0.0.10"), 40000};
  const Endpoint y1{ipv4("198.51.100.10"), 3478}, y2{ipv4("198.51.100.11"), 3478};
  session->send(Side::inside, udp(x, y1, "one"));
  session->send(Side::inside, udp(x, y2, "two"));
  EXPECT_FALSE(session->receive(Side::inside, match::any(), 0s).has_value());
  // Non-matching packets stay queued for later receives.
  auto second = session->receive(Side::outside, match::udp().to(y2), 0s);
  ASSERT_TRUE(second.has_value());
  auto first = session->receive(Side::outside, match::udp().to(y1), 0s);
  ASSERT_TRUE(first.has_value());
  const Observed seen(first->side, first->at, first->bytes);
  EXPECT_EQ(seen.source().address, kExternal);
  EXPECT_EQ(seen.payload_text(), "one");
  EXPECT_EQ(session->now(), 0s);
  EXPECT_TRUE(session->drain(Side::outside).empty());
}

TEST(InProcessSession, ReceiveWaitsOutItsWindowOnVirtualTime) {
  InProcessTestbed testbed("rfc-strict");
  auto session = testbed.open_session(dummy(), 1);
  EXPECT_FALSE(session->receive(Side::outside, match::any(), 2500ms).has_value());
  EXPECT_EQ(session->now(), 2500ms);
  session->wait(10min);
  EXPECT_EQ(session->now(), 10min + 2500ms);
}

TEST(InProcessSession, TimedEmissionsAppearWhenDue) {
  // RFC 5382 REQ-4 in the reference: an unsolicited SYN is held 6 s, then answered with ICMP 3/3.
  InProcessTestbed testbed("rfc-strict");
  auto session = testbed.open_session(dummy(), 1);
  const Endpoint y{ipv4("198.51.100.10"), 5555};
  session->send(Side::outside, tcp(y, Endpoint{kExternal, 40000}, {.flags = tcp_flag::syn, .seq = 1}));
  const auto diagnostics = session->take_diagnostics();
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_NE(diagnostics[0].find("unsolicited-syn-held"), std::string::npos) << diagnostics[0];
  auto icmp = session->receive(Side::outside, match::icmp_error(3, 3), 20s);
  ASSERT_TRUE(icmp.has_value());
  EXPECT_GE(icmp->at, 6s);
  EXPECT_LE(icmp->at, 6s + 100ms);
}

TEST(InProcessSession, MappingsExpireOnVirtualTime) {
  InProcessTestbed testbed("rfc-strict,udp-timers.mapping=2m");
  auto session = testbed.open_session(dummy(), 1);
  const Endpoint x{ipv4("10.0.0.10"), 40000};
  const Endpoint y{ipv4("198.51.100.10"), 3478};
  session->send(Side::inside, udp(x, y));
  auto out = session->receive(Side::outside, match::udp(), 0s);
  ASSERT_TRUE(out.has_value());
  const Endpoint external = Observed(Side::outside, out->at, out->bytes).source();
  session->wait(100s);
  session->send(Side::outside, udp(y, external, "still there"));
  EXPECT_TRUE(session->receive(Side::inside, match::udp().to(x), 0s).has_value());
  session->wait(121s);  // the inbound packet refreshed the mapping at 100 s (inbound refresh on)
  session->send(Side::outside, udp(y, external, "gone"));
  EXPECT_FALSE(session->receive(Side::inside, match::udp().to(x), 1s).has_value());
}

TEST(InProcessSession, SameSeedSameBehaviour) {
  InProcessTestbed testbed("rfc-strict,ports.preserve-port=false");
  auto external_port = [&](std::uint64_t seed) {
    auto session = testbed.open_session(dummy(), seed);
    session->send(Side::inside, udp(Endpoint{ipv4("10.0.0.10"), 40000}, Endpoint{ipv4("198.51.100.10"), 1}));
    auto out = session->receive(Side::outside, match::udp(), 0s);
    return Observed(Side::outside, out->at, out->bytes).source().port;
  };
  EXPECT_EQ(external_port(7), external_port(7));
  std::set<std::uint16_t> ports;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) ports.insert(external_port(seed));
  EXPECT_GT(ports.size(), 1u);
}
