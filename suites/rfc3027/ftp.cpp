// RFC 3027 §4.1: FTP through the NAT. Active mode (PORT, EPRT) needs an FTP ALG: the command names the
// client's inside address, which the NAT must rewrite to an external endpoint and open for the server's
// data connection, fixing TCP sequence numbers when the length changes. Passive mode (PASV, EPSV) and
// EPSV ALL (RFC 2428 §4) work without one, and an ALG must leave them working.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "natcert/harness/craft.hpp"
#include "natcert/reference/alg_ftp.hpp"
#include "rfc3027/common.hpp"

namespace natcert::suites::rfc3027 {
namespace {

constexpr std::uint16_t kControlPort = 21;
constexpr std::uint16_t kActiveDataPort = 20;  // RFC 959 §3.2: the server's default data port (L-1)
constexpr const char* kRequirement = "RFC3027-4.1";

std::string without_line_end(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string printable(std::string text) {
  for (char& c : text) c = (c >= 0x20 && c < 0x7f) ? c : '.';
  return "\"" + text + "\"";
}

bool carries_data(const ref::PacketView& p) { return !p.tcp.payload().empty(); }

// A kernel that changes a payload on a link with checksum offload leaves the pseudo-header sum in the
// TCP checksum for the NIC to finish (CHECKSUM_PARTIAL); a capture on a virtual link sees it unfinished.
bool offloaded_checksum(const harness::Observed& got) {
  const ref::PacketView& p = got.view();
  if (!got.well_formed() || p.kind != ref::TransportKind::tcp) return false;
  const auto length = static_cast<std::uint16_t>(p.ip.bytes.size() - p.transport_offset);
  const std::uint16_t partial = ref::fold16(ref::pseudo_header_sum(p.ip.source(), p.ip.destination(),
                                                                   ref::ip_protocol::tcp, length));
  const std::uint16_t field = ref::load16(p.ip.bytes.data() + p.transport_offset + 16);
  return field == partial || field == static_cast<std::uint16_t>(~partial);
}

// The control connection of an inside client X to an outside server Y:21. The harness plays both ends
// and keeps each end's own numbering, so every segment after a rewrite shows whether the DUT's
// sequence/acknowledgement corrections agree with what the other end was told.
class Control {
 public:
  explicit Control(TestContext& ctx) : ctx_(ctx) {
    client_ = ctx.inside_endpoint(0);
    server_ = Endpoint{ctx.outside(0), kControlPort};
    handshake();
    // A real session logs in first. Linux's helper only parses a command that starts right after a line
    // end it has seen in that direction, so a PORT as the very first line would go unnoticed.
    const char* exchange[][2] = {{"220 natcert FTP server ready.\r\n", "USER anonymous\r\n"},
                                 {"331 Password required.\r\n", "PASS natcert@\r\n"}};
    for (const auto& [greeting, answer] : exchange) {
      if (!server_says(greeting) || !client_says(answer)) ctx.inconclusive("the DUT did not carry the FTP login");
    }
    if (!server_says("230 Logged in.\r\n")) ctx.inconclusive("the DUT did not carry the FTP login");
  }

  Endpoint client() const { return client_; }
  Endpoint server() const { return server_; }
  Endpoint external() const { return external_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // A rewritten segment left for checksum offload (Linux on veth: CHECKSUM_PARTIAL) was seen.
  bool offloaded_checksum_seen() const { return offloaded_; }

  // X sends `text`; returns the payload Y received (nullopt when nothing arrived).
  std::optional<std::string> client_says(const std::string& text) {
    ctx_.send(Side::inside,
              harness::tcp(client_, server_, {.flags = ref::tcp_flag::psh | ref::tcp_flag::ack, .seq = client_next_,
                                              .ack = client_received_},
                           text),
              "X: " + printable(without_line_end(text)));
    client_next_ += static_cast<std::uint32_t>(text.size());
    const auto got = ctx_.expect(Side::outside,
                                 match::tcp().from(external_).to(server_).any_checksum().where("carrying data",
                                                                                                       carries_data),
                                 harness::reply_window, "X's line at Y");
    if (!got) return std::nullopt;
    const ref::TcpView& tcp = got->view().tcp;
    const std::string delivered = got->payload_text();
    verify(*got, "X->Y " + printable(without_line_end(delivered)), server_received_, server_next_);
    server_received_ = tcp.sequence() + static_cast<std::uint32_t>(delivered.size());
    return delivered;
  }

  // Y sends `text`; returns the payload X received.
  std::optional<std::string> server_says(const std::string& text) {
    ctx_.send(Side::outside,
              harness::tcp(server_, external_,
                           {.flags = ref::tcp_flag::psh | ref::tcp_flag::ack, .seq = server_next_,
                            .ack = server_received_},
                           text),
              "Y: " + printable(without_line_end(text)));
    server_next_ += static_cast<std::uint32_t>(text.size());
    const auto got = ctx_.expect(
        Side::inside, match::tcp().from(server_).to(client_).any_checksum().where("carrying data", carries_data),
        harness::reply_window, "Y's line at X");
    if (!got) return std::nullopt;
    const std::string delivered = got->payload_text();
    verify(*got, "Y->X " + printable(without_line_end(delivered)), client_received_, client_next_);
    client_received_ = got->view().tcp.sequence() + static_cast<std::uint32_t>(delivered.size());
    return delivered;
  }

 private:
  // Like TestContext::learn_tcp_mapping, but every concurrent session talks to the same Y:21, so the
  // translated segments are recognised by their sequence numbers rather than by the destination port.
  void handshake() {
    using namespace ref::tcp_flag;
    const std::uint32_t isn = ctx_.random();
    ctx_.send(Side::inside, harness::tcp(client_, server_, {.flags = syn, .seq = isn}), "X: SYN to Y:21");
    const auto out_syn = ctx_.expect(
        Side::outside, match::tcp().to(server_).flags(syn, syn | ack).where("X's sequence number", [isn](const ref::PacketView& p) {
          return p.tcp.sequence() == isn;
        }),
        harness::reply_window, "X's SYN at Y:21");
    if (!out_syn) ctx_.inconclusive("the DUT did not carry X's SYN to Y:21");
    external_ = out_syn->source();
    ctx_.bind("X'", external_);
    const std::uint32_t server_isn = ctx_.random();
    ctx_.send(Side::outside, harness::tcp(server_, external_, {.flags = syn | ack, .seq = server_isn, .ack = isn + 1}),
              "Y: SYN-ACK");
    if (!ctx_.expect(Side::inside, match::tcp().from(server_).to(client_).flags(syn | ack, syn | ack),
                     harness::reply_window, "Y's SYN-ACK at X")) {
      ctx_.inconclusive("the DUT did not carry Y's SYN-ACK to X");
    }
    ctx_.send(Side::inside, harness::tcp(client_, server_, {.flags = ack, .seq = isn + 1, .ack = server_isn + 1}),
              "X: ACK");
    if (!ctx_.expect(Side::outside,
                     match::tcp().from(external_).to(server_).flags(ack, syn | ack | rst | fin),
                     harness::reply_window, "X's ACK at Y")) {
      ctx_.inconclusive("the DUT did not carry X's ACK to Y:21");
    }
    client_next_ = isn + 1;
    server_next_ = server_isn + 1;
    client_received_ = server_isn + 1;
    server_received_ = isn + 1;
  }

  // The receiver expects the segment at `expected_seq` (its view of the sender's numbering) and an
  // acknowledgement of `own_next` (its own numbering).
  void verify(const harness::Observed& got, const std::string& what, std::uint32_t expected_seq,
              std::uint32_t own_next) {
    const ref::TcpView& tcp = got.view().tcp;
    if (!got.checksums_ok()) {
      if (offloaded_checksum(got)) {
        offloaded_ = true;  // a capture artefact on a virtual link, not what a host on a real wire receives
      } else {
        problems_.push_back(what + ": invalid checksum");
      }
    }
    if (tcp.sequence() != expected_seq) {
      problems_.push_back(what + ": sequence " + std::to_string(tcp.sequence()) + ", the receiver expects " +
                          std::to_string(expected_seq));
    }
    if (tcp.acknowledgement() != own_next) {
      problems_.push_back(what + ": acknowledges " + std::to_string(tcp.acknowledgement()) + ", the receiver's next is " +
                          std::to_string(own_next));
    }
  }

  TestContext& ctx_;
  Endpoint client_{};
  Endpoint server_{};
  Endpoint external_{};
  std::uint32_t client_next_ = 0;      // X's next sequence number (X's numbering)
  std::uint32_t server_next_ = 0;      // Y's next sequence number (Y's numbering)
  std::uint32_t client_received_ = 0;  // what X acknowledges (X's view of Y's numbering)
  std::uint32_t server_received_ = 0;  // what Y acknowledges (Y's view of X's numbering)
  std::vector<std::string> problems_;
  bool offloaded_ = false;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : "; ") + item;
  return out;
}

std::string announce(bool extended, Endpoint endpoint) {
  const auto message = extended ? ref::ftp::Message::eprt : ref::ftp::Message::port;
  return std::string(extended ? "EPRT " : "PORT ") + ref::ftp::format_endpoint(message, endpoint.address, endpoint.port) +
         "\r\n";
}

// Does the Y-side line announce `external`'s address in the same command form, nothing else changed?
std::optional<Endpoint> rewritten_endpoint(const std::string& delivered, bool extended, ref::Ipv4Address external,
                                           std::string& why) {
  if (delivered.size() < 2 || delivered.substr(delivered.size() - 2) != "\r\n") {
    why = "the line lost its CRLF";
    return std::nullopt;
  }
  const auto found = ref::ftp::parse_line(without_line_end(delivered), true);
  const auto wanted = extended ? ref::ftp::Message::eprt : ref::ftp::Message::port;
  if (!found || found->message != wanted) {
    why = "not a well-formed " + std::string(extended ? "EPRT" : "PORT") + " command";
    return std::nullopt;
  }
  if (found->address != external) {
    why = "announces " + ref::format_ipv4(found->address) + ", not the external address " + ref::format_ipv4(external);
    return std::nullopt;
  }
  return Endpoint{found->address, found->port};
}

// Y opens the data connection from its port 20 to `advertised`; true when the SYN reaches X at `data`.
bool data_connection_opens(TestContext& ctx, Endpoint server, Endpoint advertised, Endpoint data) {
  const Endpoint from{server.address, kActiveDataPort};
  ctx.send(Side::outside, harness::tcp(from, advertised, {.flags = ref::tcp_flag::syn, .seq = ctx.random()}),
           "Y's data connection (SYN from port 20)");
  return ctx.expect(Side::inside, match::tcp().from(from).to(data).flags(ref::tcp_flag::syn),
                    harness::reply_window, "the data SYN at X's data port")
      .has_value();
}

void active_mode(TestContext& ctx, bool extended) {
  const std::string key = extended ? "alg.ftp.eprt" : "alg.ftp.active";
  const char* command = extended ? "EPRT" : "PORT";
  Control control(ctx);
  std::vector<std::string> broken;

  for (int transfer = 1; transfer <= 2; ++transfer) {
    const Endpoint data{control.client().address, ctx.fresh_port()};
    const std::string sent = announce(extended, data);
    const auto delivered = control.client_says(sent);
    if (!delivered) {
      if (transfer == 1) ctx.inconclusive("the DUT did not carry X's " + std::string(command) + " command to Y:21");
      broken.push_back(std::string("the second ") + command + " did not reach Y");
      break;
    }
    if (*delivered == sent) {
      if (transfer == 1) {
        // No FTP ALG: RFC 5382 REQ-6 allows one but does not require it.
        ctx.profile(key, "broken");
        ctx.info(kRequirement, std::string(command) + " passed unchanged (no FTP ALG): Y would connect to X's inside "
                                                      "address, so active FTP is broken through this NAT; passive "
                                                      "mode does not need an ALG");
        return;
      }
      broken.push_back("the second " + std::string(command) + " passed unrewritten (" +
                       printable(without_line_end(sent)) + ")");
      break;
    }
    std::string why;
    const auto advertised = rewritten_endpoint(*delivered, extended, control.external().address, why);
    if (!advertised) {
      broken.push_back(std::string(command) + " #" + std::to_string(transfer) + " rewritten wrongly to " +
                       printable(without_line_end(*delivered)) + ": " + why);
      break;
    }
    ctx.bind("X data #" + std::to_string(transfer) + "'", *advertised);
    control.server_says("200 " + std::string(command) + " command successful.\r\n");
    control.client_says("RETR natcert-" + std::to_string(transfer) + ".txt\r\n");
    if (!data_connection_opens(ctx, control.server(), *advertised, data)) {
      broken.push_back("Y's data connection from port 20 to " + harness::to_string(*advertised) + " (" + command +
                       " #" + std::to_string(transfer) + ") did not reach X's " + harness::to_string(data));
    }
    control.server_says("150 Opening data connection.\r\n");
  }
  if (control.offloaded_checksum_seen()) {
    ctx.log("some segments the DUT rewrote carry a checksum left for offload (pseudo-header sum only), as Linux "
            "leaves them on veth links; accepted");
  }
  const std::string consistency = join(control.problems());
  if (!consistency.empty()) broken.push_back(consistency);
  ctx.profile(key, broken.empty() ? "works through ALG" : "ALG broken: " + broken.front());
  ctx.check(kRequirement, broken.empty(),
            "both " + std::string(command) + " commands announce the external address with a port that Y's data "
            "connection from port 20 reaches X through; every later segment's sequence and acknowledgement "
            "numbers agree with what each end sent and received, and every checksum is valid",
            broken.empty() ? "rewritten, data connections opened, numbering consistent" : join(broken));
}

void passive_mode(TestContext& ctx, bool extended, bool epsv_all) {
  const std::string key = epsv_all ? "alg.ftp.epsv-all" : (extended ? "alg.ftp.epsv" : "alg.ftp.passive");
  Control control(ctx);
  std::vector<std::string> broken;
  if (epsv_all) {
    const auto delivered = control.client_says("EPSV ALL\r\n");
    if (!delivered) ctx.inconclusive("the DUT did not carry X's EPSV ALL to Y:21");
    if (*delivered != "EPSV ALL\r\n") broken.push_back("EPSV ALL became " + printable(*delivered));
    control.server_says("200 EPSV ALL ok.\r\n");
  }
  const auto asked = control.client_says(extended ? "EPSV\r\n" : "PASV\r\n");
  if (!asked) ctx.inconclusive("the DUT did not carry X's passive-mode command to Y:21");
  const Endpoint data{control.server().address, ctx.fresh_port()};
  const auto message = extended ? ref::ftp::Message::extended_passive_reply : ref::ftp::Message::passive_reply;
  const std::string reply =
      std::string(extended ? "229 Entering Extended Passive Mode (" : "227 Entering Passive Mode (") +
      ref::ftp::format_endpoint(message, data.address, data.port) + (extended ? ")\r\n" : ").\r\n");
  const auto delivered = control.server_says(reply);
  if (!delivered) ctx.inconclusive("the DUT did not carry Y's passive-mode reply to X");
  if (*delivered != reply) broken.push_back("the reply naming Y became " + printable(without_line_end(*delivered)));

  // X connects where the reply it received tells it to.
  const auto told = ref::ftp::parse_line(without_line_end(*delivered), false);
  bool opened = false;
  if (told) {
    const Endpoint target{told->message == ref::ftp::Message::extended_passive_reply ? control.server().address
                                                                                     : told->address,
                          told->port};
    const Endpoint from{control.client().address, ctx.fresh_port()};
    ctx.send(Side::inside, harness::tcp(from, target, {.flags = ref::tcp_flag::syn, .seq = ctx.random()}),
             "X's data connection to " + harness::to_string(target));
    opened = ctx.expect(Side::outside, match::tcp().to(data).flags(ref::tcp_flag::syn), harness::reply_window,
                        "the data SYN at Y's data port")
                 .has_value();
  }
  if (!opened) broken.push_back("X's data connection did not reach Y's " + harness::to_string(data));
  control.client_says("RETR natcert.txt\r\n");
  if (control.offloaded_checksum_seen()) {
    ctx.log("some segments the DUT rewrote carry a checksum left for offload (pseudo-header sum only), as Linux "
            "leaves them on veth links; accepted");
  }
  const std::string consistency = join(control.problems());
  if (!consistency.empty()) broken.push_back(consistency);
  ctx.profile(key, broken.empty() ? "works directly" : "broken: " + broken.front());
  ctx.check(kRequirement, broken.empty(),
            std::string(epsv_all ? "EPSV ALL passes unchanged, and " : "") + "Y's " + (extended ? "229" : "227") +
                " reply (naming Y, an outside endpoint) reaches X unchanged, X's data connection to it reaches Y, "
                "and the control connection's numbering and checksums stay consistent",
            broken.empty() ? "passive mode works through the DUT" : join(broken));
}

const char* kQuote =
    "An FTP ALG will be required to monitor the FTP control session (for both PORT and PASV modes) to identify "
    "the FTP data session port numbers and modify the private address and port number with the externally valid "
    "address and port number.  In addition, the sequence and acknowledgement numbers, TCP checksum, IP packet "
    "length and checksum have to be updated.  Consequently the sequence numbers in all subsequent packets for "
    "that stream must be adjusted as well as TCP ACK fields and checksums.";

std::vector<harness::Mutant> active_mutants(bool extended) {
  std::vector<harness::Mutant> mutants = {
      {"wrong-seq-delta", "rfc-strict,alg.ftp-mutant=wrong-seq-delta", Verdict::fail,
       "corrects TCP sequence/ack numbers with the wrong sign after the command grew or shrank"},
      {"stale-checksum", "rfc-strict,alg.ftp-mutant=stale-checksum", Verdict::fail,
       "rewrites the command but leaves the TCP checksum stale"},
      {"no-expectation", "rfc-strict,alg.ftp-mutant=no-expectation", Verdict::fail,
       "rewrites the command but opens nothing for the data connection"},
      {"no-alg", "rfc-strict,alg.ftp=false", Verdict::info, "no FTP ALG: active mode is broken, reported as INFO"},
  };
  if (!extended) {
    mutants.push_back({"first-segment-only", "rfc-strict,alg.ftp-mutant=first-segment-only", Verdict::fail,
                       "rewrites only the first PORT of a control connection"});
  }
  return mutants;
}

std::vector<harness::Mutant> passive_mutants() {
  return {{"mangle-passive-replies", "rfc-strict,alg.ftp-mutant=mangle-passive-replies", Verdict::fail,
           "rewrites an outside server's passive reply to the NAT's own endpoint"}};
}

}  // namespace

void register_ftp(Registry& registry) {
  const std::string active_procedure =
      "X opens a control connection to Y:21 (the harness plays both ends) and sends %C announcing a data port "
      "on X's inside address. If the command reaches Y unchanged the DUT has no FTP ALG: active FTP is broken "
      "and the test reports INFO (RFC 5382 REQ-6 allows but does not require the ALG). Otherwise the command "
      "must announce the DUT's external address in the same form; Y answers, X sends RETR, and Y opens the data "
      "connection from port 20 to the announced endpoint, which must reach X's data port. This is done twice "
      "(an ALG must rewrite every command, not only the first). Every segment after the rewrite must carry "
      "sequence and acknowledgement numbers consistent with what the other end sent and received, and valid "
      "checksums.";
  const auto procedure_for = [&](const std::string& command) {
    std::string text = active_procedure;
    text.replace(text.find("%C"), 2, command);
    return text;
  };
  registry.add(TestCase{
      .id = "rfc3027.s4-1.ftp.active-port",
      .suite = kSuite,
      .requirements = {{kRequirement, Level::must}},
      .title = "Active FTP (PORT) through the DUT: the PORT command is rewritten and the data connection opens",
      .procedure = procedure_for("PORT h1,h2,h3,h4,p1,p2 (RFC 959)"),
      .rfc_quote = kQuote,
      .run = [](TestContext& ctx) { active_mode(ctx, false); },
      .mutants = active_mutants(false),
  });
  registry.add(TestCase{
      .id = "rfc3027.s4-1.ftp.active-eprt",
      .suite = kSuite,
      .requirements = {{kRequirement, Level::must}},
      .title = "Active FTP (EPRT) through the DUT: the EPRT command is rewritten and the data connection opens",
      .procedure = procedure_for("EPRT |1|a.b.c.d|port| (RFC 2428)"),
      .rfc_quote = kQuote,
      .run = [](TestContext& ctx) { active_mode(ctx, true); },
      .mutants = active_mutants(true),
  });
  registry.add(TestCase{
      .id = "rfc3027.s4-1.ftp.passive-pasv",
      .suite = kSuite,
      .requirements = {{kRequirement, Level::must}},
      .title = "Passive FTP (PASV) through the DUT: the 227 reply passes unchanged and the data connection opens",
      .procedure = "X opens a control connection to Y:21 and sends PASV; Y answers 227 naming its own address and a "
                   "data port. The reply names an outside endpoint, so it must reach X unchanged (with or without "
                   "an FTP ALG), and X's data connection to it must reach Y. The control connection's numbering and "
                   "checksums must stay consistent.",
      .rfc_quote = kQuote,
      .run = [](TestContext& ctx) { passive_mode(ctx, false, false); },
      .mutants = passive_mutants(),
  });
  registry.add(TestCase{
      .id = "rfc3027.s4-1.ftp.passive-epsv",
      .suite = kSuite,
      .requirements = {{kRequirement, Level::must}},
      .title = "Passive FTP (EPSV) through the DUT: the 229 reply passes unchanged and the data connection opens",
      .procedure = "As for PASV, with EPSV and the 229 reply (|||port|), which carries only a port: the client "
                   "connects to the control connection's server address, so there is nothing for a NAT to rewrite.",
      .rfc_quote = kQuote,
      .run = [](TestContext& ctx) { passive_mode(ctx, true, false); },
      .mutants = passive_mutants(),
  });
  registry.add(TestCase{
      .id = "rfc3027.s4-1.ftp.epsv-all",
      .suite = kSuite,
      .requirements = {{kRequirement, Level::must}},
      .title = "EPSV ALL passes unchanged and passive FTP keeps working",
      .procedure = "X sends EPSV ALL (RFC 2428 §4: from now on only EPSV), which must reach Y unchanged, then EPSV; "
                   "the 229 reply must reach X unchanged and X's data connection must reach Y.",
      .rfc_quote = "Lastly, it is of interest to note section 4 of RFC 2428 (FTP extensions for IPv6 and NATs) which "
                   "describes how a new FTP port command (EPSV ALL) can be used to allow NAT devices to fast-track "
                   "the FTP protocol, eliminating further processing through ALG, if the remote server accepts "
                   "\"EPSV ALL\".",
      .run = [](TestContext& ctx) { passive_mode(ctx, true, true); },
      .mutants = passive_mutants(),
  });
}

}  // namespace natcert::suites::rfc3027
