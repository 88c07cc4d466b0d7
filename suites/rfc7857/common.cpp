#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {

bool session_alive(TcpConnection& connection, Side from, std::string_view what) {
  return connection.probe(from, tcp_flag::ack, what).has_value();
}

}  // namespace natcert::suites::rfc7857
