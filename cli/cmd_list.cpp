// natcert list: the registry as a table or as JSON; reference presets with --presets.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "natcert/reference/config.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::cli {
namespace {

using Json = nlohmann::ordered_json;

struct ListOptions {
  std::vector<std::string> suites;
  std::vector<std::string> tests;
  std::vector<std::string> skip;
  bool json = false;
  bool presets = false;
};

std::string level_name(harness::Level level) { return std::string(harness::to_string(level)); }

Json test_json(const harness::TestCase& test) {
  Json t = Json::object();
  t["id"] = test.id;
  t["suite"] = test.suite;
  t["title"] = test.title;
  t["requirements"] = Json::array();
  for (const auto& requirement : test.requirements) {
    t["requirements"].push_back(Json{{"id", requirement.id}, {"level", level_name(requirement.level)}});
  }
  t["procedure"] = test.procedure;
  t["rfc_quote"] = test.rfc_quote;
  t["compliant_config"] = test.compliant_config;
  t["mutants"] = Json::array();
  for (const auto& mutant : test.mutants) {
    t["mutants"].push_back(Json{{"name", mutant.name},
                                {"config", mutant.config},
                                {"expected", std::string(harness::to_string(mutant.expected))},
                                {"why", mutant.why}});
  }
  t["needs"] = Json{{"inside_hosts", test.needs.inside_hosts},
                    {"outside_hosts", test.needs.outside_hosts},
                    {"external_addresses", test.needs.external_addresses},
                    {"third_party_host", test.needs.third_party_host},
                    {"virtual_time", test.needs.virtual_time}};
  return t;
}

int list_presets(bool json) {
  if (json) {
    Json out = Json::object();
    out["schema"] = "natcert-presets";
    out["schema_version"] = 1;
    out["presets"] = Json::array();
    for (const auto& preset : ref::presets()) {
      Json overrides = Json::object();
      for (const auto& [key, value] : preset.overrides) overrides[std::string(key)] = std::string(value);
      out["presets"].push_back(Json{{"name", std::string(preset.name)},
                                    {"dut", "reference:" + std::string(preset.name)},
                                    {"description", std::string(preset.description)},
                                    {"overrides", overrides}});
    }
    std::cout << out.dump(2) << "\n";
    return exit_ok;
  }
  for (const auto& preset : ref::presets()) {
    std::cout << "reference:" << preset.name << "\n    " << preset.description << "\n";
  }
  return exit_ok;
}

int run_list(const ListOptions& options) {
  if (options.presets) return list_presets(options.json);
  const bool filtered = !options.suites.empty() || !options.tests.empty() || !options.skip.empty();
  auto tests = select_tests(options.suites, options.tests);
  skip_tests(tests, options.skip);
  if (options.json) {
    Json out = Json::object();
    out["schema"] = "natcert-list";
    out["schema_version"] = 1;
    out["suites"] = Json::array();
    for (const auto& suite : registry().suites()) out["suites"].push_back(suite);
    out["tests"] = Json::array();
    for (const auto* test : tests) out["tests"].push_back(test_json(*test));
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return exit_ok;
  }
  if (tests.empty()) {
    std::cout << (filtered ? "no test matches\n" : "no test is registered\n");
    return exit_ok;
  }
  std::size_t width = 0;
  for (const auto* test : tests) width = std::max(width, test->id.size());
  std::string suite;
  for (const auto* test : tests) {
    if (test->suite != suite) {
      suite = test->suite;
      std::cout << (suite == tests.front()->suite ? "" : "\n") << suite << "\n";
    }
    std::string requirements;
    for (const auto& requirement : test->requirements) {
      requirements += (requirements.empty() ? "" : ", ") + requirement.id + " " + level_name(requirement.level);
    }
    std::cout << "  " << test->id << std::string(width - test->id.size() + 2, ' ') << test->title << "\n"
              << "  " << std::string(width + 2, ' ') << requirements << "\n";
  }
  std::cout << "\n" << tests.size() << " test(s)\n";
  return exit_ok;
}

}  // namespace

Command add_list(CLI::App& root) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* app = root.add_subcommand("list", "List the registered tests (or the reference DUT presets)");
  app->add_option("--suite", options->suites, "Only tests of this suite (repeatable), e.g. rfc4787");
  app->add_option("--test", options->tests,
                  "Only tests whose id or requirement id matches one of these comma-separated globs");
  app->add_option("--skip", options->skip,
                  "Leave out tests whose id or requirement id matches one of these comma-separated globs");
  app->add_flag("--json", options->json, "Print JSON (schema natcert-list: id, suite, title, requirements, "
                                          "procedure, mutants, ...)");
  app->add_flag("--presets", options->presets, "List the reference DUT presets usable as --dut reference:PRESET");
  return {app, [options] { return run_list(*options); }};
}

}  // namespace natcert::cli
