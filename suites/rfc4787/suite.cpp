// RFC 4787 (NAT Behavioral Requirements for Unicast UDP): registration of every test file.
#include "natcert/suites/suites.hpp"

namespace natcert::suites {

void register_rfc4787(harness::Registry& registry) { (void)registry; }

}  // namespace natcert::suites
