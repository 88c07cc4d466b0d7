// The benchmark testbed: the DUT and the null DUT between the two generator namespaces, plus a direct
// link for the generator alone (see wire_bench.hpp for the picture).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "natcert/harness/netns_testbed.hpp"
#include "packet_io.hpp"

namespace natcert::harness::netns {
class NamespacePair;
class ControlledProcess;
}  // namespace natcert::harness::netns

namespace natcert::wirebench {

// One way through the testbed: the generator interfaces facing a DUT (or each other) and the MACs
// frames carry.
struct Path {
  std::string name;              // "null", the profile name, or "generator"
  std::string inside_interface;  // in the inside generator namespace
  std::string outside_interface; // in the outside generator namespace
  std::string counter;           // nft counter name in both generator namespaces
  Mac inside_gen_mac{}, outside_gen_mac{};
  Mac dut_inside_mac{}, dut_outside_mac{};  // where the generators send
  bool stateful = false;
};

class Topology {
 public:
  Topology(const harness::NetnsDutConfig& dut, const std::string& name, bool with_null);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const std::string& inside_ns() const;
  const std::string& outside_ns() const;
  const Path& dut() const { return dut_; }
  const Path& null_dut() const { return null_; }
  const Path& direct() const { return direct_; }
  const harness::NetnsDutConfig& config() const { return config_; }

  // Empties the DUT's connection table (the profile's reset commands, the daemon's "reset"); returns
  // how long that took. No-op on the null DUT.
  std::chrono::duration<double> reset(const Path& path);
  // Packets of UDP/TCP counted by the nft counter of `path` at the receiving generator.
  std::uint64_t received(const Path& path, bool at_inside);
  void shutdown();

 private:
  void build_generators(bool with_null);
  void build_dut();
  void build_null();
  void run_dut_commands(const std::vector<harness::NetnsCommand>& commands, bool fatal);

  harness::NetnsDutConfig config_;
  std::unique_ptr<harness::netns::NamespacePair> main_;   // -dut: the DUT, -h: inside generator
  std::unique_ptr<harness::netns::NamespacePair> other_;  // -dut: the null DUT, -h: outside generator
  std::unique_ptr<harness::netns::ControlledProcess> process_;
  Path dut_, null_, direct_;
  bool shut_down_ = false;
};

}  // namespace natcert::wirebench
