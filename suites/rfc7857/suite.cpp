// RFC 7857 (Updates to NAT Behavioral Requirements): one file per group of RFC sections. The updates
// refine RFC 4787, 5382 and 5508, so the tests reuse those suites' helpers.
//
// Not decided here (nothing on the wire tells):
// - RFC7857-S2.1 SHOULD and MAY: whether the opening and closing timeouts are separate parameters, and
//   whether they may be set below 4 min, is configuration. Only the RECOMMENDED default is tested.
// - RFC7857-S5 MAY and RFC7857-S6 MAY: whether a knob for protocol-independent EIM/EIF exists. The tests
//   decide the SHOULD and the MUST on the configuration the DUT runs, taken as its default.
// - RFC7857-S7.1 MAY: configuring STUN error responses or IKE INVALID_SYNTAX not to refresh is a knob.
// - RFC7857-S8: disabling parity preservation for dynamic mappings is allowed (MAY), and the SHOULD asks
//   for an explicit way to request parity (e.g. the PCP option of RFC 7753); the harness speaks no PCP.
//   The parity of implicit mappings is RFC 4787 REQ-4 (rfc4787.req4.port-parity).
// - RFC7857-S10: RFC 6864 §5.3.1 is not in ../shared/rfc, and it lets a translator either keep or rewrite
//   the Identification of atomic datagrams, so no capture of IDs can show a violation without it.
// - RFC7857-S11 (MAY): a query mapping that outlives its last session shows only when its identifier would
//   be handed out again, which identifier preservation hides, and the reference deletes the mapping with
//   its last session under every setting: a characterisation could not be shown to tell the two allowed
//   behaviours apart.
// - RFC7857-S12: a clarification (lowercase "must") about Basic NAT keeping address mappings for
//   hairpinned ICMP; the reference is a NAPT, and the hairpinned ICMP behaviour itself is RFC 5508
//   REQ-7 (rfc5508 hairpinning tests).
#include "natcert/suites/suites.hpp"
#include "rfc7857/common.hpp"

namespace natcert::suites {

void register_rfc7857(harness::Registry& registry) {
  rfc7857::register_tcp_session(registry);
  rfc7857::register_port_overlapping(registry);
  rfc7857::register_paired_pooling(registry);
  rfc7857::register_protocol_independence(registry);
  rfc7857::register_mapping_refresh(registry);
  rfc7857::register_port_randomization(registry);
}

}  // namespace natcert::suites
