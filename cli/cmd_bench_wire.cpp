// natcert bench --dut PROFILE (wire benchmarks). Stub: options only, the measurement lands next.
#include "cmd_bench_wire.hpp"

#include <string>

#include "common.hpp"

namespace natcert::cli {
namespace {

struct WireBenchOptions {
  std::string dut;
  double duration = 1.0;
  std::size_t repetitions = 3;
  std::string protocol = "both";
  std::string direction = "both";
  std::string out;
  bool null_dut = true;
};

WireBenchOptions& options() {
  static WireBenchOptions instance;
  return instance;
}

}  // namespace

void add_wire_bench_options(CLI::App& bench) {
  auto& o = options();
  bench.add_option("--dut", o.dut, "DUT profile to benchmark (linux-nft-*, refnat-*, refnat:SPEC, or a profile file)");
  bench.add_option("--duration", o.duration, "Seconds per trial")->check(CLI::PositiveNumber);
  bench.add_option("--repetitions", o.repetitions, "Repetitions of every measurement")->check(unsigned_integer());
  bench.add_option("--protocol", o.protocol, "udp, tcp or both")->check(CLI::IsMember({"udp", "tcp", "both"}));
  bench.add_option("--direction", o.direction, "Throughput direction: outbound, inbound or both")
      ->check(CLI::IsMember({"outbound", "inbound", "both"}));
  bench.add_option("-o,--out", o.out, "Record file (or directory: a timestamped file is written in it)");
  bench.add_flag("--null,!--no-null", o.null_dut, "Also measure the null DUT (plain forwarding) for ratios");
}

int run_wire_bench() {
  if (options().dut.empty()) throw UsageError("--dut PROFILE is required (wire benchmarks)");
  throw UsageError("wire benchmarks are not implemented yet");
}

}  // namespace natcert::cli
