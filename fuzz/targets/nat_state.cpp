// The reference NAT's session state machine under invariants. The input picks a configuration, then
// is read as a program of operations over a small address and port space: a UDP/TCP/echo packet from
// an inside host (to an outside host, or hairpinned to an external endpoint seen earlier), a packet
// from an outside host or the third party to an external endpoint, or a clock advance. After every
// step:
//   - filtering: under address(-and-port)-dependent filtering nothing reaches the inside from an
//     address (and port) the external endpoint never sent to;
//   - no port overloading: one external endpoint per protocol serves one internal endpoint;
//   - timers: an inbound packet is delivered only through a mapping that was alive before it arrived;
//     no mapping is refreshed past the longest timer after the last packet; once the longest timer
//     has passed without traffic, no mapping or session is left;
//   - bounded state: mappings <= distinct outbound flows; sessions <= distinct flows either way (a
//     hairpinned flow counts twice: it holds a session on both mappings).
#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "nat_driver.hpp"

using namespace natcert;
using namespace std::chrono_literals;
using fuzz::check;

namespace {

const char* const kConfigs[] = {
    "rfc-strict",                    // EIM, ADF
    "full-cone",                     // EIM, EIF
    "port-restricted-cone",          // EIM, APDF
    "symmetric",                     // APDM, APDF
    "linux-like",                    // collisions change the mapping; short timers; no hairpinning
    "rfc-strict-pool",               // two addresses, paired pooling
    "rfc-strict,udp.mapping=address-dependent,tcp.mapping=address-dependent,ports.allocation=sequential",
    "rfc-strict,udp-timers.mapping=2m,tcp.transitory=4m,icmp.query-timeout=1m,tcp.track-fin=false",
    "rfc-strict,ports.min-port=2000,ports.max-port=2003,ports.preserve-port=false,tcp.unsolicited-syn=silent-drop",
    "restricted-cone,udp-timers.refresh-inbound=false,tcp.simultaneous-open=false,tcp.pass-inbound-initiated=false",
};

const ref::Duration kAdvances[] = {10ms, 1s, 6s, 31s, 61s, 121s, 241s, 301s, 7441s};
const std::uint16_t kPorts[] = {53, 80, 2000, 2001, 4000, 4001, 40000};
const std::uint8_t kTcpFlags[] = {
    ref::tcp_flag::syn, ref::tcp_flag::syn | ref::tcp_flag::ack, ref::tcp_flag::ack,
    ref::tcp_flag::fin | ref::tcp_flag::ack, ref::tcp_flag::rst, ref::tcp_flag::rst | ref::tcp_flag::ack,
    ref::tcp_flag::psh | ref::tcp_flag::ack};

using FlowKey = std::tuple<ref::Protocol, std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>;

ref::Protocol protocol_of(ref::TransportKind kind) {
  if (kind == ref::TransportKind::udp) return ref::Protocol::udp;
  if (kind == ref::TransportKind::tcp) return ref::Protocol::tcp;
  return ref::Protocol::icmp;
}

struct Ends {
  ref::Endpoint source;
  ref::Endpoint destination;
};
Ends ends_of(const ref::PacketView& view) {
  switch (view.kind) {
    case ref::TransportKind::udp:
      return {{view.ip.source(), view.udp.source_port()}, {view.ip.destination(), view.udp.destination_port()}};
    case ref::TransportKind::tcp:
      return {{view.ip.source(), view.tcp.source_port()}, {view.ip.destination(), view.tcp.destination_port()}};
    default:
      return {{view.ip.source(), view.icmp.identifier()}, {view.ip.destination(), view.icmp.identifier()}};
  }
}

bool translatable(ref::TransportKind kind) {
  return kind == ref::TransportKind::udp || kind == ref::TransportKind::tcp || kind == ref::TransportKind::icmp_query;
}

ref::Duration longest_timer(const ref::NatConfig& config) {
  ref::Duration longest = std::max({config.udp_timers.mapping, config.tcp_behavior.established,
                                    config.tcp_behavior.transitory, config.tcp_behavior.rst_linger,
                                    config.tcp_behavior.unsolicited_syn_hold, config.icmp_behavior.query_timeout});
  for (const auto& timer : config.udp_timers.per_destination_port) longest = std::max(longest, timer.timeout);
  return longest;
}

const ref::ProtocolBehavior& behavior(const ref::NatConfig& config, ref::Protocol protocol) {
  if (protocol == ref::Protocol::udp) return config.udp;
  if (protocol == ref::Protocol::tcp) return config.tcp;
  return config.icmp;
}

class Model {
 public:
  explicit Model(const ref::NatConfig& config) : config_(config), longest_(longest_timer(config)) {}

  // What the NAT sent outside opens filters for its external endpoint.
  void record_outbound(const ref::Output& out) {
    for (const auto& emitted : out.packets()) {
      if (emitted.to != ref::Side::outside || emitted.kind != ref::EmitKind::translated) continue;
      const ref::ParseResult parsed = ref::parse_packet(emitted.bytes);
      if (!parsed.ok() || !translatable(parsed.packet.kind)) continue;
      const Ends ends = ends_of(parsed.packet);
      const ref::Protocol protocol = protocol_of(parsed.packet.kind);
      contacted_.insert({protocol, ends.source.address, ends.source.port, ends.destination.address,
                         ends.destination.port});
      if (externals_.size() < 16 &&
          std::find(externals_.begin(), externals_.end(), ends.source) == externals_.end()) {
        externals_.push_back(ends.source);
      }
    }
  }

  void check_inbound(const ref::PacketView& sent, const ref::Output& out,
                     const std::vector<ref::MappingInfo>& before) const {
    if (!translatable(sent.kind)) return;
    const bool delivered = std::any_of(out.packets().begin(), out.packets().end(), [](const ref::Emitted& e) {
      return e.to == ref::Side::inside && e.kind == ref::EmitKind::translated;
    });
    if (!delivered) return;
    const Ends ends = ends_of(sent);
    const ref::Protocol protocol = protocol_of(sent.kind);
    check(std::any_of(before.begin(), before.end(),
                      [&](const ref::MappingInfo& m) { return m.protocol == protocol && m.external == ends.destination; }),
          "an inbound packet was delivered through no live mapping (a mapping outlived its timer?)");
    const ref::FilteringBehavior filtering = behavior(config_, protocol).filtering;
    if (filtering == ref::FilteringBehavior::endpoint_independent) return;
    const auto first = contacted_.lower_bound({protocol, ends.destination.address, ends.destination.port,
                                               ends.source.address, 0});
    const bool address_contacted = first != contacted_.end() && std::get<0>(*first) == protocol &&
                                   std::get<1>(*first) == ends.destination.address &&
                                   std::get<2>(*first) == ends.destination.port &&
                                   std::get<3>(*first) == ends.source.address;
    check(address_contacted, "unsolicited inbound delivered under address-dependent filtering");
    if (filtering == ref::FilteringBehavior::address_and_port_dependent && protocol != ref::Protocol::icmp) {
      check(contacted_.count({protocol, ends.destination.address, ends.destination.port, ends.source.address,
                              ends.source.port}) == 1,
            "unsolicited inbound delivered under address-and-port-dependent filtering");
    }
  }

  void count_flow(ref::Side side, const ref::PacketView& sent) {
    if (!translatable(sent.kind)) return;
    const Ends ends = ends_of(sent);
    const FlowKey key{protocol_of(sent.kind), ends.source.address, ends.source.port, ends.destination.address,
                      ends.destination.port};
    (side == ref::Side::inside ? outbound_flows_ : inbound_flows_).insert(key);
  }

  void check_state(fuzz::NatDriver& driver, ref::TimePoint last_packet) const {
    const std::vector<ref::MappingInfo> mappings = driver.nat().mappings();
    const std::vector<ref::SessionInfo> sessions = driver.nat().sessions();
    check(mappings.size() <= outbound_flows_.size(), "more mappings than outbound flows");
    // A hairpinned packet is one flow and two sessions (one on each mapping it crosses).
    check(sessions.size() <= 2 * outbound_flows_.size() + inbound_flows_.size(), "more sessions than flows");
    for (std::size_t i = 0; i < mappings.size(); ++i) {
      const ref::MappingInfo& mapping = mappings[i];
      check(mapping.expires_at > driver.now(), "a mapping past its expiry is still listed");
      check(mapping.expires_at <= last_packet + longest_, "a mapping lives longer than any timer allows");
      const bool may_overload = mapping.protocol == ref::Protocol::icmp ? config_.icmp_behavior.identifier_overloading
                                                                        : config_.ports.overloading;
      if (may_overload) continue;
      for (std::size_t j = i + 1; j < mappings.size(); ++j) {
        if (mappings[j].protocol == mapping.protocol && mappings[j].external == mapping.external) {
          check(mappings[j].internal == mapping.internal, "port overloading: two internal endpoints share one external");
        }
      }
    }
    for (const auto& session : sessions) {
      check(session.expires_at <= last_packet + longest_, "a session lives longer than any timer allows");
    }
    if (driver.now() >= last_packet + longest_) {
      check(mappings.empty() && sessions.empty(), "state left after the longest timer passed without traffic");
    }
  }

  const std::vector<ref::Endpoint>& externals() const { return externals_; }

 private:
  const ref::NatConfig& config_;
  ref::Duration longest_;
  std::set<FlowKey> contacted_;  // (protocol, external endpoint, remote endpoint) the NAT sent out
  std::set<FlowKey> outbound_flows_;
  std::set<FlowKey> inbound_flows_;
  std::vector<ref::Endpoint> externals_;
};

fuzz::Packet build(fuzz::ByteReader& in, std::uint8_t protocol, ref::Endpoint from, ref::Endpoint to, bool inbound) {
  const fuzz::IpHeader ip{from.address, to.address};
  const std::uint8_t payload[] = {'p', 'r', 'o', 'b', 'e'};
  switch (protocol) {
    case 0: return fuzz::udp_packet(ip, from.port, to.port, payload);
    case 1: {
      const auto seq = static_cast<std::uint32_t>(1000 * in.pick(4));
      const auto ack = static_cast<std::uint32_t>(1000 * in.pick(4));
      const fuzz::TcpHeader tcp{from.port, to.port, seq, ack, in.pick_from(kTcpFlags)};
      return fuzz::tcp_packet(ip, tcp, fuzz::Bytes{});
    }
    default: {
      // Mostly the expected direction (requests out, replies in), sometimes the other.
      const bool expected = in.pick(4) != 0;
      const bool request = inbound ? !expected : expected;
      const std::uint8_t type = request ? ref::icmp_type::echo_request : ref::icmp_type::echo_reply;
      return fuzz::icmp_packet(ip, type, 0, std::uint32_t{inbound ? to.port : from.port} << 16, payload);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::ByteReader in(data, size);
  fuzz::NatDriver driver(in.pick_from(kConfigs));
  const ref::NatConfig& config = driver.nat().config();
  Model model(config);
  ref::TimePoint last_packet = driver.now();

  for (std::size_t step = 0; step < 64 && !in.empty(); ++step) {
    const std::size_t operation = in.pick(8);
    if (operation >= 6) {
      driver.advance(in.pick_from(kAdvances));
      model.record_outbound(driver.output());
      model.check_state(driver, last_packet);
      continue;
    }
    const bool inbound = operation >= 3;
    const std::uint8_t protocol = static_cast<std::uint8_t>(operation % 3);
    fuzz::Packet packet;
    if (!inbound) {
      const ref::Endpoint from{fuzz::kInsideHost + static_cast<std::uint32_t>(in.pick(3)), in.pick_from(kPorts)};
      ref::Endpoint to{fuzz::kOutsideHost + static_cast<std::uint32_t>(in.pick(2)), in.pick_from(kPorts)};
      if (in.pick(4) == 0 && !model.externals().empty()) to = model.externals()[in.pick(model.externals().size())];
      packet = build(in, protocol, from, to, false);
    } else {
      const ref::Ipv4Address sources[] = {fuzz::kOutsideHost, fuzz::kOutsideHost + 1, fuzz::kThirdParty};
      const ref::Endpoint from{in.pick_from(sources), in.pick_from(kPorts)};
      ref::Endpoint to{config.external_addresses[in.pick(config.external_addresses.size())], in.pick_from(kPorts)};
      if (in.pick(4) != 0 && !model.externals().empty()) to = model.externals()[in.pick(model.externals().size())];
      packet = build(in, protocol, from, to, true);
    }
    const ref::ParseResult sent = ref::parse_packet(packet);
    const ref::Side side = inbound ? ref::Side::outside : ref::Side::inside;
    const std::vector<ref::MappingInfo> before = inbound ? driver.nat().mappings() : std::vector<ref::MappingInfo>{};
    model.count_flow(side, sent.packet);
    const ref::Output& out = driver.send(packet, side);
    last_packet = driver.now();
    if (inbound) model.check_inbound(sent.packet, out, before);
    model.record_outbound(out);
    model.check_state(driver, last_packet);
  }
  return 0;
}
