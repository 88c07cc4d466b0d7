// RFC 4787 (NAT Behavioral Requirements for Unicast UDP): one file per RFC section.
#include "natcert/suites/suites.hpp"
#include "rfc4787/common.hpp"

namespace natcert::suites {

void register_rfc4787(harness::Registry& registry) {
  rfc4787::register_mapping(registry);
  rfc4787::register_port_assignment(registry);
  rfc4787::register_timers(registry);
  rfc4787::register_filtering(registry);
  rfc4787::register_hairpinning(registry);
  rfc4787::register_alg(registry);
  rfc4787::register_icmp(registry);
  rfc4787::register_fragments(registry);
}

}  // namespace natcert::suites
