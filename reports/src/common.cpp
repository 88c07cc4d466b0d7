#include "common.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace natcert::reports::detail {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = at(i);
  const std::size_t left = text.size() - i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && continuation(at(i + 1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !continuation(at(i + 1)) || !continuation(at(i + 2))) return 0;
    if (c == 0xE0 && at(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && at(i + 1) > 0x9F) return 0;   // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !continuation(at(i + 1)) || !continuation(at(i + 2)) || !continuation(at(i + 3))) return 0;
    if (c == 0xF0 && at(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && at(i + 1) > 0x8F) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

int level_rank(Level level) {
  switch (level) {
    case Level::must: return 0;
    case Level::must_not: return 1;
    case Level::should: return 2;
    case Level::should_not: return 3;
    case Level::recommended: return 4;
    case Level::may: return 5;
  }
  return 6;
}

std::string lower(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c == '_' || c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// 0 endpoint-independent, 1 address-dependent, 2 address-and-port-dependent. Accepts the knob
// spellings ("address-and-port-dependent"), with a "-mapping"/"-filtering" suffix, and the
// abbreviations (EIM/EIF, ADM/ADF, APDM/APDF).
std::optional<int> behaviour_class(std::string_view value) {
  std::string v = lower(value);
  for (std::string_view suffix : {"-mapping", "-filtering"}) {
    if (v.size() > suffix.size() && v.ends_with(suffix)) v.resize(v.size() - suffix.size());
  }
  if (v == "endpoint-independent" || v == "eim" || v == "eif") return 0;
  if (v == "address-dependent" || v == "adm" || v == "adf") return 1;
  if (v == "address-and-port-dependent" || v == "apdm" || v == "apdf") return 2;
  return std::nullopt;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = sequence_length(text, i);
    if (length == 0) {
      out += replacement;
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  const std::string clean = sanitize_utf8(text);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += replacement;
        } else if (u == 0xEF && i + 2 < clean.size() && static_cast<unsigned char>(clean[i + 1]) == 0xBF &&
                   (static_cast<unsigned char>(clean[i + 2]) == 0xBE || static_cast<unsigned char>(clean[i + 2]) == 0xBF)) {
          out += replacement;  // U+FFFE and U+FFFF are not XML characters
          i += 2;
        } else {
          out += c;
        }
      }
    }
  }
  return out;
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0F];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  return out;
}

std::string seconds_text(Duration duration) {
  const long long ns = duration.count();
  const bool negative = ns < 0;
  // Magnitude without overflow for the most negative value.
  const unsigned long long magnitude =
      negative ? static_cast<unsigned long long>(-(ns + 1)) + 1ull : static_cast<unsigned long long>(ns);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s%llu.%09llu", negative ? "-" : "", magnitude / 1000000000ull,
                magnitude % 1000000000ull);
  return buffer;
}

std::string seconds_short(Duration duration) {
  const double seconds = static_cast<double>(duration.count()) / 1e9;
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds);
  return buffer;
}

LevelGroup group_of(Level level) {
  switch (level) {
    case Level::must:
    case Level::must_not: return LevelGroup::must;
    case Level::should:
    case Level::should_not:
    case Level::recommended: return LevelGroup::should;
    case Level::may: return LevelGroup::may;
  }
  return LevelGroup::may;
}

std::optional<Level> strongest_level(const std::vector<harness::Requirement>& requirements) {
  std::optional<Level> best;
  for (const auto& requirement : requirements) {
    if (!best || level_rank(requirement.level) < level_rank(*best)) best = requirement.level;
  }
  return best;
}

Verdict requirement_verdict(const harness::TestResult& test, const harness::Requirement& requirement) {
  if (test.verdict == Verdict::skip || test.verdict == Verdict::inconclusive || test.verdict == Verdict::error) {
    return test.verdict;
  }
  std::optional<Verdict> worst_seen;
  for (const auto& check : test.checks) {
    if (check.requirement != requirement.id || check.level != requirement.level) continue;
    worst_seen = worst_seen ? harness::worst(*worst_seen, check.verdict) : check.verdict;
  }
  return worst_seen.value_or(test.verdict);
}

LevelSummary summarize_levels(const harness::RunResult& run) {
  LevelSummary summary;
  for (const auto& test : run.tests) {
    for (const auto& requirement : test.requirements) {
      const auto group = static_cast<std::size_t>(group_of(requirement.level));
      const auto verdict = static_cast<std::size_t>(requirement_verdict(test, requirement));
      if (verdict < verdict_count) ++summary.counts[group][verdict];
    }
  }
  return summary;
}

std::optional<std::string> legacy_nat_type(const std::vector<harness::ProfileEntry>& profile) {
  const harness::ProfileEntry* mapping = nullptr;
  const harness::ProfileEntry* filtering = nullptr;
  for (const auto& entry : profile) {
    if (entry.key == "udp.mapping" && !mapping) mapping = &entry;
    if (entry.key == "udp.filtering" && !filtering) filtering = &entry;
  }
  if (!mapping || !filtering) return std::nullopt;
  const auto m = behaviour_class(mapping->value);
  const auto f = behaviour_class(filtering->value);
  if (!m || !f) return std::nullopt;
  if (*m != 0) return std::string("symmetric");
  switch (*f) {
    case 0: return std::string("full cone");
    case 1: return std::string("restricted cone");
    default: return std::string("port-restricted cone");
  }
}

bool natural_less(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t i_end = i;
      std::size_t j_end = j;
      while (i_end < a.size() && digit(a[i_end])) ++i_end;
      while (j_end < b.size() && digit(b[j_end])) ++j_end;
      // Compare without leading zeros: longer run is larger, then lexicographically.
      std::size_t i_start = i;
      std::size_t j_start = j;
      while (i_start + 1 < i_end && a[i_start] == '0') ++i_start;
      while (j_start + 1 < j_end && b[j_start] == '0') ++j_start;
      const auto a_run = a.substr(i_start, i_end - i_start);
      const auto b_run = b.substr(j_start, j_end - j_start);
      if (a_run.size() != b_run.size()) return a_run.size() < b_run.size();
      if (a_run != b_run) return a_run < b_run;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string_view side_name(harness::Side side) { return side == harness::Side::inside ? "inside" : "outside"; }

std::optional<harness::Side> parse_side(std::string_view text) {
  if (text == "inside") return harness::Side::inside;
  if (text == "outside") return harness::Side::outside;
  return std::nullopt;
}

std::optional<harness::Direction> parse_direction(std::string_view text) {
  if (text == "sent") return harness::Direction::sent;
  if (text == "captured") return harness::Direction::captured;
  return std::nullopt;
}

std::string safe_name(std::string_view text) {
  if (text.empty()) return std::string(1, '_');
  std::string out(text);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (out.front() == '.') out.front() = '_';  // never "." or "..", never hidden
  return out;
}

}  // namespace natcert::reports::detail
