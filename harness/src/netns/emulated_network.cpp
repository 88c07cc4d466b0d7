#include "netns/emulated_network.hpp"

#include <algorithm>
#include <fstream>
#include <thread>

#include "natcert/harness/verdict.hpp"
#include "natcert/reference/packet.hpp"

namespace natcert::harness::netns {

namespace {

constexpr std::size_t kSlices = 32;

class WireSession final : public DutSession {
 public:
  WireSession(EmulatedNetwork& network, std::size_t slice, Clock::time_point start, std::vector<std::string> diagnostics)
      : network_(network), slice_(slice), start_(start), diagnostics_(std::move(diagnostics)) {}
  ~WireSession() override { network_.end_session(slice_); }

  void send(Side side, Bytes packet) override {
    if (auto failure = network_.dut_failure()) throw TestAborted(Verdict::inconclusive, *failure);
    network_.demux().note_sent(slice_, packet);
    L2Port* port = network_.port(side);
    if (!port) throw TestAborted(Verdict::inconclusive, "the wire testbed is shut down");
    try {
      port->send_ipv4(packet);
    } catch (const NetnsError& e) {
      throw TestAborted(Verdict::inconclusive, std::string("cannot reach the DUT: ") + e.what());
    }
  }

  std::optional<Captured> receive(Side side, const Matcher& matcher, Duration window) override {
    const auto deadline = Clock::now() + std::max(window, Duration::zero());
    auto captured = network_.demux().receive(slice_, side, matcher, deadline);
    if (!captured) {
      // Nothing came: say why when the DUT is gone rather than letting the test guess.
      if (auto failure = network_.dut_failure()) throw TestAborted(Verdict::inconclusive, *failure);
    }
    return captured;
  }

  void wait(Duration duration) override {
    if (duration > Duration::zero()) std::this_thread::sleep_for(duration);
  }

  Duration now() const override { return std::chrono::duration_cast<Duration>(Clock::now() - start_); }

  std::vector<Captured> drain(Side side) override { return network_.demux().drain(slice_, side); }

  std::vector<std::string> take_diagnostics() override {
    std::vector<std::string> out;
    out.swap(diagnostics_);
    return out;
  }

  PortRanges ports() const override { return network_.demux().ports(slice_); }

 private:
  EmulatedNetwork& network_;
  std::size_t slice_;
  Clock::time_point start_;
  std::vector<std::string> diagnostics_;
};

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::string cidr(Ipv4Address address, unsigned prefix) { return ref::format_ipv4(address) + "/" + std::to_string(prefix); }

void validate_wire_config(const WireDutConfig& c, const std::string& inside_interface,
                          const std::string& outside_interface, const std::string& testbed) {
  auto fail = [&](const std::string& what) { throw NetnsError(testbed + " configuration: " + what); };
  if (inside_interface.empty() || inside_interface.size() > 15) fail("inside interface name must be 1-15 characters");
  if (outside_interface.empty() || outside_interface.size() > 15) fail("outside interface name must be 1-15 characters");
  if (inside_interface == outside_interface) fail("inside and outside interfaces need different names");
  if (c.inside_prefix < 1 || c.inside_prefix > 30 || c.outside_prefix < 1 || c.outside_prefix > 30) fail("prefix lengths must be 1-30");
  if (c.outside_addresses.empty()) fail("the DUT needs an outside address");
  if (c.inside_hosts.empty() || c.outside_hosts.empty()) fail("at least one inside and one outside host are needed");
  const Ipv4Address mask = ~Ipv4Address{0} << (32 - c.inside_prefix);
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

Argv expand_argv(const WireDutConfig& config, const Argv& argv, const NetnsNames& names) {
  if (config.expand) {
    try {
      return config.expand(argv, names);
    } catch (const std::exception& e) {
      throw NetnsError("expanding command `" + command_line(argv) + "`: " + e.what());
    }
  }
  Argv out = argv;
  for (auto& arg : out) {
    replace_all(arg, "{inside_if}", names.inside_if);
    replace_all(arg, "{outside_if}", names.outside_if);
    replace_all(arg, "{dut_netns}", names.dut_netns);
    replace_all(arg, "{ns}", names.dut_netns);
    replace_all(arg, "{outside_address}", ref::format_ipv4(config.outside_addresses.front()));
  }
  return out;
}

EmulatedNetwork::EmulatedNetwork(const WireDutConfig& config, DutAccess access, std::string file_prefix)
    : config_(config), access_(std::move(access)), file_prefix_(std::move(file_prefix)), demux_(kSlices) {}

EmulatedNetwork::~EmulatedNetwork() { close_ports(); }

std::filesystem::path EmulatedNetwork::file_path(const std::string& suffix) const {
  if (!config_.pcap_directory) return {};
  return *config_.pcap_directory / (file_prefix_ + "-" + suffix);
}

void EmulatedNetwork::start(L2PortConfig inside, L2PortConfig outside) {
  if (config_.pcap_directory) {
    std::error_code ec;
    std::filesystem::create_directories(*config_.pcap_directory, ec);
    if (ec) throw NetnsError("cannot create " + config_.pcap_directory->string() + ": " + ec.message());
    pcaps_[0] = std::make_unique<PcapWriter>(file_path("inside.pcap").string());
    pcaps_[1] = std::make_unique<PcapWriter>(file_path("outside.pcap").string());
  }
  ports_[0] = std::make_unique<L2Port>(std::move(inside), pcaps_[0].get(),
                                       [this](Clock::time_point at, Packet p) { on_captured(Side::inside, at, std::move(p)); });
  ports_[1] = std::make_unique<L2Port>(std::move(outside), pcaps_[1].get(),
                                       [this](Clock::time_point at, Packet p) { on_captured(Side::outside, at, std::move(p)); });
}

std::chrono::milliseconds EmulatedNetwork::limit(const NetnsCommand& command) const {
  return command.timeout.count() > 0 ? command.timeout : config_.command_timeout;
}

std::optional<std::string> EmulatedNetwork::run(const NetnsCommand& command, const std::string& purpose, bool tolerant) {
  const Argv argv = access_.command_argv(command);
  if (!tolerant && !command.may_fail) {
    run_checked(argv, limit(command), purpose);
    return std::nullopt;
  }
  const auto result = run_command(argv, limit(command));
  if (result.ok()) return std::nullopt;
  return purpose + ": `" + command_line(argv) + "` " +
         (result.timed_out ? std::string("timed out") : "exited with status " + std::to_string(result.exit_code)) +
         (result.output.empty() ? std::string() : ": " + result.output);
}

std::vector<std::string> EmulatedNetwork::reset_notes() {
  std::vector<std::string> notes;
  if (access_.reset_process) {
    for (auto& note : access_.reset_process()) notes.push_back(std::move(note));
  }
  for (const auto& command : config_.reset) {
    try {
      if (auto note = run(command, "DUT reset", true)) notes.push_back(std::move(*note));
    } catch (const std::exception& e) {
      notes.push_back(std::string("DUT reset: ") + e.what());
    }
  }
  return notes;
}

void EmulatedNetwork::run_setup() {
  for (const auto& command : config_.setup) {
    if (auto note = run(command, "DUT setup", false)) notes_.push_back(std::move(*note));
  }
  for (auto& note : reset_notes()) notes_.push_back(std::move(note));
}

// Which captured packets are "to an emulated host": on the inside, any address of the inside prefix
// but the DUT's own (tests may address inside hosts beyond the ARP-answered ones); on the outside,
// everything the DUT sends to the upstream router (any unicast address that is not the DUT's own),
// since tests may pick outside addresses of their own (RFC 4787 REQ-7 uses one in the inside prefix).
bool EmulatedNetwork::emulated_destination(Side side, Ipv4Address destination) const {
  if (destination >= 0xE0000000u || destination == 0) return false;  // multicast, broadcast, unspecified
  if (side == Side::inside) {
    const Ipv4Address mask = ~Ipv4Address{0} << (32 - config_.inside_prefix);
    return (destination & mask) == (config_.inside_address & mask) && destination != config_.inside_address &&
           (destination & ~mask) != ~mask;  // not the subnet broadcast
  }
  const auto& own = config_.outside_addresses;
  return std::find(own.begin(), own.end(), destination) == own.end();
}

void EmulatedNetwork::on_captured(Side side, Clock::time_point at, Packet bytes) {
  if (bytes.size() < 20) return;
  if (!emulated_destination(side, ref::load32(&bytes[16]))) return;  // in the pcap only
  demux_.deliver(side, at, std::move(bytes));
}

std::unique_ptr<DutSession> EmulatedNetwork::open_session() {
  std::vector<std::string> diagnostics;
  const auto start = Clock::now();
  std::optional<std::size_t> slice;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    if (shut_down_) throw NetnsError("the wire testbed has been shut down");
    // Resets run only while no other session is active: they would clear a running test's mappings.
    if (active_ == 0) diagnostics = reset_notes();
    slice = demux_.open(start);
    if (slice) ++active_;
  }
  if (!slice) throw NetnsError("no free port slice: more concurrent sessions than the testbed allows");
  return std::make_unique<WireSession>(*this, *slice, start, std::move(diagnostics));
}

void EmulatedNetwork::end_session(std::size_t slice) {
  std::lock_guard<std::mutex> lock(session_mutex_);
  demux_.close(slice);
  --active_;
}

std::optional<std::string> EmulatedNetwork::dut_failure() const {
  return access_.failure ? access_.failure() : std::nullopt;
}

std::vector<std::string> EmulatedNetwork::diagnostics() {
  std::vector<std::string> out;
  if (access_.process_diagnostics) out = access_.process_diagnostics();
  for (const auto& command : config_.diagnostics) {
    try {
      const Argv argv = access_.command_argv(command);
      const auto result = run_command(argv, limit(command));
      out.push_back("$ " + command_line(argv) + "\n" + result.output +
                    (result.ok() ? "" : "(status " + std::to_string(result.exit_code) + ")\n"));
    } catch (const std::exception& e) {
      out.push_back("$ " + command_line(command.argv) + "\n" + e.what() + "\n");
    }
  }
  return out;
}

bool EmulatedNetwork::begin_shutdown() {
  std::lock_guard<std::mutex> lock(session_mutex_);
  if (shut_down_) return false;
  shut_down_ = true;
  return true;
}

void EmulatedNetwork::write_diagnostics_file() {
  if (!config_.pcap_directory || (config_.diagnostics.empty() && !access_.process_diagnostics)) return;
  try {
    std::ofstream file(file_path("diagnostics.txt"));
    for (const auto& text : diagnostics()) file << text << "\n";
  } catch (...) {
  }
}

void EmulatedNetwork::run_teardown() {
  for (const auto& command : config_.teardown) {
    try {
      run(command, "DUT teardown", true);
    } catch (...) {
    }
  }
}

void EmulatedNetwork::close_ports() {
  for (auto& port : ports_) port.reset();
  for (auto& pcap : pcaps_) pcap.reset();
}

std::vector<std::filesystem::path> EmulatedNetwork::pcap_files() const {
  if (!config_.pcap_directory) return {};
  return {file_path("inside.pcap"), file_path("outside.pcap")};
}

Addressing EmulatedNetwork::addressing() const {
  Addressing a;
  a.inside = config_.inside_hosts;
  a.outside = config_.outside_hosts;
  a.third_party = config_.third_party;
  a.nat_external = config_.nat_external;
  a.declared_algs = config_.declared_algs;
  a.nat_inside = config_.inside_address;
  return a;
}

std::size_t EmulatedNetwork::max_concurrency() const { return std::min(config_.max_concurrency, kSlices); }

void EmulatedNetwork::describe_commands(std::vector<std::pair<std::string, std::string>>& out,
                                        const std::string& note_key) const {
  auto commands = [&](const char* key, const std::vector<NetnsCommand>& list) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string line;
      try {
        line = command_line(access_.command_argv(list[i]));
      } catch (const std::exception&) {
        line = command_line(list[i].argv);
      }
      out.emplace_back(std::string(key) + "." + std::to_string(i + 1), line);
    }
  };
  commands("setup", config_.setup);
  commands("reset", config_.reset);
  for (std::size_t i = 0; i < notes_.size(); ++i) out.emplace_back(note_key + "." + std::to_string(i + 1), notes_[i]);
}

}  // namespace natcert::harness::netns
