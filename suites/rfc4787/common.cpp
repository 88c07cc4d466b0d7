#include "rfc4787/common.hpp"

namespace natcert::suites::rfc4787 {

using namespace std::chrono_literals;

std::string to_string(MappingClass value) {
  switch (value) {
    case MappingClass::endpoint_independent: return "endpoint-independent";
    case MappingClass::address_dependent: return "address-dependent";
    case MappingClass::address_and_port_dependent: return "address-and-port-dependent";
  }
  return "?";
}

std::string endpoints_text(const std::vector<Endpoint>& endpoints) {
  std::string text;
  for (const Endpoint& e : endpoints) text += (text.empty() ? "" : ", ") + harness::to_string(e);
  return text;
}

MappingProbe classify_mapping(TestContext& ctx, Endpoint internal) {
  const Endpoint y1 = ctx.outside_endpoint(0);
  const Endpoint y2{y1.address, ctx.fresh_port()};  // same address, other port
  const Endpoint y3{ctx.outside(1), y1.port};        // other address, same port
  const Mapping to_y1 = ctx.learn_mapping(internal, y1);
  const Mapping to_y2 = ctx.learn_mapping(internal, y2);
  const Mapping to_y3 = ctx.learn_mapping(internal, y3);
  MappingProbe probe;
  if (to_y1.external == to_y2.external && to_y1.external == to_y3.external) {
    probe.behavior = MappingClass::endpoint_independent;
  } else if (to_y1.external == to_y2.external) {
    probe.behavior = MappingClass::address_dependent;
  } else {
    probe.behavior = MappingClass::address_and_port_dependent;
  }
  probe.observed = harness::to_string(internal) + " to " + harness::to_string(y1) + " -> " +
                   harness::to_string(to_y1.external) + ", to " + harness::to_string(y2) + " -> " +
                   harness::to_string(to_y2.external) + ", to " + harness::to_string(y3) + " -> " +
                   harness::to_string(to_y3.external);
  return probe;
}

bool reaches_inside(TestContext& ctx, Endpoint from, Endpoint external, Endpoint internal, std::string_view note,
                    const harness::Payload& payload) {
  ctx.send(Side::outside, harness::udp(from, external, payload), note);
  return ctx.expect(Side::inside, match::udp().from(from).to(internal), harness::reply_window).has_value();
}

bool stays_outside(TestContext& ctx, Endpoint from, Endpoint external, Endpoint internal, std::string_view note) {
  ctx.send(Side::outside, harness::udp(from, external, "probe"), note);
  return ctx.expect_none(Side::inside, match::udp().from(from).to(internal), harness::silence_window);
}

FilteringProbe classify_filtering(TestContext& ctx, const Mapping& mapping) {
  const Endpoint other_port{mapping.remote.address, ctx.fresh_port()};
  const Endpoint other_address{ctx.outside(1), mapping.remote.port};
  const bool port_change_passes =
      reaches_inside(ctx, other_port, mapping.external, mapping.internal, "from the same address, another port");
  const bool address_change_passes = reaches_inside(ctx, other_address, mapping.external, mapping.internal,
                                                    "from another address, the same port");
  return filtering_probe("", other_port, port_change_passes, other_address, address_change_passes);
}

namespace {

class UdpMappingFlow final : public lifetime::Flow {
 public:
  explicit UdpMappingFlow(Mapping mapping) : mapping_(std::move(mapping)) {}
  bool alive(TestContext& ctx, std::string_view note) override {
    return reaches_inside(ctx, mapping_.remote, mapping_.external, mapping_.internal, note);
  }

 private:
  Mapping mapping_;
};

}  // namespace

lifetime::OpenFlow udp_mapping_flow(std::uint16_t destination_port) {
  return [destination_port](TestContext& ctx) -> std::unique_ptr<lifetime::Flow> {
    const Endpoint remote{ctx.outside(0), destination_port != 0 ? destination_port : ctx.fresh_port()};
    harness::ReflectorOptions options;
    options.reply = false;  // the mapping's idle time starts with the probe itself
    return std::make_unique<UdpMappingFlow>(ctx.learn_mapping(ctx.inside_endpoint(0), remote, options));
  };
}

}  // namespace natcert::suites::rfc4787
