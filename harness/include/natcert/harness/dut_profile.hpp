// DUT profiles: a TOML file that describes a device under test for the wire testbeds (what kind of
// DUT it is, its addressing plan, the commands that set it up, reset it between tests, tear it down
// and collect diagnostics, and what it declares about itself). The format is documented field by
// field in docs/dut-profiles.md; bundled profiles live in profiles/*.toml.
//
// Parsing is strict: an unknown key, a wrong type, a missing required field, a bad address, a
// timeout <= 0, an empty argv or an unknown placeholder is reported as ONE line
// "FILE:LINE:COLUMN: what is wrong" in a ProfileError. Nothing else is thrown out of the parser.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/testbed.hpp"
#include "natcert/harness/types.hpp"

namespace natcert::harness {

struct NetnsDutConfig;  // netns_testbed.hpp
struct PortsDutConfig;  // ports_testbed.hpp

// A malformed profile (or a placeholder that cannot be substituted). what() is one line:
// "FILE:LINE:COLUMN: message" (or "FILE: message" when there is no position, e.g. an unreadable file).
class ProfileError : public std::runtime_error {
 public:
  ProfileError(std::string file, std::uint32_t line, std::uint32_t column, std::string message);
  const std::string& file() const { return file_; }
  std::uint32_t line() const { return line_; }      // 1-based; 0 when unknown
  std::uint32_t column() const { return column_; }  // 1-based; 0 when unknown
  const std::string& message() const { return message_; }  // without the position prefix

 private:
  std::string file_;
  std::uint32_t line_;
  std::uint32_t column_;
  std::string message_;
};

enum class DutKind {
  netns,   // natcert builds a namespace testbed; commands run inside the DUT namespace
  ports,   // two physical interfaces cabled to a real box; commands run on the natcert host
  refnat,  // the reference NAT daemon, configured by a reference spec
};
std::string_view to_string(DutKind kind);

// Where in the source a profile value came from (for messages about values the caller rejects later).
struct SourcePosition {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// One command: an argument vector, or (only when the profile sets commands.allow_shell = true) a
// string for /bin/sh -c. Either may contain placeholders (see Placeholders below).
struct CommandSpec {
  std::vector<std::string> argv;  // empty when `shell` is set
  std::optional<std::string> shell;
  double timeout_seconds = 0;  // > 0
  bool may_fail = false;       // a non-zero exit (or a timeout) is logged, not fatal
  SourcePosition position;     // of the command's table in the profile
};

struct DutCommands {
  bool allow_shell = false;
  std::vector<CommandSpec> setup;        // once, before the first test
  std::vector<CommandSpec> reset;        // between tests (e.g. conntrack -F)
  std::vector<CommandSpec> teardown;     // once, after the last test (also after a failed setup)
  std::vector<CommandSpec> diagnostics;  // after a test that did not PASS (conntrack -L, nft list ruleset)
};

struct InsidePlan {
  Ipv4Address dut_address = 0;  // the DUT's inside (gateway) address
  std::uint8_t prefix = 0;      // inside prefix length (1..30)
  std::vector<Ipv4Address> hosts;  // emulated inside hosts (at least two), in the inside prefix
};

struct OutsidePlan {
  std::vector<Ipv4Address> dut_addresses;  // the DUT's outside address(es), at least one
  std::uint8_t prefix = 0;                 // outside prefix length (1..30)
  std::optional<Ipv4Address> gateway;      // the DUT's outside next hop, emulated by natcert (on the link)
  // Emulated outside hosts (at least two) and the third party: on the outside link, or anywhere
  // (outside the inside prefix) behind the gateway, which is then required.
  std::vector<Ipv4Address> hosts;
  std::optional<Ipv4Address> third_party;  // an outside address kept silent until a test needs it
};

// What the DUT says about itself. Tests use it to decide what applies (REQ-2 needs two external
// addresses) and reports show it; the DUT is still tested, never trusted.
struct DutDeclarations {
  std::uint32_t external_addresses = 1;  // how many outside.dut_addresses the NAT maps onto
  bool hairpin = false;
  std::vector<std::string> algs;      // e.g. "ftp", "sip"
  std::uint32_t outside_mtu = 1500;   // 576..65535
};

struct PortsSection {  // kind = "ports"
  std::string inside_interface;   // natcert host NIC cabled to the DUT's LAN port
  std::string outside_interface;  // natcert host NIC cabled to the DUT's WAN port
};

struct RefnatSection {  // kind = "refnat"
  std::string spec;  // reference configuration "PRESET[,key=value...]", e.g. "rfc-strict"
};

struct DutProfile {
  std::filesystem::path file;         // where it was loaded from ("" when parsed from text)
  std::filesystem::path profile_dir;  // the file's directory: {profile_dir}
  std::string name;
  std::string description;
  DutKind kind = DutKind::netns;
  std::uint32_t realtime_budget_seconds = 300;  // real time a single timer test may spend
  InsidePlan inside;
  OutsidePlan outside;
  DutDeclarations declares;
  DutCommands commands;
  std::optional<PortsSection> ports;
  std::optional<RefnatSection> refnat;

  // The NAT's external addresses: the first declares.external_addresses of outside.dut_addresses.
  std::vector<Ipv4Address> external_addresses() const;
  // The addressing plan as the Testbed interface reports it.
  Addressing addressing() const;
};

// Reads and validates a profile file. Throws ProfileError (and nothing else).
DutProfile load_profile(const std::filesystem::path& file);
// Validates profile text. `source_name` is used in messages; `profile_dir` becomes {profile_dir}.
// Throws ProfileError (and nothing else).
DutProfile parse_profile(std::string_view text, const std::string& source_name,
                         const std::filesystem::path& profile_dir = {});

// Placeholders in commands: "{name}" where name is [A-Za-z_][A-Za-z0-9_]* (every recognised name is
// lower case; any other name is rejected when the profile is parsed). "{{" and "}}" stand for
// literal braces; any other brace (e.g. nft's "{ type nat hook ... }" or "{80,443}") is literal.
// The recognised names (anything else is rejected when the profile is parsed):
//   {profile_dir} {profile_name}
//   {dut_netns}                      netns kind: the DUT namespace the testbed created
//   {inside_if} {outside_if}         the DUT's interfaces (netns: inside its namespace; ports: the
//                                    natcert host NICs from [ports])
//   {inside_address} {inside_prefix} {inside_network}          e.g. 10.0.0.1, 24, 10.0.0.0/24
//   {inside_host_1} ... {inside_host_8}                         emulated inside hosts
//   {outside_address} {outside_prefix} {outside_network}       first outside.dut_addresses entry
//   {outside_gateway} {third_party}
//   {external_address}               first external address (= {external_address_1})
//   {external_address_1} ... {external_address_8}
//   {external_first} {external_last} first and last external address (for "snat to A-B")
//   {external_addresses}             all external addresses, comma-separated
//   {external_count}
//   {refnat_spec}                    refnat kind
const std::vector<std::string_view>& placeholder_names();

class Placeholders {
 public:
  void set(std::string name, std::string value);
  // The value of a name, or nullptr when unset.
  const std::string* find(std::string_view name) const;
  // Substitutes every placeholder. Throws ProfileError (file "", no position) naming the first
  // placeholder without a value.
  std::string expand(std::string_view text) const;
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// The names of the placeholders used in `text` (in order of appearance, repeated as they repeat).
std::vector<std::string> placeholders_in(std::string_view text);

// Testbed-provided names. Empty strings are left unset (a command using them fails to expand).
struct TestbedNames {
  std::string dut_netns;
  std::string inside_if;
  std::string outside_if;
};

// Everything a profile defines plus what the testbed provides. For kind "ports" the interfaces
// default to the [ports] section when `names` leaves them empty.
Placeholders placeholders_for(const DutProfile& profile, const TestbedNames& names = {});

// A command with its placeholders substituted: the final argv (for a shell command:
// {"/bin/sh", "-c", expanded}). Throws ProfileError with the command's position when a placeholder
// has no value.
std::vector<std::string> expand_command(const DutProfile& profile, const CommandSpec& command,
                                        const Placeholders& values);

// A command's argv before substitution (a shell command: {"/bin/sh", "-c", shell}).
std::vector<std::string> command_argv(const CommandSpec& command);

// For kind "netns": the namespace testbed's configuration. Addressing, declared external addresses
// and outside MTU come from the profile; the commands keep their timeouts and may_fail; `expand`
// substitutes the profile's placeholders with the testbed's names ({dut_netns}, {inside_if},
// {outside_if}); `configuration` names the profile. The caller adds pcap_directory, concurrency.
// Throws ProfileError for another kind.
NetnsDutConfig to_netns_config(const DutProfile& profile);

// The natcert executable whose `natcert refnat` subcommand is the reference NAT daemon.
struct RefnatProgram {
  std::filesystem::path executable;  // the CLI passes /proc/self/exe, resolved
};

// For kind "netns" as above; for kind "refnat": a namespace testbed without kernel addressing whose
// DUT process is the daemon, `EXE refnat --inside-if IF --outside-if IF --inside ADDR/PREFIX
// --outside ADDR/PREFIX ... [--gateway ADDR] --config SPEC --control stdio`, from the profile's
// addressing and refnat.spec (the profile's commands, if any, run in the DUT namespace).
// Throws ProfileError for kind "ports".
NetnsDutConfig to_netns_config(const DutProfile& profile, const RefnatProgram& program);

// Interfaces given on the command line; an empty one keeps the profile's [ports] value.
struct PortInterfaces {
  std::string inside;
  std::string outside;
};

// For kind "ports": the physical-port testbed's configuration (addressing, declared external
// addresses, commands run on the host with placeholders expanded, {inside_if}/{outside_if} naming
// the interfaces in use). Throws ProfileError for another kind.
PortsDutConfig to_ports_config(const DutProfile& profile, const PortInterfaces& interfaces = {});

}  // namespace natcert::harness
