// The DUT profile (TOML) parser (harness/src/dut_profile.cpp). Invariants: it throws nothing but
// ProfileError, whose what() is one line; an accepted profile yields its addressing and external
// addresses, converts to the testbed configuration of its kind without throwing anything else, and
// every command's placeholders expand or fail with a ProfileError.
#include <string>

#include "fuzz_support.hpp"
#include "natcert/harness/dut_profile.hpp"
#include "natcert/harness/netns_testbed.hpp"
#include "natcert/harness/ports_testbed.hpp"

using namespace natcert;
using fuzz::check;

namespace {

void check_one_line(const harness::ProfileError& error) {
  const std::string_view message = error.what();
  check(!message.empty() && message.find('\n') == std::string_view::npos, "a profile error is not one line");
}

void use(const harness::DutProfile& profile) {
  (void)profile.addressing();
  check(profile.external_addresses().size() == profile.declares.external_addresses,
        "external_addresses() does not honour declares.external_addresses");
  const harness::Placeholders values = harness::placeholders_for(profile, {"ns", "in0", "out0"});
  for (const auto* list : {&profile.commands.setup, &profile.commands.reset, &profile.commands.teardown,
                           &profile.commands.diagnostics}) {
    for (const auto& command : *list) {
      try {
        (void)harness::expand_command(profile, command, values);
      } catch (const harness::ProfileError& error) {
        check_one_line(error);
      }
    }
  }
  try {
    switch (profile.kind) {
      case harness::DutKind::netns: (void)harness::to_netns_config(profile); break;
      case harness::DutKind::refnat: (void)harness::to_netns_config(profile, {"/usr/bin/natcert"}); break;
      case harness::DutKind::ports: (void)harness::to_ports_config(profile); break;
    }
  } catch (const harness::ProfileError& error) {
    check_one_line(error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    use(harness::parse_profile(fuzz::text({data, size}), "fuzz.toml", "/nonexistent"));
  } catch (const harness::ProfileError& error) {
    check_one_line(error);
  }
  return 0;
}
