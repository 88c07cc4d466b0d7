// Verdict changes between two runs (`natcert report --diff A B`).
#include <map>
#include <set>

#include "common.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {

std::vector<VerdictChange> diff(const RunResult& before, const RunResult& after) {
  std::map<std::string, const TestResult*, std::less<>> old_tests;
  for (const auto& test : before.tests) old_tests.emplace(test.id, &test);  // first wins on duplicates

  std::vector<VerdictChange> changes;
  std::set<std::string, std::less<>> seen;
  for (const auto& test : after.tests) {
    if (!seen.insert(test.id).second) continue;
    const auto it = old_tests.find(test.id);
    if (it == old_tests.end()) {
      changes.push_back({test.id, std::nullopt, test.verdict, test.reason});
    } else if (it->second->verdict != test.verdict) {
      changes.push_back({test.id, it->second->verdict, test.verdict, test.reason});
    }
  }
  for (const auto& test : before.tests) {
    if (seen.contains(test.id)) continue;
    seen.insert(test.id);
    changes.push_back({test.id, test.verdict, std::nullopt, test.reason});
  }
  return changes;
}

std::string format_change(const VerdictChange& change) {
  std::string line = change.test_id + ": ";
  if (!change.before && change.after) {
    line += "new, " + std::string(harness::to_string(*change.after));
  } else if (change.before && !change.after) {
    line += "gone (was " + std::string(harness::to_string(*change.before)) + ")";
  } else if (change.before && change.after) {
    line += std::string(harness::to_string(*change.before)) + " -> " + std::string(harness::to_string(*change.after));
  }
  if (!change.reason.empty()) line += " (" + change.reason + ")";
  return one_line(line);
}

}  // namespace natcert::reports
