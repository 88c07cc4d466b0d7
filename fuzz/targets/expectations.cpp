// The expectation-file parser (reports/src/expectations.cpp). Invariants: it throws nothing but
// ReportError, whose message is one line "SOURCE:LINE: ..."; accepted entries have a pattern, a reason
// and a line within the file, and find() returns an entry for each exact pattern.
#include <algorithm>
#include <string>

#include "fuzz_support.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert;
using fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::text({data, size});
  try {
    const reports::Expectations parsed = reports::parse_expectations(text, "fuzz.expect");
    const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    for (const auto& entry : parsed.entries) {
      check(!entry.pattern.empty() && !entry.reason.empty(), "an accepted entry without a pattern or reason");
      check(entry.line >= 1 && entry.line <= lines, "an entry's line is outside the file");
      check(parsed.find(entry.pattern) != nullptr, "find() misses an accepted pattern");
    }
  } catch (const reports::ReportError& error) {
    const std::string_view message = error.what();
    check(message.rfind("fuzz.expect:", 0) == 0, "an expectation error without its position");
    check(message.find('\n') == std::string_view::npos, "an expectation error is not one line");
  }
  return 0;
}
