#include "natcert/harness/tcp_endpoint.hpp"

#include <algorithm>
#include <utility>

#include "natcert/harness/verdict.hpp"

namespace natcert::harness {
namespace {

constexpr std::uint8_t kFin = ref::tcp_flag::fin;
constexpr std::uint8_t kSyn = ref::tcp_flag::syn;
constexpr std::uint8_t kRst = ref::tcp_flag::rst;
constexpr std::uint8_t kPsh = ref::tcp_flag::psh;
constexpr std::uint8_t kAck = ref::tcp_flag::ack;
constexpr std::uint8_t kUrg = ref::tcp_flag::urg;

std::uint32_t sequence_space(const ref::TcpView& tcp) {
  return static_cast<std::uint32_t>(tcp.payload().size()) + (tcp.has(kSyn) ? 1u : 0u) + (tcp.has(kFin) ? 1u : 0u);
}

// Option kinds in order, ignoring padding (EOL, NOP): a DUT may clamp the MSS value, not drop options.
std::vector<std::uint8_t> option_kinds(Bytes options) {
  std::vector<std::uint8_t> kinds;
  for (std::size_t i = 0; i < options.size();) {
    const std::uint8_t kind = options[i];
    if (kind == 0) break;
    if (kind == 1) {
      ++i;
      continue;
    }
    kinds.push_back(kind);
    if (i + 1 >= options.size() || options[i + 1] < 2) break;
    i += options[i + 1];
  }
  return kinds;
}

std::string option_names(const std::vector<std::uint8_t>& kinds) {
  std::string text;
  for (const std::uint8_t kind : kinds) {
    if (!text.empty()) text += ',';
    switch (kind) {
      case 2: text += "MSS"; break;
      case 3: text += "WS"; break;
      case 4: text += "SACK-permitted"; break;
      case 5: text += "SACK"; break;
      case 8: text += "TS"; break;
      default: text += "kind " + std::to_string(kind); break;
    }
  }
  return text.empty() ? std::string("none") : text;
}

bool after(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }

void put16(Packet& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}
void put32(Packet& out, std::uint32_t value) {
  put16(out, static_cast<std::uint16_t>(value >> 16));
  put16(out, static_cast<std::uint16_t>(value));
}

}  // namespace

namespace tcp_option {
Packet mss(std::uint16_t value) {
  Packet out{2, 4};
  put16(out, value);
  return out;
}
Packet timestamps(std::uint32_t value, std::uint32_t echo) {
  Packet out{1, 1, 8, 10};  // two NOPs keep the timestamps 4-byte aligned, as stacks send them
  put32(out, value);
  put32(out, echo);
  return out;
}
Packet sack_permitted() { return Packet{1, 1, 4, 2}; }
Packet window_scale(std::uint8_t shift) { return Packet{1, 3, 3, shift}; }
Packet join(const std::vector<Packet>& options) {
  Packet out;
  for (const Packet& option : options) out.insert(out.end(), option.begin(), option.end());
  return out;
}
}  // namespace tcp_option

std::string tcp_flags_name(std::uint8_t flags) {
  std::string name;
  const auto add = [&](std::uint8_t flag, const char* text) {
    if ((flags & flag) == 0) return;
    if (!name.empty()) name += '-';
    name += text;
  };
  add(kSyn, "SYN");
  add(kFin, "FIN");
  add(kRst, "RST");
  add(kPsh, "PSH");
  add(kUrg, "URG");
  add(kAck, "ACK");
  return name.empty() ? std::string("no-flags") : name;
}

TcpConnection::TcpConnection(TestContext& ctx, TcpPeer first, TcpPeer second, TcpOptions options)
    : ctx_(ctx), peers_{std::move(first), std::move(second)}, options_(options) {}

TcpConnection TcpConnection::through(TestContext& ctx, Endpoint inside, Endpoint outside,
                                     std::optional<Endpoint> external, TcpOptions options) {
  return TcpConnection(ctx, TcpPeer{"inside", Side::inside, inside, external},
                       TcpPeer{"outside", Side::outside, outside, outside}, options);
}

std::size_t TcpConnection::index_of(Side side) const {
  if (peers_[0].side == side) return 0;
  if (peers_[1].side == side) return 1;
  throw HarnessError(std::string("TCP connection has no peer on the ") + (side == Side::inside ? "inside" : "outside"));
}

const TcpPeer& TcpConnection::peer(Side side) const { return peers_[index_of(side)]; }

std::optional<Endpoint> TcpConnection::external() const { return peers_[index_of(Side::inside)].seen_as; }

std::string TcpConnection::source_text(std::size_t peer) const {
  if (peers_[peer].seen_as) return to_string(*peers_[peer].seen_as);
  const auto& external = ctx_.addressing().nat_external;
  if (peers_[peer].side == Side::inside && !external.empty()) return ref::format_ipv4(external.front()) + ":X";
  return "X':x'";
}

std::string TcpConnection::expectation(std::size_t from, std::uint8_t flags) const {
  return "a TCP " + tcp_flags_name(flags) + " " + to_string(peers_[1 - from].local) + " <- " + source_text(from);
}

Matcher TcpConnection::arrival(std::size_t from) const {
  // Checksums and a translated sender's source are verified by verify(), so a segment with a bad
  // checksum or the wrong source is reported as such rather than as "nothing arrived". The receiver's
  // own endpoint (a fresh port) identifies the connection.
  Matcher m = match::tcp().any_checksum().to(peers_[1 - from].local);
  if (peers_[from].side == Side::outside && peers_[from].seen_as) m = m.from(*peers_[from].seen_as);
  return m;
}

Packet TcpConnection::build(std::size_t from, std::uint8_t flags, const Payload& payload, const Packet& options) {
  const TcpPeer& sender = peers_[from];
  const TcpPeer& receiver = peers_[1 - from];
  if (!receiver.seen_as) {
    throw HarnessError("TCP connection: " + sender.name + " cannot send to " + receiver.name +
                       " before the DUT translated a segment of " + receiver.name + " (external endpoint unknown)");
  }
  SideState& s = state_[from];
  std::uint32_t seq = s.next_seq;
  if ((flags & kSyn) != 0) {
    if (!s.isn) s.isn = ctx_.random();
    seq = *s.isn;
  } else if (!s.isn) {
    s.isn = ctx_.random();  // a segment without any SYN before it (e.g. a stray ACK)
    seq = *s.isn;
  }
  const std::uint32_t acknowledged = (flags & kAck) != 0 ? s.receive_next.value_or(0) : 0;
  Packet packet = tcp(sender.local, *receiver.seen_as,
                      {.flags = flags, .seq = seq, .ack = acknowledged, .window = options_.window_size,
                       .options = options},
                      payload);
  const std::uint32_t end = seq + static_cast<std::uint32_t>(payload.bytes.size()) + ((flags & kSyn) != 0 ? 1u : 0u) +
                            ((flags & kFin) != 0 ? 1u : 0u);
  if (after(end, s.next_seq) || s.next_seq == 0) s.next_seq = end;
  s.last_sent = packet;
  s.last_flags = flags;
  return packet;
}

void TcpConnection::verify(std::size_t from, const Packet& sent_bytes, const Observed& got,
                           std::vector<std::string>& problems) {
  const TcpPeer& sender = peers_[from];
  const TcpPeer& receiver = peers_[1 - from];
  const ref::ParseResult sent = ref::parse_packet(sent_bytes, ref::ParseOptions{false});
  if (!got.well_formed() || got.kind() != ref::TransportKind::tcp || !sent.ok()) {
    problems.push_back("got a malformed segment: " + got.summary());
    return;
  }
  const ref::TcpView& in = sent.packet.tcp;
  const ref::TcpView& out = got.view().tcp;
  if (!got.checksums_ok()) problems.push_back("bad checksum: " + got.summary());
  if (got.destination() != receiver.local) {
    problems.push_back("delivered to " + to_string(got.destination()) + " instead of " + to_string(receiver.local));
  }
  if (sender.seen_as && got.source() != *sender.seen_as) {
    problems.push_back("source " + to_string(got.source()) + " instead of " + to_string(*sender.seen_as));
  } else if (!sender.seen_as && sender.side != receiver.side && got.source().address == sender.local.address) {
    problems.push_back("source " + to_string(got.source()) + " not translated (the inside address leaks)");
  }
  if (out.flags() != in.flags()) {
    problems.push_back("flags " + tcp_flags_name(out.flags()) + " instead of " + tcp_flags_name(in.flags()));
  }
  if (!options_.sequence_may_change) {
    if (out.sequence() != in.sequence()) {
      problems.push_back("sequence number " + std::to_string(out.sequence()) + " instead of " +
                         std::to_string(in.sequence()) + " (no ALG declared)");
    }
    if (in.has(kAck) && out.acknowledgement() != in.acknowledgement()) {
      problems.push_back("acknowledgement number " + std::to_string(out.acknowledgement()) + " instead of " +
                         std::to_string(in.acknowledgement()) + " (no ALG declared)");
    }
  }
  const Bytes sent_payload = in.payload();
  const Bytes got_payload = out.payload();
  if (!std::equal(sent_payload.begin(), sent_payload.end(), got_payload.begin(), got_payload.end())) {
    problems.push_back("payload changed (" + std::to_string(sent_payload.size()) + " bytes sent, " +
                       std::to_string(got_payload.size()) + " delivered)");
  }
  const auto sent_options = option_kinds(in.options());
  const auto got_options = option_kinds(out.options());
  if (sent_options != got_options) {
    problems.push_back("options " + option_names(got_options) + " instead of " + option_names(sent_options));
  }
}

void TcpConnection::learn(std::size_t from, const Observed& got) {
  TcpPeer& sender = peers_[from];
  if (!sender.seen_as) {
    sender.seen_as = got.source();
    ctx_.log("TCP: " + sender.name + " " + to_string(sender.local) + " is seen as " + to_string(got.source()));
  }
  const ref::TcpView& tcp = got.view().tcp;
  SideState& receiver = state_[1 - from];
  if (tcp.has(kRst)) return;
  const std::uint32_t next = tcp.sequence() + sequence_space(tcp);
  if (!receiver.receive_next || after(next, *receiver.receive_next)) receiver.receive_next = next;
}

void TcpConnection::finish_step(TcpStep step) {
  if (!step.ok()) {
    std::string line = "step " + std::to_string(step.number) + " (" + step.description + "): ";
    for (std::size_t i = 0; i < step.problems.size(); ++i) line += (i == 0 ? "" : "; ") + step.problems[i];
    ctx_.log(line);
    failures_.push_back(std::move(line));
  }
  steps_.push_back(std::move(step));
}

std::optional<Observed> TcpConnection::deliver(std::size_t from, const Packet& packet, std::uint8_t flags,
                                               std::string description, bool required) {
  TcpStep record;
  record.number = steps_.size() + 1;
  record.description = std::move(description);
  const std::string tag = "step " + std::to_string(record.number) + " (" + record.description + ")";
  ctx_.send(peers_[from].side, packet, tag);
  const std::string expected = expectation(from, flags);
  record.delivered = ctx_.expect(peers_[1 - from].side, arrival(from), options_.window, tag + ": " + expected);
  if (!record.delivered) {
    if (required) {
      record.problems.push_back("expected " + expected + ", got nothing in " + format_duration(options_.window));
    }
  } else {
    verify(from, packet, *record.delivered, record.problems);
    learn(from, *record.delivered);
  }
  std::optional<Observed> delivered = record.delivered;
  finish_step(std::move(record));
  return delivered;
}

std::optional<Observed> TcpConnection::step(std::size_t from, std::uint8_t flags, const Payload& payload,
                                            Packet options, std::string_view what, bool retransmission) {
  std::string description = what.empty() ? peers_[from].name + " " + tcp_flags_name(flags) : std::string(what);
  if (retransmission) {
    if (state_[from].last_sent.empty()) throw HarnessError("TCP connection: nothing to retransmit");
    return deliver(from, state_[from].last_sent, state_[from].last_flags, std::move(description));
  }
  const Packet packet = build(from, flags, payload, options);
  return deliver(from, packet, flags, std::move(description));
}

std::optional<Observed> TcpConnection::send(Side from, std::uint8_t flags, const Payload& payload, Packet options,
                                            std::string_view what) {
  return step(index_of(from), flags, payload, std::move(options), what, false);
}

std::optional<Observed> TcpConnection::send_from(std::size_t peer, std::uint8_t flags, const Payload& payload,
                                                 Packet options, std::string_view what) {
  if (peer > 1) throw HarnessError("TCP connection: peer index " + std::to_string(peer) + " (0 or 1)");
  return step(peer, flags, payload, std::move(options), what, false);
}

std::optional<Observed> TcpConnection::probe(Side from, std::uint8_t flags, std::string_view what) {
  return probe_from(index_of(from), flags, what);
}

std::optional<Observed> TcpConnection::probe_from(std::size_t peer, std::uint8_t flags, std::string_view what) {
  if (peer > 1) throw HarnessError("TCP connection: peer index " + std::to_string(peer) + " (0 or 1)");
  std::string description = what.empty() ? peers_[peer].name + " " + tcp_flags_name(flags) : std::string(what);
  const Packet packet = build(peer, flags, {}, {});
  return deliver(peer, packet, flags, std::move(description), false);
}

std::optional<Observed> TcpConnection::retransmit(Side from, std::string_view what) {
  const std::size_t index = index_of(from);
  const std::string description =
      what.empty() ? peers_[index].name + " " + tcp_flags_name(state_[index].last_flags) + " (retransmission)"
                   : std::string(what);
  return step(index, 0, {}, {}, description, true);
}

bool TcpConnection::send_expect_dropped(Side from_side, std::uint8_t flags, const Payload& payload,
                                        std::string_view what, Duration window) {
  const std::size_t from = index_of(from_side);
  TcpStep record;
  record.number = steps_.size() + 1;
  record.description = what.empty() ? peers_[from].name + " " + tcp_flags_name(flags) : std::string(what);
  const Packet packet = build(from, flags, payload, {});
  const std::string tag = "step " + std::to_string(record.number) + " (" + record.description + ")";
  ctx_.send(peers_[from].side, packet, tag);
  const bool dropped =
      ctx_.expect_none(peers_[1 - from].side, arrival(from), window, tag + ": nothing expected at " + peers_[1 - from].name);
  if (!dropped) record.problems.push_back("expected the DUT to drop it, but it was delivered");
  finish_step(std::move(record));
  return dropped;
}

bool TcpConnection::handshake() {
  const std::size_t before = failures_.size();
  if (!send(Side::inside, kSyn, {}, {}, "inside SYN")) return false;
  if (!send(Side::outside, kSyn | kAck, {}, {}, "outside SYN-ACK")) return false;
  send(Side::inside, kAck, {}, {}, "inside ACK of SYN-ACK");
  return failures_.size() == before;
}

bool TcpConnection::handshake_from_outside() {
  const std::size_t before = failures_.size();
  if (!send(Side::outside, kSyn, {}, {}, "outside SYN")) return false;
  if (!send(Side::inside, kSyn | kAck, {}, {}, "inside SYN-ACK")) return false;
  send(Side::outside, kAck, {}, {}, "outside ACK of SYN-ACK");
  return failures_.size() == before;
}

bool TcpConnection::simultaneous_open() {
  const std::size_t before = failures_.size();
  if (!send(Side::inside, kSyn, {}, {}, "inside SYN")) return false;
  // The outside SYN acknowledges nothing: it left Y before the inside SYN arrived (the SYNs cross).
  if (!send(Side::outside, kSyn, {}, {}, "outside SYN (crossing)")) return false;
  if (!send(Side::inside, kSyn | kAck, {}, {}, "inside SYN-ACK")) return false;
  send(Side::outside, kSyn | kAck, {}, {}, "outside SYN-ACK");
  return failures_.size() == before;
}

bool TcpConnection::data(Side from, const Payload& payload, Packet options) {
  const std::size_t index = index_of(from);
  return send(from, kPsh | kAck, payload, std::move(options),
              peers_[index].name + " data (" + std::to_string(payload.bytes.size()) + " bytes)")
             .has_value() &&
         steps_.back().ok();
}

std::optional<Observed> TcpConnection::ack(Side from) {
  return send(from, kAck, {}, {}, peers_[index_of(from)].name + " ACK");
}

std::optional<Observed> TcpConnection::fin(Side from) {
  return send(from, kFin | kAck, {}, {}, peers_[index_of(from)].name + " FIN-ACK");
}

std::optional<Observed> TcpConnection::reset(Side from) {
  const std::size_t index = index_of(from);
  const std::uint8_t flags = state_[index].receive_next ? (kRst | kAck) : kRst;
  return send(from, flags, {}, {}, peers_[index].name + " " + tcp_flags_name(flags));
}

bool TcpConnection::simultaneous_close() {
  const std::size_t before = failures_.size();
  const std::size_t inside = index_of(Side::inside);
  const std::size_t outside = index_of(Side::outside);
  // Both FINs are built before either is delivered, so neither acknowledges the other (they cross).
  const Packet inside_fin = build(inside, kFin | kAck, {}, {});
  const Packet outside_fin = build(outside, kFin | kAck, {}, {});
  deliver(inside, inside_fin, kFin | kAck, "inside FIN-ACK (crossing)");
  deliver(outside, outside_fin, kFin | kAck, "outside FIN-ACK (crossing)");
  if (failures_.size() != before) return false;
  send(Side::inside, kAck, {}, {}, "inside ACK of FIN");
  send(Side::outside, kAck, {}, {}, "outside ACK of FIN");
  return failures_.size() == before;
}

std::string TcpConnection::first_failure() const { return failures_.empty() ? std::string() : failures_.front(); }

std::string TcpConnection::describe_failures() const {
  std::string text;
  for (const std::string& failure : failures_) {
    if (!text.empty()) text += "; ";
    text += failure;
  }
  return text;
}

}  // namespace natcert::harness
