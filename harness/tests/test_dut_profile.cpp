// DUT profiles: the bundled profiles parse and validate, malformed profiles give one precise line,
// placeholders substitute, and (as root) the bundled netns profiles' commands run in a namespace.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "natcert/harness/command.hpp"
#include "natcert/harness/dut_profile.hpp"
#include "natcert/harness/netns_testbed.hpp"
#include "natcert/harness/ports_testbed.hpp"

namespace fs = std::filesystem;
using namespace natcert::harness;

namespace {

const fs::path profiles_dir = NATCERT_PROFILES_DIR;

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("natcert-profile-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const std::string base_profile =
    "name = \"t\"\n"                                     // 1
    "description = \"test\"\n"                           // 2
    "kind = \"netns\"\n"                                 // 3
    "[inside]\n"                                         // 4
    "dut_address = \"10.0.0.1\"\n"                       // 5
    "prefix = 24\n"                                      // 6
    "hosts = [\"10.0.0.10\", \"10.0.0.11\"]\n"           // 7
    "[outside]\n"                                        // 8
    "dut_addresses = [\"203.0.113.1\"]\n"                // 9
    "prefix = 24\n"                                      // 10
    "gateway = \"203.0.113.254\"\n"                      // 11
    "hosts = [\"198.51.100.10\", \"198.51.100.11\"]\n"   // 12
    "third_party = \"192.0.2.50\"\n"                     // 13
    "[[commands.setup]]\n"                               // 14
    "argv = [\"nft\", \"list\", \"tables\"]\n"           // 15
    "timeout = 5\n";                                     // 16

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) ADD_FAILURE() << "test bug: '" << from << "' not in the base profile";
  else text.replace(at, from.size(), to);
  return text;
}

struct Malformed {
  std::string label;
  std::string text;
  std::uint32_t line;
  std::uint32_t column;  // 0: not checked
  std::string expect;    // substring of the message
};

std::vector<Malformed> malformed_cases() {
  const std::string& b = base_profile;
  return {
      {"unknown top-level key", replace(b, "kind = \"netns\"\n", "kind = \"netns\"\ncolour = \"red\"\n"), 4, 1,
       "unknown key 'colour'"},
      {"unknown key in a section", replace(b, "prefix = 24\nhosts = [\"10", "prefix = 24\nhost = 1\nhosts = [\"10"), 7, 1,
       "unknown key 'inside.host'"},
      {"wrong type", replace(b, "prefix = 24\nhosts = [\"10", "prefix = \"24\"\nhosts = [\"10"), 6, 10,
       "'inside.prefix' must be an integer, not a string"},
      {"prefix out of range", replace(b, "prefix = 24\nhosts = [\"10", "prefix = 33\nhosts = [\"10"), 6, 10,
       "between 1 and 30"},
      {"missing required field", replace(b, "description = \"test\"\n", ""), 1, 1,
       "missing required field 'description'"},
      {"missing required section field", replace(b, "dut_address = \"10.0.0.1\"\n", ""), 4, 1,
       "missing required field 'inside.dut_address'"},
      {"bad address", replace(b, "\"10.0.0.1\"", "\"10.0.0.300\""), 5, 15, "'10.0.0.300' is not an IPv4 address"},
      {"bad address in a list", replace(b, "\"198.51.100.11\"", "\"banana\""), 12, 27,
       "'outside.hosts[1]': 'banana' is not an IPv4 address"},
      {"timeout zero", replace(b, "timeout = 5", "timeout = 0"), 16, 11, "timeout' must be > 0"},
      {"timeout negative", replace(b, "timeout = 5", "timeout = -1.5"), 16, 11, "timeout' must be > 0"},
      {"timeout wrong type", replace(b, "timeout = 5", "timeout = \"5\""), 16, 11, "must be a number of seconds"},
      {"missing timeout", replace(b, "timeout = 5\n", ""), 14, 1, "missing required field 'commands.setup[0].timeout'"},
      {"empty argv", replace(b, "[\"nft\", \"list\", \"tables\"]", "[]"), 15, 8, "'commands.setup[0].argv' is empty"},
      {"argv not strings", replace(b, "[\"nft\", \"list\", \"tables\"]", "[\"nft\", 3]"), 15, 16,
       "'commands.setup[0].argv[1]' must be a string, not an integer"},
      {"unknown placeholder", replace(b, "\"tables\"", "\"{bogus}\""), 15, 24, "unknown placeholder {bogus}"},
      {"upper-case placeholder", replace(b, "\"tables\"", "\"{Inside_If}\""), 15, 24, "unknown placeholder {Inside_If}"},
      {"placeholder beyond the declared external addresses", replace(b, "\"tables\"", "\"{external_address_2}\""), 15,
       24, "{external_address_2} is not available"},
      {"shell without allow_shell", replace(b, "argv = [\"nft\", \"list\", \"tables\"]", "shell = \"nft list tables\""), 15,
       9, "allow_shell = true"},
      {"argv and shell", replace(b, "timeout = 5", "shell = \"x\"\ntimeout = 5"), 16, 9, "both argv and shell"},
      {"commands.setup as a table", replace(b, "[[commands.setup]]", "[commands.setup]"), 14, 1,
       "must be an array of tables"},
      {"bad kind", replace(b, "\"netns\"", "\"bridge\""), 3, 8, "'kind' must be \"netns\", \"ports\" or \"refnat\""},
      {"inside host off prefix", replace(b, "\"10.0.0.10\"", "\"10.0.1.10\""), 7, 10,
       "'inside.hosts[0]' 10.0.1.10 is not in the inside prefix 10.0.0.0/24"},
      {"duplicate inside host", replace(b, "\"10.0.0.11\"", "\"10.0.0.10\""), 7, 23, "is used twice"},
      {"one inside host", replace(b, ", \"10.0.0.11\"", ""), 7, 9, "at least two emulated inside hosts"},
      {"off-link hosts need a gateway", replace(b, "gateway = \"203.0.113.254\"\n", ""), 11, 10,
       "'outside.gateway' is required"},
      {"netns without a gateway",
       replace(replace(replace(b, "gateway = \"203.0.113.254\"\n", ""), "[\"198.51.100.10\", \"198.51.100.11\"]",
                       "[\"203.0.113.10\", \"203.0.113.11\"]"),
               "third_party = \"192.0.2.50\"\n", ""),
       8, 1, "missing required field 'outside.gateway'"},
      {"third party in the inside prefix", replace(b, "\"192.0.2.50\"", "\"10.0.0.50\""), 13, 15,
       "is in the inside prefix"},
      {"gateway off link", replace(b, "\"203.0.113.254\"", "\"203.0.114.254\""), 11, 11, "not in the outside prefix"},
      {"overlapping prefixes", replace(b, "[\"203.0.113.1\"]", "[\"10.0.0.2\"]"), 10, 10, "overlaps the inside prefix"},
      {"too many external addresses declared", b + "[declares]\nexternal_addresses = 2\n", 18, 22,
       "lists only 1"},
      {"bad mtu", b + "[declares]\noutside_mtu = 100\n", 18, 15, "between 576 and 65535"},
      {"bad alg", b + "[declares]\nalgs = [\"FTP\"]\n", 18, 9, "lower-case ALG name"},
      {"ports section on a netns profile", b + "[ports]\ninside_interface = \"eth0\"\n", 17, 1,
       "[ports] is only for kind = \"ports\""},
      {"ports kind without ports", replace(b, "\"netns\"", "\"ports\""), 1, 1, "missing required field 'ports'"},
      {"refnat bad spec",
       replace(b, "kind = \"netns\"\n", "kind = \"refnat\"\nrefnat = { spec = \"no-such-preset\" }\n"), 4, 19,
       "'refnat.spec' \"no-such-preset\""},
      {"dut_netns outside netns kind",
       replace(replace(b, "kind = \"netns\"\n", "kind = \"refnat\"\nrefnat = { spec = \"rfc-strict\" }\n"), "\"tables\"",
               "\"{dut_netns}\""),
       16, 24, "{dut_netns} is not available"},
      {"netns kind without setup", b.substr(0, b.find("[[commands.setup]]")), 1, 1,
       "needs at least one [[commands.setup]]"},
      {"budget not positive", replace(b, "kind = \"netns\"\n", "kind = \"netns\"\nrealtime_budget = 0\n"), 4, 19,
       "'realtime_budget' must be between 1 and 86400"},
      {"bad name", replace(b, "name = \"t\"", "name = \"has space\""), 1, 8, "'name' must be"},
      {"TOML syntax error", replace(b, "prefix = 24\nhosts = [\"10", "prefix = \nhosts = [\"10"), 6, 0, "TOML syntax"},
  };
}

}  // namespace

TEST(DutProfile, BaseProfileIsValid) {
  const DutProfile p = parse_profile(base_profile, "base.toml");
  EXPECT_EQ(p.name, "t");
  EXPECT_EQ(p.kind, DutKind::netns);
  EXPECT_EQ(p.inside.prefix, 24);
  ASSERT_EQ(p.commands.setup.size(), 1u);
  EXPECT_EQ(p.commands.setup[0].argv, (std::vector<std::string>{"nft", "list", "tables"}));
  EXPECT_EQ(p.commands.setup[0].timeout_seconds, 5.0);
  EXPECT_EQ(p.commands.setup[0].position.line, 14u);
  EXPECT_EQ(p.realtime_budget_seconds, 300u);
  EXPECT_EQ(p.declares.external_addresses, 1u);
  EXPECT_EQ(p.declares.outside_mtu, 1500u);
  const Addressing a = p.addressing();
  EXPECT_EQ(a.inside, (std::vector<Ipv4Address>{ipv4("10.0.0.10"), ipv4("10.0.0.11")}));
  EXPECT_EQ(a.outside, (std::vector<Ipv4Address>{ipv4("198.51.100.10"), ipv4("198.51.100.11")}));
  EXPECT_EQ(a.third_party, ipv4("192.0.2.50"));
  EXPECT_EQ(a.nat_external, (std::vector<Ipv4Address>{ipv4("203.0.113.1")}));
  EXPECT_EQ(a.nat_inside, ipv4("10.0.0.1"));
}

TEST(DutProfile, BundledProfilesParseAndValidate) {
  const std::set<std::string> expected = {"linux-nft-masquerade", "linux-nft-masquerade-random",
                                          "linux-nft-snat-pool",  "linux-nft-hairpin",
                                          "refnat-rfc-strict",    "example-hardware-router",
                                          "linux-nft-short-timers", "refnat-short-timers",
                                          "linux-nft-ftp-helper", "linux-nft-sip-helper"};
  std::set<std::string> found;
  for (const auto& entry : fs::directory_iterator(profiles_dir)) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    DutProfile p;
    try {
      p = load_profile(entry.path());
    } catch (const ProfileError& e) {
      FAIL() << e.what();
    }
    EXPECT_EQ(p.name, entry.path().stem().string()) << "a profile's name is its file name";
    EXPECT_FALSE(p.description.empty());
    EXPECT_GE(p.inside.hosts.size(), 2u);
    EXPECT_GE(p.outside.hosts.size(), 2u);
    EXPECT_TRUE(p.outside.third_party.has_value());
    EXPECT_EQ(p.profile_dir, fs::absolute(profiles_dir).lexically_normal());
    // Every command expands with the testbed's names.
    const Placeholders values = placeholders_for(p, {"natcert-dut", "in0", "out0"});
    for (const auto* list : {&p.commands.setup, &p.commands.reset, &p.commands.teardown, &p.commands.diagnostics}) {
      for (const auto& c : *list) {
        EXPECT_NO_THROW(expand_command(p, c, values)) << format_argv(c.argv);
      }
    }
    found.insert(p.name);
  }
  EXPECT_EQ(found, expected);
}

TEST(DutProfile, BundledProfileSpecifics) {
  const DutProfile masq = load_profile(profiles_dir / "linux-nft-masquerade.toml");
  EXPECT_FALSE(masq.commands.reset.empty());
  EXPECT_EQ(masq.commands.reset[0].argv, (std::vector<std::string>{"conntrack", "-F"}));
  ASSERT_EQ(masq.commands.diagnostics.size(), 2u);

  const DutProfile random = load_profile(profiles_dir / "linux-nft-masquerade-random.toml");
  EXPECT_EQ(random.commands.setup.back().argv.back(), "random,fully-random");

  const DutProfile pool = load_profile(profiles_dir / "linux-nft-snat-pool.toml");
  EXPECT_EQ(pool.declares.external_addresses, 2u);
  EXPECT_EQ(pool.addressing().nat_external.size(), 2u);
  const auto argv = expand_command(pool, pool.commands.setup.back(), placeholders_for(pool, {"ns", "in0", "out0"}));
  EXPECT_EQ(argv.back(), "203.0.113.1-203.0.113.2");
  EXPECT_EQ(argv[argv.size() - 5], "\"out0\"");

  const DutProfile hairpin = load_profile(profiles_dir / "linux-nft-hairpin.toml");
  EXPECT_TRUE(hairpin.declares.hairpin);
  const auto hp = expand_command(hairpin, hairpin.commands.setup.back(), placeholders_for(hairpin, {"ns", "in0", "out0"}));
  EXPECT_EQ(hp.back(), (fs::absolute(profiles_dir).lexically_normal() / "linux-nft-hairpin.nft").string());
  EXPECT_TRUE(fs::exists(hp.back()));

  const DutProfile refnat = load_profile(profiles_dir / "refnat-rfc-strict.toml");
  EXPECT_EQ(refnat.kind, DutKind::refnat);
  ASSERT_TRUE(refnat.refnat.has_value());
  EXPECT_EQ(refnat.refnat->spec, "rfc-strict");

  const DutProfile box = load_profile(profiles_dir / "example-hardware-router.toml");
  EXPECT_EQ(box.kind, DutKind::ports);
  ASSERT_TRUE(box.ports.has_value());
  EXPECT_EQ(box.ports->inside_interface, "enp1s0");
  const Placeholders box_values = placeholders_for(box);
  ASSERT_NE(box_values.find("inside_if"), nullptr);
  EXPECT_EQ(*box_values.find("inside_if"), "enp1s0");
  EXPECT_EQ(box_values.find("dut_netns"), nullptr);
}

TEST(DutProfile, MalformedProfilesReportFileLineColumn) {
  TempDir dir;
  int n = 0;
  for (const Malformed& m : malformed_cases()) {
    SCOPED_TRACE(m.label);
    const fs::path file = dir.write("case" + std::to_string(++n) + ".toml", m.text);
    try {
      (void)load_profile(file);
      ADD_FAILURE() << "accepted:\n" << m.text;
    } catch (const ProfileError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_EQ(e.file(), file.string());
      EXPECT_EQ(e.line(), m.line) << what;
      if (m.column != 0) {
        EXPECT_EQ(e.column(), m.column) << what;
      }
      const std::string prefix = file.string() + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": ";
      EXPECT_EQ(what.rfind(prefix, 0), 0u) << what;
      EXPECT_NE(what.find(m.expect), std::string::npos) << what << "\n  expected: " << m.expect;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a ProfileError: " << e.what();
    }
  }
}

TEST(DutProfile, UnreadableFileIsAProfileError) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing.toml";
  try {
    (void)load_profile(missing);
    FAIL() << "accepted a missing file";
  } catch (const ProfileError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(missing.string() + ": ", 0), 0u) << e.what();
    EXPECT_EQ(e.line(), 0u);
  }
  EXPECT_THROW((void)load_profile(dir.path()), ProfileError);  // a directory
}

TEST(DutProfile, ShellCommandsOnlyWhenAllowed) {
  const std::string text = replace(base_profile, "[[commands.setup]]\nargv = [\"nft\", \"list\", \"tables\"]",
                                   "[commands]\nallow_shell = true\n[[commands.setup]]\n"
                                   "shell = \"nft -f {profile_dir}/rules.nft && echo {outside_if}\"");
  const DutProfile p = parse_profile(text, "shell.toml", "/etc/natcert");
  ASSERT_EQ(p.commands.setup.size(), 1u);
  ASSERT_TRUE(p.commands.setup[0].shell.has_value());
  const auto argv = expand_command(p, p.commands.setup[0], placeholders_for(p, {"ns", "in0", "out0"}));
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/sh", "-c", "nft -f /etc/natcert/rules.nft && echo out0"}));
}

TEST(DutProfile, OptionalFieldsAndTypes) {
  const std::string text = base_profile +
                           "[declares]\nexternal_addresses = 1\nhairpin = true\nalgs = [\"ftp\", \"sip\"]\n"
                           "outside_mtu = 1400\n[[commands.reset]]\nargv = [\"conntrack\", \"-F\"]\ntimeout = 0.5\n"
                           "may_fail = true\n";
  const DutProfile p = parse_profile(text, "opt.toml");
  EXPECT_TRUE(p.declares.hairpin);
  EXPECT_EQ(p.declares.algs, (std::vector<std::string>{"ftp", "sip"}));
  EXPECT_EQ(p.declares.outside_mtu, 1400u);
  ASSERT_EQ(p.commands.reset.size(), 1u);
  EXPECT_DOUBLE_EQ(p.commands.reset[0].timeout_seconds, 0.5);
  EXPECT_TRUE(p.commands.reset[0].may_fail);
}

TEST(Placeholders, ScanAndEscapes) {
  EXPECT_EQ(placeholders_in("a{inside_if}b{outside_if}{inside_if}"),
            (std::vector<std::string>{"inside_if", "outside_if", "inside_if"}));
  EXPECT_TRUE(placeholders_in("{ type nat hook postrouting priority srcnat; }").empty());
  EXPECT_TRUE(placeholders_in("{80,443}").empty());
  EXPECT_TRUE(placeholders_in("{{inside_if}}").empty());
  EXPECT_TRUE(placeholders_in("{inside_if").empty());

  Placeholders p;
  p.set("inside_if", "in0");
  EXPECT_EQ(p.expand("oifname \"{inside_if}\""), "oifname \"in0\"");
  EXPECT_EQ(p.expand("{{inside_if}}"), "{inside_if}");
  EXPECT_EQ(p.expand("{ type nat hook postrouting priority 100; }"), "{ type nat hook postrouting priority 100; }");
  EXPECT_EQ(p.expand("{inside_if}{inside_if}"), "in0in0");
  try {
    (void)p.expand("x {outside_if}");
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("{outside_if} has no value"), std::string::npos) << e.what();
  }
}

TEST(Placeholders, ProfileValues) {
  const DutProfile pool = load_profile(profiles_dir / "linux-nft-snat-pool.toml");
  const Placeholders v = placeholders_for(pool, {"natcert-dut-1", "in0", "out0"});
  auto get = [&](const char* name) {
    const std::string* s = v.find(name);
    return s ? *s : std::string("<unset>");
  };
  EXPECT_EQ(get("dut_netns"), "natcert-dut-1");
  EXPECT_EQ(get("inside_if"), "in0");
  EXPECT_EQ(get("outside_if"), "out0");
  EXPECT_EQ(get("inside_address"), "10.0.0.1");
  EXPECT_EQ(get("inside_prefix"), "24");
  EXPECT_EQ(get("inside_network"), "10.0.0.0/24");
  EXPECT_EQ(get("inside_host_1"), "10.0.0.10");
  EXPECT_EQ(get("inside_host_2"), "10.0.0.11");
  EXPECT_EQ(get("outside_address"), "203.0.113.1");
  EXPECT_EQ(get("outside_network"), "203.0.113.0/24");
  EXPECT_EQ(get("outside_gateway"), "203.0.113.254");
  EXPECT_EQ(get("third_party"), "192.0.2.50");
  EXPECT_EQ(get("external_address"), "203.0.113.1");
  EXPECT_EQ(get("external_address_2"), "203.0.113.2");
  EXPECT_EQ(get("external_first"), "203.0.113.1");
  EXPECT_EQ(get("external_last"), "203.0.113.2");
  EXPECT_EQ(get("external_addresses"), "203.0.113.1,203.0.113.2");
  EXPECT_EQ(get("external_count"), "2");
  EXPECT_EQ(get("profile_name"), "linux-nft-snat-pool");
  EXPECT_EQ(get("refnat_spec"), "<unset>");
  // Every documented name is one the parser accepts, and every value set is a documented name.
  const auto& names = placeholder_names();
  for (const auto& [name, value] : v.values()) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  // Passing the testbed's own tokens through (for a testbed that substitutes later).
  const Placeholders through = placeholders_for(pool, {"{ns}", "{inside_if}", "{outside_if}"});
  const auto argv = expand_command(pool, pool.commands.setup.back(), through);
  EXPECT_EQ(argv[argv.size() - 5], "\"{outside_if}\"");
}

TEST(Placeholders, MissingTestbedValueNamesTheCommand) {
  const DutProfile p = load_profile(profiles_dir / "linux-nft-masquerade.toml");
  try {
    (void)expand_command(p, p.commands.setup.back(), placeholders_for(p));  // no interface names
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_EQ(e.file(), (profiles_dir / "linux-nft-masquerade.toml").string());
    EXPECT_EQ(e.line(), p.commands.setup.back().position.line);
    EXPECT_NE(std::string(e.what()).find("{outside_if}"), std::string::npos) << e.what();
  }
}

// As root: every bundled netns profile's commands run in a throw-away namespace (no traffic).
TEST(DutProfile, BundledNetnsProfilesRunInANamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates a network namespace); CI runs this as root";
  for (const char* name : {"linux-nft-masquerade", "linux-nft-masquerade-random", "linux-nft-snat-pool",
                           "linux-nft-hairpin"}) {
    SCOPED_TRACE(name);
    const DutProfile p = load_profile(profiles_dir / (std::string(name) + ".toml"));
    const std::string ns = "natcert-proftest-" + std::to_string(::getpid());
    CommandOptions host;
    host.timeout = std::chrono::seconds(10);
    ASSERT_TRUE(run_command({"ip", "netns", "add", ns}, host).ok());
    struct Cleanup {
      std::string ns;
      ~Cleanup() {
        CommandOptions o;
        o.timeout = std::chrono::seconds(10);
        (void)run_command({"ip", "netns", "delete", ns}, o);
      }
    } cleanup{ns};
    CommandOptions in;
    in.timeout = std::chrono::seconds(10);
    in.netns = ns;
    const CommandResult veth =
        run_command({"ip", "link", "add", "natcert-in", "type", "veth", "peer", "name", "natcert-out"}, in);
    ASSERT_TRUE(veth.ok()) << veth.summary() << "\n" << veth.output;
    const Placeholders values = placeholders_for(p, {ns, "natcert-in", "natcert-out"});
    for (const auto* list : {&p.commands.setup, &p.commands.reset, &p.commands.diagnostics, &p.commands.teardown}) {
      for (const auto& c : *list) {
        const CommandResult r = run_profile_command(p, c, values, ns);
        EXPECT_TRUE(r.ok()) << r.summary() << "\n" << r.output;
      }
    }
  }
}

TEST(DutProfile, NetnsTestbedConfiguration) {
  const DutProfile pool = load_profile(profiles_dir / "linux-nft-snat-pool.toml");
  const NetnsDutConfig c = to_netns_config(pool);
  EXPECT_EQ(c.label, "linux-nft-snat-pool");
  EXPECT_EQ(c.inside_address, ipv4("10.0.0.1"));
  EXPECT_EQ(c.inside_prefix, 24u);
  EXPECT_EQ(c.outside_addresses, (std::vector<Ipv4Address>{ipv4("203.0.113.1"), ipv4("203.0.113.2")}));
  EXPECT_EQ(c.upstream_router, ipv4("203.0.113.254"));
  EXPECT_EQ(c.nat_external.size(), 2u);
  EXPECT_EQ(c.outside_mtu, 1500u);
  EXPECT_EQ(c.inside_hosts, pool.inside.hosts);
  EXPECT_EQ(c.outside_hosts, pool.outside.hosts);
  EXPECT_EQ(c.third_party, ipv4("192.0.2.50"));
  ASSERT_EQ(c.setup.size(), pool.commands.setup.size());
  EXPECT_EQ(c.setup[0].timeout, std::chrono::seconds(5));
  ASSERT_EQ(c.teardown.size(), 1u);
  EXPECT_TRUE(c.teardown[0].may_fail);
  ASSERT_TRUE(static_cast<bool>(c.expand));
  const auto argv = c.expand(c.setup.back().argv, NetnsNames{"dut-ns", "h-ns", "in0", "out0"});
  EXPECT_EQ(argv.back(), "203.0.113.1-203.0.113.2");
  EXPECT_EQ(argv[argv.size() - 5], "\"out0\"");
  EXPECT_THROW((void)to_netns_config(load_profile(profiles_dir / "refnat-rfc-strict.toml")), ProfileError);
  EXPECT_THROW((void)to_netns_config(load_profile(profiles_dir / "example-hardware-router.toml")), ProfileError);
}

TEST(DutProfile, RefnatProfileBecomesANamespaceTestbedWithTheDaemonAsItsProcess) {
  const DutProfile refnat = load_profile(profiles_dir / "refnat-rfc-strict.toml");
  const NetnsDutConfig c = to_netns_config(refnat, RefnatProgram{"/opt/natcert/bin/natcert"});
  EXPECT_FALSE(c.kernel_addressing);
  ASSERT_TRUE(c.dut_process.has_value());
  EXPECT_TRUE(c.dut_process->stdio_control);
  EXPECT_EQ(c.dut_process->argv,
            (std::vector<std::string>{"/opt/natcert/bin/natcert", "refnat", "--inside-if", "in0", "--outside-if", "out0",
                                      "--inside", "10.0.0.1/24", "--outside", "203.0.113.1/24", "--outside",
                                      "203.0.113.2/24", "--gateway", "203.0.113.254", "--config", "rfc-strict",
                                      "--control", "stdio"}));
  EXPECT_EQ(c.nat_external.size(), 2u);
  // A netns profile is unchanged by the program; a ports profile is not for the namespace testbed.
  const NetnsDutConfig netns = to_netns_config(load_profile(profiles_dir / "linux-nft-masquerade.toml"), RefnatProgram{"x"});
  EXPECT_FALSE(netns.dut_process.has_value());
  EXPECT_TRUE(netns.kernel_addressing);
  EXPECT_THROW((void)to_netns_config(load_profile(profiles_dir / "example-hardware-router.toml"), RefnatProgram{"x"}),
               ProfileError);
}

TEST(DutProfile, PortsProfileBecomesAPortsTestbedConfiguration) {
  const DutProfile router = load_profile(profiles_dir / "example-hardware-router.toml");
  const PortsDutConfig c = to_ports_config(router);
  EXPECT_EQ(c.inside_interface, "enp1s0");
  EXPECT_EQ(c.outside_interface, "enp2s0");
  EXPECT_EQ(c.upstream_router, ipv4("203.0.113.254"));
  EXPECT_EQ(c.reset.size(), 1u);
  const PortsDutConfig overridden = to_ports_config(router, PortInterfaces{"eth1", "eth2"});
  EXPECT_EQ(overridden.inside_interface, "eth1");
  EXPECT_EQ(overridden.outside_interface, "eth2");
  // {inside_if} expands to the interface in use, not the profile's.
  const auto argv = overridden.expand(overridden.setup.front().argv, NetnsNames{"", "", "eth1", "eth2"});
  EXPECT_EQ(argv, (std::vector<std::string>{"ip", "link", "set", "eth1", "up"}));
  EXPECT_THROW((void)to_ports_config(load_profile(profiles_dir / "linux-nft-masquerade.toml")), ProfileError);
}

// As root: the namespace testbed comes up with every bundled netns profile (setup commands succeed,
// diagnostics run) and goes away again.
TEST(DutProfile, BundledProfilesBuildANetnsTestbed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces); CI runs this as root";
  for (const char* name : {"linux-nft-masquerade", "linux-nft-masquerade-random", "linux-nft-snat-pool",
                           "linux-nft-hairpin"}) {
    SCOPED_TRACE(name);
    const DutProfile p = load_profile(profiles_dir / (std::string(name) + ".toml"));
    try {
      NetnsTestbed testbed(to_netns_config(p));
      EXPECT_EQ(testbed.addressing().nat_external, p.external_addresses());
      const auto diagnostics = testbed.diagnostics();
      EXPECT_EQ(diagnostics.size(), p.commands.diagnostics.size());
      bool saw_table = false;
      for (const auto& d : diagnostics) saw_table = saw_table || d.find("table ip natcert") != std::string::npos;
      EXPECT_TRUE(saw_table) << "nft list ruleset shows the profile's table";
      testbed.shutdown();
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}
