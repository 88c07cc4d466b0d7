// natcert bench --dut PROFILE: RFC 9693 wire benchmarks of a namespace DUT and the null DUT (bench/wire).
#include "cmd_bench_wire.hpp"

#include <ctime>
#include <filesystem>
#include <string>

#include "common.hpp"
#include "natcert/harness/version.hpp"
#include "natcert/reference/config.hpp"
#include "natcert/wirebench/wire_bench.hpp"

namespace natcert::cli {
namespace {

struct WireBenchOptions {
  std::string dut;
  wirebench::Settings settings;
  std::string protocol = "both";
  std::string direction = "both";
  std::string out = "natcert-bench";
  bool quiet = false;
};

WireBenchOptions& options() {
  static WireBenchOptions instance;
  return instance;
}

harness::DutProfile load_bench_profile(const std::string& text) {
  const std::string shown = reports::one_line(text);
  harness::DutProfile profile;
  try {
    if (text.rfind("refnat:", 0) == 0) {
      const std::string spec = text.substr(7);
      ref::NatConfig config;
      std::string error;
      if (spec.empty() || !ref::make_config(spec, config, error)) {
        throw UsageError("--dut \"" + shown + "\": " + (spec.empty() ? std::string("names no configuration") : reports::one_line(error)));
      }
      profile = harness::load_profile(std::filesystem::path(NATCERT_PROFILE_DIR) / "refnat-rfc-strict.toml");
      profile.name = text;
      profile.description = "natcert reference NAT daemon, spec " + spec;
      profile.refnat->spec = spec;
      return profile;
    }
    const std::filesystem::path bundled = std::filesystem::path(NATCERT_PROFILE_DIR) / (text + ".toml");
    if (text.find('/') == std::string::npos && std::filesystem::is_regular_file(bundled)) return harness::load_profile(bundled);
    if (std::filesystem::is_regular_file(text)) return harness::load_profile(text);
  } catch (const harness::ProfileError& e) {
    throw UsageError(reports::one_line(e.what()));
  }
  throw UsageError("unknown DUT profile \"" + shown + "\": use a bundled profile (" + profile_names() +
                   "), refnat:PRESET[,key=value...] or a profile file");
}

std::filesystem::path record_path(const std::string& out, const std::string& profile) {
  std::filesystem::path path(out);
  if (path.extension() == ".json" && !std::filesystem::is_directory(path)) return path;
  std::string name = profile;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  return path / ("wire-" + name + "-" + stamp + ".json");
}

}  // namespace

void add_wire_bench_options(CLI::App& bench) {
  auto& o = options();
  auto& s = o.settings;
  bench.add_option("--dut", o.dut, "DUT profile: linux-nft-*, refnat-*, refnat:SPEC, or a profile file (kind netns or refnat)");
  bench.add_option("--duration", s.trial_seconds, "Seconds per throughput trial")
      ->check(CLI::Range(0.01, 600.0))->capture_default_str();
  bench.add_option("--repetitions", s.repetitions, "Repetitions of every measurement (median and spread)")
      ->check(CLI::Range(1, 100))->capture_default_str();
  bench.add_option("--protocol", o.protocol, "udp, tcp or both")->check(CLI::IsMember({"udp", "tcp", "both"}))->capture_default_str();
  bench.add_option("--direction", o.direction, "Throughput direction: outbound, inbound or both")
      ->check(CLI::IsMember({"outbound", "inbound", "both"}))->capture_default_str();
  bench.add_option("-o,--out", o.out, "Record file (*.json), or directory for wire-<profile>-<UTC time>.json")->capture_default_str();
  bench.add_flag("--null,!--no-null", s.null_dut, "Measure the null DUT (plain forwarding) too, for the ratios");
  bench.add_option("--connections", s.connections, "Connections per establishment trial, and established for throughput/tear-down")
      ->check(CLI::Range(10, 1000000))->capture_default_str();
  bench.add_option("--capacity-cap", s.capacity_cap, "The capacity search stops at this many connections")
      ->check(CLI::Range(100, 4000000))->capture_default_str();
  bench.add_option("--setup-rate", s.setup_rate, "Connections/s of the preliminary phases")
      ->check(CLI::Range(100.0, 1e7))->capture_default_str();
  bench.add_option("--max-rate", s.max_rate, "Upper bound of the binary searches (0: the generator alone's rate)")
      ->check(CLI::Range(0.0, 1e8))->capture_default_str();
  bench.add_option("--precision", s.precision, "Binary searches stop within this relative gap")
      ->check(CLI::Range(0.001, 0.5))->capture_default_str();
  bench.add_option("--max-trials", s.max_trials, "Trials per binary search")->check(CLI::Range(1, 64))->capture_default_str();
  bench.add_flag("!--no-capacity", s.capacity, "Skip the connection-table capacity measurement");
  bench.add_flag("!--no-teardown", s.teardown, "Skip the tear-down rate measurement");
  bench.add_option("--seed", s.seed, "Seed of the RFC 4814 pseudorandom ports")->check(unsigned_integer());
  bench.add_flag("-q,--quiet", o.quiet, "No progress lines");
}

int run_wire_bench() {
  auto& o = options();
  if (o.dut.empty()) throw UsageError("--dut PROFILE is required (the DUT to benchmark; see natcert bench --help)");
  o.settings.udp = o.protocol != "tcp";
  o.settings.tcp = o.protocol != "udp";
  o.settings.outbound = o.direction != "inbound";
  o.settings.inbound = o.direction != "outbound";
  const auto profile = load_bench_profile(o.dut);
  if (profile.kind == harness::DutKind::ports) {
    throw UsageError("--dut " + reports::one_line(o.dut) + ": wire benchmarks run on the namespace testbed (kind netns or refnat), not kind \"ports\"");
  }
  if (!harness::netns_privileged()) {
    throw UsageError("--dut " + reports::one_line(o.dut) +
                     " needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to build its network namespaces: run it as root");
  }
  harness::NetnsDutConfig config;
  try {
    config = harness::to_netns_config(profile, harness::RefnatProgram{std::filesystem::read_symlink("/proc/self/exe")});
  } catch (const harness::ProfileError& e) {
    throw UsageError(reports::one_line(e.what()));
  }
  const auto path = record_path(o.out, profile.name);
  auto progress = [&](const std::string& line) {
    if (!o.quiet) std::fprintf(stderr, "natcert bench: %s\n", line.c_str());
  };
  wirebench::Result result;
  try {
    result = wirebench::run(config, profile.name, profile.description, o.settings, progress);
  } catch (const harness::NetnsError& e) {
    std::fprintf(stderr, "natcert bench: the DUT could not be set up: %s\n", reports::one_line(e.what()).c_str());
    return exit_incomplete;
  } catch (const wirebench::BenchError& e) {
    std::fprintf(stderr, "natcert bench: %s\n", reports::one_line(e.what()).c_str());
    return exit_incomplete;
  }
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  perf::write_record(wirebench::to_record(result, std::string(harness::git_revision())), path);
  std::printf("%s", wirebench::summary_table(result).c_str());
  std::printf("record: %s\n", path.string().c_str());
  return exit_ok;
}

}  // namespace natcert::cli
