#include "topology.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "natcert/reference/packet.hpp"
#include "natcert/wirebench/wire_bench.hpp"
#include "netns/controlled_process.hpp"
#include "netns/emulated_network.hpp"
#include "netns/namespaces.hpp"
#include "netns/process.hpp"

namespace natcert::wirebench {

namespace netns = harness::netns;

namespace {

std::optional<Mac> parse_mac_text(const std::string& text) {
  Mac mac{};
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return std::nullopt;
  for (int i = 0; i < 6; ++i) mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v[i]);
  return mac;
}

}  // namespace

Topology::Topology(const harness::NetnsDutConfig& dut, const std::string& name, bool with_null) : config_(dut) {
  if (config_.upstream_router == 0) throw BenchError("the wire benchmarks need a profile with outside.gateway");
  if (config_.inside_hosts.empty() || config_.outside_hosts.empty() || config_.outside_addresses.empty()) {
    throw BenchError("the profile names no inside host, outside host or outside address");
  }
  dut_.name = name;
  dut_.stateful = true;
  null_.name = "null";
  direct_.name = "generator";
  try {
    netns::remove_stale_namespaces();
    main_ = std::make_unique<netns::NamespacePair>(config_.command_timeout);
    other_ = std::make_unique<netns::NamespacePair>(config_.command_timeout);
    build_generators(with_null);
    build_dut();
    if (with_null) build_null();
  } catch (...) {
    shutdown();
    throw;
  }
}

Topology::~Topology() {
  try {
    shutdown();
  } catch (...) {
  }
}

const std::string& Topology::inside_ns() const { return main_->harness(); }
const std::string& Topology::outside_ns() const { return other_->harness(); }

void Topology::build_generators(bool with_null) {
  const auto timeout = config_.command_timeout;
  const std::vector<std::string> quiet = {"sysctl", "-q", "-e", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                                          "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=0",
                                          "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"};
  for (const std::string* ns : {&main_->dut(), &main_->harness(), &other_->dut(), &other_->harness()}) {
    netns::run_checked(netns::in_namespace(*ns, quiet), timeout, "configuring namespace " + *ns);
  }
  const std::string& in = main_->harness();
  const std::string& out = other_->harness();
  auto ip = [&](const std::string& ns, netns::Argv argv, const std::string& purpose) {
    argv.insert(argv.begin(), {"ip", "-n", ns});
    netns::run_checked(argv, timeout, purpose);
  };
  ip(in, {"link", "add", "gi-dut", "type", "veth", "peer", "name", config_.inside_interface, "netns", main_->dut()},
     "creating the DUT's inside link");
  ip(out, {"link", "add", "go-dut", "type", "veth", "peer", "name", config_.outside_interface, "netns", main_->dut()},
     "creating the DUT's outside link");
  if (with_null) {
    ip(in, {"link", "add", "gi-null", "type", "veth", "peer", "name", config_.inside_interface, "netns", other_->dut()},
       "creating the null DUT's inside link");
    ip(out, {"link", "add", "go-null", "type", "veth", "peer", "name", config_.outside_interface, "netns", other_->dut()},
       "creating the null DUT's outside link");
  }
  ip(in, {"link", "add", "gi-dir", "type", "veth", "peer", "name", "go-dir", "netns", out}, "creating the direct link");
  const std::string host = netns::cidr(config_.inside_hosts.front(), config_.inside_prefix);
  const std::string gateway = netns::cidr(config_.upstream_router, config_.outside_prefix);
  std::vector<std::string> names = {"dut", "dir"};
  if (with_null) names.insert(names.begin() + 1, "null");
  for (const auto& suffix : names) {
    ip(in, {"link", "set", "dev", "gi-" + suffix, "up"}, "bringing up gi-" + suffix);
    ip(out, {"link", "set", "dev", "go-" + suffix, "up"}, "bringing up go-" + suffix);
    if (suffix == "dir") continue;
    // The generators' kernels answer ARP for the inside host and the upstream router (the refnat
    // daemon resolves them); noprefixroute: the same address sits on two links.
    ip(in, {"address", "add", host, "dev", "gi-" + suffix, "noprefixroute"}, "addressing gi-" + suffix);
    ip(out, {"address", "add", gateway, "dev", "go-" + suffix, "noprefixroute"}, "addressing go-" + suffix);
  }
  // Every UDP/TCP packet reaching a generator is counted per link and dropped before conntrack, so the
  // generators' kernels neither answer (ICMP, RST) nor track the test traffic.
  for (const auto& [ns, prefix] : {std::pair{in, std::string("gi-")}, std::pair{out, std::string("go-")}}) {
    std::string rules = "table ip natbench {\n";
    for (const auto& suffix : names) rules += "  counter " + suffix + " { }\n";
    rules += "  chain pre {\n    type filter hook prerouting priority -300; policy accept;\n";
    for (const auto& suffix : names) {
      rules += "    iifname \"" + prefix + suffix + "\" meta l4proto { tcp, udp } counter name \"" + suffix + "\" drop\n";
    }
    rules += "  }\n}\n";
    const auto file = std::filesystem::temp_directory_path() / (ns + "-natbench.nft");
    std::ofstream(file) << rules;
    const auto result = netns::run_command(netns::in_namespace(ns, {"nft", "-f", file.string()}), timeout);
    std::filesystem::remove(file);
    if (!result.ok()) throw BenchError("nft in the generator namespace failed: " + result.output);
  }
  dut_.inside_interface = "gi-dut";
  dut_.outside_interface = "go-dut";
  dut_.counter = "dut";
  null_.inside_interface = "gi-null";
  null_.outside_interface = "go-null";
  null_.counter = "null";
  direct_.inside_interface = "gi-dir";
  direct_.outside_interface = "go-dir";
  direct_.counter = "dir";
  for (Path* path : {&dut_, &direct_}) {
    path->inside_gen_mac = interface_mac(in, path->inside_interface);
    path->outside_gen_mac = interface_mac(out, path->outside_interface);
  }
  if (with_null) {
    null_.inside_gen_mac = interface_mac(in, null_.inside_interface);
    null_.outside_gen_mac = interface_mac(out, null_.outside_interface);
  }
  direct_.dut_inside_mac = direct_.outside_gen_mac;  // inside -> outside goes straight to go-dir
  direct_.dut_outside_mac = direct_.inside_gen_mac;
}

void Topology::run_dut_commands(const std::vector<harness::NetnsCommand>& commands, bool fatal) {
  const harness::NetnsNames names{main_->dut(), main_->harness(), config_.inside_interface, config_.outside_interface};
  for (const auto& command : commands) {
    const auto argv = netns::in_namespace(main_->dut(), netns::expand_argv(config_, command.argv, names));
    const auto timeout = command.timeout.count() > 0 ? command.timeout : config_.command_timeout;
    const auto result = netns::run_command(argv, timeout);
    if (!result.ok() && fatal && !command.may_fail) {
      throw harness::NetnsError("DUT command failed: " + netns::command_line(argv) + ": " + result.output);
    }
  }
}

void Topology::build_dut() {
  const auto timeout = config_.command_timeout;
  const std::string& dut = main_->dut();
  const std::string forwarding = config_.kernel_addressing ? "net.ipv4.ip_forward=1" : "net.ipv4.ip_forward=0";
  netns::run_checked(netns::in_namespace(dut, {"sysctl", "-q", "-e", "-w", forwarding,
                                               "net.ipv4.conf.all.send_redirects=0",
                                               "net.ipv4.conf.default.send_redirects=0"}),
                     timeout, "configuring the DUT namespace");
  auto ip = [&](netns::Argv argv, const std::string& purpose) {
    argv.insert(argv.begin(), {"ip", "-n", dut});
    netns::run_checked(argv, timeout, purpose);
  };
  ip({"link", "set", "dev", "lo", "up"}, "bringing up lo");
  if (config_.kernel_addressing) {
    ip({"address", "add", netns::cidr(config_.inside_address, config_.inside_prefix), "dev", config_.inside_interface},
       "addressing the DUT inside interface");
    for (auto address : config_.outside_addresses) {
      ip({"address", "add", netns::cidr(address, config_.outside_prefix), "dev", config_.outside_interface},
         "addressing the DUT outside interface");
    }
  }
  ip({"link", "set", "dev", config_.inside_interface, "up"}, "bringing up the DUT inside interface");
  ip({"link", "set", "dev", config_.outside_interface, "up"}, "bringing up the DUT outside interface");
  if (config_.kernel_addressing) {
    ip({"route", "add", "default", "via", ref::format_ipv4(config_.upstream_router), "dev", config_.outside_interface},
       "adding the DUT's default route");
  }
  dut_.dut_inside_mac = interface_mac(dut, config_.inside_interface);
  dut_.dut_outside_mac = interface_mac(dut, config_.outside_interface);
  if (config_.dut_process) {
    const harness::NetnsNames names{dut, main_->harness(), config_.inside_interface, config_.outside_interface};
    const auto log = std::filesystem::temp_directory_path() / (main_->prefix() + "-dut-process.log");
    process_ = std::make_unique<netns::ControlledProcess>(
        netns::in_namespace(dut, netns::expand_argv(config_, config_.dut_process->argv, names)), log);
    if (config_.dut_process->stdio_control) {
      const std::string ready = process_->wait_ready(config_.dut_process->ready_timeout);
      auto mac_after = [&](const std::string& key) -> std::optional<Mac> {
        const auto at = ready.find(key);
        if (at == std::string::npos) return std::nullopt;
        return parse_mac_text(ready.substr(at + key.size(), 17));
      };
      if (auto mac = mac_after("inside-mac=")) dut_.dut_inside_mac = *mac;
      if (auto mac = mac_after("outside-mac=")) dut_.dut_outside_mac = *mac;
    }
  }
  run_dut_commands(config_.setup, true);
}

void Topology::build_null() {
  const auto timeout = config_.command_timeout;
  const std::string& dut = other_->dut();
  netns::run_checked(netns::in_namespace(dut, {"sysctl", "-q", "-e", "-w", "net.ipv4.ip_forward=1",
                                               "net.ipv4.conf.all.send_redirects=0",
                                               "net.ipv4.conf.default.send_redirects=0"}),
                     timeout, "configuring the null DUT namespace");
  auto ip = [&](netns::Argv argv, const std::string& purpose) {
    argv.insert(argv.begin(), {"ip", "-n", dut});
    netns::run_checked(argv, timeout, purpose);
  };
  ip({"link", "set", "dev", "lo", "up"}, "bringing up lo");
  ip({"address", "add", netns::cidr(config_.inside_address, config_.inside_prefix), "dev", config_.inside_interface},
     "addressing the null DUT");
  ip({"address", "add", netns::cidr(config_.outside_addresses.front(), config_.outside_prefix), "dev",
      config_.outside_interface},
     "addressing the null DUT");
  ip({"link", "set", "dev", config_.inside_interface, "up"}, "bringing up the null DUT");
  ip({"link", "set", "dev", config_.outside_interface, "up"}, "bringing up the null DUT");
  ip({"route", "add", "default", "via", ref::format_ipv4(config_.upstream_router), "dev", config_.outside_interface},
     "adding the null DUT's default route");
  null_.dut_inside_mac = interface_mac(dut, config_.inside_interface);
  null_.dut_outside_mac = interface_mac(dut, config_.outside_interface);
}

std::chrono::duration<double> Topology::reset(const Path& path) {
  const auto start = std::chrono::steady_clock::now();
  if (!path.stateful) return std::chrono::duration<double>(0);
  if (process_ && config_.dut_process && config_.dut_process->stdio_control) {
    std::string problem;
    if (!process_->request("reset", "ok reset", config_.dut_process->reply_timeout, problem)) {
      throw BenchError("DUT process reset failed: " + problem);
    }
  }
  run_dut_commands(config_.reset, false);
  return std::chrono::steady_clock::now() - start;
}

std::uint64_t Topology::received(const Path& path, bool at_inside) {
  const std::string& ns = at_inside ? inside_ns() : outside_ns();
  const auto result =
      netns::run_command(netns::in_namespace(ns, {"nft", "list", "counter", "ip", "natbench", path.counter}),
                         config_.command_timeout);
  const auto at = result.output.find("packets ");
  if (!result.ok() || at == std::string::npos) throw BenchError("cannot read the nft counter: " + result.output);
  return std::stoull(result.output.substr(at + 8));
}

void Topology::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (process_) process_->stop();
  if (main_) {
    try {
      run_dut_commands(config_.teardown, false);
    } catch (...) {
    }
  }
  if (process_) {
    std::error_code ec;
    std::filesystem::remove(process_->log_file(), ec);
  }
  process_.reset();
  if (other_) other_->destroy();
  if (main_) main_->destroy();
}

}  // namespace natcert::wirebench
