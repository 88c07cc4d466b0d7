// RFC 7857 §9: ports the NAT chooses follow RFC 6056 §4, i.e. they are obfuscated (not predictable).
// Black-box, predictability is judged on the ports the NAT had to choose: close to the previous choice
// (a counter) or close to the requested port (a search from it).
#include <cstdlib>

#include "rfc7857/common.hpp"

namespace natcert::suites::rfc7857 {
namespace {

constexpr int kSamples = 16;
// Two random 16-bit ports land this close with probability about 2 * 64 / 64512 (0.2 %); a counter or a
// search from the requested port lands this close nearly every time.
constexpr int kCloseDistance = 64;

bool close(std::uint16_t a, std::uint16_t b) { return std::abs(int{a} - int{b}) <= kCloseDistance; }

// For each sample X1 takes a fresh port p towards Y, and X2 then sends from the same p to the same Y, so
// the NAT cannot preserve p for X2 and has to choose.
void port_obfuscation(TestContext& ctx) {
  const Endpoint remote = ctx.outside_endpoint(0);
  harness::ReflectorOptions options;
  options.reply = false;
  std::vector<std::uint16_t> requested;
  std::vector<std::uint16_t> chosen;
  std::string observed;
  for (int i = 0; i < kSamples; ++i) {
    const std::uint16_t port = ctx.fresh_port();
    const Mapping holder = ctx.learn_mapping(Endpoint{ctx.inside(0), port}, remote, options);
    const Mapping other = ctx.learn_mapping(Endpoint{ctx.inside(1), port}, remote, options);
    if (other.external == holder.external) {
      ctx.skip("X1 and X2 got the same external endpoint " + harness::to_string(other.external) +
               " towards one destination (port overloading), so the NAT chose no port");
    }
    if (other.external.address != holder.external.address) {
      ctx.skip("X1 and X2 use different external addresses (a pool: " + harness::to_string(holder.external) +
               " and " + harness::to_string(other.external) + "), so their ports never collide and the NAT "
               "never has to choose one");
    }
    requested.push_back(port);
    chosen.push_back(other.external.port);
    observed += (observed.empty() ? "" : ", ") + std::to_string(port) + " -> " + std::to_string(other.external.port);
  }
  int near_previous = 0;
  int near_requested = 0;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    near_requested += close(chosen[i], requested[i]) ? 1 : 0;
    if (i > 0) near_previous += close(chosen[i], chosen[i - 1]) ? 1 : 0;
  }
  const bool predictable = 2 * near_previous >= kSamples - 1 || 2 * near_requested >= kSamples;
  ctx.profile("ports.choice", predictable ? "predictable" : "obfuscated");
  ctx.check("RFC7857-S9", !predictable,
            "chosen ports are neither a counter nor a search from the requested port (at most half of them "
            "within " + std::to_string(kCloseDistance) + " of the previous choice or of the requested port)",
            std::to_string(near_previous) + " of " + std::to_string(kSamples - 1) + " close to the previous, " +
                std::to_string(near_requested) + " of " + std::to_string(kSamples) +
                " close to the requested port (requested -> chosen: " + observed + ")");
}

}  // namespace

void register_port_randomization(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc7857.s9.port-randomization",
      .suite = kSuite,
      .requirements = {{"RFC7857-S9", Level::should}},
      .title = "Ports the NAT has to choose are obfuscated (RFC 6056)",
      .procedure = "16 times, X1 sends UDP from a fresh port p to Y and then X2 sends from the same p to the same "
                   "Y, so the NAT must choose X2's external port (SKIP when X1 and X2 sit on different pool "
                   "addresses). The choice is predictable when at least half of the chosen ports lie within 64 of "
                   "the previous choice (a counter) or of p (a search from the requested port); random choices "
                   "almost never do.",
      .rfc_quote = "A NAPT that does implement port preservation SHOULD obfuscate the ephemeral port of a packet "
                   "only if the port must be changed as a result of the port being already in use for some other "
                   "session.",
      .run = port_obfuscation,
      .mutants = {{"sequential", "rfc-strict,ports.allocation=sequential", Verdict::warn,
                   "chooses ports with a counter"}},
  });
}

}  // namespace natcert::suites::rfc7857
