// TFTP (RFC 1350 §4): the client sends its read request to the server's port 69 and the server answers
// from a port of its own choosing, so the answer arrives from an endpoint the client never sent to.
// Endpoint-independent or address-dependent filtering (RFC 4787 REQ-8) carries it as it is; under
// address-and-port-dependent filtering only a TFTP ALG that expects the answer lets it in.
#include "rfc3027/common.hpp"

namespace natcert::suites::rfc3027 {
namespace {

constexpr std::uint16_t kTftpPort = 69;

Packet read_request(const std::string& file) {
  std::string text(2, '\0');
  text[1] = 1;  // opcode RRQ
  text.append(file).push_back('\0');
  text.append("octet").push_back('\0');
  return Packet(text.begin(), text.end());
}

Packet data_block(std::uint16_t block, const std::string& content) {
  std::string text(4, '\0');
  text[1] = 3;  // opcode DATA
  text[2] = static_cast<char>(block >> 8);
  text[3] = static_cast<char>(block & 0xff);
  text.append(content);
  return Packet(text.begin(), text.end());
}

void tftp_reply_from_new_port(TestContext& ctx) {
  const Endpoint x = ctx.inside_endpoint(0);
  const Endpoint server{ctx.outside(0), kTftpPort};
  const std::string file = "natcert-" + std::to_string(ctx.random() % 100000) + ".bin";
  const Packet request = read_request(file);
  ctx.send(Side::inside, harness::udp(x, server, request), "TFTP RRQ " + file);
  const auto out = ctx.expect(Side::outside, match::udp().to(server).payload(request), harness::reply_window,
                              "the RRQ at the server");
  if (!out) ctx.inconclusive("the DUT did not forward the TFTP read request to port 69");
  const Endpoint external = out->source();
  ctx.bind("X'", external);

  const Endpoint transfer{server.address, ctx.fresh_port()};
  const Packet block = data_block(1, "tftp block one for " + file);
  ctx.send(Side::outside, harness::udp(transfer, external, block), "DATA block 1 from the server's transfer port");
  const bool delivered = ctx.expect(Side::inside, match::udp().from(transfer).to(x).payload(block),
                                    harness::reply_window, "DATA block 1 at X")
                             .has_value();

  // Would any flow get the same treatment? A non-TFTP flow to the same server, answered from a new port.
  const Endpoint x2 = ctx.inside_endpoint(0);
  const Endpoint other{server.address, ctx.fresh_port()};
  const auto control = ctx.try_learn_mapping(x2, other, {.reply = false});
  bool plain_delivered = false;
  if (control) {
    const Endpoint elsewhere{server.address, ctx.fresh_port()};
    ctx.send(Side::outside, harness::udp(elsewhere, control->external, "control"), "non-TFTP answer from a new port");
    plain_delivered = ctx.expect(Side::inside, match::udp().from(elsewhere).to(x2).payload("control"),
                                 harness::reply_window, "the non-TFTP answer at X")
                          .has_value();
  }
  const std::string outcome = !delivered ? "broken" : plain_delivered || !control ? "works directly" : "works through ALG";
  ctx.profile("alg.tftp", outcome);
  ctx.check("RFC4787-REQ-8", delivered, "the server's DATA from a new port reaches the client",
            std::string(delivered ? "delivered" : "dropped") + " (" + outcome + "; a non-TFTP answer from a new port " +
                (control ? (plain_delivered ? "is delivered too" : "is dropped") : "was not tried") + ")");
}

}  // namespace

void register_tftp(Registry& registry) {
  registry.add(TestCase{
      .id = "rfc3027.tftp.reply-from-new-port",
      .suite = kSuite,
      .requirements = {{"RFC4787-REQ-8", Level::recommended}},
      .title = "A TFTP server's answer from a new port reaches the client",
      .procedure =
          "X sends a TFTP read request (RRQ) to Y:69; the server answers with DATA block 1 from another port, as "
          "RFC 1350 has it. The block must reach X. A second, non-TFTP flow from X answered from a new port tells "
          "whether the DUT carries such answers anyway (works directly: endpoint-independent or "
          "address-dependent filtering) or only for TFTP (works through ALG). Dropped is a WARN: RFC 4787 REQ-8 "
          "recommends a filtering under which this works.",
      .rfc_quote = "If application transparency is most important, it is RECOMMENDED that a NAT have "
                   "\"Endpoint-Independent Filtering\" behavior. If a more stringent filtering behavior is most "
                   "important, it is RECOMMENDED that a NAT have \"Address-Dependent Filtering\" behavior.",
      .run = tftp_reply_from_new_port,
      .mutants = {{"apdf-no-alg", "port-restricted-cone", Verdict::warn,
                   "address-and-port-dependent filtering and no TFTP ALG: the answer from a new port is dropped"}},
  });
}

}  // namespace natcert::suites::rfc3027
