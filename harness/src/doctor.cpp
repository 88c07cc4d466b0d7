// Host checks for the wire testbeds. Everything created here is uniquely named and deleted by RAII.
#include "natcert/harness/doctor.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <string>

#include "natcert/harness/command.hpp"

namespace natcert::harness {

namespace {

constexpr int cap_net_admin = 12;
constexpr int cap_net_raw = 13;

std::optional<unsigned long long> effective_capabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  for (int i = 0; i < 200 && std::getline(status, line); ++i) {
    if (line.rfind("CapEff:", 0) == 0) {
      try {
        return std::stoull(line.substr(7), nullptr, 16);
      } catch (...) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

// First line of a command's output (or its error) for one-line messages.
std::string first_line(const CommandResult& r) {
  std::string text = r.output;
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return {};
  text = text.substr(start);
  text = text.substr(0, text.find('\n'));
  if (text.size() > 160) text = text.substr(0, 160) + "...";
  return text;
}

std::string failure(const CommandResult& r) {
  std::string out = r.error;
  const std::string line = first_line(r);
  if (!line.empty() && out.find(line) == std::string::npos) out += ": " + line;
  return out;
}

std::atomic<unsigned> name_counter{0};

// A temporary namespace, deleted in the destructor (also when a check throws or fails).
class TempNetns {
 public:
  explicit TempNetns(const DoctorOptions& options) : options_(options) {
    name_ = "natcert-doctor-" + std::to_string(::getpid()) + "-" + std::to_string(++name_counter);
    CommandOptions o;
    o.timeout = options_.command_timeout;
    create_ = run_command({"ip", "netns", "add", name_}, o);
    created_ = create_.ok();
  }
  ~TempNetns() { remove(); }
  TempNetns(const TempNetns&) = delete;
  TempNetns& operator=(const TempNetns&) = delete;

  bool created() const { return created_; }
  const std::string& name() const { return name_; }
  const CommandResult& create_result() const { return create_; }

  // Deletes the namespace (and with it every interface inside). Returns the error, empty on success.
  std::string remove() {
    if (!created_) return {};
    CommandOptions o;
    o.timeout = options_.command_timeout;
    const CommandResult r = run_command({"ip", "netns", "delete", name_}, o);
    created_ = false;
    return r.ok() ? std::string() : failure(r);
  }

  CommandResult run(const std::vector<std::string>& argv) const {
    CommandOptions o;
    o.timeout = options_.command_timeout;
    o.netns = name_;
    return run_command(argv, o);
  }

 private:
  DoctorOptions options_;
  std::string name_;
  CommandResult create_;
  bool created_ = false;
};

DoctorCheck make(std::string check, bool ok, std::string message, std::string fix) {
  return DoctorCheck{std::move(check), ok, std::move(message), ok ? std::string() : std::move(fix)};
}

std::string needs_netns(const TempNetns&) { return "not run: no temporary network namespace (see the netns check)"; }

std::vector<DoctorCheck> run_all(const DoctorOptions& options) {
  std::vector<DoctorCheck> checks;
  checks.push_back(check_privileges());
  const bool privileged = checks.back().ok;
  const std::string privilege_fix = "run natcert as root (sudo natcert doctor)";

  CommandOptions plain;
  plain.timeout = options.command_timeout;

  // iproute2
  const CommandResult ip = run_command({"ip", "-V"}, plain);
  const bool have_ip = ip.ok();
  checks.push_back(make("iproute2", have_ip, have_ip ? first_line(ip) : failure(ip),
                        "install iproute2 (apt-get install iproute2)"));

  // netns: create and delete a uniquely named namespace.
  std::optional<TempNetns> ns;
  if (have_ip) ns.emplace(options);
  if (!have_ip) {
    checks.push_back(make("netns", false, "not run: ip is missing", "install iproute2"));
  } else if (!ns->created()) {
    checks.push_back(make("netns", false, "cannot create a network namespace: " + failure(ns->create_result()),
                          privileged ? "check that the kernel has CONFIG_NET_NS and /run/netns is writable"
                                     : privilege_fix));
  } else {
    checks.push_back(make("netns", true, "created network namespace " + ns->name(), ""));
  }
  const bool have_ns = ns && ns->created();

  // veth: a pair created inside the temporary namespace (never on the host).
  if (!have_ns) {
    checks.push_back(make("veth", false, have_ip ? needs_netns(*ns) : "not run: ip is missing",
                          privileged ? "fix the netns check first" : privilege_fix));
  } else {
    const CommandResult add =
        ns->run({"ip", "link", "add", "natcert-d0", "type", "veth", "peer", "name", "natcert-d1"});
    if (!add.ok()) {
      checks.push_back(make("veth", false, "cannot create a veth pair: " + failure(add),
                            "load the veth module (modprobe veth) or enable CONFIG_VETH"));
    } else {
      const CommandResult del = ns->run({"ip", "link", "delete", "natcert-d0"});
      checks.push_back(make("veth", del.ok(),
                            del.ok() ? "created and deleted a veth pair in " + ns->name()
                                     : "created a veth pair but cannot delete it: " + failure(del),
                            "check iproute2 and kernel logs (dmesg)"));
    }
  }

  // nftables: the binary, and a no-op listing inside the temporary namespace.
  const CommandResult nft_version = run_command({"nft", "--version"}, plain);
  if (!nft_version.ok()) {
    checks.push_back(make("nftables", false, failure(nft_version), "install nftables (apt-get install nftables)"));
  } else if (!have_ns) {
    checks.push_back(make("nftables", false, first_line(nft_version) + "; " + (have_ip ? needs_netns(*ns) : "ip is missing"),
                          privileged ? "fix the netns check first" : privilege_fix));
  } else {
    const CommandResult list = ns->run({"nft", "list", "tables"});
    checks.push_back(make("nftables", list.ok(),
                          list.ok() ? first_line(nft_version) + "; nft list tables works in a namespace"
                                    : "nft list tables failed in a namespace: " + failure(list),
                          "load nf_tables (modprobe nf_tables) and check the kernel has CONFIG_NF_TABLES"));
  }

  // conntrack: the binary, and a listing inside the temporary namespace.
  const CommandResult ct_version = run_command({"conntrack", "--version"}, plain);
  if (!ct_version.ok()) {
    checks.push_back(make("conntrack", false, failure(ct_version), "install conntrack (apt-get install conntrack)"));
  } else if (!have_ns) {
    checks.push_back(make("conntrack", false, first_line(ct_version) + "; " + (have_ip ? needs_netns(*ns) : "ip is missing"),
                          privileged ? "fix the netns check first" : privilege_fix));
  } else {
    const CommandResult list = ns->run({"conntrack", "-L"});
    checks.push_back(make("conntrack", list.ok(),
                          list.ok() ? first_line(ct_version) + "; conntrack -L works in a namespace"
                                    : "conntrack -L failed in a namespace: " + failure(list),
                          "load nf_conntrack and nf_conntrack_netlink (modprobe nf_conntrack_netlink)"));
  }

  // AF_PACKET: open and close a raw packet socket (nothing is sent or bound).
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd >= 0) {
    ::close(fd);
    checks.push_back(make("af_packet", true, "AF_PACKET raw socket created", ""));
  } else {
    const int err = errno;
    checks.push_back(make("af_packet", false, std::string("cannot create an AF_PACKET socket: ") + std::strerror(err),
                          err == EPERM || err == EACCES ? "run as root or grant CAP_NET_RAW"
                                                         : "load af_packet (modprobe af_packet)"));
  }

  // Cleanup is checked too: a namespace left behind is a failure to report.
  if (ns) {
    const std::string name = ns->name();
    const std::string error = ns->remove();
    if (!error.empty()) {
      checks[2] = make("netns", false, "cannot delete " + name + ": " + error, "delete it: ip netns delete " + name);
    } else if (checks[2].ok) {
      checks[2].message = "created and deleted network namespace " + name;
    }
  }
  return checks;
}

}  // namespace

DoctorCheck check_privileges() {
  const bool root = ::geteuid() == 0;
  const auto caps = effective_capabilities();
  if (!caps) {
    return make("privileges", root, root ? "running as root (capabilities unknown)" : "not root; capabilities unknown",
                "run natcert as root (sudo natcert doctor)");
  }
  const bool admin = (*caps >> cap_net_admin) & 1u;
  const bool raw = (*caps >> cap_net_raw) & 1u;
  std::string missing;
  if (!admin) missing = "CAP_NET_ADMIN";
  if (!raw) missing += std::string(missing.empty() ? "" : ", ") + "CAP_NET_RAW";
  if (admin && raw) {
    return make("privileges", true,
                root ? "running as root with CAP_NET_ADMIN and CAP_NET_RAW"
                     : "not root, but CAP_NET_ADMIN and CAP_NET_RAW are effective",
                "");
  }
  return make("privileges", false,
              std::string(root ? "running as root but without " : "not root and without ") + missing,
              root ? "run outside a restricted container or grant " + missing + " (docker: --cap-add NET_ADMIN --cap-add NET_RAW)"
                   : "run natcert as root (sudo natcert doctor)");
}

std::vector<DoctorCheck> run_doctor(const DoctorOptions& options) {
  try {
    return run_all(options);
  } catch (const std::exception& e) {
    return {make("doctor", false, std::string("internal error: ") + e.what(), "report this as a natcert bug")};
  } catch (...) {
    return {make("doctor", false, "internal error", "report this as a natcert bug")};
  }
}

std::string format_check(const DoctorCheck& check) {
  std::string out = check.ok ? "ok    " : "FAIL  ";
  out += check.check + ": " + check.message;
  if (!check.ok && !check.fix.empty()) out += " - fix: " + check.fix;
  return out;
}

bool all_ok(const std::vector<DoctorCheck>& checks) {
  if (checks.empty()) return false;
  for (const auto& c : checks) {
    if (!c.ok) return false;
  }
  return true;
}

}  // namespace natcert::harness
