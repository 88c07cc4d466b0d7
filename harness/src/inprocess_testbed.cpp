#include "natcert/harness/inprocess_testbed.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "natcert/harness/declared_algs.hpp"
#include "natcert/harness/testcase.hpp"
#include "natcert/reference/nat.hpp"

namespace natcert::harness {
namespace {

// The session's virtual clock starts at an arbitrary, comfortably non-zero epoch so that arithmetic
// like "now - timeout" inside the NAT never goes below zero.
constexpr ref::TimePoint kEpoch = std::chrono::hours(1);

class InProcessSession final : public DutSession {
 public:
  InProcessSession(ref::NatConfig config, Duration tick) : nat_(std::move(config)), tick_(tick) {}

  void send(Side side, Bytes packet) override {
    nat_.process(packet, side, kEpoch + now_, out_);
    const auto drop = out_.drop_reason();
    if (drop != ref::DropReason::none) {
      std::string line = "reference NAT: packet from " + std::string(ref::to_string(side)) + " not forwarded: " +
                         std::string(ref::to_string(drop));
      if (out_.parse_error() != ref::ParseError::none) line += " (" + std::string(ref::describe(out_.parse_error())) + ")";
      diagnostics_.push_back(std::move(line));
    }
    collect();
  }

  std::optional<Captured> receive(Side side, const Matcher& matcher, Duration window) override {
    const Duration deadline = now_ + std::max(window, Duration::zero());
    std::size_t scanned = 0;  // queued packets already known not to match
    for (;;) {
      auto& queue = queues_[index(side)];
      for (std::size_t i = scanned; i < queue.size(); ++i) {
        if (matcher.matches(queue[i].bytes)) {
          Captured found = std::move(queue[i]);
          queue.erase(queue.begin() + static_cast<long>(i));
          return found;
        }
      }
      scanned = queue.size();
      if (now_ >= deadline) return std::nullopt;
      step_to(std::min(deadline, now_ + tick_));
    }
  }

  void wait(Duration duration) override {
    const Duration deadline = now_ + std::max(duration, Duration::zero());
    while (now_ < deadline) step_to(std::min(deadline, now_ + tick_));
  }

  Duration now() const override { return now_; }

  std::vector<Captured> drain(Side side) override {
    auto& queue = queues_[index(side)];
    std::vector<Captured> out(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
    queue.clear();
    return out;
  }

  std::vector<std::string> take_diagnostics() override {
    std::vector<std::string> out;
    out.swap(diagnostics_);
    return out;
  }

 private:
  static std::size_t index(Side side) { return side == Side::inside ? 0 : 1; }

  void step_to(Duration when) {
    now_ = when;
    nat_.advance(kEpoch + now_, out_);
    collect();
  }

  void collect() {
    for (const auto& emitted : out_.packets()) {
      queues_[index(emitted.to)].push_back(Captured{emitted.to, now_, emitted.bytes});
    }
    out_.clear();
  }

  ref::ReferenceNat nat_;
  Duration tick_;
  Duration now_{};
  ref::Output out_;
  std::deque<Captured> queues_[2];
  std::vector<std::string> diagnostics_;
};

Addressing make_addressing(const ref::NatConfig& config, const InProcessOptions& options) {
  Addressing addressing;
  addressing.inside = options.inside_hosts;
  if (addressing.inside.empty()) {
    if (config.inside_prefix_length > 0 && config.inside_prefix_length <= 27) {
      const Ipv4Address network = config.inside_prefix;
      for (Ipv4Address host : {10u, 11u, 12u, 13u}) {
        if (network + host != config.inside_address) addressing.inside.push_back(network + host);
      }
    } else {
      addressing.inside = {0x0A00000Au, 0x0A00000Bu, 0x0A00000Cu, 0x0A00000Du};  // 10.0.0.10-13
    }
  }
  addressing.outside = options.outside_hosts;
  if (addressing.outside.empty()) addressing.outside = {0xC633640Au, 0xC633640Bu, 0xC633640Cu};  // 198.51.100.10-12
  addressing.third_party = options.third_party ? options.third_party : std::optional<Ipv4Address>(0xC0000232u);  // 192.0.2.50
  addressing.nat_external = config.external_addresses;
  addressing.declared_algs = declared_algs_of(config.alg);
  if (config.inside_address != 0) addressing.nat_inside = config.inside_address;
  return addressing;
}

ref::NatConfig config_from_spec(const std::string& spec) {
  ref::NatConfig config;
  std::string error;
  if (!ref::make_config(spec, config, error)) {
    throw std::invalid_argument("reference configuration \"" + spec + "\": " + error);
  }
  return config;
}

}  // namespace

InProcessTestbed::InProcessTestbed(std::string spec, InProcessOptions options)
    : InProcessTestbed(config_from_spec(spec), spec, std::move(options)) {}

InProcessTestbed::InProcessTestbed(ref::NatConfig config, std::string label, InProcessOptions options)
    : config_(std::move(config)), label_(std::move(label)), options_(std::move(options)) {
  const auto problems = ref::validate(config_);
  if (!problems.empty()) {
    std::string text = "reference configuration \"" + label_ + "\" is invalid:";
    for (const auto& problem : problems) text += " " + problem + ";";
    throw std::invalid_argument(text);
  }
  if (options_.tick <= Duration::zero()) throw std::invalid_argument("in-process tick must be positive");
  addressing_ = make_addressing(config_, options_);
}

std::string InProcessTestbed::describe() const { return "natcert reference NAT (" + label_ + "), in process"; }

std::vector<std::pair<std::string, std::string>> InProcessTestbed::dut_configuration() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& knob : ref::knobs()) {
    out.emplace_back(std::string(knob.key), ref::knob_value(config_, knob.key));
  }
  return out;
}

std::unique_ptr<DutSession> InProcessTestbed::open_session(const TestCase& /*test*/, std::uint64_t seed) {
  ref::NatConfig config = config_;
  // The session seed varies per test and run; the configured seed knob still shifts it.
  config.seed = seed ^ (config_.seed * 0x9E3779B97F4A7C15ull);
  return std::make_unique<InProcessSession>(std::move(config), options_.tick);
}

}  // namespace natcert::harness
