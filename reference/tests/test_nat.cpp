// Each knob of the reference NAT exercised with crafted packets; checksums of everything it emits
// are verified by an independent computation (NatDriver::send).
#include <set>

#include "nat_test_support.hpp"

namespace natcert::ref {
namespace {

using namespace std::chrono_literals;
using namespace testing;

NatConfig config_with(void (*edit)(NatConfig&) = nullptr) {
  NatConfig config = defaults();
  if (edit != nullptr) edit(config);
  return config;
}

// ---- mapping (RFC 4787 §4.1, REQ-1)

TEST(Mapping, EndpointIndependentKeepsOneExternalEndpoint) {
  NatDriver nat(config_with());
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3479)));
  const Endpoint c = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside2, 3478)));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_EQ(a.address, addr(kExternal));
  EXPECT_EQ(a.port, 40000) << "port preserved when free";
}

TEST(Mapping, AddressDependentChangesPerDestinationAddress) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp.mapping = MappingBehavior::address_dependent; }));
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3479)));
  const Endpoint c = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside2, 3478)));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Mapping, AddressAndPortDependentChangesPerDestinationEndpoint) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp.mapping = MappingBehavior::address_and_port_dependent; }));
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3479)));
  EXPECT_NE(a, b);
}

TEST(Mapping, ChangeOnCollisionMakesBehaviourNonDeterministic) {
  NatDriver nat(config_with([](NatConfig& c) { c.ports.change_mapping_on_collision = true; }));
  nat.outbound(udp(kInside1, 40000, kOutside1, 3478));  // takes external port 40000
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside2, 40000, kOutside1, 3478)));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside2, 40000, kOutside2, 3478)));
  EXPECT_NE(a, b) << "after a collision the mapping turned address-and-port-dependent (REQ-11 violation)";
}

TEST(Mapping, TcpAndUdpMappingsAreSeparateByDefault) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp.filtering = FilteringBehavior::endpoint_independent; }));
  const Endpoint u = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  EXPECT_TRUE(nat.inbound(tcp(kOutside2, 5555, kExternal, u.port, Tins::TCP::SYN)).empty());
}

TEST(Mapping, ProtocolIndependentFilteringLetsTcpIntoUdpMapping) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.udp.filtering = FilteringBehavior::endpoint_independent;
    c.tcp.filtering = FilteringBehavior::endpoint_independent;
    c.protocol_independent_filtering = true;
  }));
  const Endpoint u = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  EXPECT_EQ(nat.inbound(tcp(kOutside2, 5555, kExternal, u.port, Tins::TCP::SYN)).size(), 1u);
}

// ---- filtering (RFC 4787 §5, REQ-8)

struct FilteringCase {
  FilteringBehavior behavior;
  bool from_other_port;
  bool from_other_address;
};

class Filtering : public ::testing::TestWithParam<FilteringCase> {};

TEST_P(Filtering, InboundFromOtherEndpoints) {
  const FilteringCase param = GetParam();
  NatConfig config = defaults();
  config.udp.filtering = param.behavior;
  NatDriver nat(config);
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  EXPECT_EQ(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).size(), 1u) << "the contacted endpoint";
  EXPECT_EQ(nat.inbound(udp(kOutside1, 3479, kExternal, e.port)).size(), param.from_other_port ? 1u : 0u);
  EXPECT_EQ(nat.inbound(udp(kOutside2, 3478, kExternal, e.port)).size(), param.from_other_address ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Behaviours, Filtering,
                         ::testing::Values(FilteringCase{FilteringBehavior::endpoint_independent, true, true},
                                           FilteringCase{FilteringBehavior::address_dependent, true, false},
                                           FilteringCase{FilteringBehavior::address_and_port_dependent, false,
                                                         false}));

TEST(Filtering, InboundTranslationRestoresInsideEndpoint) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const auto reply = udp(kOutside1, 3478, kExternal, e.port, "reply");
  const auto in = nat.inbound(reply);
  ASSERT_EQ(in.size(), 1u);
  const PacketView v = view_of(in[0]);
  EXPECT_EQ(v.ip.destination(), addr(kInside1));
  EXPECT_EQ(v.udp.destination_port(), 40000);
  EXPECT_EQ(v.ip.ttl(), reply[8] - 1) << "a NAT is a router: TTL decremented";
}

TEST(Filtering, UnknownExternalPortIsDropped) {
  NatDriver nat(config_with());
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 3478, kExternal, 999)).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::no_mapping);
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 3478, "203.0.113.99", 999)).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::not_for_nat);
}

// ---- port assignment (RFC 4787 §4.2, REQ-3, REQ-3a, REQ-4)

TEST(Ports, CollisionGetsAnotherPortOfSameParity) {
  NatDriver nat(config_with());
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside1, 40001, kOutside1, 3478)));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside2, 40001, kOutside1, 3478)));
  EXPECT_EQ(a.port, 40001);
  EXPECT_NE(b.port, 40001);
  EXPECT_EQ(b.port % 2, 1) << "parity preserved (REQ-4)";
  EXPECT_GE(b.port, 1024) << "range class kept (REQ-3a)";
  // Both hosts get their own replies: no port overloading (REQ-3).
  const auto to_a = nat.inbound(udp(kOutside1, 3478, kExternal, a.port));
  const auto to_b = nat.inbound(udp(kOutside1, 3478, kExternal, b.port));
  ASSERT_EQ(to_a.size(), 1u);
  ASSERT_EQ(to_b.size(), 1u);
  EXPECT_EQ(view_of(to_a[0]).ip.destination(), addr(kInside1));
  EXPECT_EQ(view_of(to_b[0]).ip.destination(), addr(kInside2));
}

TEST(Ports, OverloadingLosesTheFirstHostsReplies) {
  NatDriver nat(config_with([](NatConfig& c) { c.ports.overloading = true; }));
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside2, 40000, kOutside1, 3478)));
  EXPECT_EQ(a, b);
  const auto replies = nat.inbound(udp(kOutside1, 3478, kExternal, a.port));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(view_of(replies[0]).ip.destination(), addr(kInside2)) << "only one host can receive";
}

TEST(Ports, PrivilegedSourceStaysPrivileged) {
  NatDriver nat(config_with());
  nat.outbound(udp(kInside1, 500, kOutside1, 3478));
  const Endpoint b = nat.external_of(nat.outbound(udp(kInside2, 500, kOutside1, 3478)));
  EXPECT_LT(b.port, 1024);
  EXPECT_GT(b.port, 0);
}

TEST(Ports, RangeClassViolationMovesPrivilegedToHighPorts) {
  NatDriver nat(config_with([](NatConfig& c) { c.ports.preserve_range_class = false; c.ports.min_port = 1024; }));
  const Endpoint a = nat.external_of(nat.outbound(udp(kInside1, 500, kOutside1, 3478)));
  EXPECT_GE(a.port, 1024);
}

TEST(Ports, NoParityAndNoPreservationGiveRandomPorts) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.ports.preserve_parity = false;
    c.ports.preserve_port = false;
  }));
  std::set<int> parities;
  for (std::uint16_t p = 41000; p < 41040; p += 2) {
    parities.insert(nat.external_of(nat.outbound(udp(kInside1, p, kOutside1, 3478))).port % 2);
  }
  EXPECT_EQ(parities.size(), 2u);
}

TEST(Ports, SequentialAllocationIsSequential) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.ports.preserve_port = false;
    c.ports.preserve_parity = false;
    c.ports.allocation = PortAllocation::sequential;
  }));
  const auto first = nat.external_of(nat.outbound(udp(kInside1, 41000, kOutside1, 3478))).port;
  const auto second = nat.external_of(nat.outbound(udp(kInside1, 41001, kOutside1, 3478))).port;
  EXPECT_EQ(second, first + 1);
}

TEST(Ports, ContiguityAssignsNextPort) {
  NatDriver nat(config_with([](NatConfig& c) { c.ports.contiguity = true; c.ports.preserve_parity = false; }));
  nat.outbound(udp(kInside2, 41000, kOutside1, 3478));
  nat.outbound(udp(kInside2, 41001, kOutside1, 3478));
  const auto rtp = nat.external_of(nat.outbound(udp(kInside1, 41000, kOutside1, 3478))).port;
  const auto rtcp = nat.external_of(nat.outbound(udp(kInside1, 41001, kOutside1, 3478))).port;
  EXPECT_EQ(rtcp, rtp + 1);
}

TEST(Ports, RandomAllocationIsDeterministicForASeed) {
  auto run = [](std::uint64_t seed) {
    NatConfig config = defaults();
    config.ports.preserve_port = false;
    config.seed = seed;
    NatDriver nat(config);
    std::vector<std::uint16_t> ports;
    for (std::uint16_t p = 41000; p < 41010; ++p) {
      ports.push_back(nat.external_of(nat.outbound(udp(kInside1, p, kOutside1, 3478))).port);
    }
    return ports;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Ports, ExhaustionSendsIcmpCode13) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.ports.min_port = 50000;
    c.ports.max_port = 50003;
    c.ports.preserve_parity = false;
  }));
  for (std::uint16_t p = 41000; p < 41004; ++p) EXPECT_EQ(nat.outbound(udp(kInside1, p, kOutside1, 3478)).size(), 1u);
  const auto out = nat.outbound(udp(kInside1, 41004, kOutside1, 3478));
  EXPECT_EQ(nat.last_drop(), DropReason::resources_exhausted);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, Side::inside);
  const PacketView v = view_of(out[0]);
  EXPECT_EQ(v.icmp.type(), 3);
  EXPECT_EQ(v.icmp.code(), 13);
}

// ---- pooling (RFC 4787 REQ-2)

TEST(Pooling, PairedKeepsOneExternalAddressPerHost) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.external_addresses = {addr("203.0.113.1"), addr("203.0.113.2")};
    c.pooling = Pooling::paired;
  }));
  std::set<Ipv4Address> used;
  for (std::uint16_t p = 41000; p < 41020; ++p) {
    used.insert(nat.external_of(nat.outbound(udp(kInside1, p, kOutside1, 3478))).address);
  }
  EXPECT_EQ(used.size(), 1u);
}

TEST(Pooling, ArbitraryUsesSeveralAddresses) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.external_addresses = {addr("203.0.113.1"), addr("203.0.113.2")};
    c.pooling = Pooling::arbitrary;
  }));
  std::set<Ipv4Address> used;
  for (std::uint16_t p = 41000; p < 41020; ++p) {
    used.insert(nat.external_of(nat.outbound(udp(kInside1, p, kOutside1, 3478))).address);
  }
  EXPECT_EQ(used.size(), 2u);
}

// RFC 7857 §4: with paired pooling, a host whose address ran out of ports gets no mapping; soft-APP
// (the MAY knob) moves it to another address.
TEST(Pooling, ExhaustedPairedAddressDropsUnlessSoftApp) {
  for (const bool soft : {false, true}) {
    NatConfig config = defaults();
    config.external_addresses = {addr("203.0.113.1"), addr("203.0.113.2")};
    config.ports.min_port = 40000;
    config.ports.max_port = 40003;
    config.paired_pool_spill = soft;
    NatDriver nat(config);
    const Ipv4Address anchored = nat.external_of(nat.outbound(udp(kInside1, 41000, kOutside1, 3478))).address;
    nat.external_of(nat.outbound(udp(kInside1, 41002, kOutside1, 3478)));  // the last even port there
    const auto third = nat.outbound(udp(kInside1, 41004, kOutside1, 3478));
    bool left_elsewhere = false;
    for (const Emitted& e : third) {
      if (e.to == Side::outside) left_elsewhere = parse_packet(e.bytes).packet.ip.source() != anchored;
    }
    EXPECT_EQ(left_elsewhere, soft);
  }
}

// ---- UDP timers (RFC 4787 REQ-5, REQ-6)

TEST(UdpTimer, MappingLivesExactlyItsTimeout) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  nat.wait(299s);
  EXPECT_EQ(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).size(), 1u);  // refreshes (inbound refresh on)
  nat.wait(300s);
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).empty());
  EXPECT_TRUE(nat.nat().mappings().empty());
  EXPECT_EQ(nat.nat().stats().sessions, 0u);
}

TEST(UdpTimer, OutboundRefreshKeepsMappingAlive) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp_timers.refresh_inbound = false; }));
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  for (int i = 0; i < 5; ++i) {
    nat.wait(200s);
    EXPECT_EQ(nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478))), e);
  }
  nat.wait(200s);
  EXPECT_EQ(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).size(), 1u);
}

TEST(UdpTimer, InboundDoesNotRefreshWhenDisabled) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp_timers.refresh_inbound = false; }));
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  nat.wait(200s);
  EXPECT_EQ(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).size(), 1u);
  nat.wait(150s);
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).empty());
}

TEST(UdpTimer, NoOutboundRefreshExpiresDespiteTraffic) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.udp_timers.refresh_outbound = false;
    c.udp_timers.refresh_inbound = false;
  }));
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  nat.wait(200s);
  nat.outbound(udp(kInside1, 40000, kOutside1, 3478));
  nat.wait(150s);
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).empty());
}

TEST(UdpTimer, ShorterTimerForWellKnownDestinationPort) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp_timers.per_destination_port = {PortTimer{53, 30s}}; }));
  const Endpoint dns = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 53)));
  const Endpoint other = nat.external_of(nat.outbound(udp(kInside1, 40002, kOutside1, 5000)));
  nat.wait(31s);
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 53, kExternal, dns.port)).empty());
  EXPECT_EQ(nat.inbound(udp(kOutside1, 5000, kExternal, other.port)).size(), 1u);
}

TEST(UdpTimer, ManyExpiriesReclaimAllState) {
  NatDriver nat(config_with());
  for (std::uint16_t p = 20000; p < 22000; ++p) nat.outbound(udp(kInside1, p, kOutside1, 3478));
  EXPECT_EQ(nat.nat().stats().sessions, 2000u);
  nat.wait(2000s);
  const NatStats stats = nat.nat().stats();
  EXPECT_EQ(stats.sessions, 0u);
  EXPECT_EQ(stats.mappings, 0u);
}

// ---- hairpinning (RFC 4787 REQ-9, REQ-9a)

TEST(Hairpin, DeliversWithExternalSource) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp.filtering = FilteringBehavior::endpoint_independent; }));
  const Endpoint x1 = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const Endpoint x2 = nat.external_of(nat.outbound(udp(kInside2, 40002, kOutside1, 3478)));
  const auto out = nat.outbound(udp(kInside1, 40000, kExternal, x2.port, "hello"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, Side::inside);
  EXPECT_EQ(out[0].kind, EmitKind::hairpinned);
  const PacketView v = view_of(out[0]);
  EXPECT_EQ(v.ip.destination(), addr(kInside2));
  EXPECT_EQ(v.udp.destination_port(), 40002);
  EXPECT_EQ(Endpoint(v.ip.source(), v.udp.source_port()), x1);
}

TEST(Hairpin, ViolatingSourceShowsInsideEndpoint) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.udp.filtering = FilteringBehavior::endpoint_independent;
    c.hairpin.source = HairpinSource::internal_endpoint;
  }));
  nat.outbound(udp(kInside1, 40000, kOutside1, 3478));
  const Endpoint x2 = nat.external_of(nat.outbound(udp(kInside2, 40002, kOutside1, 3478)));
  const auto out = nat.outbound(udp(kInside1, 40000, kExternal, x2.port));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(view_of(out[0]).ip.source(), addr(kInside1));
}

TEST(Hairpin, FilteringAppliesAndDisabledDrops) {
  NatDriver strict(config_with());  // address-dependent filtering: X2 never sent to the external address
  strict.outbound(udp(kInside1, 40000, kOutside1, 3478));
  const Endpoint x2 = strict.external_of(strict.outbound(udp(kInside2, 40002, kOutside1, 3478)));
  EXPECT_TRUE(strict.outbound(udp(kInside1, 40000, kExternal, x2.port)).empty());
  EXPECT_EQ(strict.last_drop(), DropReason::filtered);

  NatDriver off(config_with([](NatConfig& c) { c.hairpin.enabled = false; }));
  EXPECT_TRUE(off.outbound(udp(kInside1, 40000, kExternal, 40002)).empty());
  EXPECT_EQ(off.last_drop(), DropReason::hairpin_disabled);
}

// ---- TCP (RFC 5382)

TEST(Tcp, ThreeWayHandshakeAndData) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN, 100)));
  EXPECT_EQ(nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::SYN | Tins::TCP::ACK, 500, 101)).size(), 1u);
  EXPECT_EQ(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::ACK, 101, 501)).size(), 1u);
  EXPECT_EQ(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::ACK | Tins::TCP::PSH, 101, 501, "GET /")).size(),
            1u);
  const auto sessions = nat.nat().sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].tcp_state, "ESTABLISHED");
}

TEST(Tcp, NonSynWithoutSessionIsDropped) {
  NatDriver nat(config_with());
  EXPECT_TRUE(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::ACK)).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::tcp_no_session);
}

TEST(Tcp, SimultaneousOpen) {
  NatDriver nat(config_with([](NatConfig& c) { c.tcp.filtering = FilteringBehavior::address_and_port_dependent; }));
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 5000, Tins::TCP::SYN, 100)));
  EXPECT_EQ(nat.inbound(tcp(kOutside1, 5000, kExternal, e.port, Tins::TCP::SYN, 700)).size(), 1u);
  EXPECT_EQ(nat.nat().sessions()[0].tcp_state, "ESTABLISHED");
}

TEST(Tcp, SimultaneousOpenRefusedWhenDisabled) {
  NatDriver nat(config_with([](NatConfig& c) { c.tcp_behavior.simultaneous_open = false; }));
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 5000, Tins::TCP::SYN, 100)));
  EXPECT_TRUE(nat.inbound(tcp(kOutside1, 5000, kExternal, e.port, Tins::TCP::SYN, 700)).empty());
}

TEST(Tcp, UnsolicitedSynGetsPortUnreachableAfterHold) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN)));
  EXPECT_TRUE(nat.inbound(tcp(kOutside2, 6000, kExternal, e.port, Tins::TCP::SYN)).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::unsolicited_syn_held);
  EXPECT_TRUE(nat.wait(5900ms).empty()) << "nothing within 6 s (REQ-4)";
  const auto late = nat.wait(200ms);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].to, Side::outside);
  const PacketView v = view_of(late[0]);
  EXPECT_EQ(v.icmp.type(), 3);
  EXPECT_EQ(v.icmp.code(), 3);
  EXPECT_EQ(v.ip.destination(), addr(kOutside2));
}

TEST(Tcp, HeldSynDroppedSilentlyWhenOutboundSynFollows) {
  NatDriver nat(config_with([](NatConfig& c) { c.tcp.filtering = FilteringBehavior::address_and_port_dependent; }));
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN)));
  EXPECT_TRUE(nat.inbound(tcp(kOutside2, 6000, kExternal, e.port, Tins::TCP::SYN)).empty());
  nat.wait(2s);
  EXPECT_EQ(nat.outbound(tcp(kInside1, 40000, kOutside2, 6000, Tins::TCP::SYN)).size(), 1u);
  EXPECT_TRUE(nat.wait(10s).empty());
}

TEST(Tcp, ImmediateRstViolation) {
  NatDriver nat(config_with([](NatConfig& c) { c.tcp_behavior.unsolicited_syn = UnsolicitedSyn::immediate_rst; }));
  const auto out = nat.inbound(tcp(kOutside2, 6000, kExternal, 40000, Tins::TCP::SYN, 41));
  ASSERT_EQ(out.size(), 1u);
  const PacketView v = view_of(out[0]);
  EXPECT_TRUE(v.tcp.has(tcp_flag::rst));
  EXPECT_EQ(v.tcp.acknowledgement(), 42u);
}

TEST(Tcp, LeakyStealthPolicyViolation) {
  NatDriver nat(config_with([](NatConfig& c) {
    c.tcp_behavior.unsolicited_syn = UnsolicitedSyn::silent_drop;
    c.tcp_behavior.silent_drop_rsts_mapped_ports = true;
  }));
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN)));
  // An unmapped port stays silent, as under silent-drop alone...
  EXPECT_TRUE(nat.inbound(tcp(kOutside2, 6000, kExternal, 40010, Tins::TCP::SYN, 41)).empty());
  EXPECT_TRUE(nat.wait(10s).empty());
  // ...but a filtered SYN to the mapped port gets a RST at once.
  const auto out = nat.inbound(tcp(kOutside2, 6000, kExternal, e.port, Tins::TCP::SYN, 41));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(view_of(out[0]).tcp.has(tcp_flag::rst));
}

TEST(Tcp, EstablishedAndTransitoryTimers) {
  NatDriver nat(config_with());
  const Endpoint half_open = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN)));
  const Endpoint open = nat.external_of(nat.outbound(tcp(kInside1, 40002, kOutside1, 80, Tins::TCP::SYN, 1)));
  nat.inbound(tcp(kOutside1, 80, kExternal, open.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 2));
  nat.wait(241s);
  EXPECT_TRUE(nat.inbound(tcp(kOutside1, 80, kExternal, half_open.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 1)).empty());
  nat.wait(7440s - 242s);
  EXPECT_EQ(nat.inbound(tcp(kOutside1, 80, kExternal, open.port, Tins::TCP::ACK, 10, 2)).size(), 1u);
  nat.wait(7441s);
  EXPECT_TRUE(nat.inbound(tcp(kOutside1, 80, kExternal, open.port, Tins::TCP::ACK, 10, 2)).empty());
}

TEST(Tcp, RstLingersFourMinutes) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN, 1)));
  nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 2));
  EXPECT_EQ(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::RST, 2)).size(), 1u);
  nat.wait(200s);
  EXPECT_EQ(nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::ACK, 10, 2)).size(), 1u);
}

TEST(Tcp, HalfCloseCarriesDataUnlessViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.tcp_behavior.drop_after_fin = violating;
    NatDriver nat(config);
    const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN, 1)));
    nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 2));
    nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::FIN | Tins::TCP::ACK, 2, 10));
    const auto data = nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::ACK, 10, 3, "more"));
    EXPECT_EQ(data.size(), violating ? 0u : 1u);
  }
}

// RFC 7857 Fig. 1: FINs both ways put the session on the transitory timer; untracked FINs keep it
// ESTABLISHED (violates §2).
TEST(Tcp, FinsBothWaysEndWithTheTransitoryTimerUnlessUntracked) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.tcp_behavior.track_fin = !violating;
    NatDriver nat(config);
    const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN, 1)));
    nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 2));
    nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::FIN | Tins::TCP::ACK, 2, 10));
    nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::FIN | Tins::TCP::ACK, 10, 3));
    nat.wait(241s);
    EXPECT_EQ(nat.inbound(tcp(kOutside1, 80, kExternal, e.port, Tins::TCP::ACK, 11, 3)).size(), violating ? 1u : 0u);
  }
}

// RFC 7857 §2.2: a RST matching a session is translated either way; the violating knob drops it.
TEST(Tcp, RstIsTranslatedUnlessViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.tcp_behavior.translate_rst = !violating;
    NatDriver nat(config);
    const Endpoint a = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN, 1)));
    nat.inbound(tcp(kOutside1, 80, kExternal, a.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 2));
    EXPECT_EQ(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::RST, 2)).size(), violating ? 0u : 1u);
    const Endpoint b = nat.external_of(nat.outbound(tcp(kInside1, 40002, kOutside1, 80, Tins::TCP::SYN, 1)));
    nat.inbound(tcp(kOutside1, 80, kExternal, b.port, Tins::TCP::SYN | Tins::TCP::ACK, 9, 2));
    EXPECT_EQ(nat.inbound(tcp(kOutside1, 80, kExternal, b.port, Tins::TCP::RST, 10)).size(), violating ? 0u : 1u);
  }
}

// RFC 7857 §7: inbound packets the filter rejects do not refresh the mapping; the violating knob lets a
// stranger keep it alive.
TEST(UdpTimer, FilteredInboundPacketsRefreshOnlyWhenViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.filtered_inbound_refreshes = violating;
    NatDriver nat(config);
    const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
    for (int i = 0; i < 4; ++i) {
      nat.wait(100s);
      EXPECT_TRUE(nat.inbound(udp(kOutside2, 3478, kExternal, e.port)).empty());  // filtered (address-dependent)
    }
    EXPECT_EQ(nat.inbound(udp(kOutside1, 3478, kExternal, e.port)).size(), violating ? 1u : 0u);
  }
}

// ---- ICMP (RFC 5508)

TEST(Icmp, EchoQueryMappingAndReply) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(echo_request(kInside1, kOutside1, 777)));
  EXPECT_EQ(e.address, addr(kExternal));
  const auto in = nat.inbound(echo_reply(kOutside1, kExternal, e.port));
  ASSERT_EQ(in.size(), 1u);
  const PacketView v = view_of(in[0]);
  EXPECT_EQ(v.ip.destination(), addr(kInside1));
  EXPECT_EQ(v.icmp.identifier(), 777);
  nat.wait(61s);
  EXPECT_TRUE(nat.inbound(echo_reply(kOutside1, kExternal, e.port)).empty());
}

std::vector<std::uint8_t> sent_outside(NatDriver& nat, const std::vector<std::uint8_t>& packet) {
  const auto out = nat.outbound(packet);
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? std::vector<std::uint8_t>{} : out[0].bytes;
}

TEST(Icmp, InboundErrorIsTranslatedWithEveryChecksum) {
  NatDriver nat(config_with());
  const auto original = udp(kInside1, 40000, kOutside1, 3478, "payload");
  const auto translated = sent_outside(nat, original);
  const auto error = icmp_error(kThirdParty, kExternal, 3, 3, translated);
  const auto in = nat.inbound(error);
  ASSERT_EQ(in.size(), 1u);
  const PacketView v = view_of(in[0]);
  EXPECT_EQ(v.kind, TransportKind::icmp_error);
  EXPECT_EQ(v.ip.destination(), addr(kInside1));
  EXPECT_EQ(v.icmp.type(), 3);
  EXPECT_EQ(v.icmp.code(), 3);
  EXPECT_EQ(v.embedded.ip.source(), addr(kInside1));
  EXPECT_EQ(v.embedded.source_port(), 40000);
  // The quoted packet, whole and restored, must verify: IP header and UDP checksums.
  EXPECT_TRUE(checksums_valid(std::vector<std::uint8_t>(v.embedded.ip.bytes.begin(), v.embedded.ip.bytes.end())));
}

TEST(Icmp, ErrorsForUnknownFlowsAndBadChecksumsAreDropped) {
  NatDriver nat(config_with());
  const auto translated = sent_outside(nat, udp(kInside1, 40000, kOutside1, 3478));
  auto stray = translated;
  store16(&stray[20], 999);  // a port nobody holds
  recompute_checksums(stray);
  EXPECT_TRUE(nat.inbound(icmp_error(kOutside1, kExternal, 3, 3, stray)).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::icmp_no_mapping);

  auto corrupt = icmp_error(kOutside1, kExternal, 3, 3, translated);
  corrupt[22] ^= 0xff;
  EXPECT_TRUE(nat.inbound(corrupt).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::icmp_bad_checksum);
}

TEST(Icmp, ErrorsNeverTearDownMappingsUnlessViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.icmp_behavior.errors_destroy_mappings = violating;
    NatDriver nat(config);
    const auto translated = sent_outside(nat, udp(kInside1, 40000, kOutside1, 3478));
    EXPECT_EQ(nat.inbound(icmp_error(kOutside1, kExternal, 3, 1, translated)).size(), 1u);
    EXPECT_EQ(nat.inbound(udp(kOutside1, 3478, kExternal, 40000)).size(), violating ? 0u : 1u);
  }
}

TEST(Icmp, OutboundErrorIsTranslated) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const auto delivered = nat.inbound(udp(kOutside1, 3478, kExternal, e.port));
  ASSERT_EQ(delivered.size(), 1u);
  const auto out = nat.outbound(icmp_error(kInside1, kOutside1, 3, 3, delivered[0].bytes));
  ASSERT_EQ(out.size(), 1u);
  const PacketView v = view_of(out[0]);
  EXPECT_EQ(v.ip.source(), addr(kExternal)) << "RFC 5508 REQ-5c: the inside address must not leak";
  EXPECT_EQ(v.embedded.ip.destination(), addr(kExternal));
  EXPECT_EQ(v.embedded.destination_port(), e.port);
}

TEST(Icmp, HairpinnedError) {
  NatDriver nat(config_with([](NatConfig& c) { c.udp.filtering = FilteringBehavior::endpoint_independent; }));
  const Endpoint x1 = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const Endpoint x2 = nat.external_of(nat.outbound(udp(kInside2, 40002, kOutside1, 3478)));
  const auto at_x2 = nat.outbound(udp(kInside1, 40000, kExternal, x2.port));
  ASSERT_EQ(at_x2.size(), 1u);
  const auto back = nat.outbound(icmp_error(kInside2, kExternal, 3, 3, at_x2[0].bytes));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].to, Side::inside);
  const PacketView v = view_of(back[0]);
  EXPECT_EQ(v.ip.destination(), addr(kInside1)) << "RFC 5508 REQ-7a";
  EXPECT_EQ(v.embedded.ip.source(), addr(kInside1));
  EXPECT_EQ(v.embedded.source_port(), 40000);
  (void)x1;
}

TEST(Icmp, TimeExceededWithCopiedDscp) {
  NatDriver nat(config_with());
  auto packet = udp(kInside1, 40000, kOutside1, 3478);
  packet[8] = 1;
  packet[1] = 0xb8;  // DSCP EF
  recompute_checksums(packet);
  const auto out = nat.outbound(packet);
  ASSERT_EQ(out.size(), 1u);
  const PacketView v = view_of(out[0]);
  EXPECT_EQ(v.icmp.type(), icmp_type::time_exceeded);
  EXPECT_EQ(v.ip.tos(), 0xb8);
  EXPECT_EQ(out[0].to, Side::inside);
}

TEST(Icmp, GenerationIsRateLimited) {
  NatDriver nat(config_with([](NatConfig& c) { c.icmp_behavior.generated_per_second = 10; }));
  int generated = 0;
  for (int i = 0; i < 50; ++i) {
    auto packet = udp(kInside1, static_cast<std::uint16_t>(40000 + i), kOutside1, 3478);
    packet[8] = 1;
    recompute_checksums(packet);
    generated += static_cast<int>(nat.outbound(packet).size());
  }
  EXPECT_EQ(generated, 10);
}

// ---- fragments and MTU (RFC 4787 REQ-13, REQ-14)

std::vector<std::vector<std::uint8_t>> fragment(const std::vector<std::uint8_t>& packet, std::size_t chunk) {
  std::vector<std::vector<std::uint8_t>> pieces;
  const std::size_t header = 20;
  for (std::size_t done = 0; done < packet.size() - header; done += chunk) {
    const std::size_t length = std::min(chunk, packet.size() - header - done);
    std::vector<std::uint8_t> piece(packet.begin(), packet.begin() + header);
    piece.insert(piece.end(), packet.begin() + static_cast<std::ptrdiff_t>(header + done),
                 packet.begin() + static_cast<std::ptrdiff_t>(header + done + length));
    store16(&piece[2], static_cast<std::uint16_t>(piece.size()));
    const bool more = done + length < packet.size() - header;
    store16(&piece[6], static_cast<std::uint16_t>((more ? 0x2000 : 0) | (done / 8)));
    recompute_checksums(piece);
    pieces.push_back(piece);
  }
  return pieces;
}

TEST(Fragments, InboundOutOfOrderIsForwardedAfterHeaderFragment) {
  NatDriver nat(config_with());
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  auto big = udp(kOutside1, 3478, kExternal, e.port, std::string(100, 'x'));
  store16(&big[4], 4242);
  recompute_checksums(big);
  auto pieces = fragment(big, 48);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_TRUE(nat.inbound(pieces[2]).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::fragment_buffered);
  EXPECT_TRUE(nat.inbound(pieces[1]).empty());
  const auto out = nat.inbound(pieces[0]);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& piece : out) EXPECT_EQ(view_of(piece).ip.destination(), addr(kInside1));
}

TEST(Fragments, InOrderOnlyDropsEarlyFragments) {
  NatDriver nat(config_with([](NatConfig& c) { c.fragments.inbound = FragmentHandling::in_order_only; }));
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  auto pieces = fragment(udp(kOutside1, 3478, kExternal, e.port, std::string(100, 'x')), 48);
  EXPECT_TRUE(nat.inbound(pieces[2]).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::fragment_dropped);
  EXPECT_EQ(nat.inbound(pieces[0]).size(), 1u);
  EXPECT_EQ(nat.inbound(pieces[1]).size(), 1u);
}

TEST(Fragments, ReassembleDeliversOneDatagram) {
  NatDriver nat(config_with([](NatConfig& c) { c.fragments.inbound = FragmentHandling::reassemble; }));
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  auto pieces = fragment(udp(kOutside1, 3478, kExternal, e.port, std::string(100, 'x')), 48);
  EXPECT_TRUE(nat.inbound(pieces[1]).empty());
  EXPECT_TRUE(nat.inbound(pieces[2]).empty());
  const auto out = nat.inbound(pieces[0]);
  ASSERT_EQ(out.size(), 1u);
  const PacketView v = view_of(out[0]);
  EXPECT_FALSE(v.ip.is_fragment());
  EXPECT_EQ(v.udp.payload().size(), 100u);
}

TEST(Fragments, NoneDropsEveryFragment) {
  NatDriver nat(config_with([](NatConfig& c) { c.fragments.inbound = FragmentHandling::none; }));
  const Endpoint e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  auto pieces = fragment(udp(kOutside1, 3478, kExternal, e.port, std::string(100, 'x')), 48);
  for (const auto& piece : pieces) {
    EXPECT_TRUE(nat.inbound(piece).empty());
    EXPECT_EQ(nat.last_drop(), DropReason::fragment_dropped);
  }
}

// RFC 3027 §2.4: two inside hosts fragment datagrams with the same IP ID towards one peer.
TEST(Fragments, OutboundIdsAreUniqueUnlessPreserved) {
  for (const auto ids : {FragmentIds::unique, FragmentIds::preserve}) {
    NatConfig config = defaults();
    config.fragments.outbound_ids = ids;
    NatDriver nat(config);
    std::vector<std::uint16_t> seen;
    for (const char* host : {kInside1, kInside2}) {
      auto big = udp(host, 40000, kOutside1, 3478, std::string(100, 'x'));
      store16(&big[4], 7777);
      recompute_checksums(big);
      for (const auto& piece : fragment(big, 48)) {
        const auto out = nat.outbound(piece);
        ASSERT_EQ(out.size(), 1u);
        const PacketView v = view_of(out[0]);
        EXPECT_EQ(internet_checksum(Bytes(out[0].bytes.data(), 20)), 0);
        seen.push_back(v.ip.identification());
      }
    }
    ASSERT_EQ(seen.size(), 6u);
    EXPECT_EQ(seen[0], seen[2]);  // one ID per datagram
    EXPECT_EQ(seen[3], seen[5]);
    EXPECT_EQ(seen[0] == seen[3], ids == FragmentIds::preserve);
  }
}

TEST(Fragments, IcmpEchoFragmentsFollowTheirHeaderFragment) {
  NatDriver nat(config_with());
  Tins::IP ip(kOutside1, kInside1);
  Tins::ICMP icmp(Tins::ICMP::ECHO_REQUEST);
  icmp.id(77);
  icmp.sequence(1);
  ip /= icmp;
  ip /= Tins::RawPDU(std::string(100, 'x'));
  auto big = serialize(ip);
  store16(&big[4], 4343);
  recompute_checksums(big);
  auto pieces = fragment(big, 48);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_TRUE(nat.outbound(pieces[2]).empty());
  EXPECT_EQ(nat.last_drop(), DropReason::fragment_buffered);
  const auto first = nat.outbound(pieces[0]);
  ASSERT_EQ(first.size(), 2u);  // the header fragment, then the buffered trailing one
  EXPECT_EQ(nat.outbound(pieces[1]).size(), 1u);
  for (const auto& piece : first) EXPECT_EQ(view_of(piece).ip.source(), addr(kExternal));
}

TEST(Fragments, DontFragmentTooBigGetsFragmentationNeeded) {
  NatDriver nat(config_with([](NatConfig& c) { c.fragments.outside_mtu = 576; }));
  auto big = udp(kInside1, 40000, kOutside1, 3478, std::string(1000, 'x'));
  big[6] = 0x40;
  recompute_checksums(big);
  const auto out = nat.outbound(big);
  ASSERT_EQ(out.size(), 1u);
  const PacketView v = view_of(out[0]);
  EXPECT_EQ(out[0].to, Side::inside);
  EXPECT_EQ(v.icmp.type(), 3);
  EXPECT_EQ(v.icmp.code(), 4);
  EXPECT_EQ(v.icmp.next_hop_mtu(), 576);
}

TEST(Fragments, OversizeIsFragmentedInOrderOrReversed) {
  for (const auto mode : {OversizeHandling::fragment_in_order, OversizeHandling::fragment_reversed}) {
    NatConfig config = defaults();
    config.fragments.outside_mtu = 576;
    config.fragments.oversize = mode;
    NatDriver nat(config);
    const auto out = nat.outbound(udp(kInside1, 40000, kOutside1, 3478, std::string(1000, 'x')));
    ASSERT_EQ(out.size(), 2u);
    const PacketView first = view_of(out[0]);
    EXPECT_LE(out[0].bytes.size(), 576u);
    EXPECT_EQ(first.ip.fragment_offset_bytes() == 0, mode == OversizeHandling::fragment_in_order);
  }
}

// ---- robustness and configuration

TEST(Robustness, MalformedPacketsAreDroppedWithAReason) {
  NatDriver nat(config_with());
  const auto valid = udp(kInside1, 40000, kOutside1, 3478);
  for (std::size_t length = 0; length < valid.size(); ++length) {
    const std::vector<std::uint8_t> truncated(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_TRUE(nat.outbound(truncated).empty());
    EXPECT_EQ(nat.last_drop(), DropReason::malformed);
  }
}

TEST(Configuration, InvalidConfigurationsAreRejected) {
  NatConfig empty_pool = defaults();
  empty_pool.external_addresses.clear();
  EXPECT_THROW(ReferenceNat{empty_pool}, std::invalid_argument);
  NatConfig inverted = defaults();
  inverted.ports.min_port = 60000;
  inverted.ports.max_port = 1000;
  EXPECT_THROW(ReferenceNat{inverted}, std::invalid_argument);
  NatConfig zero_timer = defaults();
  zero_timer.udp_timers.mapping = Duration{0};
  EXPECT_THROW(ReferenceNat{zero_timer}, std::invalid_argument);
}

TEST(State, ResetForgetsEverything) {
  NatDriver nat(config_with());
  nat.outbound(udp(kInside1, 40000, kOutside1, 3478));
  nat.nat().reset();
  EXPECT_TRUE(nat.nat().mappings().empty());
  EXPECT_TRUE(nat.inbound(udp(kOutside1, 3478, kExternal, 40000)).empty());
}

// The fuzz targets restart one NAT per input; a finding must replay in a fresh process, so a
// restarted NAT has to choose the same ports, IP IDs and expiries as a new one.
std::vector<std::vector<std::uint8_t>> run_scenario(ReferenceNat& nat) {
  std::vector<std::vector<std::uint8_t>> emitted;
  Output out;
  const auto record = [&] {
    for (const Emitted& packet : out.packets()) emitted.push_back(packet.bytes);
  };
  TimePoint now{std::chrono::seconds(5)};
  for (std::uint16_t port = 40000; port < 40008; ++port) {
    nat.process(udp(kInside1, port, kOutside1, 3478), Side::inside, now, out);
    record();
    nat.process(tcp(kInside2, port, kOutside2, 80, Tins::TCP::SYN), Side::inside, now, out);
    record();
    now += std::chrono::seconds(40);
  }
  nat.advance(now + std::chrono::hours(3), out);
  record();
  nat.process(echo_request(kInside1, kOutside1, 77), Side::inside, now + std::chrono::hours(3), out);
  record();
  return emitted;
}

TEST(State, RestartBehavesExactlyAsANewNat) {
  for (const PortAllocation allocation : {PortAllocation::random, PortAllocation::sequential}) {
    NatConfig config = defaults();
    config.ports.preserve_port = false;
    config.ports.allocation = allocation;
    ReferenceNat fresh(config);
    const auto expected = run_scenario(fresh);
    ReferenceNat reused(config);
    (void)run_scenario(reused);
    reused.restart();
    EXPECT_TRUE(reused.mappings().empty());
    EXPECT_EQ(reused.stats().packets_in, 0u);
    EXPECT_EQ(run_scenario(reused), expected) << "allocation " << static_cast<int>(allocation);
  }
}

}  // namespace
}  // namespace natcert::ref

namespace natcert::ref {
namespace {
using namespace std::chrono_literals;
using namespace testing;

TEST(Tcp, ReleasedHeldSynViolatesReq4) {
  NatConfig config = defaults();
  config.tcp.filtering = FilteringBehavior::address_and_port_dependent;
  config.tcp_behavior.release_held_syn = true;
  NatDriver nat(config);
  const Endpoint e = nat.external_of(nat.outbound(tcp(kInside1, 40000, kOutside1, 80, Tins::TCP::SYN)));
  EXPECT_TRUE(nat.inbound(tcp(kOutside2, 6000, kExternal, e.port, Tins::TCP::SYN)).empty());
  const auto out = nat.outbound(tcp(kInside1, 40000, kOutside2, 6000, Tins::TCP::SYN));
  ASSERT_EQ(out.size(), 2u) << "the outbound SYN and the released inbound one";
  EXPECT_EQ(out[1].to, Side::inside);
}

TEST(Icmp, UnmappedOutboundErrorLeaksOnlyWhenViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.icmp_behavior.forward_unmapped_errors = violating;
    NatDriver nat(config);
    const auto stray = udp(kOutside1, 3478, kInside1, 40000);
    EXPECT_EQ(nat.outbound(icmp_error(kInside1, kOutside1, 3, 3, stray)).size(), violating ? 1u : 0u);
  }
}

TEST(Icmp, UnmappedInboundErrorMatchesByAddressOnlyWhenViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.icmp_behavior.match_errors_by_address_only = violating;
    NatDriver nat(config);
    auto stray = sent_outside(nat, udp(kInside1, 40000, kOutside1, 3478));
    store16(&stray[20], 999);  // a port nobody holds, on the address the live mapping uses
    recompute_checksums(stray);
    const auto in = nat.inbound(icmp_error(kOutside1, kExternal, 3, 3, stray));
    ASSERT_EQ(in.size(), violating ? 1u : 0u);
    if (violating) {
      EXPECT_EQ(view_of(in[0]).ip.destination(), addr(kInside1));
    }
  }
}

TEST(Icmp, IdentifiersAreNeverSharedUnlessViolating) {
  for (const bool violating : {false, true}) {
    NatConfig config = defaults();
    config.icmp_behavior.identifier_overloading = violating;
    NatDriver nat(config);
    const Endpoint first = nat.external_of(nat.outbound(echo_request(kInside1, kOutside1, 777)));
    const Endpoint second = nat.external_of(nat.outbound(echo_request(kInside2, kOutside1, 777)));
    EXPECT_EQ(first == second, violating);
    // Each host gets its own reply only when identifiers are distinct; shared, both replies go to one host.
    const auto to_first = nat.inbound(echo_reply(kOutside1, kExternal, first.port));
    const auto to_second = nat.inbound(echo_reply(kOutside1, kExternal, second.port));
    ASSERT_EQ(to_first.size(), 1u);
    ASSERT_EQ(to_second.size(), 1u);
    EXPECT_EQ(view_of(to_first[0]).ip.destination() == view_of(to_second[0]).ip.destination(), violating);
  }
}

// stats() used to leave pending_fragments and held_syns at 0 (the fragments fuzz target checks the bound).
TEST(Stats, CountPendingFragmentsAndHeldSyns) {
  NatDriver nat(config_with());
  const Endpoint udp_e = nat.external_of(nat.outbound(udp(kInside1, 40000, kOutside1, 3478)));
  const auto pieces = fragment(udp(kOutside1, 3478, kExternal, udp_e.port, std::string(100, 'x')), 48);
  EXPECT_TRUE(nat.inbound(pieces[2]).empty());
  EXPECT_EQ(nat.nat().stats().pending_fragments, 1u);
  const Endpoint tcp_e = nat.external_of(nat.outbound(tcp(kInside1, 40001, kOutside1, 80, Tins::TCP::SYN)));
  EXPECT_TRUE(nat.inbound(tcp(kOutside2, 6000, kExternal, tcp_e.port, Tins::TCP::SYN)).empty());
  EXPECT_EQ(nat.nat().stats().held_syns, 1u);
  nat.wait(7s);  // past the 6 s hold and the 5 s reassembly timeout
  EXPECT_EQ(nat.nat().stats().pending_fragments, 0u);
  EXPECT_EQ(nat.nat().stats().held_syns, 0u);
}

}  // namespace
}  // namespace natcert::ref
