// The reference NAT on a virtual clock, with the addressing of the in-process testbed, and the checks
// every NAT target applies to whatever the NAT emits.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "natcert/reference/nat.hpp"

namespace natcert::fuzz {

inline constexpr ref::Ipv4Address kInsideHost = 0x0A00000Au;    // 10.0.0.10 (.10-.13 are used)
inline constexpr ref::Ipv4Address kOutsideHost = 0xC633640Au;   // 198.51.100.10 (.10-.13 are used)
inline constexpr ref::Ipv4Address kThirdParty = 0xC0000232u;    // 192.0.2.50
inline constexpr ref::Ipv4Address kExternal = 0xCB007101u;      // 203.0.113.1 (rfc-strict's pool)

// Builds a configuration from a spec the target knows to be valid.
inline ref::NatConfig config_from(std::string_view spec) {
  ref::NatConfig config;
  std::string error;
  if (!ref::make_config(spec, config, error)) fail(std::string("bad fuzz configuration: ") + error);
  return config;
}

// Drives the reference NAT of one configuration spec on a virtual clock that starts at 1 s.
// Constructing a NAT (tables, port bitmaps, timer wheel) and parsing its spec cost more than most
// inputs, so each spec's NAT (and its Output buffers) lives for the whole process and is restarted
// for every input; ReferenceNat::restart() makes it behave exactly as a new one, so a finding still
// replays in a fresh process.
class NatDriver {
 public:
  explicit NatDriver(std::string_view spec) : NatDriver(state_for(spec)) {}
  NatDriver(const NatDriver&) = delete;
  NatDriver& operator=(const NatDriver&) = delete;

  ref::ReferenceNat& nat() { return nat_; }
  const ref::Output& output() const { return out_; }
  ref::TimePoint now() const { return now_; }

  const ref::Output& send(Bytes packet, ref::Side side) {
    nat_.process(packet, side, now_, out_);
    check_emitted();
    return out_;
  }
  const ref::Output& advance(ref::Duration by) {
    now_ += by;
    nat_.advance(now_, out_);
    check_emitted();
    return out_;
  }

 private:
  // Whatever the NAT emits is a well-formed IPv4 packet with a valid header checksum, no larger than
  // IPv4 allows, without trailing bytes.
  void check_emitted() const {
    for (const ref::Emitted& emitted : out_.packets()) {
      check(emitted.bytes.size() <= 65535, "emitted packet larger than IPv4 allows");
      const ref::ParseResult parsed = ref::parse_packet(emitted.bytes);
      if (!parsed.ok()) fail(std::string("emitted packet does not parse: ") + std::string(ref::describe(parsed.error)));
      check(parsed.packet.ip.total_length() == emitted.bytes.size(), "emitted packet carries trailing bytes");
    }
  }

  struct State {
    explicit State(ref::NatConfig config) : nat(std::move(config)) {}
    ref::ReferenceNat nat;
    ref::Output out;
  };
  static State& state_for(std::string_view spec) {
    static std::map<std::string, std::unique_ptr<State>, std::less<>> states;
    auto found = states.find(spec);
    if (found == states.end()) {
      found = states.emplace(std::string(spec), std::make_unique<State>(config_from(spec))).first;
    }
    return *found->second;
  }

  explicit NatDriver(State& state) : nat_(state.nat), out_(state.out) {
    nat_.restart();
    out_.clear();
  }

  ref::ReferenceNat& nat_;
  ref::Output& out_;
  ref::TimePoint now_{std::chrono::seconds(1)};
};

}  // namespace natcert::fuzz
