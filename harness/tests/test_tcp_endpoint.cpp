// Scripted TCP endpoints against the in-process reference NAT: the sequences go through a compliant
// NAT step by step, and a NAT that breaks one step is reported at that step.
#include <gtest/gtest.h>

#include <functional>

#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/harness/tcp_endpoint.hpp"

using namespace natcert::harness;
using namespace std::chrono_literals;
namespace flag = natcert::ref::tcp_flag;

namespace {

struct Outcome {
  Verdict verdict = Verdict::error;
  std::string reason;
  std::vector<std::string> failures;
  std::optional<Endpoint> external;
  Endpoint internal{};
  std::size_t steps = 0;
};

// Runs `script` as a test procedure on the reference NAT built from `config`; the script's connection
// outcome is copied out.
Outcome drive(const std::string& config, const std::function<TcpConnection(TestContext&)>& script) {
  Outcome outcome;
  TestCase test;
  test.id = "unit.tcp-endpoint";
  test.suite = "unit";
  test.requirements = {{"UNIT-TCP", Level::must}};
  test.title = "scripted TCP";
  test.procedure = "scripted TCP";
  test.run = [&](TestContext& ctx) {
    TcpConnection connection = script(ctx);
    outcome.failures = connection.failures();
    outcome.external = connection.external();
    outcome.internal = connection.first().local;
    outcome.steps = connection.steps().size();
    ctx.check("UNIT-TCP", true, "the script ran", "it ran");
  };
  InProcessTestbed testbed(config);
  const TestResult result = run_test(testbed, test, 7);
  outcome.verdict = result.verdict;
  outcome.reason = result.reason;
  return outcome;
}

TcpConnection plain(TestContext& ctx) {
  return TcpConnection::through(ctx, ctx.inside_endpoint(0), ctx.outside_endpoint(0));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(TcpEndpoint, FullConnectionThroughACompliantNat) {
  const Outcome o = drive("rfc-strict", [](TestContext& ctx) {
    TcpConnection c = plain(ctx);
    EXPECT_TRUE(c.handshake());
    EXPECT_TRUE(c.data(Side::inside, "request"));
    c.ack(Side::outside);
    EXPECT_TRUE(c.data(Side::outside, "response"));
    c.ack(Side::inside);
    c.fin(Side::inside);  // half-close: the outside still sends
    c.ack(Side::outside);
    EXPECT_TRUE(c.data(Side::outside, "more after the FIN"));
    c.ack(Side::inside);
    c.fin(Side::outside);
    c.ack(Side::inside);
    return c;
  });
  EXPECT_EQ(o.verdict, Verdict::pass) << o.reason;
  EXPECT_TRUE(o.failures.empty()) << o.failures.front();
  EXPECT_EQ(o.steps, 13u);
  ASSERT_TRUE(o.external.has_value());
  EXPECT_EQ(o.external->address, ipv4("203.0.113.1"));
  EXPECT_EQ(o.external->port, o.internal.port);  // rfc-strict preserves ports
}

TEST(TcpEndpoint, OptionsRetransmissionsAndResets) {
  const Outcome o = drive("rfc-strict", [](TestContext& ctx) {
    TcpConnection c = plain(ctx);
    using namespace tcp_option;
    c.send(Side::inside, flag::syn, {}, join({mss(1460), sack_permitted(), timestamps(1, 0), window_scale(7)}));
    c.retransmit(Side::inside);
    c.send(Side::outside, flag::syn | flag::ack, {}, join({mss(1400), sack_permitted(), timestamps(9, 1)}));
    c.send(Side::inside, flag::ack, {}, timestamps(2, 9));
    c.data(Side::inside, "with timestamps", timestamps(3, 9));
    c.retransmit(Side::inside);
    c.reset(Side::outside);
    return c;
  });
  EXPECT_EQ(o.verdict, Verdict::pass) << o.reason;
  EXPECT_TRUE(o.failures.empty()) << o.failures.front();
  EXPECT_EQ(o.steps, 7u);
}

TEST(TcpEndpoint, SimultaneousOpenAndClose) {
  const Outcome o = drive("rfc-strict", [](TestContext& ctx) {
    TcpConnection c = plain(ctx);
    EXPECT_TRUE(c.simultaneous_open());
    EXPECT_TRUE(c.data(Side::outside, "hi"));
    EXPECT_TRUE(c.simultaneous_close());
    return c;
  });
  EXPECT_EQ(o.verdict, Verdict::pass) << o.reason;
  EXPECT_TRUE(o.failures.empty()) << o.failures.front();
}

TEST(TcpEndpoint, ReportsTheStepThatFailed) {
  const Outcome o = drive("rfc-strict,tcp.simultaneous-open=false", [](TestContext& ctx) {
    TcpConnection c = plain(ctx);
    EXPECT_FALSE(c.simultaneous_open());
    return c;
  });
  EXPECT_EQ(o.verdict, Verdict::pass) << o.reason;  // the script decides nothing itself
  ASSERT_EQ(o.failures.size(), 1u);
  ASSERT_TRUE(o.external.has_value());
  const std::string expected = "step 2 (outside SYN (crossing)): expected a TCP SYN " + to_string(o.internal) +
                               " <- 198.51.100.10:";
  EXPECT_TRUE(contains(o.failures[0], expected)) << o.failures[0];
  EXPECT_TRUE(contains(o.failures[0], "got nothing in 1 s")) << o.failures[0];
}

TEST(TcpEndpoint, HalfCloseViolationIsReportedAtTheDataStep) {
  const Outcome o = drive("rfc-strict,tcp.drop-after-fin=true", [](TestContext& ctx) {
    TcpConnection c = plain(ctx);
    c.handshake();
    c.fin(Side::inside);
    c.ack(Side::outside);
    EXPECT_FALSE(c.data(Side::outside, "after FIN"));
    return c;
  });
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_TRUE(contains(o.failures[0], "step 6 (outside data (9 bytes)): expected a TCP PSH-ACK")) << o.failures[0];
}

TEST(TcpEndpoint, OutsideInitiatedThroughAnExistingMapping) {
  const Outcome o = drive("full-cone", [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    TcpConnection first = TcpConnection::through(ctx, x, ctx.outside_endpoint(0));
    EXPECT_TRUE(first.handshake());
    TcpConnection second = TcpConnection::through(ctx, x, ctx.outside_endpoint(1), first.external());
    EXPECT_TRUE(second.handshake_from_outside());
    EXPECT_TRUE(second.data(Side::inside, "served"));
    return second;
  });
  EXPECT_EQ(o.verdict, Verdict::pass) << o.reason;
  EXPECT_TRUE(o.failures.empty()) << o.failures.front();
}

TEST(TcpEndpoint, ExpectDroppedSegments) {
  const Outcome o = drive("rfc-strict", [](TestContext& ctx) {
    const Endpoint x = ctx.inside_endpoint(0);
    TcpConnection first = TcpConnection::through(ctx, x, ctx.outside_endpoint(0));
    first.handshake();
    // Another outside host with no session: an ACK out of nowhere must not reach X.
    TcpConnection stray = TcpConnection::through(ctx, x, ctx.outside_endpoint(1), first.external());
    EXPECT_TRUE(stray.send_expect_dropped(Side::outside, flag::ack, {}, "stray ACK"));
    return stray;
  });
  EXPECT_EQ(o.verdict, Verdict::pass) << o.reason;
  EXPECT_TRUE(o.failures.empty()) << o.failures.front();
}

TEST(TcpEndpoint, HairpinPeersCheckTheExternalSource) {
  const auto script = [](TestContext& ctx) {
    const Endpoint y = ctx.outside_endpoint(0);
    TcpConnection a = TcpConnection::through(ctx, ctx.inside_endpoint(0), y);
    TcpConnection b = TcpConnection::through(ctx, ctx.inside_endpoint(1), Endpoint{y.address, ctx.fresh_port()});
    a.handshake();
    b.handshake();
    TcpConnection hairpin(ctx, TcpPeer{"X1", Side::inside, a.first().local, a.external()},
                          TcpPeer{"X2", Side::inside, b.first().local, b.external()});
    hairpin.send_from(1, flag::syn, {}, {}, "X2 SYN to X1'");
    hairpin.send_from(0, flag::syn | flag::ack, {}, {}, "X1 SYN-ACK to X2'");
    hairpin.send_from(1, flag::ack, {}, {}, "X2 ACK");
    return hairpin;
  };
  const Outcome good = drive("full-cone", script);
  EXPECT_EQ(good.verdict, Verdict::pass) << good.reason;
  EXPECT_TRUE(good.failures.empty()) << good.failures.front();

  const Outcome bad = drive("full-cone,hairpin.source=internal-endpoint", script);
  ASSERT_FALSE(bad.failures.empty());
  EXPECT_TRUE(contains(bad.failures[0], "step 1 (X2 SYN to X1')")) << bad.failures[0];
}

TEST(TcpEndpoint, SendingToAnUnknownExternalEndpointIsAHarnessError) {
  const Outcome o = drive("rfc-strict", [](TestContext& ctx) {
    TcpConnection c = plain(ctx);
    c.handshake_from_outside();
    return c;
  });
  EXPECT_EQ(o.verdict, Verdict::error);
  EXPECT_TRUE(contains(o.reason, "external endpoint unknown")) << o.reason;
}

TEST(TcpEndpoint, FlagNames) {
  EXPECT_EQ(tcp_flags_name(flag::syn), "SYN");
  EXPECT_EQ(tcp_flags_name(flag::syn | flag::ack), "SYN-ACK");
  EXPECT_EQ(tcp_flags_name(flag::fin | flag::ack), "FIN-ACK");
  EXPECT_EQ(tcp_flags_name(flag::psh | flag::ack), "PSH-ACK");
  EXPECT_EQ(tcp_flags_name(flag::rst), "RST");
  EXPECT_EQ(tcp_flags_name(0), "no-flags");
}
