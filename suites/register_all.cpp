#include "natcert/suites/suites.hpp"

namespace natcert::suites {

void register_all(harness::Registry& registry) {
  register_rfc4787(registry);
  register_rfc5382(registry);
  register_rfc5508(registry);
  register_rfc3027(registry);
  register_rfc7857(registry);
}

}  // namespace natcert::suites
