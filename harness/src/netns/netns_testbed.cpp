// NetnsTestbed: builds the topology (namespaces.cpp), starts the DUT process (controlled_process.cpp)
// and hands the rest (emulated hosts, captures, sessions, commands) to EmulatedNetwork.
#include "natcert/harness/netns_testbed.hpp"

#include <algorithm>

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "natcert/harness/testcase.hpp"
#include "netns/controlled_process.hpp"
#include "netns/emulated_network.hpp"
#include "netns/namespaces.hpp"
#include "netns/process.hpp"

namespace natcert::harness {

using netns::Argv;
using netns::cidr;

namespace {

constexpr const char* kHarnessInside = "h-in";
constexpr const char* kHarnessOutside = "h-out";

netns::Mac read_mac(const std::string& ns, const std::string& interface, std::chrono::milliseconds timeout) {
  const auto result = netns::run_checked({"ip", "-n", ns, "-o", "link", "show", "dev", interface}, timeout,
                                         "reading the MAC address of " + interface);
  const auto at = result.output.find("link/ether ");
  if (at != std::string::npos) {
    if (auto mac = netns::parse_mac(result.output.substr(at + 11, 17))) return *mac;
  }
  throw NetnsError("no MAC address in `ip link show dev " + interface + "` output: " + result.output);
}

}  // namespace

bool netns_privileged() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return geteuid() == 0;
  auto has = [&](int cap) { return (data[cap / 32].effective & (1u << (cap % 32))) != 0; };
  return has(CAP_NET_ADMIN) && has(CAP_SYS_ADMIN);
}

void netns_emergency_cleanup() noexcept { netns::cleanup_registered(); }

std::vector<std::string> remove_stale_netns() { return netns::remove_stale_namespaces(); }

std::vector<std::string> natcert_namespaces() {
  std::vector<std::string> out;
  for (const auto& name : netns::list_namespaces()) {
    if (netns::owner_pid(name) > 0) out.push_back(name);
  }
  return out;
}

struct NetnsTestbed::Impl {
  explicit Impl(NetnsDutConfig c)
      : config(std::move(c)),
        network(config,
                netns::DutAccess{[this](const NetnsCommand& command) { return in_dut_namespace(command); },
                                 [this] { return reset_process(); }, [this] { return process_stats(); },
                                 [this] { return process_failure(); }},
                "netns") {}

  NetnsNames names() const {
    return NetnsNames{namespaces ? namespaces->dut() : std::string(), namespaces ? namespaces->harness() : std::string(),
                      config.inside_interface, config.outside_interface};
  }

  Argv expanded(const Argv& argv) const { return netns::expand_argv(config, argv, names()); }

  Argv in_dut_namespace(const NetnsCommand& command) const {
    if (!namespaces) throw NetnsError("the DUT namespace does not exist");
    return netns::in_namespace(namespaces->dut(), expanded(command.argv));
  }

  // The DUT process's control channel (nothing without one).
  bool controlled() const { return process && config.dut_process && config.dut_process->stdio_control; }
  std::vector<std::string> reset_process() {
    if (!controlled()) return {};
    std::string problem;
    if (process->request("reset", "ok reset", config.dut_process->reply_timeout, problem)) return {};
    return {"DUT process reset: " + problem};
  }
  std::vector<std::string> process_stats() {
    if (!controlled()) return {};
    std::string problem;
    if (auto stats = process->request("stats", "stats", config.dut_process->reply_timeout, problem)) {
      return {"$ (DUT process) stats\n" + *stats + "\n"};
    }
    return {"$ (DUT process) stats\n" + problem + "\n"};
  }
  std::optional<std::string> process_failure() {
    if (!process) return std::nullopt;
    return process->failure();
  }

  void ip_dut(Argv argv, const std::string& purpose) {
    argv.insert(argv.begin(), {"ip", "-n", namespaces->dut()});
    netns::run_checked(argv, config.command_timeout, purpose);
  }
  void ip_harness(Argv argv, const std::string& purpose) {
    argv.insert(argv.begin(), {"ip", "-n", namespaces->harness()});
    netns::run_checked(argv, config.command_timeout, purpose);
  }

  void build() {
    netns::validate_wire_config(config, config.inside_interface, config.outside_interface, "namespace testbed");
    if (!netns_privileged()) {
      throw NetnsError("the namespace testbed needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN): run as root");
    }
    netns::remove_stale_namespaces();
    namespaces = std::make_unique<netns::NamespacePair>(config.command_timeout);
    const std::string& dut = namespaces->dut();
    const std::string& h = namespaces->harness();
    const auto timeout = config.command_timeout;

    // IPv6 off before any link exists (new links inherit "default"): no router solicitations, no DAD.
    netns::run_checked(netns::in_namespace(h, {"sysctl", "-q", "-e", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                                               "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=0"}),
                       timeout, "configuring the harness namespace");
    // Without kernel addressing a DUT process owns the addresses: the kernel must neither forward nor answer.
    const std::string forwarding = config.kernel_addressing ? "net.ipv4.ip_forward=1" : "net.ipv4.ip_forward=0";
    netns::run_checked(
        netns::in_namespace(dut, {"sysctl", "-q", "-e", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                                  "net.ipv6.conf.default.disable_ipv6=1", forwarding,
                                  "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                                  "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0"}),
        timeout, "configuring the DUT namespace");

    ip_harness({"link", "add", kHarnessInside, "type", "veth", "peer", "name", config.inside_interface, "netns", dut},
               "creating the inside veth pair");
    ip_harness({"link", "add", kHarnessOutside, "type", "veth", "peer", "name", config.outside_interface, "netns", dut},
               "creating the outside veth pair");
    if (config.outside_mtu) {
      const std::string mtu = std::to_string(*config.outside_mtu);
      ip_dut({"link", "set", "dev", config.outside_interface, "mtu", mtu}, "setting the outside MTU");
      ip_harness({"link", "set", "dev", kHarnessOutside, "mtu", mtu}, "setting the outside MTU");
    }
    ip_harness({"link", "set", "dev", "lo", "up"}, "bringing up lo (harness)");
    ip_harness({"link", "set", "dev", kHarnessInside, "up"}, "bringing up the harness inside end");
    ip_harness({"link", "set", "dev", kHarnessOutside, "up"}, "bringing up the harness outside end");
    ip_dut({"link", "set", "dev", "lo", "up"}, "bringing up lo (DUT)");
    if (config.kernel_addressing) {
      ip_dut({"address", "add", cidr(config.inside_address, config.inside_prefix), "dev", config.inside_interface},
             "addressing the DUT inside interface");
      for (Ipv4Address address : config.outside_addresses) {
        ip_dut({"address", "add", cidr(address, config.outside_prefix), "dev", config.outside_interface},
               "addressing the DUT outside interface");
      }
    }
    ip_dut({"link", "set", "dev", config.inside_interface, "up"}, "bringing up the DUT inside interface");
    ip_dut({"link", "set", "dev", config.outside_interface, "up"}, "bringing up the DUT outside interface");
    if (config.kernel_addressing && config.upstream_router != 0) {
      ip_dut({"route", "add", "default", "via", ref::format_ipv4(config.upstream_router), "dev", config.outside_interface},
             "adding the DUT's default route");
    }

    netns::L2PortConfig inside_port;
    inside_port.side = Side::inside;
    inside_port.ns = h;
    inside_port.interface = kHarnessInside;
    inside_port.arp_answers = config.inside_hosts;
    inside_port.dut_address = config.inside_address;
    inside_port.dut_mac = read_mac(dut, config.inside_interface, timeout);
    netns::L2PortConfig outside_port;
    outside_port.side = Side::outside;
    outside_port.ns = h;
    outside_port.interface = kHarnessOutside;
    outside_port.arp_answers = config.outside_hosts;
    if (config.upstream_router != 0) outside_port.arp_answers.push_back(config.upstream_router);
    if (config.third_party) outside_port.arp_answers.push_back(*config.third_party);
    outside_port.dut_address = config.outside_addresses.front();
    outside_port.dut_mac = read_mac(dut, config.outside_interface, timeout);

    if (config.dut_process) start_process(inside_port, outside_port);
    network.start(std::move(inside_port), std::move(outside_port));
    network.run_setup();
  }

  // Starts the DUT process once the links are up; its ready line may name the MACs it answers with.
  void start_process(netns::L2PortConfig& inside_port, netns::L2PortConfig& outside_port) {
    const DutProcess& spec = *config.dut_process;
    if (spec.argv.empty()) throw NetnsError("namespace testbed configuration: the DUT process has no command");
    std::filesystem::path log = process_log_path();
    process = std::make_unique<netns::ControlledProcess>(netns::in_namespace(namespaces->dut(), expanded(spec.argv)), log);
    if (!spec.stdio_control) return;
    const std::string ready = process->wait_ready(spec.ready_timeout);
    auto mac_after = [&](const std::string& key) -> std::optional<netns::Mac> {
      const auto at = ready.find(key);
      if (at == std::string::npos) return std::nullopt;
      return netns::parse_mac(ready.substr(at + key.size(), 17));
    };
    if (auto mac = mac_after("inside-mac=")) inside_port.dut_mac = *mac;
    if (auto mac = mac_after("outside-mac=")) outside_port.dut_mac = *mac;
  }

  // Next to the pcaps when there is a directory; else a temporary file removed at shutdown.
  std::filesystem::path process_log_path() {
    if (config.pcap_directory) {
      std::error_code ec;
      std::filesystem::create_directories(*config.pcap_directory, ec);
      if (ec) throw NetnsError("cannot create " + config.pcap_directory->string() + ": " + ec.message());
      return *config.pcap_directory / "netns-dut-process.log";
    }
    temporary_log = std::filesystem::temp_directory_path() / (namespaces->prefix() + "-dut-process.log");
    return *temporary_log;
  }

  void shutdown() {
    if (!network.begin_shutdown()) return;
    if (namespaces) {
      network.write_diagnostics_file();
      if (process) process->stop();
      network.run_teardown();
    }
    network.close_ports();  // the sockets hold the harness namespace
    if (process) process->stop();
    if (namespaces) namespaces->destroy();
    if (temporary_log) {
      std::error_code ec;
      std::filesystem::remove(*temporary_log, ec);
    }
  }

  NetnsDutConfig config;
  std::unique_ptr<netns::NamespacePair> namespaces;
  std::unique_ptr<netns::ControlledProcess> process;
  std::optional<std::filesystem::path> temporary_log;
  netns::EmulatedNetwork network;
};

NetnsTestbed::NetnsTestbed(NetnsDutConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  try {
    impl_->build();
  } catch (...) {
    impl_->shutdown();
    throw;
  }
}

NetnsTestbed::~NetnsTestbed() {
  try {
    impl_->shutdown();
  } catch (...) {
  }
}

std::string NetnsTestbed::describe() const {
  const auto& c = impl_->config;
  std::string outside;
  for (Ipv4Address a : c.outside_addresses) outside += (outside.empty() ? "" : ", ") + cidr(a, c.outside_prefix);
  return c.label + " in network namespace " + (impl_->namespaces ? impl_->namespaces->dut() : std::string("?")) +
         " (inside " + cidr(c.inside_address, c.inside_prefix) + " on " + c.inside_interface + ", outside " + outside +
         " on " + c.outside_interface + ")";
}

std::vector<std::pair<std::string, std::string>> NetnsTestbed::dut_configuration() const {
  const auto& c = impl_->config;
  std::vector<std::pair<std::string, std::string>> out = c.configuration;
  out.emplace_back("netns.dut", impl_->namespaces ? impl_->namespaces->dut() : "");
  out.emplace_back("netns.inside", c.inside_interface + " " + cidr(c.inside_address, c.inside_prefix));
  std::string outside;
  for (Ipv4Address a : c.outside_addresses) outside += " " + cidr(a, c.outside_prefix);
  out.emplace_back("netns.outside", c.outside_interface + outside);
  out.emplace_back("netns.upstream-router", ref::format_ipv4(c.upstream_router));
  if (c.outside_mtu) out.emplace_back("netns.outside-mtu", std::to_string(*c.outside_mtu));
  if (!c.kernel_addressing) out.emplace_back("netns.kernel-addressing", "off (the DUT process owns the addresses)");
  if (c.dut_process) {
    std::string line;
    try {
      line = netns::command_line(impl_->expanded(c.dut_process->argv));
    } catch (const std::exception&) {
      line = netns::command_line(c.dut_process->argv);
    }
    out.emplace_back("netns.dut-process", line);
  }
  if (impl_->namespaces) impl_->network.describe_commands(out, "netns.setup-note");
  return out;
}

Addressing NetnsTestbed::addressing() const { return impl_->network.addressing(); }

std::optional<Duration> NetnsTestbed::timer_budget() const { return impl_->config.timer_budget; }

std::size_t NetnsTestbed::max_concurrency() const { return impl_->network.max_concurrency(); }

std::unique_ptr<DutSession> NetnsTestbed::open_session(const TestCase& /*test*/, std::uint64_t /*seed*/) {
  return impl_->network.open_session();
}

const NetnsDutConfig& NetnsTestbed::config() const { return impl_->config; }
const std::string& NetnsTestbed::dut_namespace() const { return impl_->namespaces->dut(); }
const std::string& NetnsTestbed::harness_namespace() const { return impl_->namespaces->harness(); }

std::vector<std::filesystem::path> NetnsTestbed::pcap_files() const { return impl_->network.pcap_files(); }
std::vector<std::string> NetnsTestbed::diagnostics() { return impl_->network.diagnostics(); }
std::uint64_t NetnsTestbed::unclaimed_packets() const { return impl_->network.unclaimed_packets(); }
void NetnsTestbed::shutdown() { impl_->shutdown(); }

}  // namespace natcert::harness
