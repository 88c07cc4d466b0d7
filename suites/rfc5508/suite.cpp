// RFC 5508 (NAT Behavioral Requirements for ICMP): one file per RFC section.
//
// Rows of the requirements table that no test decides, and why:
//   RFC5508-REQ-2a (RECOMMENDED) The query timer being configurable is a property of the device's
//                   management interface, not of its packets.
//   RFC5508-REQ-7  (MUST, first half) Hairpinned ICMP query sessions are required of Basic NAT only. A
//                   NAPT owns the external address an echo request would be hairpinned to, so the request
//                   is addressed to the NAT itself; and a black-box test cannot tell Basic NAT from NAPT
//                   reliably. The second half (hairpinned errors, all NATs) is rfc5508.req7.hairpin-error.
//   RFC5508-REQ-9  (MAY) A policy suppressing ICMP towards some interfaces is configuration; with such a
//                   policy the REQ-10 tests fail for a documented reason.
//   RFC5508-REQ-10b (MAY) Redirect and Router Advertisement/Solicitation concern the NAT's own links (it
//                   is their router); source-route options are not probed. Timestamp, Address Mask and
//                   Parameter Problem are characterised by rfc5508.req10b.optional-messages.
//   RFC5508-REQ-11 (MAY) Dropping and "appropriately handling" Non-QueryError ICMP both comply and the RFC
//                   defines no handling to check, so there is nothing to decide.
//   RFC5508-REQ-10a's "fragment when DF=0" is RFC 4787 REQ-13a (rfc4787.req13a.df-clear-fragmented), and
//                   its Echo part is REQ-1 (rfc5508.req1.query.echo).
#include "natcert/suites/suites.hpp"
#include "rfc5508/common.hpp"

namespace natcert::suites {

void register_rfc5508(harness::Registry& registry) {
  rfc5508::register_queries(registry);
  rfc5508::register_validation(registry);
  rfc5508::register_translation(registry);
  rfc5508::register_sessions(registry);
  rfc5508::register_hairpinning(registry);
  rfc5508::register_rejection(registry);
  rfc5508::register_rfc1812(registry);
}

}  // namespace natcert::suites
