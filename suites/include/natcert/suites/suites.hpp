// The conformance suites. Each suite registers its test cases explicitly (static registration would be
// dropped from static libraries); the CLI and the project's tests call register_all().
#pragma once

#include "natcert/harness/testcase.hpp"

namespace natcert::suites {

void register_rfc4787(harness::Registry& registry);
void register_rfc5382(harness::Registry& registry);
void register_rfc5508(harness::Registry& registry);
void register_rfc3027(harness::Registry& registry);
void register_rfc7857(harness::Registry& registry);

// Every suite, in report order.
void register_all(harness::Registry& registry);

}  // namespace natcert::suites
