// The TFTP ALG's parsing, exposed for unit tests and fuzzers (the ALG itself: alg_tftp.cpp).
#pragma once

#include "natcert/reference/packet.hpp"

namespace natcert::ref {

// A TFTP RRQ or WRQ (RFC 1350 §5): opcode 1 or 2, then a non-empty file name and a non-empty mode,
// each NUL-terminated (RFC 2347 options may follow).
bool is_tftp_request(Bytes payload);

}  // namespace natcert::ref
