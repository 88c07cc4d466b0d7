// natcert doctor: can this host run the wire testbeds? One line per check, with how to fix it.
#include <cstdio>

#include "common.hpp"
#include "natcert/harness/doctor.hpp"

namespace natcert::cli {

Command add_doctor(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "doctor", "Check privileges, network namespaces, veth, nftables, conntrack and packet capture");
  return Command{app, [] {
                   const auto checks = harness::run_doctor();
                   for (const auto& check : checks) std::printf("%s\n", harness::format_check(check).c_str());
                   return harness::all_ok(checks) ? exit_ok : exit_failed;
                 }};
}

}  // namespace natcert::cli
