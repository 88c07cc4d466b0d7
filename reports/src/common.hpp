// Helpers shared by the report formats: text hygiene (UTF-8, escaping, hex), time text, and the
// derived views every rendering shows the same way (requirement verdicts, summary by level, the
// legacy RFC 3489 NAT type).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/result.hpp"

namespace natcert::reports::detail {

using harness::Duration;
using harness::Level;
using harness::Verdict;

inline constexpr std::size_t verdict_count = 7;
inline constexpr std::array<Verdict, verdict_count> all_verdicts{
    Verdict::pass, Verdict::fail, Verdict::warn, Verdict::info, Verdict::skip, Verdict::inconclusive, Verdict::error};

// Valid UTF-8 in, the same string out; every byte of an invalid sequence becomes U+FFFD.
std::string sanitize_utf8(std::string_view text);
// Text for XML 1.0 and HTML content and attribute values: sanitized UTF-8, & < > " ' escaped, control
// characters other than tab, LF and CR shown as U+FFFD (XML 1.0 cannot carry them at all).
std::string xml_escape(std::string_view text);
inline std::string html_escape(std::string_view text) { return xml_escape(text); }

// Lower-case hex, no separators. from_hex returns nullopt on odd length or a non-hex digit.
std::string to_hex(const std::vector<std::uint8_t>& bytes);
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

// "1.250000000" (seconds with nanoseconds); "-0.000000001" for negative durations.
std::string seconds_text(Duration duration);
// "0.013" (seconds, three decimals) for XML time attributes and progress lines.
std::string seconds_short(Duration duration);

// Levels group into the three rows of the summary: MUST (MUST, MUST NOT), SHOULD (SHOULD, SHOULD NOT,
// RECOMMENDED) and MAY.
enum class LevelGroup : std::uint8_t { must, should, may };
inline constexpr std::array<std::string_view, 3> level_group_names{"MUST", "SHOULD", "MAY"};
LevelGroup group_of(Level level);
// Strongest level among the requirements (MUST > MUST NOT > SHOULD > ... > MAY); nullopt when none.
std::optional<Level> strongest_level(const std::vector<harness::Requirement>& requirements);

// The verdict for one of a test's requirements: the test's verdict when the test ended SKIP,
// INCONCLUSIVE or ERROR; else the worst verdict among the checks recorded for that id and level;
// else (no such check) the test's verdict.
Verdict requirement_verdict(const harness::TestResult& test, const harness::Requirement& requirement);

// Counts of (test, requirement) pairs per level group and requirement verdict.
struct LevelSummary {
  std::array<std::array<std::size_t, verdict_count>, 3> counts{};
};
LevelSummary summarize_levels(const harness::RunResult& run);

// "full cone", "restricted cone", "port-restricted cone" or "symmetric" from the profile keys
// "udp.mapping" and "udp.filtering" (the first entry of each); nullopt when either is missing or
// not recognised.
std::optional<std::string> legacy_nat_type(const std::vector<harness::ProfileEntry>& profile);

// Natural order: digit runs compare numerically ("REQ-2" < "REQ-10").
bool natural_less(std::string_view a, std::string_view b);

// "inside", "outside".
std::string_view side_name(harness::Side side);
std::optional<harness::Side> parse_side(std::string_view text);
std::optional<harness::Direction> parse_direction(std::string_view text);

// A requirement id or test id made safe as a file name or HTML id: [A-Za-z0-9._-], others '_'.
std::string safe_name(std::string_view text);

}  // namespace natcert::reports::detail
