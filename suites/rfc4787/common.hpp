// Procedures shared by several RFC 4787 tests: classifying mapping and filtering behaviour, probing
// whether an inbound packet reaches an inside host, and the UDP mapping whose lifetime the timer
// tests measure (suites/shared/lifetime.hpp: one fresh mapping per probe).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "natcert/harness/context.hpp"
#include "natcert/harness/testcase.hpp"
#include "shared/filtering.hpp"
#include "shared/lifetime.hpp"

namespace natcert::suites::rfc4787 {

using harness::Duration;
using harness::Endpoint;
using harness::Level;
using harness::Mapping;
using harness::Mutant;
using harness::Packet;
using harness::Registry;
using harness::TestCase;
using harness::TestContext;
using harness::Verdict;
using ref::Side;
namespace match = harness::match;

inline constexpr const char* kSuite = "rfc4787";

// RFC 4787 §4.1 terms.
enum class MappingClass { endpoint_independent, address_dependent, address_and_port_dependent };

std::string to_string(MappingClass value);

struct MappingProbe {
  MappingClass behavior;
  std::string observed;  // "Y1:y1 -> X', Y1:y2 -> X', Y2:y1 -> X'" with the endpoints
};
// Sends from `internal` to Y1:y1, Y1:y2 and Y2:y1 through the reflector and classifies the mapping.
MappingProbe classify_mapping(TestContext& ctx, Endpoint internal);

using suites::FilteringClass;
using suites::FilteringProbe;
using suites::to_string;
// After `mapping` (X -> Y1:y1) exists, sends to X' from Y1 on another port and from Y2 on y1.
FilteringProbe classify_filtering(TestContext& ctx, const Mapping& mapping);

// Sends a UDP packet from `from` to `external` on the outside; true when it reaches `internal`.
bool reaches_inside(TestContext& ctx, Endpoint from, Endpoint external, Endpoint internal,
                    std::string_view note, const harness::Payload& payload = "probe");
// True when nothing from `from` reaches `internal` within the silence window.
bool stays_outside(TestContext& ctx, Endpoint from, Endpoint external, Endpoint internal, std::string_view note);

// A UDP mapping for the lifetime module (suites/shared/lifetime.hpp): X:x (fresh port) sends one
// datagram to Y:y (port `destination_port`, or a fresh one) and the reflector learns X':x' without
// answering, so the idle time starts with that datagram; alive() sends once from Y:y to X':x'.
lifetime::OpenFlow udp_mapping_flow(std::uint16_t destination_port = 0);

std::string endpoints_text(const std::vector<Endpoint>& endpoints);

// Registration, one function per RFC section.
void register_mapping(Registry& registry);          // §4.1
void register_port_assignment(Registry& registry);  // §4.2
void register_timers(Registry& registry);           // §4.3
void register_filtering(Registry& registry);        // §5
void register_hairpinning(Registry& registry);      // §6
void register_alg(Registry& registry);              // §7
void register_icmp(Registry& registry);             // §9 (REQ-12)
void register_fragments(Registry& registry);        // §11

}  // namespace natcert::suites::rfc4787
