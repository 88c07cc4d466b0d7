// NetnsTestbed and its sessions: builds the topology (namespaces.cpp), emulates hosts at L2
// (l2host.cpp), routes captures to sessions (demux.cpp) and runs profile commands (process.cpp).
#include "natcert/harness/netns_testbed.hpp"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <thread>

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "natcert/harness/testcase.hpp"
#include "natcert/harness/verdict.hpp"
#include "netns/demux.hpp"
#include "netns/l2host.hpp"
#include "netns/namespaces.hpp"
#include "netns/pcap.hpp"
#include "netns/process.hpp"

namespace natcert::harness {

using netns::Argv;
using netns::Clock;

namespace {

constexpr const char* kHarnessInside = "h-in";
constexpr const char* kHarnessOutside = "h-out";
constexpr std::size_t kSlices = 32;

std::string cidr(Ipv4Address address, unsigned prefix) { return ref::format_ipv4(address) + "/" + std::to_string(prefix); }

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

netns::Mac read_mac(const std::string& ns, const std::string& interface, std::chrono::milliseconds timeout) {
  const auto result = netns::run_checked({"ip", "-n", ns, "-o", "link", "show", "dev", interface}, timeout,
                                         "reading the MAC address of " + interface);
  const auto at = result.output.find("link/ether ");
  if (at != std::string::npos) {
    if (auto mac = netns::parse_mac(result.output.substr(at + 11, 17))) return *mac;
  }
  throw NetnsError("no MAC address in `ip link show dev " + interface + "` output: " + result.output);
}

void validate(const NetnsDutConfig& c) {
  auto fail = [](const std::string& what) { throw NetnsError("namespace testbed configuration: " + what); };
  if (c.inside_interface.empty() || c.inside_interface.size() > 15) fail("inside interface name must be 1-15 characters");
  if (c.outside_interface.empty() || c.outside_interface.size() > 15) fail("outside interface name must be 1-15 characters");
  if (c.inside_interface == c.outside_interface) fail("inside and outside interfaces need different names");
  if (c.inside_prefix < 1 || c.inside_prefix > 30 || c.outside_prefix < 1 || c.outside_prefix > 30) fail("prefix lengths must be 1-30");
  if (c.outside_addresses.empty()) fail("the DUT needs an outside address");
  if (c.inside_hosts.empty() || c.outside_hosts.empty()) fail("at least one inside and one outside host are needed");
  const Ipv4Address mask = c.inside_prefix == 0 ? 0 : ~Ipv4Address{0} << (32 - c.inside_prefix);
  for (Ipv4Address host : c.inside_hosts) {
    if ((host & mask) != (c.inside_address & mask) || host == c.inside_address) {
      fail("inside host " + ref::format_ipv4(host) + " is not on the DUT's inside prefix " + cidr(c.inside_address, c.inside_prefix));
    }
  }
  const Ipv4Address outside_mask = ~Ipv4Address{0} << (32 - c.outside_prefix);
  if (c.upstream_router != 0 && (c.upstream_router & outside_mask) != (c.outside_addresses.front() & outside_mask)) {
    fail("upstream router " + ref::format_ipv4(c.upstream_router) + " is not on the DUT's outside prefix");
  }
  if (c.max_concurrency == 0) fail("max_concurrency must be at least 1");
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
  explicit Impl(NetnsDutConfig c) : config(std::move(c)), demux(kSlices) {}

  NetnsNames names() const {
    return NetnsNames{namespaces ? namespaces->dut() : std::string(), namespaces ? namespaces->harness() : std::string(),
                      config.inside_interface, config.outside_interface};
  }

  // A command's argv with placeholders expanded (the profile's expander, else the built-in names).
  Argv expanded(const NetnsCommand& command) const {
    if (config.expand) {
      try {
        return config.expand(command.argv, names());
      } catch (const std::exception& e) {
        throw NetnsError("expanding command `" + netns::command_line(command.argv) + "`: " + e.what());
      }
    }
    Argv out = command.argv;
    for (auto& arg : out) {
      replace_all(arg, "{inside_if}", config.inside_interface);
      replace_all(arg, "{outside_if}", config.outside_interface);
      replace_all(arg, "{dut_netns}", namespaces->dut());
      replace_all(arg, "{ns}", namespaces->dut());
      replace_all(arg, "{outside_address}", ref::format_ipv4(config.outside_addresses.front()));
    }
    return out;
  }

  std::chrono::milliseconds limit(const NetnsCommand& command) const {
    return command.timeout.count() > 0 ? command.timeout : config.command_timeout;
  }

  // Runs a profile command in the DUT namespace. Fatal (NetnsError) unless `tolerant` or may_fail;
  // returns a note for the log when it failed but was tolerated.
  std::optional<std::string> in_dut(const NetnsCommand& command, const std::string& purpose, bool tolerant) {
    const Argv argv = netns::in_namespace(namespaces->dut(), expanded(command));
    if (!tolerant && !command.may_fail) {
      netns::run_checked(argv, limit(command), purpose);
      return std::nullopt;
    }
    const auto result = netns::run_command(argv, limit(command));
    if (result.ok()) return std::nullopt;
    return purpose + ": `" + netns::command_line(argv) + "` " +
           (result.timed_out ? std::string("timed out") : "exited with status " + std::to_string(result.exit_code)) +
           (result.output.empty() ? std::string() : ": " + result.output);
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
    validate(config);
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
    netns::run_checked(
        netns::in_namespace(dut, {"sysctl", "-q", "-e", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                                  "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=1",
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
    ip_dut({"address", "add", cidr(config.inside_address, config.inside_prefix), "dev", config.inside_interface},
           "addressing the DUT inside interface");
    for (Ipv4Address address : config.outside_addresses) {
      ip_dut({"address", "add", cidr(address, config.outside_prefix), "dev", config.outside_interface},
             "addressing the DUT outside interface");
    }
    ip_dut({"link", "set", "dev", config.inside_interface, "up"}, "bringing up the DUT inside interface");
    ip_dut({"link", "set", "dev", config.outside_interface, "up"}, "bringing up the DUT outside interface");
    if (config.upstream_router != 0) {
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

    if (config.pcap_directory) {
      std::error_code ec;
      std::filesystem::create_directories(*config.pcap_directory, ec);
      if (ec) throw NetnsError("cannot create " + config.pcap_directory->string() + ": " + ec.message());
      pcaps[0] = std::make_unique<netns::PcapWriter>((*config.pcap_directory / "netns-inside.pcap").string());
      pcaps[1] = std::make_unique<netns::PcapWriter>((*config.pcap_directory / "netns-outside.pcap").string());
    }
    ports[0] = std::make_unique<netns::L2Port>(inside_port, pcaps[0].get(),
                                               [this](Clock::time_point at, Packet p) { on_captured(Side::inside, at, std::move(p)); });
    ports[1] = std::make_unique<netns::L2Port>(outside_port, pcaps[1].get(),
                                               [this](Clock::time_point at, Packet p) { on_captured(Side::outside, at, std::move(p)); });

    for (const auto& command : config.setup) {
      if (auto note = in_dut(command, "DUT setup", false)) setup_notes.push_back(std::move(*note));
    }
    for (const auto& command : config.reset) {
      if (auto note = in_dut(command, "DUT reset", true)) setup_notes.push_back(std::move(*note));
    }
  }

  // Which captured packets are "to an emulated host": on the inside, any address of the inside prefix
  // but the DUT's own (tests may address inside hosts beyond the ARP-answered ones); on the outside,
  // everything the DUT sends to the upstream router (any unicast address that is not the DUT's own),
  // since tests may pick outside addresses of their own (RFC 4787 REQ-7 uses one in the inside prefix).
  bool emulated_destination(Side side, Ipv4Address destination) const {
    if (destination >= 0xE0000000u || destination == 0) return false;  // multicast, broadcast, unspecified
    if (side == Side::inside) {
      const Ipv4Address mask = ~Ipv4Address{0} << (32 - config.inside_prefix);
      return (destination & mask) == (config.inside_address & mask) && destination != config.inside_address &&
             (destination & ~mask) != ~mask;  // not the subnet broadcast
    }
    const auto& own = config.outside_addresses;
    return std::find(own.begin(), own.end(), destination) == own.end();
  }

  void on_captured(Side side, Clock::time_point at, Packet bytes) {
    if (bytes.size() < 20) return;
    if (!emulated_destination(side, ref::load32(&bytes[16]))) return;  // in the pcap only
    demux.deliver(side, at, std::move(bytes));
  }

  // Opening and closing sessions; reset commands run only while no other session is active.
  std::optional<std::size_t> begin_session(Clock::time_point start, std::vector<std::string>& diagnostics) {
    std::lock_guard<std::mutex> lock(session_mutex);
    if (shut_down) throw NetnsError("the namespace testbed has been shut down");
    if (active == 0) {
      for (const auto& command : config.reset) {
        try {
          if (auto note = in_dut(command, "DUT reset", true)) diagnostics.push_back(std::move(*note));
        } catch (const std::exception& e) {
          diagnostics.push_back(std::string("DUT reset: ") + e.what());
        }
      }
    }
    auto slice = demux.open(start);
    if (slice) ++active;
    return slice;
  }
  void end_session(std::size_t slice) {
    std::lock_guard<std::mutex> lock(session_mutex);
    demux.close(slice);
    --active;
  }

  std::vector<std::string> run_diagnostics() {
    std::vector<std::string> out;
    if (!namespaces) return out;
    for (const auto& command : config.diagnostics) {
      try {
        const Argv argv = netns::in_namespace(namespaces->dut(), expanded(command));
        const auto result = netns::run_command(argv, limit(command));
        out.push_back("$ " + netns::command_line(argv) + "\n" + result.output +
                      (result.ok() ? "" : "(status " + std::to_string(result.exit_code) + ")\n"));
      } catch (const std::exception& e) {
        out.push_back("$ " + netns::command_line(command.argv) + "\n" + e.what() + "\n");
      }
    }
    return out;
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(session_mutex);
      if (shut_down) return;
      shut_down = true;
    }
    if (namespaces) {
      if (!config.diagnostics.empty() && config.pcap_directory) {
        try {
          std::ofstream file(*config.pcap_directory / "netns-diagnostics.txt");
          for (const auto& text : run_diagnostics()) file << text << "\n";
        } catch (...) {
        }
      }
      for (const auto& command : config.teardown) {
        try {
          in_dut(command, "DUT teardown", true);
        } catch (...) {
        }
      }
    }
    for (auto& port : ports) port.reset();  // closes the sockets, which hold the harness namespace
    if (namespaces) namespaces->destroy();
    for (auto& pcap : pcaps) pcap.reset();
  }

  NetnsDutConfig config;
  std::unique_ptr<netns::NamespacePair> namespaces;
  std::unique_ptr<netns::PcapWriter> pcaps[2];
  std::unique_ptr<netns::L2Port> ports[2];
  netns::Demux demux;
  std::mutex session_mutex;
  std::size_t active = 0;
  bool shut_down = false;
  std::vector<std::string> setup_notes;  // tolerated setup/reset failures
};

namespace {

class NetnsSession final : public DutSession {
 public:
  NetnsSession(NetnsTestbed::Impl& impl, std::size_t slice, Clock::time_point start, std::vector<std::string> diagnostics)
      : impl_(impl), slice_(slice), start_(start), diagnostics_(std::move(diagnostics)) {}
  ~NetnsSession() override { impl_.end_session(slice_); }

  void send(Side side, Bytes packet) override {
    impl_.demux.note_sent(slice_, packet);
    auto& port = impl_.ports[side == Side::inside ? 0 : 1];
    if (!port) throw TestAborted(Verdict::inconclusive, "the namespace testbed is shut down");
    try {
      port->send_ipv4(packet);
    } catch (const NetnsError& e) {
      throw TestAborted(Verdict::inconclusive, std::string("cannot reach the DUT: ") + e.what());
    }
  }

  std::optional<Captured> receive(Side side, const Matcher& matcher, Duration window) override {
    const auto deadline = Clock::now() + std::max(window, Duration::zero());
    return impl_.demux.receive(slice_, side, matcher, deadline);
  }

  void wait(Duration duration) override {
    if (duration > Duration::zero()) std::this_thread::sleep_for(duration);
  }

  Duration now() const override { return std::chrono::duration_cast<Duration>(Clock::now() - start_); }

  std::vector<Captured> drain(Side side) override { return impl_.demux.drain(slice_, side); }

  std::vector<std::string> take_diagnostics() override {
    std::vector<std::string> out;
    out.swap(diagnostics_);
    return out;
  }

  PortRanges ports() const override { return impl_.demux.ports(slice_); }

 private:
  NetnsTestbed::Impl& impl_;
  std::size_t slice_;
  Clock::time_point start_;
  std::vector<std::string> diagnostics_;
};

}  // namespace

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
  auto commands = [&](const char* key, const std::vector<NetnsDutConfig::Command>& list) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string line;
      try {
        line = netns::command_line(impl_->expanded(list[i]));
      } catch (const std::exception&) {
        line = netns::command_line(list[i].argv);
      }
      out.emplace_back(std::string(key) + "." + std::to_string(i + 1), line);
    }
  };
  if (impl_->namespaces) {
    commands("setup", c.setup);
    commands("reset", c.reset);
  }
  for (std::size_t i = 0; i < impl_->setup_notes.size(); ++i) {
    out.emplace_back("netns.setup-note." + std::to_string(i + 1), impl_->setup_notes[i]);
  }
  return out;
}

Addressing NetnsTestbed::addressing() const {
  const auto& c = impl_->config;
  Addressing a;
  a.inside = c.inside_hosts;
  a.outside = c.outside_hosts;
  a.third_party = c.third_party;
  a.nat_external = c.nat_external;
  a.nat_inside = c.inside_address;
  return a;
}

std::size_t NetnsTestbed::max_concurrency() const { return std::min(impl_->config.max_concurrency, kSlices); }

std::unique_ptr<DutSession> NetnsTestbed::open_session(const TestCase& /*test*/, std::uint64_t /*seed*/) {
  std::vector<std::string> diagnostics;
  const auto start = Clock::now();
  auto slice = impl_->begin_session(start, diagnostics);
  if (!slice) throw NetnsError("no free port slice: more concurrent sessions than the testbed allows");
  return std::make_unique<NetnsSession>(*impl_, *slice, start, std::move(diagnostics));
}

const NetnsDutConfig& NetnsTestbed::config() const { return impl_->config; }
const std::string& NetnsTestbed::dut_namespace() const { return impl_->namespaces->dut(); }
const std::string& NetnsTestbed::harness_namespace() const { return impl_->namespaces->harness(); }

std::vector<std::filesystem::path> NetnsTestbed::pcap_files() const {
  std::vector<std::filesystem::path> out;
  if (impl_->config.pcap_directory) {
    out.push_back(*impl_->config.pcap_directory / "netns-inside.pcap");
    out.push_back(*impl_->config.pcap_directory / "netns-outside.pcap");
  }
  return out;
}

std::vector<std::string> NetnsTestbed::diagnostics() { return impl_->run_diagnostics(); }
std::uint64_t NetnsTestbed::unclaimed_packets() const { return impl_->demux.unclaimed(); }
void NetnsTestbed::shutdown() { impl_->shutdown(); }

}  // namespace natcert::harness
