#include "natcert/harness/verdict.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace natcert::harness {
namespace {

std::string normalise(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '_' || c == '-') c = ' ';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  // Collapse runs of spaces and trim.
  std::string collapsed;
  for (char c : out) {
    if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed += c;
  }
  while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  return collapsed;
}

constexpr std::array<std::pair<Level, std::string_view>, 6> kLevels{{
    {Level::must, "MUST"},
    {Level::must_not, "MUST NOT"},
    {Level::should, "SHOULD"},
    {Level::should_not, "SHOULD NOT"},
    {Level::recommended, "RECOMMENDED"},
    {Level::may, "MAY"},
}};

constexpr std::array<std::pair<Verdict, std::string_view>, 7> kVerdicts{{
    {Verdict::pass, "PASS"},
    {Verdict::fail, "FAIL"},
    {Verdict::warn, "WARN"},
    {Verdict::info, "INFO"},
    {Verdict::skip, "SKIP"},
    {Verdict::inconclusive, "INCONCLUSIVE"},
    {Verdict::error, "ERROR"},
}};

}  // namespace

std::string_view to_string(Level level) {
  for (const auto& [value, name] : kLevels) {
    if (value == level) return name;
  }
  return "?";
}

std::optional<Level> parse_level(std::string_view text) {
  const std::string wanted = normalise(text);
  for (const auto& [value, name] : kLevels) {
    if (name == wanted) return value;
  }
  return std::nullopt;
}

std::string_view to_string(Verdict verdict) {
  for (const auto& [value, name] : kVerdicts) {
    if (value == verdict) return name;
  }
  return "?";
}

std::optional<Verdict> parse_verdict(std::string_view text) {
  const std::string wanted = normalise(text);
  for (const auto& [value, name] : kVerdicts) {
    if (name == wanted) return value;
  }
  return std::nullopt;
}

Verdict verdict_when_not_met(Level level) {
  switch (level) {
    case Level::must:
    case Level::must_not:
      return Verdict::fail;
    case Level::should:
    case Level::should_not:
    case Level::recommended:
      return Verdict::warn;
    case Level::may:
      return Verdict::info;
  }
  return Verdict::fail;
}

int severity(Verdict verdict) {
  switch (verdict) {
    case Verdict::info: return 0;
    case Verdict::pass: return 1;
    case Verdict::skip: return 2;
    case Verdict::warn: return 3;
    case Verdict::fail: return 4;
    case Verdict::inconclusive: return 5;
    case Verdict::error: return 6;
  }
  return 6;
}

Verdict worst(Verdict a, Verdict b) { return severity(b) > severity(a) ? b : a; }

TestAborted::TestAborted(Verdict verdict, std::string reason) : verdict_(verdict), reason_(std::move(reason)) {
  if (verdict_ != Verdict::skip && verdict_ != Verdict::inconclusive) {
    reason_ = "TestAborted with verdict " + std::string(to_string(verdict_)) + ": " + reason_;
    verdict_ = Verdict::error;
  }
}

}  // namespace natcert::harness
