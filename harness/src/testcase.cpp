#include "natcert/harness/testcase.hpp"

#include <set>
#include <stdexcept>

namespace natcert::harness {
namespace {

bool valid_id(std::string_view id) {
  if (id.empty() || id.front() == '.' || id.back() == '.') return false;
  char previous = 0;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

std::vector<std::string_view> split_patterns(std::string_view patterns) {
  std::vector<std::string_view> out;
  while (!patterns.empty()) {
    const auto comma = patterns.find(',');
    std::string_view part = patterns.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string_view::npos) break;
    patterns.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::vector<std::string> validate(const TestCase& test) {
  std::vector<std::string> problems;
  const std::string who = test.id.empty() ? std::string("(unnamed test)") : test.id;
  auto problem = [&](const std::string& text) { problems.push_back(who + ": " + text); };

  if (!valid_id(test.id)) problem("id must be lower-case [a-z0-9._-] segments separated by single dots");
  if (test.suite.empty()) {
    problem("no suite");
  } else if (test.id.rfind(test.suite + ".", 0) != 0) {
    problem("id must start with the suite name and a dot (\"" + test.suite + ".\")");
  }
  if (test.title.empty()) problem("no title");
  if (test.procedure.empty()) problem("no procedure text");
  if (!test.run) problem("no run function");
  if (test.requirements.empty()) problem("decides no requirement");
  bool above_may = false;
  for (const auto& requirement : test.requirements) {
    if (requirement.id.empty()) problem("a requirement has an empty id");
    if (requirement.level != Level::may) above_may = true;
  }
  if (test.compliant_config.empty()) problem("no compliant configuration");
  if (above_may && test.mutants.empty()) {
    problem("declares no mutant: add a reference configuration that violates the requirement");
  }
  std::set<std::string> names;
  for (const auto& mutant : test.mutants) {
    const std::string name = mutant.name.empty() ? std::string("(unnamed mutant)") : mutant.name;
    if (mutant.name.empty()) problem("a mutant has no name");
    if (!names.insert(mutant.name).second) problem("mutant name \"" + name + "\" used twice");
    if (mutant.config.empty()) problem("mutant " + name + " has no configuration");
    if (mutant.config == test.compliant_config) problem("mutant " + name + " uses the compliant configuration");
    if (mutant.expected != Verdict::fail && mutant.expected != Verdict::warn && mutant.expected != Verdict::info) {
      problem("mutant " + name + " must expect FAIL, WARN or INFO");
    }
    if (mutant.why.empty()) problem("mutant " + name + " does not say why it violates the requirement");
  }
  return problems;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative wildcard matching with backtracking to the last '*'.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

void Registry::add(TestCase test) {
  if (test.id.empty()) throw std::invalid_argument("test case without an id");
  if (find(test.id) != nullptr) throw std::invalid_argument("test id registered twice: " + test.id);
  tests_.push_back(std::move(test));
}

const TestCase* Registry::find(std::string_view id) const {
  for (const auto& test : tests_) {
    if (test.id == id) return &test;
  }
  return nullptr;
}

std::vector<const TestCase*> Registry::all() const {
  std::vector<const TestCase*> out;
  out.reserve(tests_.size());
  for (const auto& test : tests_) out.push_back(&test);
  return out;
}

std::vector<const TestCase*> Registry::suite(std::string_view suite) const {
  std::vector<const TestCase*> out;
  for (const auto& test : tests_) {
    if (test.suite == suite) out.push_back(&test);
  }
  return out;
}

std::vector<const TestCase*> Registry::select(std::string_view patterns) const {
  const auto globs = split_patterns(patterns);
  std::vector<const TestCase*> out;
  for (const auto& test : tests_) {
    bool selected = false;
    for (const auto glob : globs) {
      if (glob_match(glob, test.id)) selected = true;
      for (const auto& requirement : test.requirements) {
        if (glob_match(glob, requirement.id)) selected = true;
      }
      if (selected) break;
    }
    if (selected) out.push_back(&test);
  }
  return out;
}

std::vector<std::string> Registry::suites() const {
  std::vector<std::string> out;
  for (const auto& test : tests_) {
    bool seen = false;
    for (const auto& name : out) seen = seen || name == test.suite;
    if (!seen) out.push_back(test.suite);
  }
  return out;
}

}  // namespace natcert::harness
