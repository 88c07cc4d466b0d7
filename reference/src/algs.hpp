// The ALGs the configuration turns on (alg.ftp, alg.sip, alg.tftp). Each ALG lives in its own
// alg_<name>.cpp and exposes one factory here; configured_algs() (algs.cpp) is the only list.
#pragma once

#include <memory>
#include <vector>

#include "natcert/reference/config.hpp"
#include "natcert/reference/nat.hpp"

namespace natcert::ref {

std::unique_ptr<AlgHook> make_ftp_alg(const AlgBehavior& behavior);
std::unique_ptr<AlgHook> make_sip_alg(const AlgBehavior& behavior);   // alg_sip.cpp
std::unique_ptr<AlgHook> make_tftp_alg(const AlgBehavior& behavior);  // alg_tftp.cpp

// The ALGs a NAT built from `config` installs, in claiming order.
std::vector<std::unique_ptr<AlgHook>> configured_algs(const NatConfig& config);

}  // namespace natcert::ref
