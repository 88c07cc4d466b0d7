// RFC 3027 (Protocol Complications with NAT): shared names and one registration function per section.
#pragma once

#include "natcert/harness/context.hpp"
#include "natcert/harness/testcase.hpp"

namespace natcert::suites::rfc3027 {

using harness::Endpoint;
using harness::Level;
using harness::Mapping;
using harness::Packet;
using harness::Registry;
using harness::TestCase;
using harness::TestContext;
using harness::Verdict;
using ref::Side;
namespace match = harness::match;

inline constexpr const char* kSuite = "rfc3027";

void register_fragment_id(Registry& registry);  // §2.4
void register_ipsec(Registry& registry);        // §3.1 with RFC 3947/3948
void register_sip(Registry& registry);          // §4.5
void register_tftp(Registry& registry);         // TFTP replies from a new port
void register_payload_rewrite(Registry& registry);  // RFC 5382 REQ-6
void register_ftp(Registry& registry);          // §4.1

}  // namespace natcert::suites::rfc3027
