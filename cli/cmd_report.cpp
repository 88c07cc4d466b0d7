// natcert report: re-renders a report directory from its report.json, evaluates it against an
// expectation file, or lists the verdict changes between two runs.
#include <cstdio>
#include <iostream>

#include "common.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::cli {
namespace {

struct ReportOptions {
  std::string directory;
  std::vector<std::string> diff;
  std::string out;
  std::string format = "junit,html,pcap";
  bool strict = false;
  std::string expect;
};

int diff_command(const ReportOptions& options) {
  const auto before = reports::read_report(options.diff[0]);
  const auto after = reports::read_report(options.diff[1]);
  const auto changes = reports::diff(before, after);
  for (const auto& change : changes) std::cout << reports::format_change(change) << "\n";
  std::cerr << "natcert report: " << changes.size() << " verdict change(s) between " << options.diff[0] << " and "
            << options.diff[1] << "\n";
  return changes.empty() ? exit_ok : exit_failed;
}

int render_command(const ReportOptions& options) {
  const reports::Formats formats = parse_format_option(options.format);
  std::optional<reports::Expectations> expectations;
  if (!options.expect.empty()) expectations = reports::load_expectations(options.expect);
  std::optional<reports::Differential> differential;
  const auto run = reports::read_report(options.directory, &differential);

  std::filesystem::path out = options.out;
  if (out.empty()) {
    std::error_code error;
    out = std::filesystem::is_directory(options.directory, error)
              ? std::filesystem::path(options.directory)
              : std::filesystem::path(options.directory).parent_path();
    if (out.empty()) out = ".";
  }
  const auto written = reports::write_report(run, out, formats, reports::JunitOptions{options.strict}, differential);
  std::size_t pcaps = 0;
  for (const auto& path : written) {
    if (path.extension() == ".pcap") {
      ++pcaps;
    } else {
      std::cerr << "natcert report: wrote " << path.string() << "\n";
    }
  }
  if (pcaps) std::cerr << "natcert report: wrote " << pcaps << " pcap file(s) in " << (out / "pcap").string() << "\n";

  if (!expectations) return exit_ok;
  const auto outcome = reports::evaluate(*expectations, run);
  for (const auto& item : outcome.unexpected) {
    std::cout << "unexpected: " << reports::format_unexpected(item, expectations->source) << "\n";
  }
  std::cerr << "natcert report: " << outcome.unexpected.size() << " unexpected verdict(s) against "
            << expectations->source << "\n";
  return outcome.exit_code();
}

int report_command(const ReportOptions& options) {
  if (!options.diff.empty()) {
    if (!options.directory.empty()) throw UsageError("give either DIR or --diff A B, not both");
    if (!options.expect.empty() || !options.out.empty()) throw UsageError("--diff takes no --expect or --out");
    return diff_command(options);
  }
  if (options.directory.empty()) throw UsageError("give a report directory (or --diff A B)");
  return render_command(options);
}

}  // namespace

Command add_report(CLI::App& root) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* app = root.add_subcommand(
      "report", "Re-render a report directory from its report.json, or list verdict changes between two runs");
  app->add_option("DIR", options->directory, "Report directory (or a report.json file) written by natcert run");
  app->add_option("--diff", options->diff,
                  "List the verdict changes from run A to run B (directories or report.json files); "
                  "exit 1 when there are changes")
      ->expected(2)
      ->type_name("A B");
  app->add_option("--out", options->out, "Write the renderings here instead of DIR");
  app->add_option("--format", options->format, "Comma-separated formats to write: json, junit, html, pcap, all")
      ->capture_default_str();
  app->add_flag("--strict", options->strict, "JUnit: a WARN is a failure");
  app->add_option("--expect", options->expect,
                  "Expectation file: list unexpected verdicts and exit 1 (3 when one is INCONCLUSIVE/ERROR)");
  return {app, [options] { return report_command(*options); }};
}

}  // namespace natcert::cli
