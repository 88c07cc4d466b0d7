// The reference NAT as DUT, in process, on virtual time. Every session gets a fresh ReferenceNat built
// from the testbed's configuration and seeded with the session seed, so tests are deterministic,
// independent of each other and of their order, and can all run concurrently.
#pragma once

#include <memory>
#include <string>

#include "natcert/harness/testbed.hpp"
#include "natcert/reference/config.hpp"

namespace natcert::harness {

struct InProcessOptions {
  // Virtual time advances in steps of at most `tick` while a receive() waits or wait() runs, calling
  // ReferenceNat::advance at each step so timed emissions (held SYNs, expiries) appear on time.
  Duration tick = std::chrono::milliseconds(100);
  // Emulated hosts. Inside hosts default to the NAT's inside prefix (host numbers 10, 11, ...) when
  // the configuration declares one, else 10.0.0.10 and 10.0.0.11.
  std::vector<Ipv4Address> inside_hosts{};
  std::vector<Ipv4Address> outside_hosts{};  // default 198.51.100.10, 198.51.100.11
  std::optional<Ipv4Address> third_party{};  // default 192.0.2.50
};

class InProcessTestbed final : public Testbed {
 public:
  // `spec` is a reference configuration ("rfc-strict,udp.mapping=address-dependent"); throws
  // std::invalid_argument with make_config's message when it is rejected.
  explicit InProcessTestbed(std::string spec, InProcessOptions options = {});
  InProcessTestbed(ref::NatConfig config, std::string label, InProcessOptions options = {});

  std::string kind() const override { return "in-process"; }
  std::string describe() const override;
  std::vector<std::pair<std::string, std::string>> dut_configuration() const override;
  Addressing addressing() const override { return addressing_; }
  bool virtual_time() const override { return true; }
  std::unique_ptr<DutSession> open_session(const TestCase& test, std::uint64_t seed) override;

  const ref::NatConfig& config() const { return config_; }
  const std::string& spec() const { return label_; }

 private:
  ref::NatConfig config_;
  std::string label_;
  InProcessOptions options_;
  Addressing addressing_;
};

}  // namespace natcert::harness
