// The ALGs a reference configuration declares: the ones it enables. A mutant that rewrites while its
// ALG is disabled declares nothing, which is what makes its rewriting detectable.
#pragma once

#include <string>
#include <vector>

#include "natcert/reference/config.hpp"

namespace natcert::harness {

inline std::vector<std::string> declared_algs_of(const ref::AlgBehavior& alg) {
  std::vector<std::string> out;
  if (alg.ftp) out.emplace_back("ftp");
  if (alg.sip) out.emplace_back("sip");
  if (alg.tftp) out.emplace_back("tftp");
  return out;
}

}  // namespace natcert::harness
