// natcert: the command line. One file per subcommand (cmd_*.cpp); this file wires them up and turns
// every error into one line and a documented exit code.
#include <cstdio>
#include <exception>

#include "common.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::cli {
Command add_refnat(CLI::App& root);  // cmd_refnat.cpp; keeps its own "Exit codes:" footer
Command add_fuzz(CLI::App& root);    // cmd_fuzz.cpp; keeps its own "Exit codes:" footer
Command add_bench(CLI::App& root);   // cmd_bench.cpp; keeps its own "Exit codes:" footer
Command add_dashboard(CLI::App& root);  // cmd_dashboard.cpp; keeps its own "Exit codes:" footer
}

namespace {

constexpr const char* exit_codes_footer = R"(Exit codes:
  0  every MUST passes (and every SHOULD with --strict); with --expect, every verdict is as expected;
     with --against, the DUT agrees with the reference on every compared test and behaviour fact
  1  a MUST failed (or a SHOULD with --strict); with --expect, some verdict is unexpected;
     with --against, the DUT departs from the reference
  2  usage or configuration error: bad option, unknown preset, malformed file
  3  some result is INCONCLUSIVE or ERROR: the run is incomplete (fix the setup first)

Reports and file formats: docs/report-format.md)";

int guarded(const std::function<int()>& run, const std::string& name) {
  using natcert::cli::UsageError;
  try {
    return run();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "natcert %s: %s\n", name.c_str(), natcert::reports::one_line(e.what()).c_str());
    return natcert::cli::exit_usage;
  } catch (const natcert::reports::ReportError& e) {
    std::fprintf(stderr, "natcert %s: %s\n", name.c_str(), natcert::reports::one_line(e.what()).c_str());
    return natcert::cli::exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "natcert %s: internal error: %s\n", name.c_str(), natcert::reports::one_line(e.what()).c_str());
    return natcert::cli::exit_incomplete;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"natcert: a NAT conformance harness (RFC 4787, RFC 5382, RFC 5508, RFC 7857)", "natcert"};
  app.set_version_flag("--version", natcert::cli::version_line(), "Print the version and git revision");
  app.require_subcommand(1);
  app.footer(exit_codes_footer);

  std::vector<natcert::cli::Command> commands;
  try {
    commands = {natcert::cli::add_list(app), natcert::cli::add_run(app), natcert::cli::add_report(app),
                natcert::cli::add_selftest(app), natcert::cli::add_doctor(app)};
    for (auto& command : commands) command.app->footer(exit_codes_footer);
    commands.push_back(natcert::cli::add_refnat(app));
    commands.push_back(natcert::cli::add_fuzz(app));
    commands.push_back(natcert::cli::add_bench(app));
    commands.push_back(natcert::cli::add_dashboard(app));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "natcert: internal error: %s\n", e.what());
    return natcert::cli::exit_incomplete;
  }

  // "natcert frobnicate" would otherwise read "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto& command : commands) known = known || command.app->check_name(argv[1]);
    if (!known) {
      std::fprintf(stderr, "natcert: unknown subcommand \"%s\" (list, run, report, selftest, doctor, refnat, fuzz, bench, dashboard; see natcert --help)\n",
                   natcert::reports::one_line(argv[1]).c_str());
      return natcert::cli::exit_usage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string where = "natcert";
    for (const auto& command : commands) {
      if (command.app->parsed()) where += " " + command.app->get_name();
    }
    std::fprintf(stderr, "%s: %s (see %s --help)\n", where.c_str(), natcert::reports::one_line(e.what()).c_str(),
                 where.c_str());
    return natcert::cli::exit_usage;
  }

  for (const auto& command : commands) {
    if (command.app->parsed()) return guarded(command.run, command.app->get_name());
  }
  std::fprintf(stderr, "natcert: a subcommand is required (see natcert --help)\n");
  return natcert::cli::exit_usage;
}
