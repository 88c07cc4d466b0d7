// natcert bench: the wire benchmarks (cmd_bench_wire.cpp) and `natcert bench compare BASE NEW`, which
// exits 1 when a metric of NEW regresses beyond its noise against BASE.
#include <cstdio>
#include <memory>
#include <string>

#include "cmd_bench_wire.hpp"
#include "common.hpp"
#include "natcert/perf/analysis.hpp"
#include "natcert/perf/record.hpp"

namespace natcert::cli {
namespace {

constexpr const char* bench_footer = R"(Exit codes:
  natcert bench --dut PROFILE: 0 done, 2 usage or configuration error, 3 the measurement could not be completed
  natcert bench compare BASE NEW: 0 no metric regressed beyond its noise, 1 some metric regressed,
                                  2 unreadable or malformed record, or nothing in common to compare

Records are Google Benchmark JSON with natcert context keys: docs/benchmarks.md)";

struct CompareOptions {
  std::string base;
  std::string current;
  double threshold = 0.05;
  double noise_factor = 2.0;
  bool all = false;
};

perf::Record load(const std::string& path) {
  try {
    return perf::read_record(path);
  } catch (const perf::RecordError& e) {
    throw UsageError(e.what());
  }
}

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%+.1f%%", fraction * 100);
  return buffer;
}

int run_compare(const CompareOptions& options) {
  const auto base = load(options.base);
  const auto current = load(options.current);
  perf::RegressionRule rule;
  rule.threshold = options.threshold;
  rule.noise_factor = options.noise_factor;
  const auto comparison = perf::compare(base, current, rule);
  if (comparison.changes.empty()) {
    throw UsageError(options.base + " and " + options.current + " have no benchmark metric in common");
  }

  std::printf("%-60s %14s %14s %9s %9s  %s\n", "metric", "base", "new", "worse by", "allowed", "");
  std::size_t shown = 0;
  for (const auto& change : comparison.changes) {
    if (change.current.direction == perf::Direction::informational) continue;
    if (!options.all && !change.regression && !change.improvement) continue;
    ++shown;
    const auto unit = change.current.unit();
    std::printf("%-60s %14s %14s %9s %9s  %s\n", change.current.key().c_str(),
                perf::format_value(change.base.center, unit).c_str(),
                perf::format_value(change.current.center, unit).c_str(), percent(change.worsening).c_str(),
                percent(change.allowed).c_str(),
                change.regression ? "REGRESSION" : (change.improvement ? "improved" : ""));
  }
  const auto regressions = comparison.regressions();
  std::size_t judged = 0;
  for (const auto& change : comparison.changes) judged += change.current.direction != perf::Direction::informational;
  if (shown == 0) std::printf("(no metric changed beyond its noise; --all lists every metric)\n");
  for (const auto& key : comparison.only_in_base) std::printf("only in base: %s\n", key.c_str());
  for (const auto& key : comparison.only_in_new) std::printf("only in new:  %s\n", key.c_str());
  std::fprintf(stderr, "natcert bench compare: %zu of %zu metric(s) regressed beyond max(%.1f%%, %.1f x noise)\n",
               regressions, judged, options.threshold * 100, options.noise_factor);
  return regressions == 0 ? exit_ok : exit_failed;
}

}  // namespace

Command add_bench(CLI::App& root) {
  auto* bench = root.add_subcommand(
      "bench", "Wire benchmarks of a DUT (RFC 9693), and comparison of two benchmark records");
  bench->require_subcommand(0, 1);
  bench->footer(bench_footer);
  add_wire_bench_options(*bench);

  auto options = std::make_shared<CompareOptions>();
  auto* compare = bench->add_subcommand(
      "compare", "Compare two benchmark records (Google Benchmark JSON): exit 1 when NEW regresses beyond noise");
  compare->add_option("BASE", options->base, "The baseline record")->required();
  compare->add_option("NEW", options->current, "The record to judge")->required();
  compare->add_option("--threshold", options->threshold,
                      "Smallest relative worsening that counts as a regression (0.05 = 5%)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  compare->add_option("--noise-factor", options->noise_factor,
                      "A worsening must also exceed this many times the larger relative stddev of the repetitions")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  compare->add_flag("--all", options->all, "List every metric, not only those that changed beyond noise");
  compare->footer(bench_footer);

  return Command{bench, [compare, options]() -> int {
                   if (compare->parsed()) return run_compare(*options);
                   return run_wire_bench();
                 }};
}

}  // namespace natcert::cli
