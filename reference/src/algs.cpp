// The list of configured ALGs (one line per ALG; see algs.hpp).
#include "algs.hpp"

namespace natcert::ref {

std::vector<std::unique_ptr<AlgHook>> configured_algs(const NatConfig& config) {
  std::vector<std::unique_ptr<AlgHook>> algs;
  if (config.alg.ftp || config.alg.ftp_mutant == FtpAlgMutant::rewrite_while_disabled) {
    algs.push_back(make_ftp_alg(config.alg));
  }
  if (config.alg.sip) algs.push_back(make_sip_alg(config.alg));
  if (config.alg.tftp) algs.push_back(make_tftp_alg(config.alg));
  return algs;
}

}  // namespace natcert::ref
