// The knob table: one row per settable NatConfig field. Each row couples a codec (how the value is
// written as text) with an accessor (which field it is), so parsing, printing, the knob list in
// docs/reference-model.md and the error messages all come from the same place.
//
// Key scheme: "<section>.<field>" with underscores turned into hyphens, where <section> is the
// NatConfig member holding the field ("ports", "udp-timers", "hairpin", "fragments", "alg") and the
// per-protocol pairs are merged: udp/tcp/icmp (ProtocolBehavior) and tcp_behavior/icmp_behavior all
// live under "udp.", "tcp." and "icmp.". Top-level fields have no section ("pooling", "seed").
// inside_prefix and inside_prefix_length form one knob, "inside-prefix" = "10.0.0.0/24".
#include "natcert/reference/config.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace natcert::ref {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Text helpers

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Lower case, '_' -> '-': lets "Endpoint_Independent" and "udp_timers.mapping" through.
std::string normalize(std::string_view text) {
  std::string out(trim(text));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

template <class Int>
std::optional<Int> parse_uint(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value > std::numeric_limits<Int>::max()) return std::nullopt;
  return static_cast<Int>(value);
}

std::optional<Ipv4Address> parse_address(std::string_view text) { return parse_ipv4_address(trim(text)); }
std::string format_address(Ipv4Address address) { return format_ipv4(address); }

struct DurationUnit {
  std::string_view suffix;
  Duration length;
};
// Longest suffix first where one is a prefix of another ("ms" before "m").
constexpr std::array<DurationUnit, 6> kDurationUnits{{
    {"h", std::chrono::hours(1)},
    {"ms", std::chrono::milliseconds(1)},
    {"m", std::chrono::minutes(1)},
    {"s", std::chrono::seconds(1)},
    {"us", std::chrono::microseconds(1)},
    {"ns", std::chrono::nanoseconds(1)},
}};

// "300s", "2h4m", "1m30s500ms", "7440" (a plain number is seconds). No sign, no fractions.
std::optional<Duration> parse_duration(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  using Rep = Duration::rep;
  constexpr Rep max = std::numeric_limits<Rep>::max();
  const auto scaled = [&](std::uint64_t count, Duration unit) -> std::optional<Rep> {
    const auto per = static_cast<std::uint64_t>(unit.count());
    if (count > static_cast<std::uint64_t>(max) / per) return std::nullopt;
    return static_cast<Rep>(count * per);
  };
  if (const auto seconds = parse_uint<std::uint64_t>(text)) {
    const auto total = scaled(*seconds, std::chrono::seconds(1));
    if (!total) return std::nullopt;
    return Duration(*total);
  }
  Rep total = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    const auto count = parse_uint<std::uint64_t>(text.substr(0, digits));
    if (!count) return std::nullopt;
    text.remove_prefix(digits);
    std::size_t letters = 0;
    while (letters < text.size() && text[letters] >= 'a' && text[letters] <= 'z') ++letters;
    const auto suffix = text.substr(0, letters);
    const auto unit = std::find_if(kDurationUnits.begin(), kDurationUnits.end(),
                                   [&](const DurationUnit& u) { return u.suffix == suffix; });
    if (unit == kDurationUnits.end()) return std::nullopt;
    text.remove_prefix(letters);
    const auto part = scaled(*count, unit->length);
    if (!part || *part > max - total) return std::nullopt;
    total += *part;
  }
  return Duration(total);
}

// The inverse of parse_duration: "2h4m", "5m", "500ms", "0s".
std::string format_duration(Duration duration) {
  if (duration == Duration::zero()) return "0s";
  std::string out;
  if (duration < Duration::zero()) {  // not reachable through parse_duration; printed for honesty
    out = "-";
    duration = -duration;
  }
  constexpr std::array<DurationUnit, 6> kDescending{{
      {"h", std::chrono::hours(1)},
      {"m", std::chrono::minutes(1)},
      {"s", std::chrono::seconds(1)},
      {"ms", std::chrono::milliseconds(1)},
      {"us", std::chrono::microseconds(1)},
      {"ns", std::chrono::nanoseconds(1)},
  }};
  for (const auto& unit : kDescending) {
    const auto count = duration / unit.length;
    if (count == 0) continue;
    out += std::to_string(count);
    out += unit.suffix;
    duration -= count * unit.length;
  }
  return out;
}

// Levenshtein distances from one word of at most 64 characters to others, by Hyyrö's bit-parallel
// form of Myers' algorithm: one machine word holds a whole column of the distance table, so each
// comparison costs the other word's length rather than the product of both lengths.
class EditDistanceFrom {
 public:
  static constexpr std::size_t kMaxLength = 64;

  explicit EditDistanceFrom(std::string_view word) : length_(word.size()) {
    for (std::size_t i = 0; i < word.size(); ++i) {
      positions_[static_cast<unsigned char>(word[i])] |= std::uint64_t{1} << i;
    }
  }

  std::size_t to(std::string_view other) const {
    if (length_ == 0) return other.size();
    const std::size_t top = length_ - 1;
    std::uint64_t vertical_up = (std::uint64_t{2} << top) - 1;  // all ones when length_ is 64 (wraps)
    std::uint64_t vertical_down = 0;
    std::size_t distance = length_;
    for (const char c : other) {
      const std::uint64_t matches = positions_[static_cast<unsigned char>(c)];
      const std::uint64_t diagonal_zero =
          (((matches & vertical_up) + vertical_up) ^ vertical_up) | matches | vertical_down;
      std::uint64_t horizontal_up = vertical_down | ~(diagonal_zero | vertical_up);
      std::uint64_t horizontal_down = diagonal_zero & vertical_up;
      distance += (horizontal_up >> top) & 1;
      distance -= (horizontal_down >> top) & 1;
      horizontal_up = (horizontal_up << 1) | 1;
      horizontal_down <<= 1;
      vertical_up = horizontal_down | ~(diagonal_zero | horizontal_up);
      vertical_down = horizontal_up & diagonal_zero;
    }
    return distance;
  }

 private:
  std::array<std::uint64_t, 256> positions_{};
  std::size_t length_;
};

// ---------------------------------------------------------------------------------------------
// Codecs: how one kind of value is read and written. values() is the "accepted values" text.

struct BoolCodec {
  using Value = bool;
  std::string values() const { return "true|false"; }
  std::optional<bool> parse(std::string_view text) const {
    const auto word = normalize(text);
    if (word == "true" || word == "on" || word == "yes" || word == "1") return true;
    if (word == "false" || word == "off" || word == "no" || word == "0") return false;
    return std::nullopt;
  }
  std::string format(bool value) const { return value ? "true" : "false"; }
};

template <class E>
using EnumNames = std::span<const std::pair<std::string_view, E>>;

template <class E>
struct EnumCodec {
  using Value = E;
  EnumNames<E> names;
  std::string values() const {
    std::string out;
    for (const auto& [name, value] : names) {
      if (!out.empty()) out += '|';
      out += name;
    }
    return out;
  }
  std::optional<E> parse(std::string_view text) const {
    const auto word = normalize(text);
    for (const auto& [name, value] : names) {
      if (name == word) return value;
    }
    return std::nullopt;
  }
  std::string format(E value) const {
    for (const auto& [name, candidate] : names) {
      if (candidate == value) return std::string(name);
    }
    return "invalid(" + std::to_string(static_cast<unsigned>(value)) + ")";
  }
};

template <class Int>
struct UintCodec {
  using Value = Int;
  std::string_view note;  // what 0 means, if anything special
  std::string values() const {
    std::string out = "integer 0-" + std::to_string(std::numeric_limits<Int>::max());
    if (!note.empty()) out += " (" + std::string(note) + ")";
    return out;
  }
  std::optional<Int> parse(std::string_view text) const { return parse_uint<Int>(text); }
  std::string format(Int value) const { return std::to_string(value); }
};

struct DurationCodec {
  using Value = Duration;
  std::string values() const { return "duration: 300s, 2h4m, 1m30s, 500ms (a plain number is seconds)"; }
  std::optional<Duration> parse(std::string_view text) const { return parse_duration(text); }
  std::string format(Duration value) const { return format_duration(value); }
};

struct AddressCodec {
  using Value = Ipv4Address;
  std::string values() const { return "IPv4 address a.b.c.d"; }
  std::optional<Ipv4Address> parse(std::string_view text) const { return parse_address(text); }
  std::string format(Ipv4Address value) const { return format_address(value); }
};

// Lists use '+' because the configuration spec separates overrides with ','. "none" is empty.
struct AddressListCodec {
  using Value = std::vector<Ipv4Address>;
  std::string values() const { return "IPv4 addresses joined by '+' (203.0.113.1+203.0.113.2), or none"; }
  std::optional<Value> parse(std::string_view text) const {
    text = trim(text);
    Value list;
    if (text.empty() || normalize(text) == "none") return list;
    for (const auto item : split(text, '+')) {
      const auto address = parse_address(item);
      if (!address) return std::nullopt;
      list.push_back(*address);
    }
    return list;
  }
  std::string format(const Value& list) const {
    if (list.empty()) return "none";
    std::string out;
    for (const auto address : list) {
      if (!out.empty()) out += '+';
      out += format_address(address);
    }
    return out;
  }
};

struct PortTimersCodec {
  using Value = std::vector<PortTimer>;
  std::string values() const { return "PORT:DURATION joined by '+' (53:30s+123:1m), or none"; }
  std::optional<Value> parse(std::string_view text) const {
    text = trim(text);
    Value list;
    if (text.empty() || normalize(text) == "none") return list;
    for (const auto item : split(text, '+')) {
      const auto colon = item.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      const auto port = parse_uint<std::uint16_t>(item.substr(0, colon));
      const auto timeout = parse_duration(item.substr(colon + 1));
      if (!port || !timeout) return std::nullopt;
      list.push_back(PortTimer{*port, *timeout});
    }
    return list;
  }
  std::string format(const Value& list) const {
    if (list.empty()) return "none";
    std::string out;
    for (const auto& timer : list) {
      if (!out.empty()) out += '+';
      out += std::to_string(timer.destination_port) + ":" + format_duration(timer.timeout);
    }
    return out;
  }
};

struct Prefix {
  std::uint32_t network = 0;
  std::uint8_t length = 0;
};

std::uint32_t prefix_mask(std::uint8_t length) {
  return length == 0 ? 0u : length >= 32 ? 0xffffffffu : ~((1u << (32 - length)) - 1u);
}

struct PrefixCodec {
  using Value = Prefix;
  std::string values() const { return "a.b.c.d/len, host bits zero (0.0.0.0/0 = unknown)"; }
  std::optional<Prefix> parse(std::string_view text) const {
    text = trim(text);
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto network = parse_address(text.substr(0, slash));
    const auto length = parse_uint<std::uint8_t>(text.substr(slash + 1));
    if (!network || !length || *length > 32) return std::nullopt;
    if ((*network & ~prefix_mask(*length)) != 0) return std::nullopt;
    return Prefix{*network, *length};
  }
  std::string format(const Prefix& prefix) const {
    return format_address(prefix.network) + "/" + std::to_string(prefix.length);
  }
};

// ---------------------------------------------------------------------------------------------
// Enum names (the text form of every enum value).

constexpr std::array<std::pair<std::string_view, MappingBehavior>, 3> kMappingNames{{
    {"endpoint-independent", MappingBehavior::endpoint_independent},
    {"address-dependent", MappingBehavior::address_dependent},
    {"address-and-port-dependent", MappingBehavior::address_and_port_dependent},
}};
constexpr std::array<std::pair<std::string_view, FilteringBehavior>, 3> kFilteringNames{{
    {"endpoint-independent", FilteringBehavior::endpoint_independent},
    {"address-dependent", FilteringBehavior::address_dependent},
    {"address-and-port-dependent", FilteringBehavior::address_and_port_dependent},
}};
constexpr std::array<std::pair<std::string_view, Pooling>, 2> kPoolingNames{{
    {"paired", Pooling::paired},
    {"arbitrary", Pooling::arbitrary},
}};
constexpr std::array<std::pair<std::string_view, PortAllocation>, 2> kAllocationNames{{
    {"sequential", PortAllocation::sequential},
    {"random", PortAllocation::random},
}};
constexpr std::array<std::pair<std::string_view, HairpinSource>, 2> kHairpinSourceNames{{
    {"external-mapping", HairpinSource::external_mapping},
    {"internal-endpoint", HairpinSource::internal_endpoint},
}};
constexpr std::array<std::pair<std::string_view, UnsolicitedSyn>, 4> kUnsolicitedSynNames{{
    {"hold-then-port-unreachable", UnsolicitedSyn::hold_then_port_unreachable},
    {"silent-drop", UnsolicitedSyn::silent_drop},
    {"immediate-rst", UnsolicitedSyn::immediate_rst},
    {"immediate-port-unreachable", UnsolicitedSyn::immediate_port_unreachable},
}};
constexpr std::array<std::pair<std::string_view, FragmentHandling>, 4> kFragmentNames{{
    {"in-order-only", FragmentHandling::in_order_only},
    {"any-order", FragmentHandling::any_order},
    {"reassemble", FragmentHandling::reassemble},
    {"none", FragmentHandling::none},
}};
constexpr std::array<std::pair<std::string_view, FragmentIds>, 2> kFragmentIdNames{{
    {"unique", FragmentIds::unique},
    {"preserve", FragmentIds::preserve},
}};
constexpr std::array<std::pair<std::string_view, OversizeHandling>, 3> kOversizeNames{{
    {"fragment-in-order", OversizeHandling::fragment_in_order},
    {"fragment-reversed", OversizeHandling::fragment_reversed},
    {"drop", OversizeHandling::drop},
}};
constexpr std::array<std::pair<std::string_view, EmbeddedChecksumUpdate>, 3> kChecksumNames{{
    {"incremental", EmbeddedChecksumUpdate::incremental},
    {"recompute-over-icmp-body", EmbeddedChecksumUpdate::recompute_over_icmp_body},
    {"leave-stale", EmbeddedChecksumUpdate::leave_stale},
}};
constexpr std::array<std::pair<std::string_view, FtpAlgMutant>, 7> kFtpMutantNames{{
    {"none", FtpAlgMutant::none},
    {"wrong-seq-delta", FtpAlgMutant::wrong_sequence_delta},
    {"stale-checksum", FtpAlgMutant::stale_checksum},
    {"first-segment-only", FtpAlgMutant::first_segment_only},
    {"no-expectation", FtpAlgMutant::no_expectation},
    {"rewrite-while-disabled", FtpAlgMutant::rewrite_while_disabled},
    {"mangle-passive-replies", FtpAlgMutant::mangle_passive_replies},
}};

constexpr std::array<std::pair<std::string_view, SipAlgMutant>, 4> kSipMutantNames{{
    {"none", SipAlgMutant::none},
    {"wrong-sdp-address", SipAlgMutant::wrong_sdp_address},
    {"stale-content-length", SipAlgMutant::stale_content_length},
    {"no-media-expectation", SipAlgMutant::no_media_expectation},
}};

template <class E, std::size_t N>
EnumCodec<E> enum_codec(const std::array<std::pair<std::string_view, E>, N>& names) {
  return EnumCodec<E>{EnumNames<E>(names)};
}

// ---------------------------------------------------------------------------------------------
// The table

struct Row {
  Knob knob;
  std::function<bool(NatConfig&, std::string_view)> set;
  std::function<std::string(const NatConfig&)> get;
};

struct Table {
  std::deque<std::string> text;  // owns the generated "values" strings the Knob views point at
  std::vector<Row> rows;
  std::vector<Knob> knobs;

  template <class Codec, class Set, class Get>
  void add_custom(std::string_view key, Codec codec, std::string_view requirement,
                  std::string_view description, Set set, Get get) {
    const std::string& values = text.emplace_back(codec.values());
    rows.push_back(Row{
        Knob{key, values, requirement, description},
        [codec, set](NatConfig& config, std::string_view value) {
          auto parsed = codec.parse(value);
          if (!parsed) return false;
          set(config, std::move(*parsed));
          return true;
        },
        [codec, get](const NatConfig& config) { return codec.format(get(config)); },
    });
  }

  // `field` is a generic lambda returning a reference to the field: it serves the setter (with a
  // NatConfig&) and the getter (with a const NatConfig&).
  template <class Codec, class Field>
  void add(std::string_view key, Codec codec, Field field, std::string_view requirement,
           std::string_view description) {
    add_custom(
        key, codec, requirement, description,
        [field](NatConfig& config, typename Codec::Value value) { field(config) = std::move(value); },
        [field](const NatConfig& config) -> const typename Codec::Value& { return field(config); });
  }
};

#define NATCERT_FIELD(path) [](auto& config) -> auto& { return config.path; }

Table build_table() {
  Table t;
  const BoolCodec boolean;
  const DurationCodec duration;
  const auto mapping = enum_codec(kMappingNames);
  const auto filtering = enum_codec(kFilteringNames);

  // --- addresses
  t.add("external-addresses", AddressListCodec{}, NATCERT_FIELD(external_addresses), "RFC4787-REQ-2",
        "External address pool; two or more addresses make pooling observable. Must not be empty.");
  t.add("inside-address", AddressCodec{}, NATCERT_FIELD(inside_address), "RFC5508-REQ-10a",
        "The NAT's own inside address: source of the ICMP messages it generates towards the inside.");
  t.add_custom(
      "inside-prefix", PrefixCodec{}, "RFC4787-REQ-7",
      "Inside network (inside_prefix + inside_prefix_length); outside hosts in it overlap the LAN.",
      [](NatConfig& config, Prefix prefix) {
        config.inside_prefix = prefix.network;
        config.inside_prefix_length = prefix.length;
      },
      [](const NatConfig& config) { return Prefix{config.inside_prefix, config.inside_prefix_length}; });
  t.add("drop-outbound-to-inside-prefix", boolean, NATCERT_FIELD(drop_outbound_to_inside_prefix),
        "RFC4787-REQ-7",
        "true violates: outbound packets to outside hosts whose address overlaps the inside prefix are dropped.");

  // --- mapping and filtering per protocol
  t.add("udp.mapping", mapping, NATCERT_FIELD(udp.mapping), "RFC4787-REQ-1",
        "UDP mapping behaviour; anything but endpoint-independent violates the MUST.");
  t.add("udp.filtering", filtering, NATCERT_FIELD(udp.filtering), "RFC4787-REQ-8",
        "UDP filtering behaviour; address-and-port-dependent violates the RECOMMENDED.");
  t.add("tcp.mapping", mapping, NATCERT_FIELD(tcp.mapping), "RFC5382-REQ-1",
        "TCP mapping behaviour; anything but endpoint-independent violates the MUST.");
  t.add("tcp.filtering", filtering, NATCERT_FIELD(tcp.filtering), "RFC5382-REQ-3, RFC5382-REQ-3b",
        "TCP filtering behaviour (inbound SYNs); address-and-port-dependent violates the RECOMMENDED.");
  t.add("icmp.mapping", mapping, NATCERT_FIELD(icmp.mapping), "RFC5508-REQ-1a",
        "ICMP query identifier mapping; anything but endpoint-independent violates the SHOULD.");
  t.add("icmp.filtering", filtering, NATCERT_FIELD(icmp.filtering), "RFC5508-REQ-1",
        "Which outside hosts may send replies/queries to an ICMP query mapping.");
  t.add("protocol-independent-mapping", boolean, NATCERT_FIELD(protocol_independent_mapping),
        "RFC7857-S5", "true: UDP and TCP from one internal IP:port share one mapping (not the default).");
  t.add("protocol-independent-filtering", boolean, NATCERT_FIELD(protocol_independent_filtering),
        "RFC7857-S6", "true: a UDP mapping also admits inbound TCP to the same port, and vice versa.");
  t.add("pooling", enum_codec(kPoolingNames), NATCERT_FIELD(pooling), "RFC4787-REQ-2, RFC7857-S4",
        "Which pool address a new mapping gets; arbitrary violates the RECOMMENDED paired pooling.");
  t.add("paired-pool-spill", boolean, NATCERT_FIELD(paired_pool_spill), "RFC7857-S4",
        "true (soft-APP) violates the SHOULD: a host whose paired address ran out of ports gets another one.");
  t.add("filtered-inbound-refreshes", boolean, NATCERT_FIELD(filtered_inbound_refreshes), "RFC7857-S7",
        "true violates: inbound packets the filter rejects still refresh the mapping's sessions (UDP and TCP).");

  // --- port assignment
  t.add("ports.min-port", UintCodec<std::uint16_t>{"0 = the range starts at port 1"},
        NATCERT_FIELD(ports.min_port), "RFC4787-REQ-3a",
        "Lowest external port; 0 lets 1-1023 serve sources 0-1023, 1024 leaves them only high ports "
        "(violates REQ-3a).");
  t.add("ports.max-port", UintCodec<std::uint16_t>{}, NATCERT_FIELD(ports.max_port), "RFC4787-REQ-3a",
        "Highest port of the dynamic range.");
  t.add("ports.preserve-port", boolean, NATCERT_FIELD(ports.preserve_port), "RFC4787 §4.2.1",
        "Keep the internal port as the external port when it is free (port preservation).");
  t.add("ports.preserve-parity", boolean, NATCERT_FIELD(ports.preserve_parity), "RFC4787-REQ-4",
        "Keep port parity (even to even, odd to odd); false violates the RECOMMENDED.");
  t.add("ports.contiguity", boolean, NATCERT_FIELD(ports.contiguity), "RFC4787 §4.2.4",
        "Try to give consecutive internal ports consecutive external ports (not required).");
  t.add("ports.preserve-range-class", boolean, NATCERT_FIELD(ports.preserve_range_class),
        "RFC4787-REQ-3a",
        "Map 0-1023 into 0-1023 and 1024-65535 into 1024-65535; false violates the RECOMMENDED.");
  t.add("ports.allocation", enum_codec(kAllocationNames), NATCERT_FIELD(ports.allocation), "RFC7857-S9",
        "How a port is chosen when it cannot be preserved; sequential is predictable (violates the SHOULD).");
  t.add("ports.overloading", boolean, NATCERT_FIELD(ports.overloading), "RFC4787-REQ-3, RFC5382-REQ-7",
        "true violates: two internal endpoints may get the same external IP:port on a collision.");
  t.add("ports.change-mapping-on-collision", boolean, NATCERT_FIELD(ports.change_mapping_on_collision),
        "RFC4787-REQ-11",
        "true violates: when the preserved port is taken the mapping turns address-and-port-dependent.");

  // --- UDP timers
  t.add("udp-timers.mapping", duration, NATCERT_FIELD(udp_timers.mapping),
        "RFC4787-REQ-5, RFC4787-REQ-5c",
        "UDP mapping idle timeout; under 2m violates the MUST NOT, under 5m the RECOMMENDED default.");
  t.add("udp-timers.per-destination-port", PortTimersCodec{}, NATCERT_FIELD(udp_timers.per_destination_port),
        "RFC4787-REQ-5a",
        "Idle timeouts by destination port; allowed below 2m only for well-known ports (0-1023).");
  t.add("udp-timers.refresh-outbound", boolean, NATCERT_FIELD(udp_timers.refresh_outbound), "RFC4787-REQ-6",
        "Outbound packets refresh the mapping; false violates the MUST.");
  t.add("udp-timers.refresh-inbound", boolean, NATCERT_FIELD(udp_timers.refresh_inbound), "RFC4787-REQ-6a",
        "Inbound packets refresh the mapping (MAY: both settings comply).");

  // --- TCP
  t.add("tcp.established", duration, NATCERT_FIELD(tcp_behavior.established), "RFC5382-REQ-5",
        "Established-connection idle timeout; under 2h4m violates the MUST NOT.");
  t.add("tcp.transitory", duration, NATCERT_FIELD(tcp_behavior.transitory), "RFC5382-REQ-5, RFC7857-S2.1",
        "Opening/closing (transitory) idle timeout; under 4m violates the MUST NOT.");
  t.add("tcp.rst-linger", duration, NATCERT_FIELD(tcp_behavior.rst_linger), "RFC7857-S2.2",
        "How long a session survives after a RST; under 4m violates the SHOULD.");
  t.add("tcp.unsolicited-syn-hold", duration, NATCERT_FIELD(tcp_behavior.unsolicited_syn_hold),
        "RFC5382-REQ-4",
        "How long an unsolicited inbound SYN is held before the ICMP 3/3; under 6s violates the MUST NOT.");
  t.add("tcp.unsolicited-syn", enum_codec(kUnsolicitedSynNames), NATCERT_FIELD(tcp_behavior.unsolicited_syn),
        "RFC5382-REQ-4, RFC5382-REQ-4a",
        "Answer to an unsolicited inbound SYN; immediate-* violate REQ-4, silent-drop is the REQ-4a policy.");
  t.add("tcp.simultaneous-open", boolean, NATCERT_FIELD(tcp_behavior.simultaneous_open), "RFC5382-REQ-2a",
        "Accept an inbound SYN on a session opened by an outbound SYN; false violates the MUST.");
  t.add("tcp.pass-inbound-initiated", boolean, NATCERT_FIELD(tcp_behavior.pass_inbound_initiated),
        "RFC5382-REQ-2",
        "An inbound SYN the filtering admits opens a connection; false violates the MUST.");
  t.add("tcp.release-held-syn", boolean, NATCERT_FIELD(tcp_behavior.release_held_syn), "RFC5382-REQ-4",
        "true violates: a held unsolicited SYN is delivered once the matching outbound SYN passes.");
  t.add("tcp.silent-drop-rsts-mapped-ports", boolean, NATCERT_FIELD(tcp_behavior.silent_drop_rsts_mapped_ports),
        "RFC5382-REQ-4a",
        "true violates: with tcp.unsolicited-syn=silent-drop, filtered SYNs to mapped ports get a RST at once.");
  t.add("tcp.drop-after-fin", boolean, NATCERT_FIELD(tcp_behavior.drop_after_fin), "RFC5382-REQ-2",
        "true violates: data after the first FIN is dropped (no half-close).");
  t.add("tcp.track-fin", boolean, NATCERT_FIELD(tcp_behavior.track_fin), "RFC7857-S2",
        "FINs move the session to the closing states of RFC 7857 Fig. 1; false keeps it ESTABLISHED (violates).");
  t.add("tcp.translate-rst", boolean, NATCERT_FIELD(tcp_behavior.translate_rst), "RFC7857-S2.2",
        "Translate a RST that matches a session; false drops it (violates the MUST).");

  // --- ICMP
  t.add("icmp.query-timeout", duration, NATCERT_FIELD(icmp_behavior.query_timeout), "RFC5508-REQ-2",
        "ICMP query session idle timeout; under 60s violates the MUST NOT.");
  t.add("icmp.pass-queries", boolean, NATCERT_FIELD(icmp_behavior.pass_queries), "RFC5508-REQ-1",
        "Translate inside-initiated ICMP queries and their replies; false violates the MUST.");
  t.add("icmp.translate-inbound-errors", boolean, NATCERT_FIELD(icmp_behavior.translate_inbound_errors),
        "RFC4787-REQ-12b, RFC5382-REQ-9, RFC5508-REQ-4",
        "Translate and forward ICMP errors from outside that quote a mapped flow.");
  t.add("icmp.translate-outbound-errors", boolean, NATCERT_FIELD(icmp_behavior.translate_outbound_errors),
        "RFC5508-REQ-5", "Translate and forward ICMP errors from inside that quote a mapped flow.");
  t.add("icmp.errors-destroy-mappings", boolean, NATCERT_FIELD(icmp_behavior.errors_destroy_mappings),
        "RFC4787-REQ-12, RFC5382-REQ-10, RFC5508-REQ-6",
        "true violates: an ICMP error about a flow deletes its mapping.");
  t.add("icmp.filter-errors-by-source", boolean, NATCERT_FIELD(icmp_behavior.filter_errors_by_source),
        "RFC4787-REQ-12a",
        "true violates: ICMP errors pass only from the flow's remote address (routers' errors dropped).");
  t.add("icmp.drop-bad-icmp-checksum", boolean, NATCERT_FIELD(icmp_behavior.drop_bad_icmp_checksum),
        "RFC5508-REQ-3", "Drop ICMP errors whose ICMP checksum is wrong; false violates the SHOULD.");
  t.add("icmp.drop-bad-embedded-ip-checksum", boolean,
        NATCERT_FIELD(icmp_behavior.drop_bad_embedded_ip_checksum), "RFC5508-REQ-3a",
        "Drop ICMP errors whose quoted IP header checksum is wrong; false violates the SHOULD.");
  t.add("icmp.skip-embedded-ip-options", boolean, NATCERT_FIELD(icmp_behavior.skip_embedded_ip_options),
        "RFC5508-REQ-3b",
        "Use the quoted IHL to find the quoted transport header; false assumes 20 bytes (violates).");
  t.add("icmp.verify-embedded-transport-checksum", boolean,
        NATCERT_FIELD(icmp_behavior.verify_embedded_transport_checksum), "RFC5508-REQ-3c",
        "true violates: errors whose quoted transport checksum is wrong are dropped.");
  t.add("icmp.embedded-checksum", enum_codec(kChecksumNames), NATCERT_FIELD(icmp_behavior.embedded_checksum),
        "RFC5508-REQ-3d, RFC5508-REQ-4a, RFC5508-REQ-5a",
        "How the quoted transport checksum is updated; only incremental is compliant.");
  t.add("icmp.restore-embedded-headers", boolean, NATCERT_FIELD(icmp_behavior.restore_embedded_headers),
        "RFC5508-REQ-4a, RFC5508-REQ-5a",
        "Rewrite the quoted IP/transport headers through the mapping; false violates the MUST.");
  t.add("icmp.keep-error-type-code", boolean, NATCERT_FIELD(icmp_behavior.keep_error_type_code),
        "RFC5508-REQ-4b, RFC5508-REQ-5b", "Keep the ICMP error type and code; false violates the MUST.");
  t.add("icmp.rewrite-outer-destination", boolean, NATCERT_FIELD(icmp_behavior.rewrite_outer_destination),
        "RFC5508-REQ-4c, RFC5508-REQ-7a",
        "Outer destination of a translated error = the quoted packet's translated source; false violates.");
  t.add("icmp.rewrite-outer-source", boolean, NATCERT_FIELD(icmp_behavior.rewrite_outer_source),
        "RFC5508-REQ-5c",
        "Outer source of an outbound error = the NAT's external address; false leaks the inside address.");
  t.add("icmp.errors-refresh-query-session", boolean,
        NATCERT_FIELD(icmp_behavior.errors_refresh_query_session), "RFC5508-REQ-6",
        "true violates: an ICMP error about a query session refreshes it.");
  t.add("icmp.hairpin-errors", boolean, NATCERT_FIELD(icmp_behavior.hairpin_errors), "RFC5508-REQ-7",
        "Hairpin ICMP errors between inside hosts; false violates the MUST.");
  t.add("icmp.unreachable-on-session-failure", boolean,
        NATCERT_FIELD(icmp_behavior.unreachable_on_session_failure), "RFC5508-REQ-8",
        "Send ICMP 3/13 when a session cannot be created; false (silent drop) violates the SHOULD.");
  t.add("icmp.generate-time-exceeded", boolean, NATCERT_FIELD(icmp_behavior.generate_time_exceeded),
        "RFC5508-REQ-10a", "Send Time Exceeded when the TTL expires; false violates the MUST.");
  t.add("icmp.generate-fragmentation-needed", boolean,
        NATCERT_FIELD(icmp_behavior.generate_fragmentation_needed), "RFC4787-REQ-13, RFC5508-REQ-10a",
        "Send ICMP 3/4 with the next-hop MTU for a DF=1 packet over the outside MTU; false violates.");
  t.add("icmp.forward-source-quench", boolean, NATCERT_FIELD(icmp_behavior.forward_source_quench),
        "RFC5508-REQ-10c", "true violates: Source Quench is translated and forwarded.");
  t.add("icmp.answer-information-request", boolean, NATCERT_FIELD(icmp_behavior.answer_information_request),
        "RFC5508-REQ-10c", "true violates: Information Request/Reply is supported.");
  t.add("icmp.copy-dscp", boolean, NATCERT_FIELD(icmp_behavior.copy_dscp), "RFC5508-REQ-10d",
        "Generated ICMP copies the DS field of the packet that triggered it; false violates.");
  t.add("icmp.errors-about-errors", boolean, NATCERT_FIELD(icmp_behavior.errors_about_errors),
        "RFC5508-REQ-10e", "true violates RFC 1812 §4.3.2.7: errors are generated about ICMP errors too.");
  t.add("icmp.generated-per-second", UintCodec<std::uint32_t>{"0 = unlimited"},
        NATCERT_FIELD(icmp_behavior.generated_per_second), "RFC5508-REQ-10f",
        "Rate limit of NAT-generated ICMP; 0 (unlimited) violates the RECOMMENDED.");
  t.add("icmp.forward-unmapped-errors", boolean, NATCERT_FIELD(icmp_behavior.forward_unmapped_errors),
        "RFC5508-REQ-5", "true violates: an outbound ICMP error quoting no mapping is forwarded, leaking its quote.");
  t.add("icmp.outbound-errors-refresh", boolean, NATCERT_FIELD(icmp_behavior.outbound_errors_refresh),
        "RFC7857-S7.1", "true violates: outbound ICMP errors refresh the mapping they quote.");
  t.add("icmp.identifier-overloading", boolean, NATCERT_FIELD(icmp_behavior.identifier_overloading),
        "RFC5508-REQ-1",
        "true violates: inside hosts using the same query identifier may share one external identifier.");
  t.add("icmp.match-errors-by-address-only", boolean, NATCERT_FIELD(icmp_behavior.match_errors_by_address_only),
        "RFC5508-REQ-4",
        "true violates: an inbound error quoting an unmapped port goes to a host mapped on the quoted address.");

  // --- hairpinning
  t.add("hairpin.enabled", boolean, NATCERT_FIELD(hairpin.enabled),
        "RFC4787-REQ-9, RFC5382-REQ-8, RFC5508-REQ-7", "Hairpin traffic between inside hosts; false violates.");
  t.add("hairpin.source", enum_codec(kHairpinSourceNames), NATCERT_FIELD(hairpin.source),
        "RFC4787-REQ-9a, RFC5382-REQ-8a",
        "Source of a hairpinned packet; internal-endpoint violates the MUST.");

  // --- fragments
  t.add("fragments.inbound", enum_codec(kFragmentNames), NATCERT_FIELD(fragments.inbound), "RFC4787-REQ-14",
        "Fragments arriving from outside; in-order-only and none violate the MUST.");
  t.add("fragments.outbound", enum_codec(kFragmentNames), NATCERT_FIELD(fragments.outbound), "RFC4787-REQ-14",
        "Fragments arriving from inside (same choices as inbound).");
  t.add("fragments.outbound-ids", enum_codec(kFragmentIdNames), NATCERT_FIELD(fragments.outbound_ids),
        "RFC3027-2.4",
        "IP ID of outbound fragments forwarded one by one; preserve lets two inside hosts' datagrams collide.");
  t.add("fragments.outside-mtu", UintCodec<std::uint16_t>{"at least 68"}, NATCERT_FIELD(fragments.outside_mtu),
        "RFC4787-REQ-13, RFC4787-REQ-13a", "MTU of the outside link; below the inside MTU it triggers REQ-13/13a.");
  t.add("fragments.oversize", enum_codec(kOversizeNames), NATCERT_FIELD(fragments.oversize), "RFC4787-REQ-13a",
        "DF=0 datagram over the outside MTU: drop violates the MUST, fragment-reversed the SHOULD.");
  t.add("fragments.max-pending-datagrams", UintCodec<std::uint32_t>{"at least 1"},
        NATCERT_FIELD(fragments.max_pending_datagrams), "RFC4787-REQ-14a",
        "Bound on datagrams with buffered fragments (fragment-DoS resistance).");
  t.add("fragments.evict-oldest-when-full", boolean, NATCERT_FIELD(fragments.evict_oldest_when_full),
        "RFC4787-REQ-14a",
        "Evict the oldest incomplete datagram when the fragment table is full; false violates (a flood of "
        "incomplete sets starves in-order fragmented traffic).");
  t.add("fragments.max-fragments-per-datagram", UintCodec<std::uint32_t>{"at least 1"},
        NATCERT_FIELD(fragments.max_fragments_per_datagram), "RFC4787-REQ-14a",
        "Bound on buffered fragments per datagram.");
  t.add("fragments.reassembly-timeout", duration, NATCERT_FIELD(fragments.reassembly_timeout),
        "RFC4787-REQ-14a", "How long buffered fragments wait for the rest of their datagram.");

  // --- ALG, misc
  t.add("alg.generic-payload-rewrite", boolean, NATCERT_FIELD(alg.generic_payload_rewrite),
        "RFC4787-REQ-10, RFC5382-REQ-6",
        "true violates: inside addresses found in UDP/TCP payloads are rewritten.");
  t.add("alg.ftp", boolean, NATCERT_FIELD(alg.ftp), "RFC3027-4.1, RFC5382-REQ-6",
        "FTP ALG on TCP port 21: rewrites PORT/EPRT (inside clients) and 227/229 replies (inside servers), "
        "tracks sequence deltas and opens the data connection; false: FTP payloads pass untouched.");
  t.add("alg.ftp-mutant", enum_codec(kFtpMutantNames), NATCERT_FIELD(alg.ftp_mutant), "RFC3027-4.1, RFC5382-REQ-6",
        "Violating FTP ALG variants; anything but none is wrong (rewrite-while-disabled runs the ALG with "
        "alg.ftp=false).");
  t.add("alg.sip", boolean, NATCERT_FIELD(alg.sip), "RFC3027-4.5, RFC4787-REQ-10",
        "SIP/SDP ALG on UDP port 5060 (true violates the SHOULD of RFC 4787 REQ-10).");
  t.add("alg.sip-mutant", enum_codec(kSipMutantNames), NATCERT_FIELD(alg.sip_mutant), "RFC3027-4.5",
        "Violating SIP ALG variants (with alg.sip=true); anything but none rewrites wrongly.");
  t.add("alg.tftp", boolean, NATCERT_FIELD(alg.tftp), "RFC3027, RFC4787-REQ-10",
        "TFTP ALG on UDP port 69: the server's reply from a new port is let in.");
  t.add("alg.expectation-timeout", duration, NATCERT_FIELD(alg.expectation_timeout), "RFC3027-4.1",
        "How long a connection an ALG announced (FTP data, SIP media, TFTP reply) may take to open.");
  t.add("decrement-ttl", boolean, NATCERT_FIELD(decrement_ttl), "RFC5508-REQ-10a",
        "Decrement the IP TTL like a router; false also means no Time Exceeded is ever sent.");
  t.add("max-sessions", UintCodec<std::uint32_t>{"at least 1"}, NATCERT_FIELD(max_sessions), "RFC5508-REQ-8",
        "Session table size; a small value makes session-creation failure observable.");
  t.add("max-mappings-per-host", UintCodec<std::uint32_t>{"0 = unlimited"}, NATCERT_FIELD(max_mappings_per_host),
        "RFC6888-REQ-4", "Per-internal-host mapping limit; a small value makes exhaustion observable.");
  t.add("seed", UintCodec<std::uint64_t>{}, NATCERT_FIELD(seed), "RFC7857-S9",
        "Seed of the random port allocator (runs are reproducible for a given seed).");

  for (const auto& row : t.rows) t.knobs.push_back(row.knob);
  return t;
}

#undef NATCERT_FIELD

const Table& table() {
  static const Table instance = build_table();
  return instance;
}

const Row* find_row(std::string_view key) {
  const auto wanted = normalize(key);
  for (const auto& row : table().rows) {
    if (row.knob.key == wanted) return &row;
  }
  return nullptr;
}

// Quotes user text for a one-line message: control characters are shown as \xHH.
std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      quoted += "\\x";
      quoted += kHex[byte >> 4];
      quoted += kHex[byte & 0xf];
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

// Keys longer than this (about twice the longest knob, and one machine word for EditDistanceFrom) get
// no "did you mean": no knob is anywhere near.
constexpr std::size_t kLongestKeyToSuggestFor = EditDistanceFrom::kMaxLength;

std::string unknown_key(std::string_view key) {
  const auto wanted = normalize(key);
  const std::string listed =
      "(docs/reference-model.md lists " + std::to_string(table().rows.size()) + " knobs)";
  if (wanted.size() > kLongestKeyToSuggestFor) return "unknown knob " + quote(key) + "; " + listed;
  const EditDistanceFrom from_wanted(wanted);
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& row : table().rows) {
    // A key that ends with the given text ("mapping" -> "udp.mapping") counts as very close.
    const bool suffix = !wanted.empty() && row.knob.key.size() > wanted.size() &&
                        row.knob.key.ends_with(wanted) &&
                        row.knob.key[row.knob.key.size() - wanted.size() - 1] == '.';
    const std::size_t distance = suffix ? std::size_t{1} : from_wanted.to(row.knob.key);
    if (distance < best_distance) {
      best_distance = distance;
      best = row.knob.key;
    }
  }
  return "unknown knob " + quote(key) + "; did you mean " + quote(best) + "? " + listed;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

const std::vector<Knob>& knobs() { return table().knobs; }

std::string apply_override(NatConfig& config, std::string_view key, std::string_view value) {
  const Row* row = find_row(key);
  if (row == nullptr) return unknown_key(key);
  if (!row->set(config, value)) {
    return "bad value " + quote(trim(value)) + " for " + std::string(row->knob.key) + ": expected " +
           std::string(row->knob.values);
  }
  return {};
}

std::string knob_value(const NatConfig& config, std::string_view key) {
  const Row* row = find_row(key);
  return row == nullptr ? std::string() : row->get(config);
}

std::vector<std::string> validate(const NatConfig& config) {
  std::vector<std::string> problems;
  const auto problem = [&](std::string_view key, const std::string& what) {
    problems.push_back(std::string(key) + ": " + what);
  };

  // Addresses.
  if (config.external_addresses.empty()) {
    problem("external-addresses", "the external address pool is empty (give at least one address)");
  }
  for (std::size_t i = 0; i < config.external_addresses.size(); ++i) {
    const auto address = config.external_addresses[i];
    if (address == 0) problem("external-addresses", "0.0.0.0 is not a usable external address");
    const auto first = std::find(config.external_addresses.begin(), config.external_addresses.end(), address);
    if (static_cast<std::size_t>(first - config.external_addresses.begin()) != i) {
      problem("external-addresses", format_address(address) + " appears more than once in the pool");
    }
  }
  if (config.inside_address == 0) problem("inside-address", "not set (0.0.0.0)");
  if (config.inside_prefix_length > 32) {
    problem("inside-prefix", "prefix length " + std::to_string(config.inside_prefix_length) + " exceeds 32");
  } else if (config.inside_prefix_length > 0) {
    const auto mask = prefix_mask(config.inside_prefix_length);
    if ((config.inside_prefix & ~mask) != 0) {
      problem("inside-prefix", format_address(config.inside_prefix) + "/" +
                                   std::to_string(config.inside_prefix_length) + " has host bits set");
    }
    if ((config.inside_address & mask) != (config.inside_prefix & mask)) {
      problem("inside-address", format_address(config.inside_address) + " is outside the inside prefix " +
                                    format_address(config.inside_prefix) + "/" +
                                    std::to_string(config.inside_prefix_length));
    }
  }
  if (config.drop_outbound_to_inside_prefix && config.inside_prefix_length == 0) {
    problem("drop-outbound-to-inside-prefix", "needs inside-prefix to be set (it is 0.0.0.0/0)");
  }

  // Ports.
  const auto& ports = config.ports;
  if (ports.min_port > ports.max_port) {
    problem("ports.min-port", "min-port " + std::to_string(ports.min_port) + " is above ports.max-port " +
                                  std::to_string(ports.max_port));
  } else if (ports.max_port == 0) {
    problem("ports.max-port", "0 leaves no port to allocate");
  } else {
    // The range unprivileged internal ports are mapped into. (A range without low ports only
    // degrades privileged sources, which then get high ports: a REQ-3a violation, not an error.)
    const unsigned low = ports.preserve_range_class ? std::max<unsigned>(ports.min_port, 1024)
                                                    : std::max<unsigned>(ports.min_port, 1);
    const unsigned high = ports.max_port;
    if (low > high) {
      problem("ports.max-port", "range " + std::to_string(ports.min_port) + "-" + std::to_string(high) +
                                    " holds no port of the class 1024-65535 that ports.preserve-range-class needs");
    } else if (ports.preserve_parity && high - low + 1 < 2) {
      problem("ports.max-port", "range " + std::to_string(low) + "-" + std::to_string(high) +
                                    " cannot hold both an even and an odd port (ports.preserve-parity)");
    }
  }

  // Timers.
  if (config.udp_timers.mapping <= Duration::zero()) problem("udp-timers.mapping", "must be above 0s");
  for (std::size_t i = 0; i < config.udp_timers.per_destination_port.size(); ++i) {
    const auto& timer = config.udp_timers.per_destination_port[i];
    const auto port = std::to_string(timer.destination_port);
    if (timer.destination_port == 0) problem("udp-timers.per-destination-port", "port 0 is not a destination port");
    if (timer.timeout <= Duration::zero()) {
      problem("udp-timers.per-destination-port", "timeout for port " + port + " must be above 0s");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (config.udp_timers.per_destination_port[j].destination_port == timer.destination_port) {
        problem("udp-timers.per-destination-port", "port " + port + " is listed more than once");
        break;
      }
    }
  }
  const auto& tcp = config.tcp_behavior;
  if (tcp.established <= Duration::zero()) problem("tcp.established", "must be above 0s");
  if (tcp.transitory <= Duration::zero()) problem("tcp.transitory", "must be above 0s");
  if (tcp.rst_linger < Duration::zero()) problem("tcp.rst-linger", "must not be negative");
  if (tcp.unsolicited_syn == UnsolicitedSyn::hold_then_port_unreachable &&
      tcp.unsolicited_syn_hold <= Duration::zero()) {
    problem("tcp.unsolicited-syn-hold", "must be above 0s when tcp.unsolicited-syn=hold-then-port-unreachable");
  } else if (tcp.unsolicited_syn_hold < Duration::zero()) {
    problem("tcp.unsolicited-syn-hold", "must not be negative");
  }
  if (config.icmp_behavior.query_timeout <= Duration::zero()) problem("icmp.query-timeout", "must be above 0s");

  // Fragments and limits.
  const auto& fragments = config.fragments;
  if (fragments.outside_mtu < 68) {
    problem("fragments.outside-mtu", std::to_string(fragments.outside_mtu) + " is below the IPv4 minimum of 68");
  }
  if (fragments.max_pending_datagrams == 0) problem("fragments.max-pending-datagrams", "must be at least 1");
  if (fragments.max_fragments_per_datagram == 0) {
    problem("fragments.max-fragments-per-datagram", "must be at least 1");
  }
  if (fragments.reassembly_timeout <= Duration::zero()) problem("fragments.reassembly-timeout", "must be above 0s");
  if (config.alg.expectation_timeout <= Duration::zero()) problem("alg.expectation-timeout", "must be above 0s");
  if (config.max_sessions == 0) problem("max-sessions", "must be at least 1");
  return problems;
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list{
      {"rfc-strict",
       "The compliant base: EIM for UDP/TCP/ICMP, address-dependent filtering, paired pooling, port and "
       "parity preservation, RFC timers, hairpinning, full ICMP and fragment handling. Meets every MUST, "
       "SHOULD and RECOMMENDED of RFC 4787, 5382 and 5508.",
       {}},
      {"full-cone",
       "EIM + endpoint-independent filtering for UDP, TCP and ICMP. Meets every requirement (REQ-8 and "
       "RFC 5382 REQ-3 name EIF as the choice when transparency matters most).",
       {{"udp.filtering", "endpoint-independent"},
        {"tcp.filtering", "endpoint-independent"},
        {"icmp.filtering", "endpoint-independent"}}},
      {"restricted-cone",
       "EIM + address-dependent filtering (the same behaviour as rfc-strict, spelled out). Meets every "
       "requirement.",
       {{"udp.filtering", "address-dependent"}, {"tcp.filtering", "address-dependent"}}},
      {"port-restricted-cone",
       "EIM + address-and-port-dependent filtering for UDP and TCP. Violates the RECOMMENDED of "
       "RFC4787-REQ-8 and RFC5382-REQ-3; meets everything else.",
       {{"udp.filtering", "address-and-port-dependent"}, {"tcp.filtering", "address-and-port-dependent"}}},
      {"symmetric",
       "Address-and-port-dependent mapping and filtering for UDP and TCP, address-dependent ICMP "
       "identifier mapping. Violates the MUSTs RFC4787-REQ-1 and RFC5382-REQ-1, the SHOULD "
       "RFC5508-REQ-1a and the RECOMMENDED RFC4787-REQ-8 and RFC5382-REQ-3.",
       {{"udp.mapping", "address-and-port-dependent"},
        {"udp.filtering", "address-and-port-dependent"},
        {"tcp.mapping", "address-and-port-dependent"},
        {"tcp.filtering", "address-and-port-dependent"},
        {"icmp.mapping", "address-dependent"}}},
      {"rfc-strict-pool",
       "rfc-strict with a two-address pool (203.0.113.1+203.0.113.2) and paired pooling, so "
       "RFC4787-REQ-2 (and RFC 7857 §4 APP) is observable. Meets every requirement.",
       {{"external-addresses", "203.0.113.1+203.0.113.2"}, {"pooling", "paired"}}},
      {"linux-like",
       "A rough imitation of Linux conntrack MASQUERADE on a router without NAT-reflection rules: "
       "port-preserving mapping that is endpoint-independent until a tuple collides, then picks another "
       "port (violates the MUST RFC4787-REQ-11); address-and-port-dependent filtering (violates the "
       "RECOMMENDED RFC4787-REQ-8, RFC5382-REQ-3); no parity preservation (violates RFC4787-REQ-4); "
       "sequential port search (violates the SHOULD RFC7857-S9); UDP stream timeout 2m (meets REQ-5, violates the "
       "RECOMMENDED REQ-5c); TCP SYN_SENT/FIN timeouts of 2m (violates the MUST NOT RFC5382-REQ-5); "
       "ICMP timeout 30s (violates the MUST NOT RFC5508-REQ-2); unsolicited SYNs dropped by an INPUT DROP "
       "policy (RFC5382-REQ-4a); no hairpinning (violates the MUSTs RFC4787-REQ-9, RFC5382-REQ-8, "
       "RFC5508-REQ-7).",
       {{"udp.filtering", "address-and-port-dependent"},
        {"tcp.filtering", "address-and-port-dependent"},
        {"ports.preserve-port", "true"},
        {"ports.preserve-parity", "false"},
        {"ports.allocation", "sequential"},
        {"ports.change-mapping-on-collision", "true"},
        {"udp-timers.mapping", "2m"},
        {"tcp.established", "120h"},
        {"tcp.transitory", "2m"},
        {"tcp.unsolicited-syn", "silent-drop"},
        {"icmp.query-timeout", "30s"},
        {"hairpin.enabled", "false"}}},
  };
  return list;
}

NatConfig defaults() {
  NatConfig config;
  config.name = "rfc-strict";
  config.external_addresses = {0xCB007101u};  // 203.0.113.1
  config.inside_address = 0x0A000001u;        // 10.0.0.1
  config.inside_prefix = 0x0A000000u;         // 10.0.0.0/24
  config.inside_prefix_length = 24;
  config.udp = ProtocolBehavior{MappingBehavior::endpoint_independent, FilteringBehavior::address_dependent};
  config.tcp = ProtocolBehavior{MappingBehavior::endpoint_independent, FilteringBehavior::address_dependent};
  config.icmp = ProtocolBehavior{MappingBehavior::endpoint_independent, FilteringBehavior::address_dependent};
  // config.hpp's min_port = 1024 leaves no port in 1-1023, so sources 0-1023 would get high ports,
  // against the RECOMMENDED of RFC 4787 REQ-3a. 0 opens 1-1023 to them (range class kept).
  config.ports.min_port = 0;
  // Every other field keeps the compliant default written in config.hpp.
  return config;
}

bool make_config(std::string_view spec, NatConfig& config, std::string& error) {
  const auto parts = split(spec, ',');
  const auto preset_name = normalize(parts.front());
  const auto& list = presets();
  const auto preset = std::find_if(list.begin(), list.end(), [&](const Preset& p) { return p.name == preset_name; });
  if (preset == list.end()) {
    std::string names;
    for (const auto& p : list) names += (names.empty() ? "" : ", ") + std::string(p.name);
    error = "unknown preset " + quote(trim(parts.front())) + "; presets: " + names;
    return false;
  }
  NatConfig candidate = defaults();
  for (const auto& [key, value] : preset->overrides) {
    if (auto message = apply_override(candidate, key, value); !message.empty()) {
      error = "preset " + std::string(preset->name) + " is broken: " + message;
      return false;
    }
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto item = trim(parts[i]);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) {
      error = "override " + quote(item) + " is not key=value";
      return false;
    }
    if (auto message = apply_override(candidate, trim(item.substr(0, equals)), item.substr(equals + 1));
        !message.empty()) {
      error = std::move(message);
      return false;
    }
  }
  candidate.name = std::string(spec);
  if (const auto problems = validate(candidate); !problems.empty()) {
    error = join(problems, "; ");
    return false;
  }
  config = std::move(candidate);
  error.clear();
  return true;
}

}  // namespace natcert::ref
