// `natcert doctor`: can this host run the wire testbeds? Each check is one line with how to fix it.
//
// The checks create only uniquely named objects ("natcert-doctor-<pid>-<n>" namespaces, veth pairs
// created inside those namespaces) and always delete them, also when a check fails. No packet leaves
// a namespace the doctor created.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace natcert::harness {

struct DoctorCheck {
  std::string check;    // "privileges", "iproute2", "netns", "veth", "nftables", "conntrack", "af_packet"
  bool ok = false;
  std::string message;  // one line: what was found
  std::string fix;      // one line: how to fix it (empty when ok)
};

struct DoctorOptions {
  std::chrono::milliseconds command_timeout{std::chrono::seconds(10)};  // per command the doctor runs
};

// Runs every check in a fixed order (privileges, iproute2, netns, veth, nftables, conntrack,
// af_packet) and returns one entry per check. Never throws; checks that depend on a failed one
// report that they could not run.
std::vector<DoctorCheck> run_doctor(const DoctorOptions& options = {});

// "ok    netns: created and deleted natcert-doctor-12-1" or
// "FAIL  privileges: not root and no CAP_NET_ADMIN, CAP_NET_RAW - fix: run as root (sudo natcert doctor)".
std::string format_check(const DoctorCheck& check);

bool all_ok(const std::vector<DoctorCheck>& checks);

// The privilege check alone (no side effects): root, or CAP_NET_ADMIN and CAP_NET_RAW effective.
DoctorCheck check_privileges();

}  // namespace natcert::harness
