// PortsTestbed: checks and prepares the host's two test interfaces, resolves the box's MACs by ARP
// and hands the rest (emulated hosts, captures, sessions, commands on the host) to EmulatedNetwork.
#include "natcert/harness/ports_testbed.hpp"

#include <fstream>
#include <thread>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns/emulated_network.hpp"
#include "netns/process.hpp"

namespace natcert::harness {

using netns::cidr;

namespace {

std::filesystem::path forwarding_sysctl(const std::string& interface) {
  return std::filesystem::path("/proc/sys/net/ipv4/conf") / interface / "forwarding";
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text << "\n";
  out.flush();
  return static_cast<bool>(out);
}

std::vector<Ipv4Address> host_ipv4_addresses(const std::string& interface) {
  std::vector<Ipv4Address> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET || interface != entry->ifa_name) continue;
    const auto* address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    out.push_back(ntohl(address->sin_addr.s_addr));
  }
  freeifaddrs(list);
  return out;
}

std::optional<bool> interface_up(const std::string& interface) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  ifreq request{};
  std::snprintf(request.ifr_name, IFNAMSIZ, "%s", interface.c_str());
  const int rc = ioctl(fd, SIOCGIFFLAGS, &request);
  close(fd);
  if (rc != 0) return std::nullopt;
  return (request.ifr_flags & IFF_UP) != 0;
}

}  // namespace

struct PortsTestbed::Impl {
  explicit Impl(PortsDutConfig c)
      : config(std::move(c)),
        network(config, netns::DutAccess{[this](const NetnsCommand& command) { return on_host(command); }}, "ports") {}

  NetnsNames names() const { return NetnsNames{"", "", config.inside_interface, config.outside_interface}; }
  netns::Argv on_host(const NetnsCommand& command) const { return netns::expand_argv(config, command.argv, names()); }

  // The interface exists, is up (brought up when it was not), carries no host IPv4 address (else a
  // note) and forwards nothing (switched off until shutdown).
  void prepare_interface(const std::string& interface, const char* role) {
    if (if_nametoindex(interface.c_str()) == 0) {
      throw NetnsError(std::string("no network interface \"") + interface + "\" (" + role +
                       ") on this host: `ip link` lists them");
    }
    const auto up = interface_up(interface);
    if (up && !*up) {
      netns::run_checked({"ip", "link", "set", "dev", interface, "up"}, config.command_timeout,
                         "bringing up " + interface);
      network.add_note(interface + " was down: natcert brought it up");
    }
    for (Ipv4Address address : host_ipv4_addresses(interface)) {
      network.add_note(interface + " carries the host address " + ref::format_ipv4(address) +
                       ": the host's kernel answers for it and may interfere; test ports should carry no address "
                       "(ip address flush dev " + interface + ")");
    }
    const auto sysctl = forwarding_sysctl(interface);
    if (read_first_line(sysctl) == "1") {
      if (write_text(sysctl, "0")) {
        restore_forwarding.push_back(sysctl);
        network.add_note("IPv4 forwarding switched off on " + interface + " while natcert runs (restored afterwards)");
      } else {
        network.add_note("IPv4 forwarding is on for " + interface +
                         " and could not be switched off: the host may route packets meant for emulated hosts");
      }
    }
  }

  // ARP "who has" from an emulated host until the box answers (its own ARP requests count too).
  void resolve_dut_mac(Side side, Ipv4Address asker, Ipv4Address dut, const std::string& interface) {
    netns::L2Port* port = network.port(side);
    for (unsigned attempt = 0; attempt < std::max(1u, config.arp_attempts) && !port->dut_mac_learnt(); ++attempt) {
      port->send_arp_request(asker, dut);
      const auto deadline = std::chrono::steady_clock::now() + config.arp_interval;
      while (!port->dut_mac_learnt() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (!port->dut_mac_learnt()) {
      throw NetnsError("no ARP reply from " + ref::format_ipv4(dut) + " on " + interface +
                       ": is the DUT cabled and configured?");
    }
  }

  void build() {
    netns::validate_wire_config(config, config.inside_interface, config.outside_interface, "physical-port testbed");
    prepare_interface(config.inside_interface, "the inside port");
    prepare_interface(config.outside_interface, "the outside port");

    netns::L2PortConfig inside_port;
    inside_port.side = Side::inside;
    inside_port.interface = config.inside_interface;
    inside_port.arp_answers = config.inside_hosts;
    inside_port.dut_address = config.inside_address;
    netns::L2PortConfig outside_port;
    outside_port.side = Side::outside;
    outside_port.interface = config.outside_interface;
    outside_port.arp_answers = config.outside_hosts;
    if (config.upstream_router != 0) outside_port.arp_answers.push_back(config.upstream_router);
    if (config.third_party) outside_port.arp_answers.push_back(*config.third_party);
    outside_port.dut_address = config.outside_addresses.front();
    network.start(std::move(inside_port), std::move(outside_port));
    network.run_setup();

    const Ipv4Address outside_asker = config.upstream_router != 0 ? config.upstream_router : config.outside_hosts.front();
    resolve_dut_mac(Side::inside, config.inside_hosts.front(), config.inside_address, config.inside_interface);
    resolve_dut_mac(Side::outside, outside_asker, config.outside_addresses.front(), config.outside_interface);
  }

  void shutdown() {
    if (!network.begin_shutdown()) return;
    network.write_diagnostics_file();
    network.run_teardown();
    network.close_ports();
    for (const auto& sysctl : restore_forwarding) write_text(sysctl, "1");
    restore_forwarding.clear();
  }

  PortsDutConfig config;
  std::vector<std::filesystem::path> restore_forwarding;
  netns::EmulatedNetwork network;
};

PortsTestbed::PortsTestbed(PortsDutConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  try {
    impl_->build();
  } catch (...) {
    impl_->shutdown();
    throw;
  }
}

PortsTestbed::~PortsTestbed() {
  try {
    impl_->shutdown();
  } catch (...) {
  }
}

std::string PortsTestbed::describe() const {
  const auto& c = impl_->config;
  std::string outside;
  for (Ipv4Address a : c.outside_addresses) outside += (outside.empty() ? "" : ", ") + cidr(a, c.outside_prefix);
  return c.label + " on physical ports (inside " + cidr(c.inside_address, c.inside_prefix) + " via " +
         c.inside_interface + ", outside " + outside + " via " + c.outside_interface + ")";
}

std::vector<std::pair<std::string, std::string>> PortsTestbed::dut_configuration() const {
  const auto& c = impl_->config;
  std::vector<std::pair<std::string, std::string>> out = c.configuration;
  out.emplace_back("ports.inside", c.inside_interface + " -> " + cidr(c.inside_address, c.inside_prefix));
  std::string outside;
  for (Ipv4Address a : c.outside_addresses) outside += " " + cidr(a, c.outside_prefix);
  out.emplace_back("ports.outside", c.outside_interface + " ->" + outside);
  out.emplace_back("ports.upstream-router", ref::format_ipv4(c.upstream_router));
  for (const auto side : {Side::inside, Side::outside}) {
    if (netns::L2Port* port = impl_->network.port(side)) {
      out.emplace_back(std::string("ports.") + (side == Side::inside ? "inside" : "outside") + "-dut-mac",
                       netns::format_mac(port->dut_mac()));
    }
  }
  impl_->network.describe_commands(out, "ports.note");
  return out;
}

Addressing PortsTestbed::addressing() const { return impl_->network.addressing(); }
std::optional<Duration> PortsTestbed::timer_budget() const { return impl_->config.timer_budget; }

std::size_t PortsTestbed::max_concurrency() const { return impl_->network.max_concurrency(); }

std::unique_ptr<DutSession> PortsTestbed::open_session(const TestCase& /*test*/, std::uint64_t /*seed*/) {
  return impl_->network.open_session();
}

const PortsDutConfig& PortsTestbed::config() const { return impl_->config; }
std::vector<std::filesystem::path> PortsTestbed::pcap_files() const { return impl_->network.pcap_files(); }
std::vector<std::string> PortsTestbed::diagnostics() { return impl_->network.diagnostics(); }
const std::vector<std::string>& PortsTestbed::notes() const { return impl_->network.notes(); }
std::uint64_t PortsTestbed::unclaimed_packets() const { return impl_->network.unclaimed_packets(); }
void PortsTestbed::shutdown() { impl_->shutdown(); }

}  // namespace natcert::harness
