// RFC 5382 (NAT Behavioral Requirements for TCP): one file per RFC section. The tests drive scripted
// TCP endpoints (natcert/harness/tcp_endpoint.hpp), so every segment is chosen by the harness.
//
// Not tested here:
// - REQ-3a and REQ-5a (configurability) are not black-box testable.
// - REQ-6 (TCP ALGs other than FTP disabled by default) belongs to the ALG issue, which tests it next to
//   RFC 4787 REQ-10 with payloads on typical ALG ports and FTP PORT rewriting.
#include "natcert/suites/suites.hpp"
#include "rfc5382/common.hpp"

namespace natcert::suites {

void register_rfc5382(harness::Registry& registry) {
  rfc5382::register_mapping(registry);
  rfc5382::register_internal_connections(registry);
  rfc5382::register_external_connections(registry);
  rfc5382::register_session_refresh(registry);
  rfc5382::register_port_assignment(registry);
  rfc5382::register_hairpinning(registry);
  rfc5382::register_icmp(registry);
}

}  // namespace natcert::suites
