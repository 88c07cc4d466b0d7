// Filtering behaviour in RFC 4787 §5 terms, shared by the UDP (RFC 4787 REQ-8) and TCP (RFC 5382
// REQ-3) tests: both send from the remote host on another port and from another host on the same
// port, and classify by which of the two the DUT delivered.
#pragma once

#include <string>

#include "natcert/harness/types.hpp"

namespace natcert::suites {

// The three RFC 4787 §5 behaviours, plus the combination no RFC names (address changes pass, port
// changes do not).
enum class FilteringClass { endpoint_independent, address_dependent, address_and_port_dependent, inconsistent };
std::string to_string(FilteringClass value);

struct FilteringProbe {
  FilteringClass behavior;
  std::string observed;  // "<what> from Y1:y2 delivered, <what> from Y2:y1 filtered"
};

// `what` names the probe ("SYN", or empty for a plain datagram).
FilteringProbe filtering_probe(const std::string& what, harness::Endpoint other_port, bool port_change_passes,
                               harness::Endpoint other_address, bool address_change_passes);

}  // namespace natcert::suites
