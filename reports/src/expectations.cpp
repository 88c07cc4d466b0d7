// Expectation files for CI gating: the verdict a DUT is expected to get on each test, with a reason.
#include <filesystem>
#include <map>

#include "common.hpp"
#include "natcert/harness/testcase.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// A fragment of the file quoted in a message: one line, not too long.
std::string quote(std::string_view text) {
  std::string shown = one_line(text.substr(0, 60));
  if (text.size() > 60) shown += "...";
  return "\"" + shown + "\"";
}

bool valid_pattern(std::string_view pattern) {
  for (char c : pattern) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '*' ||
                    c == '?';
    if (!ok) return false;
  }
  return !pattern.empty();
}

bool is_glob(std::string_view pattern) { return pattern.find_first_of("*?") != std::string_view::npos; }

bool clean(Verdict verdict) { return verdict == Verdict::pass || verdict == Verdict::info; }

}  // namespace

const Expectation* Expectations::find(std::string_view test_id) const {
  for (const auto& entry : entries) {
    if (!is_glob(entry.pattern) && entry.pattern == test_id) return &entry;
  }
  for (const auto& entry : entries) {
    if (is_glob(entry.pattern) && harness::glob_match(entry.pattern, test_id)) return &entry;
  }
  return nullptr;
}

Expectations parse_expectations(std::string_view text, std::string_view source) {
  Expectations out;
  out.source = std::string(source);
  std::map<std::string, std::size_t, std::less<>> first_line;
  std::size_t line_number = 0;
  std::size_t position = 0;
  while (position <= text.size()) {
    const auto end = text.find('\n', position);
    std::string_view line = text.substr(position, end == std::string_view::npos ? std::string_view::npos : end - position);
    position = end == std::string_view::npos ? text.size() + 1 : end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    auto error = [&](const std::string& message) -> ReportError {
      return ReportError(std::string(source) + ":" + std::to_string(line_number) + ": " + message);
    };
    if (line.find('\0') != std::string_view::npos) throw error("NUL byte (not a text file?)");

    const auto hash = line.find('#');
    const std::string_view fields = trim(line.substr(0, hash));
    const std::string_view reason = hash == std::string_view::npos ? std::string_view{} : trim(line.substr(hash + 1));
    if (fields.empty()) continue;  // blank line or comment

    // Split the fields on blanks.
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < fields.size();) {
      while (i < fields.size() && (fields[i] == ' ' || fields[i] == '\t')) ++i;
      std::size_t j = i;
      while (j < fields.size() && fields[j] != ' ' && fields[j] != '\t') ++j;
      if (j > i) words.push_back(fields.substr(i, j - i));
      i = j;
    }
    if (words.size() < 2) throw error("expected `TEST-ID VERDICT # reason`, found only " + quote(fields));
    if (words.size() > 2) {
      throw error("unexpected " + quote(words[2]) + " after the verdict (put the reason after a '#')");
    }
    if (!valid_pattern(words[0])) {
      throw error("bad test id " + quote(words[0]) + ": test ids and globs use a-z, 0-9, '.', '_', '-', '*' and '?'");
    }
    const auto verdict = harness::parse_verdict(words[1]);
    if (!verdict) {
      throw error("unknown verdict " + quote(words[1]) + " (PASS, FAIL, WARN, INFO, SKIP, INCONCLUSIVE or ERROR)");
    }
    if (reason.empty()) throw error("missing reason for " + quote(words[0]) + ": write `# why` after the verdict");
    if (const auto it = first_line.find(words[0]); it != first_line.end()) {
      throw error("duplicate entry for " + quote(words[0]) + " (first at line " + std::to_string(it->second) + ")");
    }
    first_line.emplace(std::string(words[0]), line_number);
    out.entries.push_back(Expectation{std::string(words[0]), *verdict, detail::sanitize_utf8(reason), line_number});
  }
  return out;
}

Expectations load_expectations(const std::filesystem::path& path) {
  return parse_expectations(read_text_file(path), path.string());
}

int ExpectationOutcome::exit_code() const {
  if (incomplete) return 3;
  if (!unexpected.empty()) return 1;
  return 0;
}

ExpectationOutcome evaluate(const Expectations& expectations, const RunResult& run) {
  ExpectationOutcome outcome;
  if (run.sanity_begin && !clean(run.sanity_begin->verdict)) outcome.incomplete = true;
  std::vector<bool> used(expectations.entries.size(), false);
  for (const auto& test : run.tests) {
    const Expectation* entry = expectations.find(test.id);
    bool ok = false;
    Unexpected item;
    item.test_id = test.id;
    item.actual = test.verdict;
    item.result_reason = test.reason;
    if (entry) {
      used[static_cast<std::size_t>(entry - expectations.entries.data())] = true;
      ok = test.verdict == entry->verdict;
      item.expected = entry->verdict;
      item.listed = true;
      item.line = entry->line;
      item.expectation_reason = entry->reason;
    } else {
      ok = clean(test.verdict);
      item.expected = Verdict::pass;
    }
    if (ok) continue;
    if (test.verdict == Verdict::inconclusive || test.verdict == Verdict::error) outcome.incomplete = true;
    outcome.unexpected.push_back(std::move(item));
  }
  for (std::size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) outcome.unused.push_back(&expectations.entries[i]);
  }
  return outcome;
}

std::string format_unexpected(const Unexpected& item, std::string_view source) {
  const std::string expected(harness::to_string(item.expected));
  const std::string actual(harness::to_string(item.actual));
  std::string line = item.test_id + ": expected " + expected + ", got " + actual;
  const std::string where = std::string(source) + ":" + std::to_string(item.line);
  if (item.unexpected_pass()) {
    line += ": unexpected PASS (update the expectation file; " + where + ": " + item.expectation_reason + ")";
  } else if (item.listed) {
    line += " (" + where + ": " + item.expectation_reason + ")";
    if (!item.result_reason.empty()) line += ": " + item.result_reason;
  } else {
    line += " (not listed in " + std::string(source) + ")";
    if (!item.result_reason.empty()) line += ": " + item.result_reason;
  }
  return one_line(line);
}

}  // namespace natcert::reports
