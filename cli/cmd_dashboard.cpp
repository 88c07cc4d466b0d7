// natcert dashboard DIR -o dashboard.html: every benchmark record in DIR (reference micro-benchmarks
// and wire benchmarks alike) as one self-contained HTML page, one chart per metric across runs.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "common.hpp"
#include "natcert/perf/dashboard.hpp"

namespace natcert::cli {
namespace {

constexpr const char* dashboard_footer = R"(Exit codes:
  0  the page was written
  2  usage error, or DIR is missing, holds no record (*.json) or a malformed one, or the page cannot be written

Records are Google Benchmark JSON with natcert context keys: docs/benchmarks.md)";

struct DashboardOptions {
  std::string directory;
  std::string out = "dashboard.html";
  double threshold = 0.05;
  double noise_factor = 2.0;
};

int run_dashboard(const DashboardOptions& options) {
  std::vector<perf::RecordFile> runs;
  try {
    runs = perf::read_record_directory(options.directory);
  } catch (const perf::RecordError& e) {
    throw UsageError(e.what());
  }
  perf::RegressionRule rule;
  rule.threshold = options.threshold;
  rule.noise_factor = options.noise_factor;
  perf::DashboardSummary summary;
  const std::string html = perf::render_dashboard(runs, rule, &summary);
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  if (!out) throw UsageError(options.out + ": cannot write the dashboard");
  out << html;
  out.close();
  if (!out) throw UsageError(options.out + ": write failed");
  std::fprintf(stderr, "natcert dashboard: %zu run(s), %zu chart(s), %zu regression(s) flagged -> %s\n", summary.runs,
               summary.charts, summary.regressions, options.out.c_str());
  return exit_ok;
}

}  // namespace

Command add_dashboard(CLI::App& root) {
  auto options = std::make_shared<DashboardOptions>();
  auto* app = root.add_subcommand("dashboard", "Render benchmark records (a directory of *.json) as an HTML dashboard");
  app->add_option("DIR", options->directory, "Directory of benchmark records (Google Benchmark JSON)")->required();
  app->add_option("-o,--out", options->out, "The HTML page to write")->capture_default_str();
  app->add_option("--threshold", options->threshold, "Smallest relative worsening flagged as a regression")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app->add_option("--noise-factor", options->noise_factor,
                  "A flagged worsening also exceeds this many times the larger relative stddev of the repetitions")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app->footer(dashboard_footer);
  return Command{app, [options]() { return run_dashboard(*options); }};
}

}  // namespace natcert::cli
