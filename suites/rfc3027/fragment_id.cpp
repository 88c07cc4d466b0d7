// RFC 3027 §2.4: two inside hosts send fragmented datagrams with the same IP identification to the same
// outside host at the same time. Behind one external address the outside host keys reassembly on
// (source, destination, protocol, ID), so a NAT that forwards the fragments one by one with the hosts'
// IDs hands it two interleaved datagrams under one key.
#include <map>
#include <tuple>

#include "rfc3027/common.hpp"

namespace natcert::suites::rfc3027 {
namespace {

constexpr std::size_t kPayload = 1200;
constexpr std::size_t kFragmentPayload = 400;  // four fragments per datagram

std::string text_of(std::size_t length, char first) {
  std::string text(length, first);
  for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>(first + i % 13);
  return text;
}

// What a receiving host does: fragments go into a reassembly buffer per (source, destination,
// protocol, ID) in arrival order; a buffer that forms a datagram delivers it and is released.
std::vector<harness::Observed> reassemble_as_host(const std::vector<harness::Observed>& arrived,
                                                  std::map<std::uint16_t, std::size_t>& fragments_per_id) {
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint8_t, std::uint16_t>;
  std::map<Key, std::vector<Packet>> buffers;
  std::vector<harness::Observed> delivered;
  for (const auto& packet : arrived) {
    const auto& ip = packet.view().ip;
    if (!ip.is_fragment()) {
      delivered.push_back(packet);
      continue;
    }
    ++fragments_per_id[ip.identification()];
    const Key key{ip.source(), ip.destination(), ip.protocol(), ip.identification()};
    auto& buffer = buffers[key];
    buffer.push_back(packet.copy());
    if (const auto datagram = harness::reassemble(buffer)) {
      delivered.emplace_back(Side::outside, packet.at(), *datagram);
      buffers.erase(key);
    }
  }
  return delivered;
}

void fragment_id_collision(TestContext& ctx) {
  const Endpoint y = ctx.outside_endpoint(0);
  const Mapping first = ctx.learn_mapping(ctx.inside_endpoint(0), y);
  const Mapping second = ctx.learn_mapping(ctx.inside_endpoint(1), y);
  ctx.bind("X1'", first.external);
  ctx.bind("X2'", second.external);
  if (first.external.address != second.external.address) {
    ctx.skip("the two inside hosts got different external addresses (" + harness::to_string(first.external) +
             ", " + harness::to_string(second.external) + "); the collision needs one shared address");
  }
  harness::IpFields ip;
  ip.id = static_cast<std::uint16_t>(ctx.random());
  const std::string payload_1 = text_of(kPayload, 'A');
  const std::string payload_2 = text_of(kPayload, 'a');
  const auto pieces_1 = harness::fragment(harness::udp(first.internal, y, payload_1, ip), kFragmentPayload);
  const auto pieces_2 = harness::fragment(harness::udp(second.internal, y, payload_2, ip), kFragmentPayload);
  // Interleaved, as two hosts sending at the same time would be.
  for (std::size_t i = 0; i < pieces_1.size(); ++i) {
    ctx.send(Side::inside, pieces_1[i], "X1 fragment " + std::to_string(i + 1));
    ctx.send(Side::inside, pieces_2[i], "X2 fragment " + std::to_string(i + 1));
  }
  const auto arrived = ctx.collect(Side::outside, match::fragment().to(y.address) || match::udp().to(y).whole(),
                                   harness::reply_window, "both datagrams, whole or in fragments");
  std::map<std::uint16_t, std::size_t> fragments_per_id;
  const auto delivered = reassemble_as_host(arrived, fragments_per_id);
  const auto got = [&](const Mapping& m, const std::string& payload) {
    for (const auto& d : delivered) {
      if (d.checksums_ok() && d.source() == m.external && d.destination() == y && d.payload_text() == payload) return true;
    }
    return false;
  };
  const bool got_1 = got(first, payload_1);
  const bool got_2 = got(second, payload_2);

  std::string ids;
  for (const auto& [id, count] : fragments_per_id) {
    ids += (ids.empty() ? "" : ", ") + std::to_string(count) + " with ID " + std::to_string(id);
  }
  const std::string how = fragments_per_id.empty() ? "whole datagrams" : "fragments (" + ids + ")";
  ctx.profile("fragments.outbound.id-collision",
              fragments_per_id.empty() ? "reassembled" : (fragments_per_id.size() > 1 ? "ids-rewritten" : "ids-shared"));
  ctx.check("RFC3027-2.4", got_1 && got_2,
            "Y reassembles both datagrams intact, each from its own X'",
            how + " arrived; Y reassembled X1's " + (got_1 ? "intact" : "not at all or corrupted") + ", X2's " +
                (got_2 ? "intact" : "not at all or corrupted"));
}

}  // namespace

void register_fragment_id(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc3027.s2-4.fragment-id-collision",
      .suite = kSuite,
      .requirements = {{"RFC3027-2.4", Level::should}},
      .title = "Fragmented datagrams of two inside hosts with the same IP ID both reach the outside host intact",
      .procedure = "X1 and X2 (two inside hosts sharing the external address) each learn their mapping towards "
                   "Y:y. Both then send Y:y a 1200-byte UDP datagram in four fragments with the same IP ID, the "
                   "fragments interleaved. The harness reassembles what reaches Y as a host does (one buffer per "
                   "source, destination, protocol and ID, in arrival order): both datagrams must come out intact "
                   "from X1' and X2'. A NAT passes by giving the datagrams different IDs, or by reassembling them "
                   "and sending each whole or in one piece at a time. RFC 3027 is informational and states no "
                   "requirement level, so a collision is a WARN.",
      .rfc_quote = "Say, two private hosts originated fragmented TCP/UDP packets to the same destination host.  And, "
                   "they happened to use the same fragmentation identifier.  When the target host receives the two "
                   "unrelated datagrams, carrying same fragmentation id, and from the same assigned host address, "
                   "the target host is unable to determine which of the two sessions the datagrams belong to. "
                   "Consequently, both sessions will be corrupted.",
      .run = fragment_id_collision,
      .mutants = {{"ids-preserved", "rfc-strict,fragments.outbound-ids=preserve", Verdict::warn,
                   "forwards each fragment with the inside host's IP ID, so both datagrams share one key outside"}},
  });
}

}  // namespace natcert::suites::rfc3027
