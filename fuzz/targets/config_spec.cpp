// The reference configuration spec parser, make_config("PRESET[,key=value...]") with apply_override,
// durations, address lists and per-port timers (reference/src/config.cpp). Invariants: a rejection
// is one line; an accepted configuration validates, builds a NAT, and reads back: every knob's value
// re-applied to the defaults reproduces the same value (knob_value is the inverse of apply_override).
#include <string>

#include "fuzz_support.hpp"
#include "natcert/reference/nat.hpp"

using namespace natcert;
using fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view spec = fuzz::text({data, size});
  ref::NatConfig config;
  std::string error;
  if (!ref::make_config(spec, config, error)) {
    check(!error.empty(), "make_config failed without a message");
    check(error.find('\n') == std::string::npos, "make_config's message is not one line");
    return 0;
  }
  check(ref::validate(config).empty(), "make_config accepted a configuration validate() rejects");
  ref::ReferenceNat nat(config);  // throws (and so crashes the target) on an invalid configuration

  ref::NatConfig copy = ref::defaults();
  for (const ref::Knob& knob : ref::knobs()) {
    const std::string value = ref::knob_value(config, knob.key);
    const std::string message = ref::apply_override(copy, knob.key, value);
    if (!message.empty()) fuzz::fail("knob_value gives a value apply_override rejects: " + message);
  }
  for (const ref::Knob& knob : ref::knobs()) {
    check(ref::knob_value(copy, knob.key) == ref::knob_value(config, knob.key), "a knob does not read back");
  }
  return 0;
}
