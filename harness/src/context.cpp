#include "natcert/harness/context.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <variant>

namespace natcert::harness {

struct TestContext::State {
  State(const TestCase& t, DutSession& s, Addressing a, std::uint64_t seed_value, bool virtual_clock)
      : test(t), session(s), addressing(std::move(a)), seed(seed_value), virtual_time(virtual_clock), rng(seed_value) {}

  const TestCase& test;
  DutSession& session;
  Addressing addressing;
  std::uint64_t seed;
  bool virtual_time;
  std::optional<Duration> timer_budget;
  std::mt19937_64 rng;
  std::set<std::uint16_t> used_ports;
  std::vector<std::pair<std::string, std::variant<Endpoint, std::string>>> bound;
  std::vector<Check> checks;
  std::vector<EvidencePacket> evidence;
  std::vector<ProfileEntry> profile;
  std::vector<LogLine> log;
  std::size_t undecided_evidence = 0;  // evidence from this index on was captured after the last check
  std::uint32_t probes = 0;
  std::chrono::steady_clock::time_point wall_start = std::chrono::steady_clock::now();
  bool finished = false;

  void log_line(std::string text) { log.push_back(LogLine{session.now(), std::move(text)}); }

  void pull_diagnostics() {
    for (auto& line : session.take_diagnostics()) log_line(std::move(line));
  }

  void record(Side side, Direction direction, Duration at, Bytes bytes, std::string note) {
    EvidencePacket packet;
    packet.at = at;
    packet.side = side;
    packet.direction = direction;
    packet.summary = summarize(bytes);
    packet.bytes.assign(bytes.begin(), bytes.end());
    packet.note = std::move(note);
    evidence.push_back(std::move(packet));
  }

  void record(const Captured& captured, std::string note) {
    record(captured.side, Direction::captured, captured.at, captured.bytes, std::move(note));
  }

  const Requirement& requirement(std::string_view id, std::optional<Level> level) const {
    for (const auto& declared : test.requirements) {
      if (declared.id == id && (!level || declared.level == *level)) return declared;
    }
    std::string declared_list;
    for (const auto& declared : test.requirements) {
      declared_list += (declared_list.empty() ? "" : ", ") + declared.id + " (" + std::string(to_string(declared.level)) + ")";
    }
    throw HarnessError("test " + test.id + " checks requirement " + std::string(id) +
                       (level ? " at level " + std::string(to_string(*level)) : std::string()) +
                       ", which it does not declare; declared: " + declared_list);
  }

  void mark_decisive() {
    for (std::size_t i = undecided_evidence; i < evidence.size(); ++i) {
      if (evidence[i].direction == Direction::captured) evidence[i].decisive = true;
    }
    undecided_evidence = evidence.size();
  }
};

namespace {

std::string side_name(Side side) { return std::string(ref::to_string(side)); }

std::string describe_what(std::string_view what, const Matcher& matcher) {
  return what.empty() ? matcher.description() : std::string(what);
}

}  // namespace

TestContext::TestContext(const TestCase& test, DutSession& session, Addressing addressing, std::uint64_t seed,
                         bool virtual_time)
    : state_(std::make_unique<State>(test, session, std::move(addressing), seed, virtual_time)) {}

TestContext::~TestContext() = default;

const TestCase& TestContext::test() const { return state_->test; }

// ---- Hosts and ports ---------------------------------------------------------------------------

const Addressing& TestContext::addressing() const { return state_->addressing; }

Ipv4Address TestContext::inside(std::size_t host) const {
  const auto& hosts = state_->addressing.inside;
  if (host >= hosts.size()) {
    throw HarnessError("inside host " + std::to_string(host) + " requested; the testbed has " +
                       std::to_string(hosts.size()) + " (declare it in TestCase::needs)");
  }
  return hosts[host];
}

Ipv4Address TestContext::outside(std::size_t host) const {
  const auto& hosts = state_->addressing.outside;
  if (host >= hosts.size()) {
    throw HarnessError("outside host " + std::to_string(host) + " requested; the testbed has " +
                       std::to_string(hosts.size()) + " (declare it in TestCase::needs)");
  }
  return hosts[host];
}

Ipv4Address TestContext::third_party() const {
  if (!state_->addressing.third_party) {
    throw TestAborted(Verdict::skip, "the testbed has no third-party outside address");
  }
  return *state_->addressing.third_party;
}

namespace {

std::uint16_t pick_port(std::mt19937_64& rng, std::set<std::uint16_t>& used, std::uint16_t first,
                        std::uint16_t last, Parity parity) {
  if (first > last) throw HarnessError("empty port range");
  auto acceptable = [&](unsigned port) {
    if (parity == Parity::even && port % 2 != 0) return false;
    if (parity == Parity::odd && port % 2 == 0) return false;
    return used.count(static_cast<std::uint16_t>(port)) == 0;
  };
  const unsigned span = unsigned{last} - first + 1;
  for (int attempt = 0; attempt < 64; ++attempt) {
    unsigned port = first + static_cast<unsigned>(rng() % span);
    if (parity == Parity::even && port % 2 != 0) port = port == last ? port - 1 : port + 1;
    if (parity == Parity::odd && port % 2 == 0) port = port == last ? port - 1 : port + 1;
    if (port >= first && port <= last && acceptable(port)) {
      used.insert(static_cast<std::uint16_t>(port));
      return static_cast<std::uint16_t>(port);
    }
  }
  for (unsigned port = first; port <= last; ++port) {
    if (acceptable(port)) {
      used.insert(static_cast<std::uint16_t>(port));
      return static_cast<std::uint16_t>(port);
    }
  }
  throw HarnessError("no fresh port left in " + std::to_string(first) + "-" + std::to_string(last));
}

}  // namespace

std::uint16_t TestContext::fresh_port(Parity parity) {
  const PortRanges ranges = state_->session.ports();
  return pick_port(state_->rng, state_->used_ports, ranges.high_first, ranges.high_last, parity);
}

std::uint16_t TestContext::fresh_privileged_port(Parity parity) {
  const PortRanges ranges = state_->session.ports();
  return pick_port(state_->rng, state_->used_ports, ranges.low_first, ranges.low_last, parity);
}

Endpoint TestContext::inside_endpoint(std::size_t host) { return Endpoint{inside(host), fresh_port()}; }

Endpoint TestContext::outside_endpoint(std::size_t host) { return Endpoint{outside(host), fresh_port()}; }

std::uint32_t TestContext::random() { return static_cast<std::uint32_t>(state_->rng() >> 32); }

// ---- Traffic -----------------------------------------------------------------------------------

void TestContext::send(Side side, Bytes packet, std::string_view note) {
  auto& s = *state_;
  s.record(side, Direction::sent, s.session.now(), packet, std::string(note));
  s.session.send(side, packet);
  s.pull_diagnostics();
}

std::optional<Observed> TestContext::expect(Side side, const Matcher& matcher, Duration window, std::string_view what) {
  auto& s = *state_;
  const std::string description = describe_what(what, matcher);
  auto captured = s.session.receive(side, matcher, window);
  s.pull_diagnostics();
  if (!captured) {
    s.log_line("expected on " + side_name(side) + " within " + format_duration(window) + ": " + description +
               "; nothing matching arrived");
    return std::nullopt;
  }
  s.log_line("expected on " + side_name(side) + ": " + description + "; got it at " + format_duration(captured->at));
  s.record(*captured, "expected: " + description);
  return Observed(captured->side, captured->at, std::move(captured->bytes));
}

bool TestContext::expect_none(Side side, const Matcher& matcher, Duration window, std::string_view what) {
  auto& s = *state_;
  const std::string description = describe_what(what, matcher);
  auto captured = s.session.receive(side, matcher, window);
  s.pull_diagnostics();
  if (!captured) {
    s.log_line("expected nothing on " + side_name(side) + " for " + format_duration(window) + ": " + description +
               "; nothing came");
    return true;
  }
  s.log_line("expected nothing on " + side_name(side) + ": " + description + "; but got one at " +
             format_duration(captured->at));
  s.record(*captured, "unexpected: " + description);
  return false;
}

std::vector<Observed> TestContext::collect(Side side, const Matcher& matcher, Duration window, std::string_view what) {
  auto& s = *state_;
  const std::string description = describe_what(what, matcher);
  const Duration deadline = s.session.now() + window;
  std::vector<Observed> out;
  for (;;) {
    const Duration remaining = std::max(Duration::zero(), deadline - s.session.now());
    auto captured = s.session.receive(side, matcher, remaining);
    if (!captured) break;
    s.record(*captured, "collected: " + description);
    out.emplace_back(captured->side, captured->at, std::move(captured->bytes));
  }
  s.pull_diagnostics();
  s.log_line("collected on " + side_name(side) + " for " + format_duration(window) + ": " + description + "; " +
             std::to_string(out.size()) + " packet(s)");
  return out;
}

std::vector<Observed> TestContext::drain(Side side) {
  auto& s = *state_;
  std::vector<Observed> out;
  for (auto& captured : s.session.drain(side)) {
    s.record(captured, "drained");
    out.emplace_back(captured.side, captured.at, std::move(captured.bytes));
  }
  return out;
}

// ---- Reflector ---------------------------------------------------------------------------------

namespace {

std::string hex32(std::uint32_t value) {
  char buffer[12];
  std::snprintf(buffer, sizeof buffer, "%08x", value);
  return buffer;
}

}  // namespace

std::optional<Mapping> TestContext::try_learn_mapping(Endpoint internal, Endpoint remote, const ReflectorOptions& options) {
  auto& s = *state_;
  const std::string token = "natcert-probe-" + std::to_string(++s.probes) + "-" + hex32(random());
  const std::string flow = to_string(internal) + " > " + to_string(remote);
  send(Side::inside, udp(internal, remote, token, options.ip), "reflector probe " + flow);
  auto seen = expect(Side::outside, match::udp().to(remote).payload(token), options.window,
                     "reflector probe " + flow + " (translated)");
  if (!seen) {
    s.log_line("reflector: the DUT did not forward the probe " + flow);
    return std::nullopt;
  }
  Mapping mapping{internal, remote, seen->source(), *seen};
  s.log_line("reflector: " + flow + " leaves as " + to_string(mapping.external));
  if (!options.reply) return mapping;

  const std::string answer = to_string(mapping.external);
  send(Side::outside, udp(remote, mapping.external, answer), "reflector answer to " + answer);
  auto back = expect(Side::inside, match::udp().from(remote).to(internal), options.window,
                     "reflector answer from " + to_string(remote) + " at " + to_string(internal));
  if (!back) {
    s.log_line("reflector: the DUT did not deliver the answer from " + to_string(remote) + " to " + answer);
    return std::nullopt;
  }
  if (back->payload_text() != answer) {
    s.log_line("reflector: the answer's payload was altered on the way in (sent \"" + answer + "\", got \"" +
               back->payload_text() + "\")");
  }
  return mapping;
}

Mapping TestContext::learn_mapping(Endpoint internal, Endpoint remote, const ReflectorOptions& options) {
  auto mapping = try_learn_mapping(internal, remote, options);
  if (!mapping) {
    throw TestAborted(Verdict::inconclusive, "UDP round trip " + to_string(internal) + " <-> " + to_string(remote) +
                                                 " did not complete through the DUT, so the harness cannot observe "
                                                 "its mapping");
  }
  return std::move(*mapping);
}

TcpMapping TestContext::learn_tcp_mapping(Endpoint internal, Endpoint remote, Duration window) {
  using namespace ref::tcp_flag;
  constexpr std::uint8_t kControl = syn | ack | rst | fin;
  const std::string flow = to_string(internal) + " > " + to_string(remote);
  auto failed = [&](const std::string& step) -> TestAborted {
    return TestAborted(Verdict::inconclusive, "TCP handshake " + flow + " did not complete through the DUT (" +
                                                  step + "), so the harness cannot observe its mapping");
  };

  const std::uint32_t inside_isn = random();
  send(Side::inside, tcp(internal, remote, {.flags = syn, .seq = inside_isn}), "TCP SYN " + flow);
  auto syn_out = expect(Side::outside, match::tcp().to(remote).flags(syn, kControl), window,
                        "TCP SYN " + flow + " (translated)");
  if (!syn_out) throw failed("SYN not forwarded");
  const Endpoint external = syn_out->source();
  const std::uint32_t translated_isn = syn_out->view().tcp.sequence();

  const std::uint32_t outside_isn = random();
  send(Side::outside, tcp(remote, external, {.flags = syn | ack, .seq = outside_isn, .ack = translated_isn + 1}),
       "TCP SYN-ACK to " + to_string(external));
  auto synack_in = expect(Side::inside, match::tcp().from(remote).to(internal).flags(syn | ack, kControl), window,
                          "TCP SYN-ACK at " + to_string(internal));
  if (!synack_in) throw failed("SYN-ACK not delivered");

  send(Side::inside, tcp(internal, remote, {.flags = ack, .seq = inside_isn + 1, .ack = outside_isn + 1}),
       "TCP ACK " + flow);
  auto ack_out = expect(Side::outside, match::tcp().from(external).to(remote).flags(ack, kControl), window,
                        "TCP ACK " + flow + " (translated)");
  if (!ack_out) throw failed("ACK not forwarded");

  state_->log_line("TCP handshake " + flow + " done; external endpoint " + to_string(external));
  return TcpMapping{internal, remote, external, inside_isn + 1, outside_isn + 1, *syn_out};
}

// ---- Bound values ------------------------------------------------------------------------------

void TestContext::bind(std::string name, Endpoint value) {
  for (auto& [existing, stored] : state_->bound) {
    if (existing == name) {
      stored = value;
      return;
    }
  }
  state_->bound.emplace_back(std::move(name), value);
}

void TestContext::bind(std::string name, std::string value) {
  for (auto& [existing, stored] : state_->bound) {
    if (existing == name) {
      stored = std::move(value);
      return;
    }
  }
  state_->bound.emplace_back(std::move(name), std::move(value));
}

Endpoint TestContext::bound(std::string_view name) const {
  for (const auto& [existing, stored] : state_->bound) {
    if (existing == name) {
      if (const auto* endpoint = std::get_if<Endpoint>(&stored)) return *endpoint;
      throw HarnessError("bound value \"" + std::string(name) + "\" is text, not an endpoint");
    }
  }
  throw HarnessError("no value bound to \"" + std::string(name) + "\"");
}

const std::string& TestContext::bound_text(std::string_view name) const {
  for (const auto& [existing, stored] : state_->bound) {
    if (existing == name) {
      if (const auto* text = std::get_if<std::string>(&stored)) return *text;
      throw HarnessError("bound value \"" + std::string(name) + "\" is an endpoint; use bound()");
    }
  }
  throw HarnessError("no value bound to \"" + std::string(name) + "\"");
}

// ---- Time --------------------------------------------------------------------------------------

void TestContext::sleep(Duration duration) {
  state_->log_line("sleep " + format_duration(duration));
  state_->session.wait(duration);
  state_->pull_diagnostics();
}

Duration TestContext::now() const { return state_->session.now(); }

bool TestContext::virtual_time() const { return state_->virtual_time; }

std::optional<Duration> TestContext::timer_budget() const { return state_->timer_budget; }

void TestContext::set_timer_budget(std::optional<Duration> budget) { state_->timer_budget = budget; }

// ---- Decisions ---------------------------------------------------------------------------------

bool TestContext::check(std::string_view requirement, bool met, std::string expected, std::string observed) {
  const Requirement& declared = state_->requirement(requirement, std::nullopt);
  return check(requirement, declared.level, met, std::move(expected), std::move(observed));
}

bool TestContext::check(std::string_view requirement, Level level, bool met, std::string expected,
                        std::string observed) {
  auto& s = *state_;
  const Requirement& declared = s.requirement(requirement, level);
  Check entry;
  entry.requirement = declared.id;
  entry.level = declared.level;
  entry.met = met;
  entry.verdict = verdict_for(declared.level, met);
  entry.expected = std::move(expected);
  entry.observed = std::move(observed);
  s.log_line("check " + entry.requirement + " (" + std::string(to_string(entry.level)) + "): " +
             (met ? "met" : "NOT met") + "; expected " + entry.expected + "; observed " + entry.observed);
  s.checks.push_back(std::move(entry));
  s.mark_decisive();
  return met;
}

void TestContext::info(std::string observed) {
  auto& s = *state_;
  s.log_line("info: " + observed);
  s.checks.push_back(Check{"", Level::may, true, Verdict::info, "", std::move(observed)});
  s.mark_decisive();
}

void TestContext::info(std::string_view requirement, std::string observed) {
  auto& s = *state_;
  const Requirement& declared = s.requirement(requirement, std::nullopt);
  s.log_line("info " + declared.id + ": " + observed);
  s.checks.push_back(Check{declared.id, declared.level, true, Verdict::info, "", std::move(observed)});
  s.mark_decisive();
}

void TestContext::skip(std::string reason) { throw TestAborted(Verdict::skip, std::move(reason)); }

void TestContext::inconclusive(std::string reason) { throw TestAborted(Verdict::inconclusive, std::move(reason)); }

void TestContext::decisive(const Observed& packet) {
  for (auto& evidence : state_->evidence) {
    if (evidence.direction == Direction::captured && evidence.side == packet.side() && evidence.at == packet.at() &&
        std::equal(evidence.bytes.begin(), evidence.bytes.end(), packet.bytes().begin(), packet.bytes().end())) {
      evidence.decisive = true;
    }
  }
}

void TestContext::profile(std::string key, std::string value) {
  state_->profile.push_back(ProfileEntry{std::move(key), std::move(value), state_->test.id});
}

void TestContext::log(std::string text) { state_->log_line(std::move(text)); }

// ---- Finish ------------------------------------------------------------------------------------

TestResult TestContext::finish(std::optional<std::pair<Verdict, std::string>> aborted) {
  auto& s = *state_;
  if (s.finished) throw HarnessError("TestContext::finish called twice");
  s.finished = true;

  TestResult result;
  result.id = s.test.id;
  result.suite = s.test.suite;
  result.title = s.test.title;
  result.requirements = s.test.requirements;
  result.seed = s.seed;

  // Whatever the DUT emitted that the procedure never claimed is still evidence.
  try {
    for (Side side : {Side::inside, Side::outside}) {
      for (auto& captured : s.session.drain(side)) s.record(captured, "unclaimed");
    }
    s.pull_diagnostics();
  } catch (const std::exception& e) {
    s.log_line(std::string("harness: could not drain the session: ") + e.what());
  }

  Verdict verdict = Verdict::info;
  bool any = false;
  for (const auto& check : s.checks) {
    verdict = any ? worst(verdict, check.verdict) : check.verdict;
    any = true;
  }
  std::string reason;
  if (aborted) {
    if (!any || severity(aborted->first) >= severity(verdict)) {
      verdict = aborted->first;
      reason = aborted->second;
    }
  } else if (!any) {
    verdict = Verdict::error;
    reason = "procedure decided nothing (no check, info or skip)";
  }
  if (reason.empty()) {
    const Check* first = nullptr;
    for (const auto& check : s.checks) {
      if (check.verdict == verdict) {
        first = &check;
        break;
      }
    }
    if (verdict == Verdict::pass) {
      reason = std::to_string(s.checks.size()) + (s.checks.size() == 1 ? " check" : " checks") + " met";
    } else if (verdict == Verdict::info && first != nullptr) {
      reason = first->observed;
    } else if (first != nullptr) {
      reason = first->requirement + " (" + std::string(to_string(first->level)) + ") not met: expected " +
               first->expected + "; observed " + first->observed;
    }
  }
  result.verdict = verdict;
  result.reason = std::move(reason);
  result.checks = std::move(s.checks);
  std::stable_sort(s.evidence.begin(), s.evidence.end(),
                   [](const EvidencePacket& a, const EvidencePacket& b) { return a.at < b.at; });
  result.evidence = std::move(s.evidence);
  for (const auto& [name, value] : s.bound) {
    if (const auto* endpoint = std::get_if<Endpoint>(&value)) {
      result.bound.push_back(BoundValue{name, to_string(*endpoint)});
    } else {
      result.bound.push_back(BoundValue{name, std::get<std::string>(value)});
    }
  }
  result.profile = std::move(s.profile);
  result.log = std::move(s.log);
  result.virtual_elapsed = s.session.now();
  result.wall = std::chrono::steady_clock::now() - s.wall_start;
  return result;
}

}  // namespace natcert::harness
