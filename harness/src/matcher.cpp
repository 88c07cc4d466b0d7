#include "natcert/harness/matcher.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace natcert::harness {

// A matcher is a small expression tree. Leaves parse the packet and test conditions on the view.
struct Matcher::Node {
  enum class Kind : std::uint8_t { parsed, any, malformed, all_of, any_of, negation };
  Kind kind = Kind::parsed;
  bool strict_checksums = true;  // parsed/malformed: IP and transport checksums must verify
  std::vector<Predicate> conditions;  // parsed
  std::shared_ptr<const Node> left, right;  // all_of / any_of / negation (left only)
};

struct MatcherAccess {
  using Node = Matcher::Node;
  using Predicate = Matcher::Predicate;

  static Matcher make(std::shared_ptr<const Node> node, std::string description) {
    Matcher m;
    m.node_ = std::move(node);
    m.description_ = std::move(description);
    return m;
  }
  static const std::shared_ptr<const Node>& node(const Matcher& m) { return m.node_; }

  static ref::ParseOptions options(bool strict) { return ref::ParseOptions{strict, strict, false}; }

  static bool evaluate(const Node& node, Bytes packet) {
    switch (node.kind) {
      case Node::Kind::any:
        return true;
      case Node::Kind::malformed:
        return !ref::parse_packet(packet, options(true)).ok();
      case Node::Kind::parsed: {
        const auto result = ref::parse_packet(packet, options(node.strict_checksums));
        if (!result.ok()) return false;
        for (const auto& condition : node.conditions) {
          if (!condition(result.packet)) return false;
        }
        return true;
      }
      case Node::Kind::all_of:
        return evaluate(*node.left, packet) && evaluate(*node.right, packet);
      case Node::Kind::any_of:
        return evaluate(*node.left, packet) || evaluate(*node.right, packet);
      case Node::Kind::negation:
        return !evaluate(*node.left, packet);
    }
    return false;
  }

  // Adds one condition: appended to a parsed leaf, otherwise a conjunction with a new leaf.
  static Matcher refine(const Matcher& base, const std::string& what, Predicate predicate) {
    const Node& node = *base.node_;
    std::string description = base.description_ + " " + what;
    if (node.kind == Node::Kind::parsed) {
      auto copy = std::make_shared<Node>(node);
      copy->conditions.push_back(std::move(predicate));
      return make(std::move(copy), std::move(description));
    }
    if (node.kind == Node::Kind::any) {
      auto leaf = std::make_shared<Node>();
      leaf->conditions.push_back(std::move(predicate));
      return make(std::move(leaf), std::move(description));
    }
    auto leaf = std::make_shared<Node>();
    leaf->conditions.push_back(std::move(predicate));
    auto conjunction = std::make_shared<Node>();
    conjunction->kind = Node::Kind::all_of;
    conjunction->left = base.node_;
    conjunction->right = std::move(leaf);
    return make(std::move(conjunction), std::move(description));
  }

  static std::shared_ptr<const Node> relax(const std::shared_ptr<const Node>& node) {
    auto copy = std::make_shared<Node>(*node);
    copy->strict_checksums = false;
    if (copy->left) copy->left = relax(copy->left);
    if (copy->right) copy->right = relax(copy->right);
    return copy;
  }

  static std::shared_ptr<const Node> leaf(Node::Kind kind) {
    auto node = std::make_shared<Node>();
    node->kind = kind;
    return node;
  }
};

namespace {

using Access = MatcherAccess;

bool has_ports(const ref::PacketView& p) {
  return p.kind == ref::TransportKind::udp || p.kind == ref::TransportKind::tcp ||
         p.kind == ref::TransportKind::icmp_query;
}

std::uint16_t source_port(const ref::PacketView& p) {
  switch (p.kind) {
    case ref::TransportKind::udp: return p.udp.source_port();
    case ref::TransportKind::tcp: return p.tcp.source_port();
    case ref::TransportKind::icmp_query: return p.icmp.identifier();
    default: return 0;
  }
}

std::uint16_t destination_port(const ref::PacketView& p) {
  switch (p.kind) {
    case ref::TransportKind::udp: return p.udp.destination_port();
    case ref::TransportKind::tcp: return p.tcp.destination_port();
    case ref::TransportKind::icmp_query: return p.icmp.identifier();
    default: return 0;
  }
}

Bytes transport_payload(const ref::PacketView& p) {
  switch (p.kind) {
    case ref::TransportKind::udp: return p.udp.payload();
    case ref::TransportKind::tcp: return p.tcp.payload();
    case ref::TransportKind::icmp_query:
    case ref::TransportKind::icmp_error:
    case ref::TransportKind::icmp_other: return p.icmp.body();
    case ref::TransportKind::none: return {};
  }
  return {};
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f && c != '"') {
      out += c;
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned char>(c));
      out += buffer;
    }
  }
  if (text.size() > 40) out += "...";
  return out + "\"";
}

Matcher typed(std::string description, Matcher::Predicate predicate) {
  auto node = std::make_shared<Access::Node>();
  node->conditions.push_back(std::move(predicate));
  return Access::make(std::move(node), std::move(description));
}

}  // namespace

Matcher::Matcher() : node_(std::make_shared<Node>()), description_("IPv4 packet") {}

bool Matcher::matches(Bytes packet) const { return Access::evaluate(*node_, packet); }

Matcher Matcher::from(Endpoint source) const {
  return Access::refine(*this, "from " + to_string(source), [source](const ref::PacketView& p) {
    return has_ports(p) && p.ip.source() == source.address && source_port(p) == source.port;
  });
}

Matcher Matcher::from(Ipv4Address source) const {
  return Access::refine(*this, "from " + ref::format_ipv4(source),
                        [source](const ref::PacketView& p) { return p.ip.source() == source; });
}

Matcher Matcher::to(Endpoint destination) const {
  return Access::refine(*this, "to " + to_string(destination), [destination](const ref::PacketView& p) {
    return has_ports(p) && p.ip.destination() == destination.address && destination_port(p) == destination.port;
  });
}

Matcher Matcher::to(Ipv4Address destination) const {
  return Access::refine(*this, "to " + ref::format_ipv4(destination),
                        [destination](const ref::PacketView& p) { return p.ip.destination() == destination; });
}

Matcher Matcher::from_port(std::uint16_t port) const {
  return Access::refine(*this, "from port " + std::to_string(port),
                        [port](const ref::PacketView& p) { return has_ports(p) && source_port(p) == port; });
}

Matcher Matcher::to_port(std::uint16_t port) const {
  return Access::refine(*this, "to port " + std::to_string(port),
                        [port](const ref::PacketView& p) { return has_ports(p) && destination_port(p) == port; });
}

Matcher Matcher::payload(std::string_view exact) const {
  return payload(Bytes(reinterpret_cast<const std::uint8_t*>(exact.data()), exact.size()));
}

Matcher Matcher::payload(Bytes exact) const {
  const std::string text(exact.begin(), exact.end());
  return Access::refine(*this, "with payload " + quoted(text), [text](const ref::PacketView& p) {
    const Bytes data = transport_payload(p);
    return data.size() == text.size() && std::equal(data.begin(), data.end(), text.begin(),
                                                    [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
  });
}

Matcher Matcher::payload_contains(std::string_view text) const {
  return Access::refine(*this, "with payload containing " + quoted(text),
                        [needle = std::string(text)](const ref::PacketView& p) {
                          const Bytes data = transport_payload(p);
                          const std::string_view haystack(reinterpret_cast<const char*>(data.data()), data.size());
                          return haystack.find(needle) != std::string_view::npos;
                        });
}

Matcher Matcher::flags(std::uint8_t set) const { return flags(set, 0xff); }

Matcher Matcher::flags(std::uint8_t set, std::uint8_t mask) const {
  std::string names;
  static constexpr std::pair<std::uint8_t, const char*> kNames[] = {
      {ref::tcp_flag::syn, "SYN"}, {ref::tcp_flag::fin, "FIN"}, {ref::tcp_flag::rst, "RST"},
      {ref::tcp_flag::psh, "PSH"}, {ref::tcp_flag::ack, "ACK"}, {ref::tcp_flag::urg, "URG"},
  };
  for (const auto& [bit, name] : kNames) {
    if ((set & bit) != 0) names += std::string(names.empty() ? "" : "+") + name;
  }
  if (names.empty()) names = "no";
  const std::string what = "with " + names + " flags" + (mask == 0xff ? " only" : "");
  return Access::refine(*this, what, [set, mask](const ref::PacketView& p) {
    return p.kind == ref::TransportKind::tcp && (p.tcp.flags() & set) == set &&
           (p.tcp.flags() & mask & static_cast<std::uint8_t>(~set)) == 0;
  });
}

Matcher Matcher::quoting(Endpoint source, Endpoint destination) const {
  return Access::refine(
      *this, "quoting " + to_string(source) + " > " + to_string(destination),
      [source, destination](const ref::PacketView& p) {
        if (p.kind != ref::TransportKind::icmp_error || !p.embedded.has_ports()) return false;
        return p.embedded.ip.source() == source.address && p.embedded.source_port() == source.port &&
               p.embedded.ip.destination() == destination.address &&
               p.embedded.destination_port() == destination.port;
      });
}

Matcher Matcher::whole() const {
  return Access::refine(*this, "(not a fragment)", [](const ref::PacketView& p) { return !p.ip.is_fragment(); });
}

Matcher Matcher::ttl(std::uint8_t value) const {
  return Access::refine(*this, "with TTL " + std::to_string(value),
                        [value](const ref::PacketView& p) { return p.ip.ttl() == value; });
}

Matcher Matcher::any_checksum() const {
  return Access::make(Access::relax(node_), description_ + " (checksums not verified)");
}

Matcher Matcher::where(std::string description, Predicate predicate) const {
  return Access::refine(*this, description, std::move(predicate));
}

Matcher operator&&(const Matcher& a, const Matcher& b) {
  auto node = std::make_shared<MatcherAccess::Node>();
  node->kind = MatcherAccess::Node::Kind::all_of;
  node->left = MatcherAccess::node(a);
  node->right = MatcherAccess::node(b);
  return MatcherAccess::make(std::move(node), "(" + a.description() + ") and (" + b.description() + ")");
}

Matcher operator||(const Matcher& a, const Matcher& b) {
  auto node = std::make_shared<MatcherAccess::Node>();
  node->kind = MatcherAccess::Node::Kind::any_of;
  node->left = MatcherAccess::node(a);
  node->right = MatcherAccess::node(b);
  return MatcherAccess::make(std::move(node), "(" + a.description() + ") or (" + b.description() + ")");
}

Matcher operator!(const Matcher& a) {
  auto node = std::make_shared<MatcherAccess::Node>();
  node->kind = MatcherAccess::Node::Kind::negation;
  node->left = MatcherAccess::node(a);
  return MatcherAccess::make(std::move(node), "not (" + a.description() + ")");
}

namespace match {

Matcher any() { return MatcherAccess::make(MatcherAccess::leaf(MatcherAccess::Node::Kind::any), "any packet"); }

Matcher malformed() {
  return MatcherAccess::make(MatcherAccess::leaf(MatcherAccess::Node::Kind::malformed), "malformed packet");
}

Matcher ip() { return Matcher(); }

Matcher udp() {
  return typed("UDP", [](const ref::PacketView& p) { return p.kind == ref::TransportKind::udp; });
}

Matcher tcp() {
  return typed("TCP", [](const ref::PacketView& p) { return p.kind == ref::TransportKind::tcp; });
}

Matcher icmp() {
  return typed("ICMP", [](const ref::PacketView& p) {
    return p.ip.protocol() == ref::ip_protocol::icmp && p.ip.is_first_fragment_or_whole() &&
           p.kind != ref::TransportKind::none;
  });
}

Matcher icmp_echo_request() { return icmp_query(ref::icmp_type::echo_request); }
Matcher icmp_echo_reply() { return icmp_query(ref::icmp_type::echo_reply); }

Matcher icmp_query(std::uint8_t type) {
  return typed("ICMP query type " + std::to_string(type), [type](const ref::PacketView& p) {
    return p.kind == ref::TransportKind::icmp_query && p.icmp.type() == type;
  });
}

Matcher icmp_error() {
  return typed("ICMP error", [](const ref::PacketView& p) { return p.kind == ref::TransportKind::icmp_error; });
}

Matcher icmp_error(std::uint8_t type) {
  return typed("ICMP error type " + std::to_string(type), [type](const ref::PacketView& p) {
    return p.kind == ref::TransportKind::icmp_error && p.icmp.type() == type;
  });
}

Matcher icmp_error(std::uint8_t type, std::uint8_t code) {
  return typed("ICMP error " + std::to_string(type) + "/" + std::to_string(code),
               [type, code](const ref::PacketView& p) {
                 return p.kind == ref::TransportKind::icmp_error && p.icmp.type() == type && p.icmp.code() == code;
               });
}

Matcher fragment() {
  return typed("IPv4 fragment", [](const ref::PacketView& p) { return p.ip.is_fragment(); });
}

Matcher protocol(std::uint8_t ip_protocol) {
  return typed("IP protocol " + std::to_string(ip_protocol),
               [ip_protocol](const ref::PacketView& p) { return p.ip.protocol() == ip_protocol; });
}

}  // namespace match
}  // namespace natcert::harness
