// Shared by the RFC 7857 tests. RFC 7857 updates RFC 4787, 5382 and 5508, so the tests build on those
// suites' helpers (scripted TCP connections, UDP delivery probes) and add what several updates need:
// a TCP segment probe on an existing 5-tuple and a periodic inbound-traffic driver.
#pragma once

#include <optional>
#include <string>

#include "natcert/harness/context.hpp"
#include "natcert/harness/tcp_endpoint.hpp"
#include "natcert/harness/testcase.hpp"
#include "rfc4787/common.hpp"
#include "rfc5382/common.hpp"

namespace natcert::suites::rfc7857 {

using harness::Duration;
using harness::Endpoint;
using harness::Level;
using harness::Mapping;
using harness::Mutant;
using harness::Observed;
using harness::Registry;
using harness::TcpConnection;
using harness::TestCase;
using harness::TestContext;
using harness::Verdict;
using ref::Side;
using rfc4787::reaches_inside;
using rfc4787::stays_outside;
using rfc5382::established;
using rfc5382::text;
namespace match = harness::match;
namespace tcp_flag = ref::tcp_flag;

inline constexpr const char* kSuite = "rfc7857";

// Sends one segment of `connection` from `from` (data when `payload` is not empty, else a bare ACK) and
// reports whether the DUT still carried it: the session is alive. A dropped segment is the finding, not a
// problem of the step.
bool session_alive(TcpConnection& connection, Side from, std::string_view what);

// Registration, one function per RFC section.
void register_tcp_session(Registry& registry);            // §2, §2.1, §2.2
void register_port_overlapping(Registry& registry);       // §3
void register_paired_pooling(Registry& registry);         // §4
void register_protocol_independence(Registry& registry);  // §5, §6
void register_mapping_refresh(Registry& registry);        // §7, §7.1
void register_port_randomization(Registry& registry);     // §9
void register_icmp_query_mappings(Registry& registry);    // §11

}  // namespace natcert::suites::rfc7857
