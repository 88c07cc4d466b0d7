// Differential runs: where the DUT departs from a reference run of the same tests and seed.
#include <cctype>
#include <map>
#include <set>

#include "common.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

bool comparable(Verdict verdict) {
  return verdict == Verdict::pass || verdict == Verdict::fail || verdict == Verdict::warn || verdict == Verdict::info;
}

bool incomplete_verdict(Verdict verdict) { return verdict == Verdict::inconclusive || verdict == Verdict::error; }

bool run_incomplete(const RunResult& run) {
  if (run.sanity_begin && run.sanity_begin->verdict != Verdict::pass && run.sanity_begin->verdict != Verdict::info) {
    return true;
  }
  for (const auto& test : run.tests) {
    if (incomplete_verdict(test.verdict)) return true;
  }
  return false;
}

std::string verdict_and_reason(std::string_view side, const TestResult& test) {
  std::string text = std::string(side) + ": " + std::string(harness::to_string(test.verdict));
  if (!test.reason.empty()) text += " (" + test.reason + ")";
  return text;
}

// Addresses and ports differ between any two testbeds (and between two wire runs): "other:
// 10.0.0.10:40123" on one side means the same as "other: 10.0.0.10:40555" on the other.
// (Hand-written: std::regex trips GCC 12's -Wmaybe-uninitialized under the sanitizers.)
std::string masked(const std::string& value) {
  const auto digit = [&](std::size_t i) {
    return i < value.size() && std::isdigit(static_cast<unsigned char>(value[i]));
  };
  const auto word = [&](std::size_t i) {
    return i < value.size() && (std::isalnum(static_cast<unsigned char>(value[i])) || value[i] == '_');
  };
  // Length of "d{1,max}" at `i`, or 0.
  const auto digits = [&](std::size_t i, std::size_t max) {
    std::size_t n = 0;
    while (n < max && digit(i + n)) ++n;
    return n;
  };
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t end = 0;  // one past an "a.b.c.d[:port]" starting at i, when there is one
    if ((i == 0 || !word(i - 1)) && digits(i, 3) > 0) {
      std::size_t at = i + digits(i, 3);
      bool address = true;
      for (int part = 0; part < 3 && address; ++part) {
        const std::size_t n = at < value.size() && value[at] == '.' ? digits(at + 1, 3) : 0;
        address = n > 0;
        at += 1 + n;
      }
      if (address && at < value.size() && value[at] == ':' && digits(at + 1, 5) > 0)
        at += 1 + digits(at + 1, 5);
      if (address && !word(at)) end = at;
    }
    if (end != 0) {
      out += "ADDRESS";
      i = end;
    } else {
      out += value[i++];
    }
  }
  return out;
}

using FactMap = std::map<std::string, const harness::ProfileEntry*, std::less<>>;

FactMap first_facts(const RunResult& run) {
  FactMap facts;
  for (const auto& entry : run.profile) facts.emplace(entry.key, &entry);  // first wins
  return facts;
}

}  // namespace

int Differential::exit_code() const {
  if (incomplete) return 3;
  return departs() ? 1 : 0;
}

Differential compare_runs(const RunResult& dut, const RunResult& reference, std::string against) {
  Differential out;
  out.against = std::move(against);
  out.reference_dut = reference.dut;
  out.incomplete = run_incomplete(dut) || run_incomplete(reference);

  std::map<std::string, const TestResult*, std::less<>> reference_tests;
  for (const auto& test : reference.tests) reference_tests.emplace(test.id, &test);  // first wins

  std::set<std::string, std::less<>> seen;
  std::set<std::string, std::less<>> left_out;  // tests whose facts are not compared either
  for (const auto& test : dut.tests) {
    if (!seen.insert(test.id).second) continue;
    const auto it = reference_tests.find(test.id);
    if (it == reference_tests.end()) {
      out.not_compared.push_back({test.id, "only in the DUT's run", true});
      left_out.insert(test.id);
      continue;
    }
    const TestResult& other = *it->second;
    if (!comparable(test.verdict) || !comparable(other.verdict)) {
      std::string reason;
      if (!comparable(test.verdict)) reason = verdict_and_reason("DUT", test);
      if (!comparable(other.verdict)) reason += (reason.empty() ? "" : "; ") + verdict_and_reason("reference", other);
      out.not_compared.push_back({test.id, reason, incomplete_verdict(test.verdict) || incomplete_verdict(other.verdict)});
      left_out.insert(test.id);
    } else if (test.verdict != other.verdict) {
      out.tests.push_back({test.id, test.verdict, other.verdict, test.reason, other.reason});
    } else {
      ++out.agreeing_tests;
    }
  }
  for (const auto& test : reference.tests) {
    if (!seen.insert(test.id).second) continue;
    out.not_compared.push_back({test.id, "only in the reference's run", true});
    left_out.insert(test.id);
  }

  // Facts of tests left out are left out too: a SKIP or an INCONCLUSIVE establishes nothing.
  const FactMap dut_facts = first_facts(dut);
  const FactMap reference_facts = first_facts(reference);
  for (const auto& [key, entry] : dut_facts) {
    const auto other = reference_facts.find(key);
    if (left_out.contains(entry->test_id) || (other != reference_facts.end() && left_out.contains(other->second->test_id))) {
      continue;
    }
    if (other == reference_facts.end()) {
      out.profile.push_back({key, entry->value, std::nullopt});
    } else if (masked(entry->value) == masked(other->second->value)) {
      ++out.agreeing_facts;
    } else {
      out.profile.push_back({key, entry->value, other->second->value});
    }
  }
  for (const auto& [key, entry] : reference_facts) {
    if (dut_facts.contains(key) || left_out.contains(entry->test_id)) continue;
    out.profile.push_back({key, std::nullopt, entry->value});
  }
  return out;
}

std::string format_departure(const TestDeparture& departure) {
  std::string line = departure.test_id + ": DUT " + std::string(harness::to_string(departure.dut)) + ", reference " +
                     std::string(harness::to_string(departure.reference));
  std::string reasons;
  if (!departure.dut_reason.empty()) reasons = "DUT: " + departure.dut_reason;
  if (!departure.reference_reason.empty()) {
    reasons += (reasons.empty() ? "" : "; ") + std::string("reference: ") + departure.reference_reason;
  }
  if (!reasons.empty()) line += " (" + reasons + ")";
  return one_line(line);
}

std::string format_departure(const ProfileDeparture& departure) {
  auto value = [](const std::optional<std::string>& text) { return text ? *text : std::string("(not established)"); };
  return one_line("profile " + departure.key + ": DUT " + value(departure.dut) + ", reference " +
                  value(departure.reference));
}

}  // namespace natcert::reports
