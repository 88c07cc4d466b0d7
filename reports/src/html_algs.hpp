// The HTML report's ALG table (RFC 3027): one row per `alg.*` behaviour fact.
#pragma once

#include <string>

#include "natcert/harness/result.hpp"

namespace natcert::reports::detail {

// Appends the "Protocols and ALGs" section; nothing when no test recorded an `alg.*` fact.
void html_algs_section(std::string& out, const harness::RunResult& run);

}  // namespace natcert::reports::detail
