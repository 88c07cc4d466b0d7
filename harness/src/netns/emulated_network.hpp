// The emulated network around a wire DUT, shared by NetnsTestbed and PortsTestbed: the emulated hosts
// on the two L2 ports facing the DUT, the per-side pcaps, the capture demultiplexer, sessions (reset
// while no other session runs, the DUT's liveness checked on every send) and the DUT commands'
// execution. What differs between the testbeds (where commands run, a DUT process) comes in DutAccess.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "natcert/harness/testbed.hpp"
#include "natcert/harness/wire_dut_config.hpp"
#include "netns/demux.hpp"
#include "netns/l2host.hpp"
#include "netns/pcap.hpp"
#include "netns/process.hpp"

namespace natcert::harness::netns {

struct DutAccess {
  // The final argv of a configured command (placeholders expanded; `ip netns exec` prefixed for a
  // namespace DUT). May throw; the message becomes the command's error.
  std::function<Argv(const NetnsCommand&)> command_argv;
  // Before the reset commands (a DUT process's "reset"); returns notes for the test's log.
  std::function<std::vector<std::string>()> reset_process{};
  // Before the diagnostics commands' output (a DUT process's "stats").
  std::function<std::vector<std::string>()> process_diagnostics{};
  // Why the DUT can no longer answer (its process exited), nullopt while it can.
  std::function<std::optional<std::string>()> failure{};
};

// Checks the addressing plan and the interface names; NetnsError "<testbed> configuration: ...".
void validate_wire_config(const WireDutConfig& config, const std::string& inside_interface,
                          const std::string& outside_interface, const std::string& testbed);

// An argv with placeholders expanded: config.expand when set, else the built-in names ({inside_if},
// {outside_if}, {dut_netns} or {ns}, {outside_address}). Throws NetnsError.
Argv expand_argv(const WireDutConfig& config, const Argv& argv, const NetnsNames& names);

std::string cidr(Ipv4Address address, unsigned prefix);

class EmulatedNetwork {
 public:
  // `file_prefix` names the files written next to the pcaps: "<prefix>-inside.pcap", ...
  EmulatedNetwork(const WireDutConfig& config, DutAccess access, std::string file_prefix);
  ~EmulatedNetwork();
  EmulatedNetwork(const EmulatedNetwork&) = delete;
  EmulatedNetwork& operator=(const EmulatedNetwork&) = delete;

  // Opens the pcaps and both ports: the emulated hosts answer ARP from now on. Throws NetnsError.
  void start(L2PortConfig inside, L2PortConfig outside);
  L2Port* port(Side side) { return ports_[side == Side::inside ? 0 : 1].get(); }

  // Runs a configured command. Fatal (NetnsError) unless `tolerant` or may_fail; returns a note for
  // the log when it failed but was tolerated.
  std::optional<std::string> run(const NetnsCommand& command, const std::string& purpose, bool tolerant);
  // The setup commands, then the reset (process and commands); tolerated failures become notes.
  void run_setup();
  std::vector<std::string> diagnostics();
  std::unique_ptr<DutSession> open_session();

  // Marks the network shut down (no new sessions); false when it already was.
  bool begin_shutdown();
  // Writes "<prefix>-diagnostics.txt" next to the pcaps (when there are diagnostics to run).
  void write_diagnostics_file();
  void run_teardown();
  // Closes the ports (their sockets hold the interfaces) and the pcaps.
  void close_ports();

  std::vector<std::filesystem::path> pcap_files() const;
  std::filesystem::path file_path(const std::string& suffix) const;  // "<dir>/<prefix>-<suffix>"; empty without a directory
  std::uint64_t unclaimed_packets() const { return demux_.unclaimed(); }
  void add_note(std::string note) { notes_.push_back(std::move(note)); }
  const std::vector<std::string>& notes() const { return notes_; }
  Addressing addressing() const;
  std::size_t max_concurrency() const;
  // "setup.N" / "reset.N" = command lines as they run, and "<note_key>.N" = the notes.
  void describe_commands(std::vector<std::pair<std::string, std::string>>& out, const std::string& note_key) const;

  // For sessions.
  std::optional<std::string> dut_failure() const;
  Demux& demux() { return demux_; }
  void end_session(std::size_t slice);

 private:
  std::chrono::milliseconds limit(const NetnsCommand& command) const;
  std::vector<std::string> reset_notes();
  bool emulated_destination(Side side, Ipv4Address destination) const;
  void on_captured(Side side, Clock::time_point at, Packet bytes);

  const WireDutConfig& config_;
  DutAccess access_;
  std::string file_prefix_;
  std::unique_ptr<PcapWriter> pcaps_[2];
  std::unique_ptr<L2Port> ports_[2];
  Demux demux_;
  std::mutex session_mutex_;
  std::size_t active_ = 0;
  bool shut_down_ = false;
  std::vector<std::string> notes_;  // tolerated setup/reset failures, host warnings
};

}  // namespace natcert::harness::netns
