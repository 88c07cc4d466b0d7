// DUT profile parsing and validation (toml++), placeholders and their substitution.
#include "natcert/harness/dut_profile.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "natcert/harness/declared_algs.hpp"
#include "natcert/harness/netns_testbed.hpp"
#include "natcert/harness/ports_testbed.hpp"
#include "natcert/reference/config.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::harness {

namespace {

std::string position_prefix(const std::string& file, std::uint32_t line, std::uint32_t column) {
  std::string out = file.empty() ? std::string("<profile>") : file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    out += ':';
    out += std::to_string(column > 0 ? column : 1);
  }
  return out;
}

// Keeps messages on one line whatever the input contained.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

}  // namespace

ProfileError::ProfileError(std::string file, std::uint32_t line, std::uint32_t column,
                           std::string message)
    : std::runtime_error(position_prefix(file, line, column) + ": " + one_line(message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(one_line(std::move(message))) {}

std::string_view to_string(DutKind kind) {
  switch (kind) {
    case DutKind::netns: return "netns";
    case DutKind::ports: return "ports";
    case DutKind::refnat: return "refnat";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Placeholders

namespace {

constexpr std::size_t max_external_placeholders = 8;  // also inside_host_N

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// Visits `text`: literal runs go to on_literal, placeholder names to on_name.
template <typename Literal, typename Name>
void scan_placeholders(std::string_view text, Literal&& on_literal, Name&& on_name) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      on_literal(std::string_view("{"));
      i += 2;
      continue;
    }
    if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      on_literal(std::string_view("}"));
      i += 2;
      continue;
    }
    if (c == '{' && i + 1 < text.size() && is_name_start(text[i + 1])) {
      std::size_t j = i + 1;
      while (j < text.size() && is_name_char(text[j])) ++j;
      if (j < text.size() && text[j] == '}') {
        on_name(text.substr(i + 1, j - i - 1));
        i = j + 1;
        continue;
      }
    }
    on_literal(text.substr(i, 1));
    ++i;
  }
}

}  // namespace

const std::vector<std::string_view>& placeholder_names() {
  static const std::vector<std::string_view> names = {
      "profile_dir",        "profile_name",       "dut_netns",          "inside_if",
      "outside_if",         "inside_address",     "inside_prefix",      "inside_network",
      "outside_address",    "outside_prefix",     "outside_network",    "outside_gateway",
      "third_party",        "external_address",   "external_address_1", "external_address_2",
      "external_address_3", "external_address_4", "external_address_5", "external_address_6",
      "external_address_7", "external_address_8", "external_first",     "external_last",
      "external_addresses", "external_count",     "refnat_spec",        "inside_host_1",
      "inside_host_2",      "inside_host_3",      "inside_host_4",      "inside_host_5",
      "inside_host_6",      "inside_host_7",      "inside_host_8",
  };
  return names;
}

std::vector<std::string> placeholders_in(std::string_view text) {
  std::vector<std::string> names;
  scan_placeholders(text, [](std::string_view) {}, [&](std::string_view name) { names.emplace_back(name); });
  return names;
}

void Placeholders::set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }

const std::string* Placeholders::find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

std::string Placeholders::expand(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  scan_placeholders(
      text, [&](std::string_view literal) { out.append(literal); },
      [&](std::string_view name) {
        const std::string* value = find(name);
        if (value == nullptr) {
          throw ProfileError("", 0, 0, "placeholder {" + std::string(name) + "} has no value here");
        }
        out += *value;
      });
  return out;
}

namespace {

std::uint32_t prefix_mask(std::uint8_t prefix) {
  return prefix == 0 ? 0u : (prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1u));
}

std::string network_text(Ipv4Address address, std::uint8_t prefix) {
  return ref::format_ipv4(address & prefix_mask(prefix)) + "/" + std::to_string(prefix);
}

}  // namespace

std::vector<Ipv4Address> DutProfile::external_addresses() const {
  const std::size_t n = std::min<std::size_t>(declares.external_addresses, outside.dut_addresses.size());
  return {outside.dut_addresses.begin(), outside.dut_addresses.begin() + static_cast<std::ptrdiff_t>(n)};
}

Addressing DutProfile::addressing() const {
  Addressing a;
  a.inside = inside.hosts;
  a.outside = outside.hosts;
  a.third_party = outside.third_party;
  a.nat_external = external_addresses();
  a.declared_algs = declares.algs;
  a.nat_inside = inside.dut_address;
  return a;
}

Placeholders placeholders_for(const DutProfile& profile, const TestbedNames& names) {
  Placeholders p;
  p.set("profile_dir", profile.profile_dir.empty() ? std::string(".") : profile.profile_dir.string());
  p.set("profile_name", profile.name);
  if (!names.dut_netns.empty()) p.set("dut_netns", names.dut_netns);
  std::string inside_if = names.inside_if;
  std::string outside_if = names.outside_if;
  if (profile.ports) {
    if (inside_if.empty()) inside_if = profile.ports->inside_interface;
    if (outside_if.empty()) outside_if = profile.ports->outside_interface;
  }
  if (!inside_if.empty()) p.set("inside_if", inside_if);
  if (!outside_if.empty()) p.set("outside_if", outside_if);
  p.set("inside_address", ref::format_ipv4(profile.inside.dut_address));
  p.set("inside_prefix", std::to_string(profile.inside.prefix));
  p.set("inside_network", network_text(profile.inside.dut_address, profile.inside.prefix));
  for (std::size_t i = 0; i < profile.inside.hosts.size() && i < max_external_placeholders; ++i) {
    p.set("inside_host_" + std::to_string(i + 1), ref::format_ipv4(profile.inside.hosts[i]));
  }
  if (!profile.outside.dut_addresses.empty()) {
    p.set("outside_address", ref::format_ipv4(profile.outside.dut_addresses.front()));
    p.set("outside_network", network_text(profile.outside.dut_addresses.front(), profile.outside.prefix));
  }
  p.set("outside_prefix", std::to_string(profile.outside.prefix));
  if (profile.outside.gateway) p.set("outside_gateway", ref::format_ipv4(*profile.outside.gateway));
  if (profile.outside.third_party) p.set("third_party", ref::format_ipv4(*profile.outside.third_party));
  const auto external = profile.external_addresses();
  std::string all;
  for (std::size_t i = 0; i < external.size(); ++i) {
    const std::string text = ref::format_ipv4(external[i]);
    if (i < max_external_placeholders) p.set("external_address_" + std::to_string(i + 1), text);
    if (!all.empty()) all += ',';
    all += text;
  }
  if (!external.empty()) {
    p.set("external_address", ref::format_ipv4(external.front()));
    p.set("external_first", ref::format_ipv4(external.front()));
    p.set("external_last", ref::format_ipv4(external.back()));
    p.set("external_addresses", all);
  }
  p.set("external_count", std::to_string(external.size()));
  if (profile.refnat) p.set("refnat_spec", profile.refnat->spec);
  return p;
}

std::vector<std::string> expand_command(const DutProfile& profile, const CommandSpec& command,
                                        const Placeholders& values) {
  try {
    std::vector<std::string> argv;
    if (command.shell) {
      argv = {"/bin/sh", "-c", values.expand(*command.shell)};
    } else {
      argv.reserve(command.argv.size());
      for (const auto& arg : command.argv) argv.push_back(values.expand(arg));
    }
    return argv;
  } catch (const ProfileError& e) {
    throw ProfileError(profile.file.string(), command.position.line, command.position.column, e.message());
  }
}

std::vector<std::string> command_argv(const CommandSpec& command) {
  if (command.shell) return {"/bin/sh", "-c", *command.shell};
  return command.argv;
}

namespace {

std::string cidr_text(Ipv4Address address, unsigned prefix) {
  return ref::format_ipv4(address) + "/" + std::to_string(prefix);
}

std::string kind_error(const DutProfile& profile, const std::string& wanted) {
  return "profile '" + profile.name + "' is kind \"" + std::string(to_string(profile.kind)) + "\"; " + wanted;
}

// What every wire testbed takes from a profile: addressing, declarations, commands, report keys.
void fill_wire_config(const DutProfile& profile, WireDutConfig& config) {
  config.label = profile.name;
  config.timer_budget = std::chrono::seconds(profile.realtime_budget_seconds);
  config.inside_address = profile.inside.dut_address;
  config.inside_prefix = profile.inside.prefix;
  config.outside_addresses = profile.outside.dut_addresses;
  config.outside_prefix = profile.outside.prefix;
  config.upstream_router = profile.outside.gateway.value_or(0);
  config.inside_hosts = profile.inside.hosts;
  config.outside_hosts = profile.outside.hosts;
  config.third_party = profile.outside.third_party;
  config.nat_external = profile.external_addresses();
  config.declared_algs = profile.declares.algs;
  auto convert = [](const std::vector<CommandSpec>& specs) {
    std::vector<NetnsCommand> out;
    for (const CommandSpec& spec : specs) {
      const double ms = std::ceil(spec.timeout_seconds * 1000.0);
      out.emplace_back(command_argv(spec), std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, ms))),
                       spec.may_fail);
    }
    return out;
  };
  config.setup = convert(profile.commands.setup);
  config.reset = convert(profile.commands.reset);
  config.teardown = convert(profile.commands.teardown);
  config.diagnostics = convert(profile.commands.diagnostics);
  config.expand = [profile](const std::vector<std::string>& argv, const NetnsNames& names) {
    const Placeholders values = placeholders_for(profile, {names.dut_netns, names.inside_if, names.outside_if});
    std::vector<std::string> out;
    out.reserve(argv.size());
    for (const auto& arg : argv) out.push_back(values.expand(arg));
    return out;
  };
  config.configuration = {{"profile", profile.name}, {"profile.description", profile.description}};
  if (!profile.file.empty()) config.configuration.emplace_back("profile.file", profile.file.string());
}

NetnsDutConfig netns_config(const DutProfile& profile) {
  NetnsDutConfig config;
  fill_wire_config(profile, config);
  config.outside_mtu = profile.declares.outside_mtu;
  return config;
}

}  // namespace

NetnsDutConfig to_netns_config(const DutProfile& profile) {
  const std::string file = profile.file.string();
  if (profile.kind == DutKind::refnat) {
    throw ProfileError(file, 0, 0, kind_error(profile, "it needs the natcert executable that runs the daemon"));
  }
  if (profile.kind != DutKind::netns) {
    throw ProfileError(file, 0, 0, kind_error(profile, "the namespace testbed runs kind \"netns\" profiles"));
  }
  if (!profile.outside.gateway) throw ProfileError(file, 0, 0, "kind \"netns\" needs 'outside.gateway'");
  return netns_config(profile);
}

NetnsDutConfig to_netns_config(const DutProfile& profile, const RefnatProgram& program) {
  if (profile.kind != DutKind::refnat) return to_netns_config(profile);
  const std::string file = profile.file.string();
  if (!profile.refnat) throw ProfileError(file, 0, 0, "kind \"refnat\" needs a [refnat] spec");
  if (program.executable.empty()) throw ProfileError(file, 0, 0, "no natcert executable to run the reference NAT daemon");
  NetnsDutConfig config = netns_config(profile);
  config.kernel_addressing = false;
  // The daemon runs the spec's ALGs, whatever the profile's declares.algs say.
  ref::NatConfig reference;
  std::string spec_error;
  if (ref::make_config(profile.refnat->spec, reference, spec_error)) config.declared_algs = declared_algs_of(reference.alg);
  DutProcess daemon;
  daemon.argv = {program.executable.string(),   "refnat",
                 "--inside-if",                 config.inside_interface,
                 "--outside-if",                config.outside_interface,
                 "--inside",                    cidr_text(profile.inside.dut_address, profile.inside.prefix)};
  for (Ipv4Address address : profile.outside.dut_addresses) {
    daemon.argv.push_back("--outside");
    daemon.argv.push_back(cidr_text(address, profile.outside.prefix));
  }
  if (profile.outside.gateway) {
    daemon.argv.push_back("--gateway");
    daemon.argv.push_back(ref::format_ipv4(*profile.outside.gateway));
  }
  daemon.argv.insert(daemon.argv.end(), {"--config", profile.refnat->spec, "--control", "stdio"});
  config.dut_process = std::move(daemon);
  config.configuration.emplace_back("refnat.spec", profile.refnat->spec);
  return config;
}

PortsDutConfig to_ports_config(const DutProfile& profile, const PortInterfaces& interfaces) {
  if (profile.kind != DutKind::ports || !profile.ports) {
    throw ProfileError(profile.file.string(), 0, 0,
                       kind_error(profile, "the physical-port testbed runs kind \"ports\" profiles"));
  }
  PortsDutConfig config;
  fill_wire_config(profile, config);
  config.inside_interface = interfaces.inside.empty() ? profile.ports->inside_interface : interfaces.inside;
  config.outside_interface = interfaces.outside.empty() ? profile.ports->outside_interface : interfaces.outside;
  return config;
}

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

class Parser {
 public:
  Parser(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
    throw ProfileError(file_, where.begin.line, where.begin.column, message);
  }
  [[noreturn]] void fail(const toml::node& where, const std::string& message) const {
    fail(where.source(), message);
  }

  // Position of a table for "missing field" messages: its header, or 1:1 for the root.
  toml::source_region table_region(const toml::table& table) const {
    toml::source_region region = table.source();
    if (region.begin.line == 0) {
      region.begin.line = 1;
      region.begin.column = 1;
    }
    return region;
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  void check_keys(const toml::table& table, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, value] : table) {
      (void)value;
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::string list;
        for (auto a : allowed) {
          if (!list.empty()) list += ", ";
          list += a;
        }
        fail(key.source(), "unknown key '" + join(path, key.str()) + "' (expected one of: " + list + ")");
      }
    }
  }

  const toml::node* required(const toml::table& table, const std::string& path, std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) fail(table_region(table), "missing required field '" + join(path, key) + "'");
    return node;
  }

  const toml::table& as_table(const toml::node& node, const std::string& path) const {
    const toml::table* t = node.as_table();
    if (t == nullptr) fail(node, "'" + path + "' must be a table, not " + std::string(type_name(node)));
    return *t;
  }

  std::string as_string(const toml::node& node, const std::string& path) const {
    const auto* s = node.as_string();
    if (s == nullptr) fail(node, "'" + path + "' must be a string, not " + std::string(type_name(node)));
    return s->get();
  }

  bool as_bool(const toml::node& node, const std::string& path) const {
    const auto* b = node.as_boolean();
    if (b == nullptr) fail(node, "'" + path + "' must be a boolean, not " + std::string(type_name(node)));
    return b->get();
  }

  std::int64_t as_integer(const toml::node& node, const std::string& path, std::int64_t min,
                          std::int64_t max) const {
    const auto* i = node.as_integer();
    if (i == nullptr) fail(node, "'" + path + "' must be an integer, not " + std::string(type_name(node)));
    const std::int64_t v = i->get();
    if (v < min || v > max) {
      fail(node, "'" + path + "' must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", not " + std::to_string(v));
    }
    return v;
  }

  const toml::array& as_array(const toml::node& node, const std::string& path) const {
    const toml::array* a = node.as_array();
    if (a == nullptr) fail(node, "'" + path + "' must be an array, not " + std::string(type_name(node)));
    return *a;
  }

  Ipv4Address as_address(const toml::node& node, const std::string& path) const {
    const std::string text = as_string(node, path);
    const auto address = ref::parse_ipv4_address(text);
    if (!address) fail(node, "'" + path + "': '" + text + "' is not an IPv4 address (a.b.c.d)");
    return *address;
  }

  std::vector<Ipv4Address> as_address_list(const toml::node& node, const std::string& path) const {
    const toml::array& array = as_array(node, path);
    std::vector<Ipv4Address> out;
    for (std::size_t i = 0; i < array.size(); ++i) {
      out.push_back(as_address(*array.get(i), path + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

bool in_prefix(Ipv4Address address, Ipv4Address net_address, std::uint8_t prefix) {
  const std::uint32_t mask = prefix_mask(prefix);
  return (address & mask) == (net_address & mask);
}

bool is_network_or_broadcast(Ipv4Address address, std::uint8_t prefix) {
  if (prefix >= 31) return false;
  const std::uint32_t mask = prefix_mask(prefix);
  return (address & ~mask) == 0 || (address & ~mask) == ~mask;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool valid_interface(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || static_cast<unsigned char>(c) < 0x21;
  });
}

struct Located {
  Ipv4Address address;
  const toml::node* node;
  std::string path;
};

void parse_inside(const Parser& p, const toml::table& root, DutProfile& profile) {
  const toml::table& t = p.as_table(*p.required(root, "", "inside"), "inside");
  p.check_keys(t, "inside", {"dut_address", "prefix", "hosts"});
  const toml::node* addr = p.required(t, "inside", "dut_address");
  profile.inside.dut_address = p.as_address(*addr, "inside.dut_address");
  const toml::node* prefix = p.required(t, "inside", "prefix");
  profile.inside.prefix = static_cast<std::uint8_t>(p.as_integer(*prefix, "inside.prefix", 1, 30));
  if (is_network_or_broadcast(profile.inside.dut_address, profile.inside.prefix)) {
    p.fail(*addr, "'inside.dut_address' " + ref::format_ipv4(profile.inside.dut_address) +
                      " is the network or broadcast address of /" + std::to_string(profile.inside.prefix));
  }
  const toml::node* hosts_node = p.required(t, "inside", "hosts");
  profile.inside.hosts = p.as_address_list(*hosts_node, "inside.hosts");
  if (profile.inside.hosts.size() < 2) p.fail(*hosts_node, "'inside.hosts' needs at least two emulated inside hosts");
  const toml::array& hosts = *hosts_node->as_array();
  std::set<Ipv4Address> seen{profile.inside.dut_address};
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const Ipv4Address h = profile.inside.hosts[i];
    const std::string path = "inside.hosts[" + std::to_string(i) + "]";
    if (!in_prefix(h, profile.inside.dut_address, profile.inside.prefix)) {
      p.fail(*hosts.get(i), "'" + path + "' " + ref::format_ipv4(h) + " is not in the inside prefix " +
                                network_text(profile.inside.dut_address, profile.inside.prefix));
    }
    if (is_network_or_broadcast(h, profile.inside.prefix)) {
      p.fail(*hosts.get(i), "'" + path + "' " + ref::format_ipv4(h) + " is the network or broadcast address");
    }
    if (!seen.insert(h).second) {
      p.fail(*hosts.get(i), "'" + path + "' " + ref::format_ipv4(h) + " is used twice (or is the DUT's address)");
    }
  }
}

void parse_outside(const Parser& p, const toml::table& root, DutProfile& profile) {
  const toml::table& t = p.as_table(*p.required(root, "", "outside"), "outside");
  p.check_keys(t, "outside", {"dut_addresses", "prefix", "gateway", "hosts", "third_party"});
  const toml::node* prefix = p.required(t, "outside", "prefix");
  profile.outside.prefix = static_cast<std::uint8_t>(p.as_integer(*prefix, "outside.prefix", 1, 30));
  const std::uint8_t pl = profile.outside.prefix;

  const toml::node* dut_node = p.required(t, "outside", "dut_addresses");
  profile.outside.dut_addresses = p.as_address_list(*dut_node, "outside.dut_addresses");
  if (profile.outside.dut_addresses.empty()) p.fail(*dut_node, "'outside.dut_addresses' needs at least one address");
  const Ipv4Address link = profile.outside.dut_addresses.front();

  std::set<Ipv4Address> seen;
  auto check_on_link = [&](Ipv4Address a, const toml::node& node, const std::string& path) {
    if (!in_prefix(a, link, pl)) {
      p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is not in the outside prefix " + network_text(link, pl));
    }
    if (is_network_or_broadcast(a, pl)) {
      p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is the network or broadcast address");
    }
    if (!seen.insert(a).second) p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is used twice");
  };
  const toml::array& duts = *dut_node->as_array();
  for (std::size_t i = 0; i < duts.size(); ++i) {
    check_on_link(profile.outside.dut_addresses[i], *duts.get(i), "outside.dut_addresses[" + std::to_string(i) + "]");
  }
  if (in_prefix(profile.inside.dut_address, link, std::min(pl, profile.inside.prefix))) {
    p.fail(*prefix, "the outside prefix " + network_text(link, pl) + " overlaps the inside prefix " +
                        network_text(profile.inside.dut_address, profile.inside.prefix));
  }
  if (const toml::node* gw = t.get("gateway")) {
    profile.outside.gateway = p.as_address(*gw, "outside.gateway");
    check_on_link(*profile.outside.gateway, *gw, "outside.gateway");
  }
  // Emulated outside hosts and the third party: on the outside link, or behind the gateway.
  auto check_host = [&](Ipv4Address a, const toml::node& node, const std::string& path) {
    if (!seen.insert(a).second) p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is used twice");
    if (in_prefix(a, profile.inside.dut_address, profile.inside.prefix)) {
      p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is in the inside prefix");
    }
    if (in_prefix(a, link, pl)) {
      if (is_network_or_broadcast(a, pl)) {
        p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is the network or broadcast address");
      }
    } else if (!profile.outside.gateway) {
      p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is not on the outside link " + network_text(link, pl) +
                       ", so 'outside.gateway' is required to route it");
    }
    const std::uint8_t first_octet = static_cast<std::uint8_t>(a >> 24);
    if (a == 0 || first_octet == 127 || first_octet >= 224) {
      p.fail(node, "'" + path + "' " + ref::format_ipv4(a) + " is not a unicast host address");
    }
  };
  const toml::node* hosts_node = p.required(t, "outside", "hosts");
  profile.outside.hosts = p.as_address_list(*hosts_node, "outside.hosts");
  if (profile.outside.hosts.size() < 2) p.fail(*hosts_node, "'outside.hosts' needs at least two emulated outside hosts");
  const toml::array& hosts = *hosts_node->as_array();
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    check_host(profile.outside.hosts[i], *hosts.get(i), "outside.hosts[" + std::to_string(i) + "]");
  }
  if (const toml::node* tp = t.get("third_party")) {
    const Ipv4Address a = p.as_address(*tp, "outside.third_party");
    check_host(a, *tp, "outside.third_party");
    profile.outside.third_party = a;
  }
  if (profile.kind == DutKind::netns && !profile.outside.gateway) {
    p.fail(p.table_region(t), "missing required field 'outside.gateway' (kind = \"netns\" routes the outside "
                              "hosts through it)");
  }
}

void parse_declares(const Parser& p, const toml::table& root, DutProfile& profile) {
  const toml::node* node = root.get("declares");
  if (node == nullptr) return;
  const toml::table& t = p.as_table(*node, "declares");
  p.check_keys(t, "declares", {"external_addresses", "hairpin", "algs", "outside_mtu"});
  if (const toml::node* n = t.get("external_addresses")) {
    const auto max = static_cast<std::int64_t>(profile.outside.dut_addresses.size());
    const std::int64_t v = p.as_integer(*n, "declares.external_addresses", 1, std::numeric_limits<std::int32_t>::max());
    if (v > max) {
      p.fail(*n, "'declares.external_addresses' is " + std::to_string(v) + " but 'outside.dut_addresses' lists only " +
                     std::to_string(max));
    }
    profile.declares.external_addresses = static_cast<std::uint32_t>(v);
  }
  if (const toml::node* n = t.get("hairpin")) profile.declares.hairpin = p.as_bool(*n, "declares.hairpin");
  if (const toml::node* n = t.get("algs")) {
    const toml::array& algs = p.as_array(*n, "declares.algs");
    for (std::size_t i = 0; i < algs.size(); ++i) {
      const std::string path = "declares.algs[" + std::to_string(i) + "]";
      std::string alg = p.as_string(*algs.get(i), path);
      const bool ok = !alg.empty() && alg.size() <= 32 && std::all_of(alg.begin(), alg.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      });
      if (!ok) p.fail(*algs.get(i), "'" + path + "' must be a lower-case ALG name such as \"ftp\" or \"sip\"");
      if (std::find(profile.declares.algs.begin(), profile.declares.algs.end(), alg) != profile.declares.algs.end()) {
        p.fail(*algs.get(i), "'" + path + "' \"" + alg + "\" is listed twice");
      }
      profile.declares.algs.push_back(std::move(alg));
    }
  }
  if (const toml::node* n = t.get("outside_mtu")) {
    profile.declares.outside_mtu = static_cast<std::uint32_t>(p.as_integer(*n, "declares.outside_mtu", 576, 65535));
  }
}

// Which placeholders a command of this profile may use.
void check_placeholders(const Parser& p, const DutProfile& profile, const toml::node& node, const std::string& path,
                        std::string_view text) {
  const auto& known = placeholder_names();
  for (const std::string& name : placeholders_in(text)) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      p.fail(node, "'" + path + "': unknown placeholder {" + name + "} (see docs/dut-profiles.md)");
    }
    auto unavailable = [&](const std::string& why) {
      p.fail(node, "'" + path + "': placeholder {" + name + "} is not available: " + why);
    };
    if (name == "dut_netns" && profile.kind != DutKind::netns) unavailable("only kind = \"netns\" has a DUT namespace");
    if (name == "refnat_spec" && profile.kind != DutKind::refnat) unavailable("only kind = \"refnat\" has a spec");
    if (name == "outside_gateway" && !profile.outside.gateway) unavailable("'outside.gateway' is not set");
    if (name == "third_party" && !profile.outside.third_party) unavailable("'outside.third_party' is not set");
    constexpr std::string_view ext = "external_address_";
    if (name.rfind(ext, 0) == 0) {
      const std::size_t index = static_cast<std::size_t>(std::stoul(name.substr(ext.size())));
      if (index > profile.declares.external_addresses) {
        unavailable("the profile declares " + std::to_string(profile.declares.external_addresses) +
                    " external address(es)");
      }
    }
    constexpr std::string_view host = "inside_host_";
    if (name.rfind(host, 0) == 0) {
      const std::size_t index = static_cast<std::size_t>(std::stoul(name.substr(host.size())));
      if (index > profile.inside.hosts.size()) {
        unavailable("'inside.hosts' lists " + std::to_string(profile.inside.hosts.size()) + " hosts");
      }
    }
  }
}

std::vector<CommandSpec> parse_command_list(const Parser& p, const toml::table& commands, std::string_view key,
                                            const DutProfile& profile, bool allow_shell) {
  std::vector<CommandSpec> out;
  const toml::node* node = commands.get(key);
  if (node == nullptr) return out;
  const std::string list_path = "commands." + std::string(key);
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    p.fail(*node, "'" + list_path + "' must be an array of tables ([[" + list_path + "]]), not " +
                      std::string(type_name(*node)));
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string path = list_path + "[" + std::to_string(i) + "]";
    const toml::node& item = *array->get(i);
    const toml::table* table = item.as_table();
    if (table == nullptr) {
      p.fail(item, "'" + path + "' must be a table with argv (or shell) and timeout, not " +
                       std::string(type_name(item)));
    }
    p.check_keys(*table, path, {"argv", "shell", "timeout", "may_fail"});
    CommandSpec command;
    const toml::source_region region = p.table_region(*table);
    command.position = {region.begin.line, region.begin.column};
    const toml::node* argv = table->get("argv");
    const toml::node* shell = table->get("shell");
    if (argv != nullptr && shell != nullptr) p.fail(*shell, "'" + path + "' has both argv and shell; use one");
    if (argv == nullptr && shell == nullptr) p.fail(region, "'" + path + "' needs argv (an array of strings) or shell");
    if (argv != nullptr) {
      const toml::array& args = p.as_array(*argv, path + ".argv");
      if (args.empty()) p.fail(*argv, "'" + path + ".argv' is empty");
      for (std::size_t j = 0; j < args.size(); ++j) {
        const std::string arg_path = path + ".argv[" + std::to_string(j) + "]";
        std::string arg = p.as_string(*args.get(j), arg_path);
        if (j == 0 && arg.empty()) p.fail(*args.get(j), "'" + arg_path + "': the program name is empty");
        if (arg.find('\0') != std::string::npos) p.fail(*args.get(j), "'" + arg_path + "' contains a NUL byte");
        check_placeholders(p, profile, *args.get(j), arg_path, arg);
        command.argv.push_back(std::move(arg));
      }
    } else {
      if (const toml::value<bool>* b = shell->as_boolean()) {
        (void)b;
        p.fail(*shell, "'" + path + ".shell' is the command line itself (a string); allow it with "
                                    "'commands.allow_shell = true'");
      }
      std::string text = p.as_string(*shell, path + ".shell");
      if (!allow_shell) {
        p.fail(*shell, "'" + path + ".shell' is not allowed: the profile must say 'allow_shell = true' in [commands]");
      }
      if (text.find_first_not_of(" \t\r\n") == std::string::npos) p.fail(*shell, "'" + path + ".shell' is empty");
      if (text.find('\0') != std::string::npos) p.fail(*shell, "'" + path + ".shell' contains a NUL byte");
      check_placeholders(p, profile, *shell, path + ".shell", text);
      command.shell = std::move(text);
    }
    const toml::node* timeout = table->get("timeout");
    if (timeout == nullptr) p.fail(region, "missing required field '" + path + ".timeout' (seconds)");
    double seconds = 0;
    if (const auto* integer = timeout->as_integer()) {
      seconds = static_cast<double>(integer->get());
    } else if (const auto* f = timeout->as_floating_point()) {
      seconds = f->get();
    } else {
      p.fail(*timeout, "'" + path + ".timeout' must be a number of seconds, not " + std::string(type_name(*timeout)));
    }
    if (!(seconds > 0) || !std::isfinite(seconds)) {
      p.fail(*timeout, "'" + path + ".timeout' must be > 0 seconds");
    }
    if (seconds > 86400) p.fail(*timeout, "'" + path + ".timeout' must be at most 86400 seconds");
    command.timeout_seconds = seconds;
    if (const toml::node* mf = table->get("may_fail")) command.may_fail = p.as_bool(*mf, path + ".may_fail");
    out.push_back(std::move(command));
  }
  return out;
}

void parse_commands(const Parser& p, const toml::table& root, DutProfile& profile) {
  const toml::node* node = root.get("commands");
  if (node != nullptr) {
    const toml::table& t = p.as_table(*node, "commands");
    p.check_keys(t, "commands", {"allow_shell", "setup", "reset", "teardown", "diagnostics"});
    if (const toml::node* a = t.get("allow_shell")) profile.commands.allow_shell = p.as_bool(*a, "commands.allow_shell");
    const bool shell = profile.commands.allow_shell;
    profile.commands.setup = parse_command_list(p, t, "setup", profile, shell);
    profile.commands.reset = parse_command_list(p, t, "reset", profile, shell);
    profile.commands.teardown = parse_command_list(p, t, "teardown", profile, shell);
    profile.commands.diagnostics = parse_command_list(p, t, "diagnostics", profile, shell);
  }
  if (profile.kind == DutKind::netns && profile.commands.setup.empty()) {
    p.fail(node != nullptr ? node->source() : p.table_region(root),
           "kind = \"netns\" needs at least one [[commands.setup]] command (the NAT rules)");
  }
}

DutProfile parse_root(const Parser& p, const toml::table& root, DutProfile profile) {
  p.check_keys(root, "",
               {"name", "description", "kind", "realtime_budget", "inside", "outside", "declares", "commands", "ports",
                "refnat"});
  const toml::node* name = p.required(root, "", "name");
  profile.name = p.as_string(*name, "name");
  if (!valid_name(profile.name)) {
    p.fail(*name, "'name' must be 1-64 characters of letters, digits, '-', '_' or '.'");
  }
  profile.description = p.as_string(*p.required(root, "", "description"), "description");
  const toml::node* kind = p.required(root, "", "kind");
  const std::string kind_text = p.as_string(*kind, "kind");
  if (kind_text == "netns") {
    profile.kind = DutKind::netns;
  } else if (kind_text == "ports") {
    profile.kind = DutKind::ports;
  } else if (kind_text == "refnat") {
    profile.kind = DutKind::refnat;
  } else {
    p.fail(*kind, "'kind' must be \"netns\", \"ports\" or \"refnat\", not \"" + kind_text + "\"");
  }
  if (const toml::node* b = root.get("realtime_budget")) {
    profile.realtime_budget_seconds = static_cast<std::uint32_t>(p.as_integer(*b, "realtime_budget", 1, 86400));
  }

  parse_inside(p, root, profile);
  parse_outside(p, root, profile);
  parse_declares(p, root, profile);

  // Kind-specific sections: required for their kind, rejected for the others.
  const toml::node* ports = root.get("ports");
  const toml::node* refnat = root.get("refnat");
  if (profile.kind == DutKind::ports) {
    const toml::table& t = p.as_table(*p.required(root, "", "ports"), "ports");
    p.check_keys(t, "ports", {"inside_interface", "outside_interface"});
    PortsSection section;
    const toml::node* in = p.required(t, "ports", "inside_interface");
    section.inside_interface = p.as_string(*in, "ports.inside_interface");
    if (!valid_interface(section.inside_interface)) {
      p.fail(*in, "'ports.inside_interface' \"" + section.inside_interface + "\" is not a valid interface name");
    }
    const toml::node* out = p.required(t, "ports", "outside_interface");
    section.outside_interface = p.as_string(*out, "ports.outside_interface");
    if (!valid_interface(section.outside_interface)) {
      p.fail(*out, "'ports.outside_interface' \"" + section.outside_interface + "\" is not a valid interface name");
    }
    if (section.inside_interface == section.outside_interface) {
      p.fail(*out, "'ports.outside_interface' must differ from 'ports.inside_interface'");
    }
    profile.ports = std::move(section);
  } else if (ports != nullptr) {
    p.fail(*ports, "[ports] is only for kind = \"ports\"");
  }
  if (profile.kind == DutKind::refnat) {
    const toml::table& t = p.as_table(*p.required(root, "", "refnat"), "refnat");
    p.check_keys(t, "refnat", {"spec"});
    const toml::node* spec = p.required(t, "refnat", "spec");
    RefnatSection section;
    section.spec = p.as_string(*spec, "refnat.spec");
    ref::NatConfig config;
    std::string error;
    if (!ref::make_config(section.spec, config, error)) {
      p.fail(*spec, "'refnat.spec' \"" + section.spec + "\": " + error);
    }
    profile.refnat = std::move(section);
  } else if (refnat != nullptr) {
    p.fail(*refnat, "[refnat] is only for kind = \"refnat\"");
  }

  parse_commands(p, root, profile);
  return profile;
}

}  // namespace

DutProfile parse_profile(std::string_view text, const std::string& source_name,
                         const std::filesystem::path& profile_dir) {
  const std::string file = source_name.empty() ? std::string("<profile>") : source_name;
  const Parser parser(file);
  DutProfile profile;
  profile.file = source_name;
  profile.profile_dir = profile_dir;
  try {
    toml::table root = toml::parse(text, file);
    return parse_root(parser, root, std::move(profile));
  } catch (const ProfileError&) {
    throw;
  } catch (const toml::parse_error& e) {
    throw ProfileError(file, e.source().begin.line, e.source().begin.column,
                       "TOML syntax: " + std::string(e.description()));
  } catch (const std::exception& e) {
    throw ProfileError(file, 0, 0, std::string("cannot parse: ") + e.what());
  }
}

DutProfile load_profile(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw ProfileError(name, 0, 0, ec ? "cannot read: " + ec.message() : "not a readable file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ProfileError(name, 0, 0, "cannot open for reading");
  constexpr std::uintmax_t max_size = 1u << 20;
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec || size > max_size) throw ProfileError(name, 0, 0, "larger than 1 MiB; not a profile");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw ProfileError(name, 0, 0, "read error");
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code abs_ec;
  const std::filesystem::path absolute = std::filesystem::absolute(dir, abs_ec);
  return parse_profile(buffer.str(), name, abs_ec ? dir : absolute.lexically_normal());
}

}  // namespace natcert::harness
