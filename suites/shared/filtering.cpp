#include "shared/filtering.hpp"

namespace natcert::suites {

std::string to_string(FilteringClass value) {
  switch (value) {
    case FilteringClass::endpoint_independent: return "endpoint-independent";
    case FilteringClass::address_dependent: return "address-dependent";
    case FilteringClass::address_and_port_dependent: return "address-and-port-dependent";
    case FilteringClass::inconsistent: return "inconsistent (address changes pass, port changes do not)";
  }
  return "?";
}

FilteringProbe filtering_probe(const std::string& what, harness::Endpoint other_port, bool port_change_passes,
                               harness::Endpoint other_address, bool address_change_passes) {
  FilteringProbe probe{};
  if (port_change_passes && address_change_passes) {
    probe.behavior = FilteringClass::endpoint_independent;
  } else if (port_change_passes) {
    probe.behavior = FilteringClass::address_dependent;
  } else if (!address_change_passes) {
    probe.behavior = FilteringClass::address_and_port_dependent;
  } else {
    probe.behavior = FilteringClass::inconsistent;
  }
  const std::string prefix = what.empty() ? std::string("from ") : what + " from ";
  probe.observed = prefix + harness::to_string(other_port) + (port_change_passes ? " delivered" : " filtered") +
                   ", " + prefix + harness::to_string(other_address) +
                   (address_change_passes ? " delivered" : " filtered");
  return probe;
}

}  // namespace natcert::suites
