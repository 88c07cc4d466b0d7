// natcert bench --dut PROFILE: RFC 9693 benchmarks of a stateful NAT on the namespace testbed.
//
// Topology (four namespaces, names "nc<pid>_<n>-dut"/"-h" so natcert's stale-namespace cleanup and
// signal handlers cover them):
//
//   inside generator  --veth-- DUT (the profile)        --veth--  outside generator
//   (Initiator)       --veth-- null DUT (forwarding only) --veth-- (Responder)
//                     ---------------- direct veth (generator alone) ----------------
//
// The Initiator sends pre-built Ethernet frames with sendmmsg on AF_PACKET (qdisc bypassed), paced by
// the clock; the Responder answers connection-establishment packets (UDP probe -> reply, TCP SYN ->
// SYN-ACK, then the Initiator's ACK) from its own AF_PACKET socket and learns the translated
// four-tuples. Throughput is counted by nftables counters in the receiving generator namespace
// (exact, no userspace receiver in the loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "natcert/harness/netns_testbed.hpp"
#include "natcert/perf/record.hpp"
#include "natcert/wirebench/search.hpp"

namespace natcert::wirebench {

// Setting up the testbed or measuring failed (not a DUT result). The CLI exits 3.
class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Settings {
  std::size_t repetitions = 3;
  double trial_seconds = 1.0;        // throughput trial length
  std::size_t connections = 10000;   // per connection-rate trial; established for throughput and tear-down
  std::size_t capacity_cap = 50000;  // the capacity search stops here ("at least")
  double setup_rate = 10000;         // connections/s for preliminary phases
  double max_rate = 0;               // upper bound of the searches; 0: what the generator alone delivers
  double precision = 0.05;           // binary search stops when within 5 %
  std::size_t max_trials = 10;       // per binary search
  bool udp = true;
  bool tcp = true;
  bool outbound = true;              // throughput inside -> outside
  bool inbound = true;               // throughput outside -> inside on established connections
  bool null_dut = true;
  bool capacity = true;
  bool teardown = true;
  std::uint64_t seed = 1;
  PortRanges ports{};
};

// One figure over the repetitions.
struct Measurement {
  std::string dut;        // "null", "generator" or the profile name
  std::string measure;    // connection_rate, throughput, teardown_rate, capacity, generator
  std::string protocol;   // udp, tcp
  std::string direction;  // outbound, inbound, direct
  std::string unit;       // "connections/s", "packets/s", "connections"
  std::vector<double> values;       // one per repetition
  std::vector<std::uint64_t> items; // connections or packets measured, per repetition
  std::vector<std::size_t> trials;  // binary-search trials, per repetition
  bool lower_bound = false;         // at the search ceiling or capacity cap: the DUT may do more
  std::vector<std::string> notes;
  double median() const;
  double min() const;
  double max() const;
};

struct Result {
  Settings settings;
  std::string dut;          // profile name
  std::string description;  // profile description
  double generator_pps = 0; // generator alone, received (median)
  std::vector<Measurement> measurements;
  const Measurement* find(const std::string& dut, const std::string& measure, const std::string& protocol,
                          const std::string& direction) const;
};

// Builds the testbed for `dut` (a netns or refnat configuration from to_netns_config), measures, tears
// everything down (also on error and on SIGINT/SIGTERM). `progress` gets one line per figure.
// Throws BenchError (setup or measurement problem) or harness::NetnsError (DUT setup failed).
Result run(const harness::NetnsDutConfig& dut, const std::string& name, const std::string& description,
           const Settings& settings, const std::function<void(const std::string&)>& progress);

// The record (Google Benchmark JSON with natcert context; docs/benchmarks.md): one entry per
// repetition plus mean/median/stddev/cv, names wire/<dut>/<measure>/<protocol>/<direction>.
perf::Record to_record(const Result& result, const std::string& revision);

// A readable table: medians, spread (min..max) and ratios to the null DUT.
std::string summary_table(const Result& result);

}  // namespace natcert::wirebench
