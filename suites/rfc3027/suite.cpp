// RFC 3027 (Protocol Complications with NAT): one file per RFC section.
#include "natcert/suites/suites.hpp"
#include "rfc3027/common.hpp"

namespace natcert::suites {

void register_rfc3027(harness::Registry& registry) {
  rfc3027::register_fragment_id(registry);
  rfc3027::register_ipsec(registry);
  rfc3027::register_sip(registry);
  rfc3027::register_tftp(registry);
  rfc3027::register_payload_rewrite(registry);
  rfc3027::register_ftp(registry);
}

}  // namespace natcert::suites
