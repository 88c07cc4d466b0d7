// The HTML report's Timers section and its TCP/UDP comparison: measured lifetimes with their brackets
// (behaviour facts ending in "-lifetime", recorded by suites/shared/lifetime) and the mapping and
// filtering behaviour of UDP (RFC 4787) next to TCP (RFC 5382 REQ-1, REQ-3).
#pragma once

#include <string>

#include "natcert/harness/result.hpp"

namespace natcert::reports::detail {

// Appends the "UDP and TCP side by side" section (nothing when neither protocol's filtering was
// classified) and the "Timers" section (nothing when no lifetime or refresh fact was recorded).
void html_timers_section(std::string& out, const harness::RunResult& run);

}  // namespace natcert::reports::detail
