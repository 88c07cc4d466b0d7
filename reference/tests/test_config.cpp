// Tests of the knob table, presets, validation and the configuration spec parser.
//
// The knob and preset tables in docs/reference-model.md are generated from knobs() and presets();
// KnobDocs.GeneratedTablesMatch fails when they drift. To regenerate them:
//   NATCERT_UPDATE_DOCS=1 build/<dir>/reference/tests/reference_config_tests --gtest_filter='KnobDocs.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/reference/config.hpp"

namespace natcert::ref {
namespace {

using namespace std::chrono_literals;

// A canonical, non-default value for every knob. A knob without an entry here fails
// EveryKnobHasASample, so a new knob cannot be added without being round-tripped.
const std::map<std::string, std::string>& samples() {
  static const std::map<std::string, std::string> values{
      {"external-addresses", "198.51.100.7+198.51.100.9"},
      {"inside-address", "10.0.0.254"},
      {"inside-prefix", "192.168.1.0/24"},
      {"drop-outbound-to-inside-prefix", "true"},
      {"udp.mapping", "address-and-port-dependent"},
      {"udp.filtering", "endpoint-independent"},
      {"tcp.mapping", "address-dependent"},
      {"tcp.filtering", "address-and-port-dependent"},
      {"icmp.mapping", "address-dependent"},
      {"icmp.filtering", "endpoint-independent"},
      {"protocol-independent-mapping", "true"},
      {"protocol-independent-filtering", "true"},
      {"pooling", "arbitrary"},
      {"paired-pool-spill", "true"},
      {"filtered-inbound-refreshes", "true"},
      {"ports.min-port", "2000"},
      {"ports.max-port", "60000"},
      {"ports.preserve-port", "false"},
      {"ports.preserve-parity", "false"},
      {"ports.contiguity", "true"},
      {"ports.preserve-range-class", "false"},
      {"ports.allocation", "sequential"},
      {"ports.overloading", "true"},
      {"ports.change-mapping-on-collision", "true"},
      {"udp-timers.mapping", "1m"},
      {"udp-timers.per-destination-port", "53:30s+123:1m"},
      {"udp-timers.refresh-outbound", "false"},
      {"udp-timers.refresh-inbound", "false"},
      {"tcp.established", "1h"},
      {"tcp.transitory", "1m"},
      {"tcp.rst-linger", "0s"},
      {"tcp.track-fin", "false"},
      {"tcp.translate-rst", "false"},
      {"tcp.unsolicited-syn-hold", "2s"},
      {"tcp.unsolicited-syn", "immediate-rst"},
      {"tcp.simultaneous-open", "false"},
      {"tcp.pass-inbound-initiated", "false"},
      {"tcp.drop-after-fin", "true"},
      {"icmp.query-timeout", "30s"},
      {"icmp.pass-queries", "false"},
      {"icmp.translate-inbound-errors", "false"},
      {"icmp.translate-outbound-errors", "false"},
      {"icmp.errors-destroy-mappings", "true"},
      {"icmp.filter-errors-by-source", "true"},
      {"icmp.drop-bad-icmp-checksum", "false"},
      {"icmp.drop-bad-embedded-ip-checksum", "false"},
      {"icmp.skip-embedded-ip-options", "false"},
      {"icmp.verify-embedded-transport-checksum", "true"},
      {"icmp.embedded-checksum", "recompute-over-icmp-body"},
      {"icmp.restore-embedded-headers", "false"},
      {"icmp.keep-error-type-code", "false"},
      {"icmp.rewrite-outer-destination", "false"},
      {"icmp.rewrite-outer-source", "false"},
      {"icmp.errors-refresh-query-session", "true"},
      {"icmp.hairpin-errors", "false"},
      {"icmp.unreachable-on-session-failure", "false"},
      {"icmp.generate-time-exceeded", "false"},
      {"icmp.generate-fragmentation-needed", "false"},
      {"icmp.forward-source-quench", "true"},
      {"icmp.answer-information-request", "true"},
      {"icmp.copy-dscp", "false"},
      {"icmp.errors-about-errors", "true"},
      {"icmp.generated-per-second", "0"},
      {"icmp.outbound-errors-refresh", "true"},
      {"hairpin.enabled", "false"},
      {"hairpin.source", "internal-endpoint"},
      {"fragments.inbound", "in-order-only"},
      {"fragments.outbound", "reassemble"},
      {"fragments.outbound-ids", "preserve"},
      {"fragments.outside-mtu", "576"},
      {"fragments.oversize", "fragment-reversed"},
      {"fragments.max-pending-datagrams", "8"},
      {"fragments.max-fragments-per-datagram", "16"},
      {"fragments.evict-oldest-when-full", "false"},
      {"tcp.release-held-syn", "true"},
      {"tcp.silent-drop-rsts-mapped-ports", "true"},
      {"icmp.forward-unmapped-errors", "true"},
      {"icmp.identifier-overloading", "true"},
      {"icmp.match-errors-by-address-only", "true"},
      {"fragments.reassembly-timeout", "30s"},
      {"alg.generic-payload-rewrite", "true"},
      {"alg.ftp", "false"},
      {"alg.ftp-mutant", "wrong-seq-delta"},
      {"alg.sip", "true"},
      {"alg.sip-mutant", "wrong-sdp-address"},
      {"alg.tftp", "true"},
      {"alg.expectation-timeout", "2m"},
      {"decrement-ttl", "false"},
      {"max-sessions", "1000"},
      {"max-mappings-per-host", "16"},
      {"seed", "18446744073709551615"},
  };
  return values;
}

std::map<std::string, std::string> snapshot(const NatConfig& config) {
  std::map<std::string, std::string> values;
  for (const auto& knob : knobs()) values[std::string(knob.key)] = knob_value(config, knob.key);
  return values;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream{std::string(text)};
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

bool one_line(const std::string& text) { return !text.empty() && text.find('\n') == std::string::npos; }

std::string build_error(std::string_view spec) {
  NatConfig config;
  std::string error;
  EXPECT_FALSE(make_config(spec, config, error)) << spec;
  EXPECT_TRUE(one_line(error)) << spec << " -> " << error;
  return error;
}

// ---------------------------------------------------------------------------------------------
// The table

TEST(Knobs, KeysAreUniqueAndFollowTheScheme) {
  std::set<std::string_view> seen;
  for (const auto& knob : knobs()) {
    EXPECT_TRUE(seen.insert(knob.key).second) << "duplicate " << knob.key;
    for (const char c : knob.key) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')
          << knob.key << " has '" << c << "'";
    }
    EXPECT_LE(std::count(knob.key.begin(), knob.key.end(), '.'), 1) << knob.key;
    EXPECT_FALSE(knob.values.empty()) << knob.key;
    EXPECT_FALSE(knob.requirement.empty()) << knob.key;
    EXPECT_FALSE(knob.description.empty()) << knob.key;
    EXPECT_EQ(knob.description.find('\n'), std::string_view::npos) << knob.key;
  }
  // One knob per settable NatConfig field except `name`; inside_prefix and inside_prefix_length
  // share "inside-prefix". Top level 15 (incl. the three ProtocolBehavior pairs as 6), ports 9,
  // udp-timers 4, tcp 11, icmp 28, hairpin 2, fragments 8, alg 1, + decrement-ttl, max-sessions,
  // max-mappings-per-host, seed.
  EXPECT_EQ(knobs().size(), 91u);
}

TEST(Knobs, EveryKnobHasASample) {
  for (const auto& knob : knobs()) EXPECT_TRUE(samples().contains(std::string(knob.key))) << knob.key;
  for (const auto& [key, value] : samples()) {
    EXPECT_NE(std::find_if(knobs().begin(), knobs().end(), [&](const Knob& k) { return k.key == key; }),
              knobs().end())
        << "sample for a knob that does not exist: " << key;
  }
}

TEST(Knobs, EverySampleRoundTripsAndTouchesOnlyItsField) {
  const NatConfig base = defaults();
  const auto before = snapshot(base);
  for (const auto& knob : knobs()) {
    const std::string key(knob.key);
    const auto sample = samples().find(key);
    ASSERT_NE(sample, samples().end()) << key;
    NatConfig config = base;
    ASSERT_EQ(apply_override(config, key, sample->second), "") << key;
    EXPECT_EQ(knob_value(config, key), sample->second) << key;
    EXPECT_NE(before.at(key), sample->second) << key << ": the sample should differ from the default";
    auto after = snapshot(config);
    after[key] = before.at(key);
    EXPECT_EQ(after, before) << key << " changed another knob";
  }
}

TEST(Knobs, DefaultValuesRoundTrip) {
  const NatConfig base = defaults();
  NatConfig config = base;
  for (const auto& knob : knobs()) {
    EXPECT_EQ(apply_override(config, knob.key, knob_value(base, knob.key)), "") << knob.key;
  }
  EXPECT_EQ(snapshot(config), snapshot(base));
}

TEST(Knobs, EveryEnumAndBoolValueRoundTrips) {
  for (const auto& knob : knobs()) {
    // Choice lists are "a|b|c" with no spaces; free-form value descriptions contain spaces.
    if (knob.values.find('|') == std::string_view::npos || knob.values.find(' ') != std::string_view::npos) continue;
    for (const auto& choice : split(knob.values, '|')) {
      NatConfig config = defaults();
      EXPECT_EQ(apply_override(config, knob.key, choice), "") << knob.key << "=" << choice;
      EXPECT_EQ(knob_value(config, knob.key), choice) << knob.key;
    }
  }
}

TEST(Knobs, FieldsAreTheOnesTheKeysName) {
  NatConfig config = defaults();
  ASSERT_EQ(apply_override(config, "udp.mapping", "address-dependent"), "");
  ASSERT_EQ(apply_override(config, "tcp.unsolicited-syn", "immediate-port-unreachable"), "");
  ASSERT_EQ(apply_override(config, "icmp.errors-destroy-mappings", "on"), "");
  ASSERT_EQ(apply_override(config, "udp-timers.mapping", "2h4m"), "");
  ASSERT_EQ(apply_override(config, "udp-timers.per-destination-port", "53:30s+123:60s"), "");
  ASSERT_EQ(apply_override(config, "external-addresses", "203.0.113.1+203.0.113.2"), "");
  ASSERT_EQ(apply_override(config, "inside-prefix", "172.16.0.0/12"), "");
  ASSERT_EQ(apply_override(config, "hairpin.source", "internal-endpoint"), "");
  ASSERT_EQ(apply_override(config, "fragments.outside-mtu", "1400"), "");
  EXPECT_EQ(config.udp.mapping, MappingBehavior::address_dependent);
  EXPECT_EQ(config.tcp.mapping, MappingBehavior::endpoint_independent);
  EXPECT_EQ(config.tcp_behavior.unsolicited_syn, UnsolicitedSyn::immediate_port_unreachable);
  EXPECT_TRUE(config.icmp_behavior.errors_destroy_mappings);
  EXPECT_EQ(config.udp_timers.mapping, 7440s);
  ASSERT_EQ(config.udp_timers.per_destination_port.size(), 2u);
  EXPECT_EQ(config.udp_timers.per_destination_port[0].destination_port, 53);
  EXPECT_EQ(config.udp_timers.per_destination_port[0].timeout, 30s);
  EXPECT_EQ(config.udp_timers.per_destination_port[1].destination_port, 123);
  EXPECT_EQ(config.udp_timers.per_destination_port[1].timeout, 60s);
  EXPECT_EQ(knob_value(config, "udp-timers.per-destination-port"), "53:30s+123:1m");
  EXPECT_EQ(config.external_addresses, (std::vector<Ipv4Address>{0xCB007101u, 0xCB007102u}));
  EXPECT_EQ(config.inside_prefix, 0xAC100000u);
  EXPECT_EQ(config.inside_prefix_length, 12);
  EXPECT_EQ(config.hairpin.source, HairpinSource::internal_endpoint);
  EXPECT_EQ(config.fragments.outside_mtu, 1400);
}

TEST(Knobs, LenientSpellings) {
  NatConfig config = defaults();
  for (const auto* word : {"off", "no", "false", "0", "FALSE", " off "}) {
    config.hairpin.enabled = true;
    EXPECT_EQ(apply_override(config, "hairpin.enabled", word), "") << word;
    EXPECT_FALSE(config.hairpin.enabled) << word;
  }
  for (const auto* word : {"on", "yes", "true", "1", "True"}) {
    config.hairpin.enabled = false;
    EXPECT_EQ(apply_override(config, "hairpin.enabled", word), "") << word;
    EXPECT_TRUE(config.hairpin.enabled) << word;
  }
  EXPECT_EQ(apply_override(config, "UDP.Filtering", "Address_And_Port_Dependent"), "");
  EXPECT_EQ(config.udp.filtering, FilteringBehavior::address_and_port_dependent);
  EXPECT_EQ(apply_override(config, "udp_timers.refresh_inbound", "no"), "");
  EXPECT_FALSE(config.udp_timers.refresh_inbound);
  EXPECT_EQ(apply_override(config, "external-addresses", "none"), "");
  EXPECT_TRUE(config.external_addresses.empty());
  EXPECT_EQ(knob_value(config, "external-addresses"), "none");
  EXPECT_EQ(apply_override(config, "udp-timers.per-destination-port", "none"), "");
  EXPECT_TRUE(config.udp_timers.per_destination_port.empty());
}

TEST(Knobs, UnknownKeyHasNoValue) { EXPECT_EQ(knob_value(defaults(), "no.such-knob"), ""); }

// ---------------------------------------------------------------------------------------------
// Durations

TEST(Durations, Parse) {
  const std::vector<std::pair<std::string, Duration>> good{
      {"300s", 300s},      {"2h4m", 7440s},         {"7440", 7440s},  {"500ms", 500ms},
      {"1m30s", 90s},      {"90", 90s},             {"0", 0s},        {"1h", 1h},
      {"250us", 250us},    {"10ns", 10ns},          {"1s500ms", 1500ms}, {" 6s ", 6s},
      {"120h", 120h},      {"1m1s1ms1us1ns", 1min + 1s + 1ms + 1us + 1ns},
  };
  for (const auto& [text, expected] : good) {
    NatConfig config = defaults();
    ASSERT_EQ(apply_override(config, "udp-timers.mapping", text), "") << text;
    EXPECT_EQ(config.udp_timers.mapping, expected) << text;
    // The printed form parses back to the same duration.
    const auto printed = knob_value(config, "udp-timers.mapping");
    NatConfig again = defaults();
    ASSERT_EQ(apply_override(again, "udp-timers.mapping", printed), "") << printed;
    EXPECT_EQ(again.udp_timers.mapping, expected) << printed;
  }
}

TEST(Durations, Print) {
  NatConfig config = defaults();
  const std::vector<std::pair<Duration, std::string>> cases{
      {300s, "5m"}, {7440s, "2h4m"}, {500ms, "500ms"}, {0s, "0s"}, {90s, "1m30s"}, {1500ms, "1s500ms"}, {6s, "6s"}};
  for (const auto& [duration, text] : cases) {
    config.tcp_behavior.established = duration;
    EXPECT_EQ(knob_value(config, "tcp.established"), text);
  }
}

TEST(Durations, RejectMalformed) {
  for (const auto* text : {"", "s", "5x", "-5s", "1.5s", "5 s", "h5", "5sm", "99999999999999999999h",
                           "9999999999999999999", "3000000h", "1m+2s"}) {
    NatConfig config = defaults();
    const auto error = apply_override(config, "udp-timers.mapping", text);
    EXPECT_TRUE(one_line(error)) << "accepted \"" << text << "\"";
    EXPECT_NE(error.find("udp-timers.mapping"), std::string::npos) << error;
    EXPECT_EQ(config.udp_timers.mapping, 300s) << "a rejected value must leave the field alone";
  }
}

// ---------------------------------------------------------------------------------------------
// Errors from apply_override

TEST(Overrides, UnknownKeySuggestsTheClosest) {
  NatConfig config = defaults();
  const auto error = apply_override(config, "udp.maping", "endpoint-independent");
  EXPECT_TRUE(one_line(error));
  EXPECT_NE(error.find("\"udp.maping\""), std::string::npos) << error;
  EXPECT_NE(error.find("\"udp.mapping\""), std::string::npos) << error;
  EXPECT_NE(apply_override(config, "unsolicited-syn", "silent-drop").find("\"tcp.unsolicited-syn\""),
            std::string::npos);
  EXPECT_NE(apply_override(config, "icmp.errors-destroy-mapping", "true").find("\"icmp.errors-destroy-mappings\""),
            std::string::npos);
}

TEST(Overrides, BadValueNamesKeyAndAcceptedValues) {
  NatConfig config = defaults();
  auto error = apply_override(config, "udp.mapping", "cone");
  EXPECT_TRUE(one_line(error));
  EXPECT_NE(error.find("udp.mapping"), std::string::npos) << error;
  EXPECT_NE(error.find("\"cone\""), std::string::npos) << error;
  EXPECT_NE(error.find("endpoint-independent|address-dependent|address-and-port-dependent"), std::string::npos)
      << error;

  error = apply_override(config, "hairpin.enabled", "maybe");
  EXPECT_NE(error.find("hairpin.enabled"), std::string::npos) << error;
  EXPECT_NE(error.find("true|false"), std::string::npos) << error;

  const std::vector<std::pair<std::string, std::string>> bad{
      {"ports.min-port", "65536"},
      {"ports.min-port", "-1"},
      {"ports.min-port", "12ab"},
      {"ports.min-port", ""},
      {"icmp.generated-per-second", "4294967296"},
      {"external-addresses", "203.0.113.1,203.0.113.2"},
      {"external-addresses", "203.0.113.256"},
      {"external-addresses", "203.0.113"},
      {"external-addresses", "203.0.113.1+"},
      {"inside-address", "10.0.0.0.1"},
      {"inside-prefix", "10.0.0.0"},
      {"inside-prefix", "10.0.0.0/33"},
      {"inside-prefix", "10.0.0.1/24"},
      {"udp-timers.per-destination-port", "53"},
      {"udp-timers.per-destination-port", "70000:30s"},
      {"udp-timers.per-destination-port", "53:soon"},
      {"fragments.oversize", "fragment"},
      {"seed", "18446744073709551616"},
  };
  for (const auto& [key, value] : bad) {
    NatConfig changed = defaults();
    error = apply_override(changed, key, value);
    EXPECT_TRUE(one_line(error)) << key << "=" << value << " was accepted";
    EXPECT_NE(error.find(key), std::string::npos) << error;
    EXPECT_EQ(snapshot(changed), snapshot(defaults())) << key << "=" << value << " changed the config";
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

TEST(Validate, DefaultsAreValidAndCompliant) {
  const NatConfig config = defaults();
  EXPECT_EQ(validate(config), std::vector<std::string>{});
  EXPECT_EQ(config.external_addresses, std::vector<Ipv4Address>{0xCB007101u});
  EXPECT_EQ(config.inside_address, 0x0A000001u);
  EXPECT_EQ(knob_value(config, "inside-prefix"), "10.0.0.0/24");
  EXPECT_EQ(config.udp.mapping, MappingBehavior::endpoint_independent);
  EXPECT_EQ(config.tcp.mapping, MappingBehavior::endpoint_independent);
  EXPECT_EQ(config.icmp.mapping, MappingBehavior::endpoint_independent);
  EXPECT_EQ(config.udp.filtering, FilteringBehavior::address_dependent);
  EXPECT_EQ(config.tcp.filtering, FilteringBehavior::address_dependent);
  EXPECT_EQ(config.pooling, Pooling::paired);
  EXPECT_EQ(config.ports.min_port, 0) << "1-1023 must be available to sources 0-1023 (RFC4787-REQ-3a)";
  EXPECT_TRUE(config.ports.preserve_range_class);
  EXPECT_TRUE(config.ports.preserve_parity);
  EXPECT_FALSE(config.ports.overloading);
  EXPECT_GE(config.udp_timers.mapping, 300s);
  EXPECT_GE(config.tcp_behavior.established, 7440s);
  EXPECT_GE(config.tcp_behavior.transitory, 240s);
  EXPECT_GE(config.tcp_behavior.unsolicited_syn_hold, 6s);
  EXPECT_GE(config.icmp_behavior.query_timeout, 60s);
  EXPECT_EQ(config.tcp_behavior.unsolicited_syn, UnsolicitedSyn::hold_then_port_unreachable);
}

// Every invalid spec must fail with a one-line message naming the key.
TEST(Validate, RejectsInvalidConfigurationsNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"rfc-strict,external-addresses=none", "external-addresses"},
      {"rfc-strict,external-addresses=203.0.113.1+203.0.113.1", "external-addresses"},
      {"rfc-strict,external-addresses=0.0.0.0", "external-addresses"},
      {"rfc-strict,inside-address=0.0.0.0", "inside-address"},
      {"rfc-strict,inside-address=192.168.0.1", "inside-address"},
      {"rfc-strict,ports.min-port=5000,ports.max-port=4000", "ports.min-port"},
      {"rfc-strict,ports.max-port=0,ports.min-port=0", "ports.max-port"},
      {"rfc-strict,ports.min-port=0,ports.max-port=1000", "ports.max-port"},
      {"rfc-strict,ports.min-port=2000,ports.max-port=2000", "ports.max-port"},
      {"rfc-strict,udp-timers.mapping=0s", "udp-timers.mapping"},
      {"rfc-strict,udp-timers.per-destination-port=53:0s", "udp-timers.per-destination-port"},
      {"rfc-strict,udp-timers.per-destination-port=53:30s+53:1m", "udp-timers.per-destination-port"},
      {"rfc-strict,udp-timers.per-destination-port=0:30s", "udp-timers.per-destination-port"},
      {"rfc-strict,tcp.established=0", "tcp.established"},
      {"rfc-strict,tcp.transitory=0s", "tcp.transitory"},
      {"rfc-strict,tcp.unsolicited-syn-hold=0s", "tcp.unsolicited-syn-hold"},
      {"rfc-strict,icmp.query-timeout=0s", "icmp.query-timeout"},
      {"rfc-strict,fragments.reassembly-timeout=0s", "fragments.reassembly-timeout"},
      {"rfc-strict,fragments.outside-mtu=67", "fragments.outside-mtu"},
      {"rfc-strict,fragments.max-pending-datagrams=0", "fragments.max-pending-datagrams"},
      {"rfc-strict,fragments.max-fragments-per-datagram=0", "fragments.max-fragments-per-datagram"},
      {"rfc-strict,max-sessions=0", "max-sessions"},
      {"rfc-strict,inside-prefix=0.0.0.0/0,drop-outbound-to-inside-prefix=true", "drop-outbound-to-inside-prefix"},
  };
  for (const auto& [spec, key] : cases) {
    const auto error = build_error(spec);
    EXPECT_EQ(error.rfind(key + ":", 0), 0u) << spec << " -> " << error;
  }
}

TEST(Validate, ReportsEveryProblem) {
  NatConfig config = defaults();
  config.external_addresses.clear();
  config.ports.min_port = 9;
  config.ports.max_port = 8;
  config.udp_timers.mapping = 0s;
  config.inside_prefix_length = 33;
  const auto problems = validate(config);
  ASSERT_EQ(problems.size(), 4u) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems[0].rfind("external-addresses: ", 0), 0u);
  EXPECT_EQ(problems[1].rfind("inside-prefix: ", 0), 0u);
  EXPECT_EQ(problems[2].rfind("ports.min-port: ", 0), 0u);
  EXPECT_EQ(problems[3].rfind("udp-timers.mapping: ", 0), 0u);
  for (const auto& problem : problems) EXPECT_TRUE(one_line(problem)) << problem;

  NatConfig joined;
  std::string error;
  EXPECT_FALSE(make_config("rfc-strict,external-addresses=none,udp-timers.mapping=0", joined, error));
  EXPECT_NE(error.find("external-addresses: "), std::string::npos) << error;
  EXPECT_NE(error.find("; udp-timers.mapping: "), std::string::npos) << error;
}

TEST(Validate, EdgeValuesThatAreAllowed) {
  for (const auto* spec : {"rfc-strict,tcp.unsolicited-syn=silent-drop,tcp.unsolicited-syn-hold=0s",
                           "rfc-strict,tcp.rst-linger=0s", "rfc-strict,icmp.generated-per-second=0",
                           "rfc-strict,max-mappings-per-host=0", "rfc-strict,ports.min-port=1024",
                           "rfc-strict,ports.preserve-range-class=false,ports.min-port=0,ports.max-port=1000",
                           "rfc-strict,ports.preserve-parity=false,ports.min-port=2000,ports.max-port=2000",
                           "rfc-strict,fragments.outside-mtu=68", "rfc-strict,inside-prefix=0.0.0.0/0"}) {
    NatConfig config;
    std::string error;
    EXPECT_TRUE(make_config(spec, config, error)) << spec << ": " << error;
  }
}

// ---------------------------------------------------------------------------------------------
// Presets and make_config

TEST(Presets, NamesAndDescriptions) {
  std::vector<std::string_view> names;
  for (const auto& preset : presets()) {
    names.push_back(preset.name);
    EXPECT_FALSE(preset.description.empty()) << preset.name;
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"rfc-strict", "full-cone", "restricted-cone", "port-restricted-cone",
                                                   "symmetric", "rfc-strict-pool", "linux-like"}));
  EXPECT_TRUE(presets().front().overrides.empty());
}

TEST(Presets, EveryPresetBuildsAndValidates) {
  for (const auto& preset : presets()) {
    NatConfig config;
    std::string error;
    ASSERT_TRUE(make_config(preset.name, config, error)) << preset.name << ": " << error;
    EXPECT_EQ(error, "");
    EXPECT_EQ(config.name, preset.name);
    EXPECT_EQ(validate(config), std::vector<std::string>{}) << preset.name;
    for (const auto& [key, value] : preset.overrides) {
      EXPECT_EQ(knob_value(config, key), value) << preset.name << ": " << key << " (overrides must be canonical)";
    }
  }
}

TEST(Presets, Behaviours) {
  const auto build = [](std::string_view spec) {
    NatConfig config;
    std::string error;
    EXPECT_TRUE(make_config(spec, config, error)) << error;
    return config;
  };
  EXPECT_EQ(snapshot(build("rfc-strict")), snapshot(defaults()));
  EXPECT_EQ(snapshot(build("restricted-cone")), snapshot(defaults()));

  const auto full = build("full-cone");
  EXPECT_EQ(full.udp.mapping, MappingBehavior::endpoint_independent);
  EXPECT_EQ(full.udp.filtering, FilteringBehavior::endpoint_independent);
  EXPECT_EQ(full.tcp.filtering, FilteringBehavior::endpoint_independent);

  const auto port_restricted = build("port-restricted-cone");
  EXPECT_EQ(port_restricted.udp.mapping, MappingBehavior::endpoint_independent);
  EXPECT_EQ(port_restricted.udp.filtering, FilteringBehavior::address_and_port_dependent);
  EXPECT_EQ(port_restricted.tcp.filtering, FilteringBehavior::address_and_port_dependent);

  const auto symmetric = build("symmetric");
  EXPECT_EQ(symmetric.udp.mapping, MappingBehavior::address_and_port_dependent);
  EXPECT_EQ(symmetric.tcp.mapping, MappingBehavior::address_and_port_dependent);
  EXPECT_EQ(symmetric.udp.filtering, FilteringBehavior::address_and_port_dependent);

  const auto pool = build("rfc-strict-pool");
  EXPECT_EQ(pool.external_addresses, (std::vector<Ipv4Address>{0xCB007101u, 0xCB007102u}));
  EXPECT_EQ(pool.pooling, Pooling::paired);

  const auto linux_like = build("linux-like");
  EXPECT_EQ(linux_like.udp.filtering, FilteringBehavior::address_and_port_dependent);
  EXPECT_TRUE(linux_like.ports.preserve_port);
  EXPECT_FALSE(linux_like.ports.preserve_parity);
  EXPECT_TRUE(linux_like.ports.change_mapping_on_collision);
}

TEST(MakeConfig, OverridesApplyInOrderOnThePreset) {
  NatConfig config;
  std::string error;
  const std::string spec = "symmetric, udp.mapping=endpoint-independent ,udp-timers.mapping=2h4m,udp.mapping=address-dependent";
  ASSERT_TRUE(make_config(spec, config, error)) << error;
  EXPECT_EQ(config.name, spec);
  EXPECT_EQ(config.udp.mapping, MappingBehavior::address_dependent);
  EXPECT_EQ(config.tcp.mapping, MappingBehavior::address_and_port_dependent);
  EXPECT_EQ(config.udp_timers.mapping, 7440s);
}

TEST(MakeConfig, Errors) {
  auto error = build_error("cone");
  EXPECT_NE(error.find("\"cone\""), std::string::npos) << error;
  for (const auto& preset : presets()) EXPECT_NE(error.find(preset.name), std::string::npos) << error;
  EXPECT_NE(build_error("").find("presets: rfc-strict"), std::string::npos);

  error = build_error("rfc-strict,udp.mapping");
  EXPECT_NE(error.find("\"udp.mapping\""), std::string::npos) << error;
  EXPECT_NE(error.find("key=value"), std::string::npos) << error;

  error = build_error("rfc-strict,udp.maping=endpoint-independent");
  EXPECT_NE(error.find("did you mean \"udp.mapping\""), std::string::npos) << error;
  error = build_error("rfc-strict,unsolicited-syn=drop");
  EXPECT_NE(error.find("did you mean \"tcp.unsolicited-syn\""), std::string::npos) << error;
  error = build_error("rfc-strict,udp-timers.mapings=5m");
  EXPECT_NE(error.find("did you mean \"udp-timers.mapping\""), std::string::npos) << error;
  // A key far longer than any knob gets no suggestion (and costs no comparison per knob).
  error = build_error("rfc-strict," + std::string(200, 'x') + "=1");
  EXPECT_EQ(error.find("did you mean"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown knob"), std::string::npos) << error;

  error = build_error("full-cone,tcp.filtering=sometimes");
  EXPECT_NE(error.find("tcp.filtering"), std::string::npos) << error;

  // A failed build leaves the caller's configuration untouched.
  NatConfig config = defaults();
  config.name = "untouched";
  EXPECT_FALSE(make_config("rfc-strict,udp-timers.mapping=0s", config, error));
  EXPECT_EQ(config.name, "untouched");
  EXPECT_EQ(config.udp_timers.mapping, 300s);
}

// ---------------------------------------------------------------------------------------------
// docs/reference-model.md: the generated tables match, and every `key=value` in it is real.

std::filesystem::path docs_path() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "docs" / "reference-model.md";
}

std::string escape_cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string preset_table() {
  std::string out = "| Preset | Overrides applied on rfc-strict | Requirements met / violated |\n|---|---|---|\n";
  for (const auto& preset : presets()) {
    std::string overrides;
    for (const auto& [key, value] : preset.overrides) {
      if (!overrides.empty()) overrides += "<br>";
      overrides += "`" + std::string(key) + "=" + std::string(value) + "`";
    }
    if (overrides.empty()) overrides = "(none)";
    out += "| `" + std::string(preset.name) + "` | " + overrides + " | " + escape_cell(preset.description) + " |\n";
  }
  return out;
}

std::string knob_table() {
  const NatConfig base = defaults();
  std::string out =
      "| Key | Accepted values | rfc-strict value | Requirement | Description |\n|---|---|---|---|---|\n";
  for (const auto& knob : knobs()) {
    out += "| `" + std::string(knob.key) + "` | " + escape_cell(knob.values) + " | `" +
           knob_value(base, knob.key) + "` | " + escape_cell(knob.requirement) + " | " +
           escape_cell(knob.description) + " |\n";
  }
  return out;
}

// Replaces (or checks) the text between "<!-- BEGIN GENERATED name -->\n" and "<!-- END GENERATED name -->".
bool sync_section(std::string& document, const std::string& name, const std::string& content, bool update,
                  std::string& problem) {
  const std::string begin = "<!-- BEGIN GENERATED " + name + " -->\n";
  const std::string end = "<!-- END GENERATED " + name + " -->";
  const auto from = document.find(begin);
  const auto to = document.find(end);
  if (from == std::string::npos || to == std::string::npos || to < from) {
    problem = "markers for " + name + " not found";
    return false;
  }
  const auto start = from + begin.size();
  if (document.compare(start, to - start, content) == 0) return true;
  if (!update) {
    problem = "the " + name + " table is stale; rerun with NATCERT_UPDATE_DOCS=1";
    return false;
  }
  document.replace(start, to - start, content);
  return true;
}

std::string read_docs() {
  std::ifstream in(docs_path());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(KnobDocs, GeneratedTablesMatch) {
  if (!std::filesystem::exists(docs_path())) GTEST_SKIP() << docs_path() << " not found";
  const bool update = std::getenv("NATCERT_UPDATE_DOCS") != nullptr;
  std::string document = read_docs();
  std::string problem;
  EXPECT_TRUE(sync_section(document, "presets", preset_table(), update, problem)) << problem;
  EXPECT_TRUE(sync_section(document, "knobs", knob_table(), update, problem)) << problem;
  if (update) std::ofstream(docs_path()) << document;
}

// Every `key=value` (or `preset,key=value,…`) in the document names a real knob and a value it accepts.
TEST(KnobDocs, EveryNamedSettingIsReal) {
  if (!std::filesystem::exists(docs_path())) GTEST_SKIP() << docs_path() << " not found";
  const std::string document = read_docs();
  std::size_t checked = 0;
  for (std::size_t at = document.find('`'); at != std::string::npos;) {
    const auto close = document.find('`', at + 1);
    if (close == std::string::npos) break;
    const std::string span = document.substr(at + 1, close - at - 1);
    at = document.find('`', close + 1);
    // Skip prose and syntax templates such as `PRESET[,key=value…]`.
    if (span.find('=') == std::string::npos || span.find(' ') != std::string::npos ||
        span.find("…") != std::string::npos) {
      continue;
    }
    for (const auto& item : split(span, ',')) {
      const auto equals = item.find('=');
      if (equals == std::string::npos) continue;  // a preset name at the head of a spec
      NatConfig config = defaults();
      EXPECT_EQ(apply_override(config, item.substr(0, equals), item.substr(equals + 1)), "") << "in docs: " << span;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace natcert::ref
