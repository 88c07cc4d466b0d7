// The campaign loop: plan a case (seed template, mutated step, operator), run it on the DUT (and on the
// in-process reference for the difference oracle), check the oracles, probe liveness every N cases,
// minimise and save what is found.
#include "natcert/campaign/campaign.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <stdexcept>

#include "engine.hpp"
#include "natcert/harness/craft.hpp"
#include "natcert/harness/decode.hpp"
#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/testcase.hpp"

namespace natcert::campaign {

using namespace detail;
using Clock = std::chrono::steady_clock;

std::string_view to_string(Oracle oracle) {
  switch (oracle) {
    case Oracle::dut_unresponsive: return "dut-unresponsive";
    case Oracle::inside_leak: return "inside-leak";
    case Oracle::unsolicited: return "unsolicited-inbound";
    case Oracle::bad_checksum: return "bad-checksum";
    case Oracle::reference_difference: return "reference-difference";
  }
  return "unknown";
}

std::optional<Oracle> parse_oracle(std::string_view text) {
  for (Oracle o : {Oracle::dut_unresponsive, Oracle::inside_leak, Oracle::unsolicited, Oracle::bad_checksum,
                   Oracle::reference_difference}) {
    if (to_string(o) == text) return o;
  }
  return std::nullopt;
}

std::size_t CampaignReport::invariant_findings() const {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return is_invariant(f.oracle); }));
}

std::vector<std::string> operator_names() {
  std::vector<std::string> names;
  for (const auto& op : operators()) names.emplace_back(op.name);
  return names;
}

std::vector<std::string> template_names() {
  std::vector<std::string> names;
  for (const auto& t : templates()) names.emplace_back(t.name);
  return names;
}

namespace {

const harness::TestCase& fuzz_test_case() {
  static const harness::TestCase test = [] {
    harness::TestCase t;
    t.id = "fuzz.campaign";
    t.suite = "fuzz";
    t.title = "natcert fuzz: mutated packets from both sides";
    return t;
  }();
  return test;
}

Side other(Side side) { return side == Side::inside ? Side::outside : Side::inside; }

// Sends a step's packets (only those whose addresses are the testbed's own) and collects what the DUT
// emits: the first packet on the far side ends the wait early, the rest of the window otherwise.
StepRecord send_step(harness::DutSession& session, const Scope& scope, Side side, const std::vector<Packet>& packets,
                     harness::Duration window) {
  StepRecord record;
  record.side = side;
  for (const auto& packet : packets) {
    if (packet.size() < 20 || !scope.allowed(source_of(packet)) || !scope.allowed(destination_of(packet))) continue;
    session.send(side, packet);
    record.sent.push_back(packet);
  }
  if (record.sent.empty()) return record;
  if (auto first = session.receive(other(side), harness::match::any(), window)) {
    record.captured.push_back(std::move(*first));
    session.wait(window / 8);
  }
  for (Side s : {Side::inside, Side::outside}) {
    for (auto& c : session.drain(s)) record.captured.push_back(std::move(c));
  }
  record.notes = session.take_diagnostics();
  return record;
}

struct CasePlan {
  std::size_t template_index = 0;
  std::size_t target_step = 0;
  std::uint64_t mutation_seed = 0;
  bool unmutated = false;
};

struct CaseRun {
  Trace trace;
  std::string operator_name = "none";
};

CaseRun run_case(harness::DutSession& session, const Scope& scope, const CasePlan& plan, CaseState state,
                 harness::Duration window, OutboundLedger* ledger) {
  CaseRun run;
  const auto& seed = templates()[plan.template_index];
  for (std::size_t i = 0; i < seed.steps.size(); ++i) {
    const auto& step = seed.steps[i];
    std::vector<Packet> packets;
    try {
      packets = step.build(state);
    } catch (const std::exception&) {
      packets.clear();  // a seed that cannot be built from what the DUT did (e.g. nothing to quote)
    }
    if (i == plan.target_step && !plan.unmutated && !packets.empty()) {
      Rng rng(plan.mutation_seed);
      MutationInput input{&scope};
      for (int attempt = 0; attempt < 6; ++attempt) {
        const auto& op = operators()[rng.below(operators().size())];
        std::vector<Packet> candidate = packets;
        if (op.apply(candidate, rng, input)) {
          packets = std::move(candidate);
          run.operator_name = op.name;
          break;
        }
      }
    }
    StepRecord record = send_step(session, scope, step.side, packets, window);
    if (ledger && step.side == Side::inside) {
      for (const auto& p : record.sent) ledger->record(p);
    }
    learn(state, record.captured);
    run.trace.push_back(std::move(record));
  }
  return run;
}

// Sends recorded packets one by one (replay and minimisation).
Trace send_packets(harness::DutSession& session, const Scope& scope, const std::vector<SentPacket>& packets,
                   harness::Duration window, OutboundLedger& ledger) {
  Trace trace;
  for (const auto& packet : packets) {
    trace.push_back(send_step(session, scope, packet.side, {packet.bytes}, window));
    if (packet.side == Side::inside) ledger.record(packet.bytes);
  }
  return trace;
}

// A fresh UDP flow out and its reply back.
bool sanity_probe(harness::DutSession& session, const Scope& scope, Endpoint inside, Endpoint outside,
                  harness::Duration window, OutboundLedger& ledger, std::string& why) {
  const Packet probe = harness::udp(inside, outside, "natcert-fuzz sanity");
  ledger.record(probe);
  session.send(Side::inside, probe);
  const auto out = session.receive(Side::outside, harness::match::udp().to(outside).payload("natcert-fuzz sanity"), window);
  if (!out) {
    why = std::string("the probe ") + harness::to_string(inside) + " > " + harness::to_string(outside) + " did not come out";
    return false;
  }
  const Endpoint mapped = harness::Observed(out->side, out->at, out->bytes).source();
  if (!scope.allowed(mapped.address)) {
    why = std::string("the probe came out from an unexpected source ") + harness::to_string(mapped);
    return false;
  }
  session.send(Side::outside, harness::udp(outside, mapped, "natcert-fuzz sanity reply"));
  const auto back =
      session.receive(Side::inside, harness::match::udp().to(inside).payload("natcert-fuzz sanity reply"), window);
  for (Side s : {Side::inside, Side::outside}) session.drain(s);
  session.take_diagnostics();
  if (!back) {
    why = std::string("the reply to ") + harness::to_string(mapped) + " did not come back to " + harness::to_string(inside);
    return false;
  }
  return true;
}

std::string spec_for_reference(const std::string& spec, const harness::Addressing& addressing) {
  std::string full = spec;
  if (!addressing.nat_external.empty() && spec.find("external-addresses=") == std::string::npos) {
    full += ",external-addresses=";
    for (std::size_t i = 0; i < addressing.nat_external.size(); ++i) {
      if (i != 0) full += '+';
      full += ref::format_ipv4(addressing.nat_external[i]);
    }
  }
  if (!addressing.inside.empty() && spec.find("inside-prefix=") == std::string::npos) {
    full += std::string(",inside-prefix=") + ref::format_ipv4(addressing.inside[0] & 0xFFFFFF00u) + "/24";
  }
  return full;
}

std::unique_ptr<harness::Testbed> make_reference(const std::string& spec, const harness::Addressing& addressing) {
  harness::InProcessOptions options;
  options.inside_hosts = addressing.inside;
  options.outside_hosts = addressing.outside;
  options.third_party = addressing.third_party;
  try {
    return std::make_unique<harness::InProcessTestbed>(spec_for_reference(spec, addressing), options);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("reference \"") + spec + "\": " + e.what());
  }
}

harness::Duration probe_window(const harness::Testbed& testbed, harness::Duration window) {
  return testbed.virtual_time() ? std::chrono::seconds(1) : std::max<harness::Duration>(window * 10, std::chrono::seconds(1));
}

// Delta debugging (ddmin, complements only) over the packets, within a trial and time budget.
std::vector<SentPacket> ddmin(std::vector<SentPacket> items,
                              const std::function<bool(const std::vector<SentPacket>&)>& reproduces, std::size_t trials,
                              Clock::time_point deadline) {
  std::size_t n = 2;
  while (items.size() >= 2 && trials > 0 && Clock::now() < deadline) {
    const std::size_t chunk = (items.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < items.size() && trials > 0 && Clock::now() < deadline; start += chunk) {
      std::vector<SentPacket> complement(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
      complement.insert(complement.end(), items.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, items.size())),
                        items.end());
      --trials;
      if (!complement.empty() && reproduces(complement)) {
        items = std::move(complement);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= items.size()) break;
      n = std::min(items.size(), n * 2);
    }
  }
  return items;
}

class Campaign {
 public:
  Campaign(harness::Testbed& testbed, const std::string& label, const CampaignOptions& options)
      : testbed_(testbed), options_(options), scope_(Scope::from(testbed.addressing())), rng_(options.seed) {
    if (scope_.addressing.inside.empty() || scope_.addressing.outside.empty()) {
      throw std::runtime_error("the testbed declares no inside or outside hosts");
    }
    report_.dut = label;
    report_.reference_spec = options.reference_spec;
    report_.seed = options.seed;
    if (!options.reference_spec.empty()) {
      reference_ = make_reference(options.reference_spec, scope_.addressing);
    }
  }

  CampaignReport run() {
    const auto start = Clock::now();
    open();
    probe_or_throw();
    const auto deadline = start + options_.duration;
    while (true) {
      if (options_.stop && options_.stop->load()) {
        report_.stopped_early = true;
        report_.end_reason = "signal";
        break;
      }
      if (Clock::now() >= deadline + minimizing_) {
        report_.end_reason = "duration";
        break;
      }
      if (options_.max_cases != 0 && report_.cases >= options_.max_cases) {
        report_.end_reason = "max-cases";
        break;
      }
      one_case();
      if (options_.sanity_every != 0 && report_.cases % options_.sanity_every == 0 && !check_alive()) {
        report_.end_reason = "dut-dead";
        break;
      }
    }
    if (report_.end_reason != "dut-dead" && !report_.stopped_early) check_alive();
    session_.reset();
    const auto fuzzing = Clock::now() - start - minimizing_;
    report_.seconds = std::chrono::duration<double>(fuzzing).count();
    return report_;
  }

 private:
  // A new session resets the DUT; the reference starts afresh with it so the two keep the same state.
  // Packets the DUT still emits for the previous session's flows are drained, not blamed on the next case.
  void open() {
    session_.reset();
    session_ = testbed_.open_session(fuzz_test_case(), options_.seed + sessions_);
    if (reference_) {
      reference_session_.reset();
      reference_session_ = reference_->open_session(fuzz_test_case(), options_.seed + sessions_);
    }
    ++sessions_;
    ports_ = session_->ports();
    if (!testbed_.virtual_time()) session_->wait(options_.window);
    for (Side s : {Side::inside, Side::outside}) session_->drain(s);
    session_->take_diagnostics();
  }

  std::uint16_t next_port() {
    const std::uint32_t span = static_cast<std::uint32_t>(ports_.high_last - ports_.high_first) + 1;
    return static_cast<std::uint16_t>(ports_.high_first + (port_counter_++ % span));
  }

  Endpoint fresh_inside() { return {scope_.addressing.inside[rng_.below(scope_.addressing.inside.size())], next_port()}; }
  Endpoint fresh_outside() {
    const std::uint32_t span = static_cast<std::uint32_t>(ports_.high_last - ports_.high_first) + 1;
    return {scope_.addressing.outside[rng_.below(scope_.addressing.outside.size())],
            static_cast<std::uint16_t>(ports_.high_first + rng_.below(span))};
  }

  bool probe(std::string& why) {
    ++report_.sanity_probes;
    const bool ok = sanity_probe(*session_, scope_, fresh_inside(), fresh_outside(), probe_window(testbed_, options_.window),
                                 ledger_, why);
    if (!ok) ++report_.sanity_failures;
    return ok;
  }

  void probe_or_throw() {
    std::string why;
    if (!probe(why)) throw std::runtime_error("the DUT fails the sanity probe before any case: " + why);
  }

  // A failed probe is a finding with the packets since the last good one; after a reset the DUT must
  // answer again, or the campaign ends.
  bool check_alive() {
    std::string why;
    if (probe(why)) {
      window_.clear();
      return true;
    }
    Finding finding;
    finding.oracle = Oracle::dut_unresponsive;
    finding.detail = std::string("sanity probe failed after case ") + std::to_string(report_.cases) + ": " + why;
    finding.case_index = report_.cases;
    finding.seed_template = last_template_;
    finding.mutation = last_operator_;
    std::vector<SentPacket> packets(window_.begin(), window_.end());
    finding.packets = packets.size();
    save(finding, packets, {}, [this](const std::vector<SentPacket>& subset) {
      open();
      OutboundLedger ledger;
      send_packets(*session_, scope_, subset, options_.window, ledger);
      std::string ignored;
      return !sanity_probe(*session_, scope_, fresh_inside(), fresh_outside(), probe_window(testbed_, options_.window),
                           ledger, ignored);
    });
    window_.clear();
    open();
    if (probe(why)) return true;
    report_.findings.back().detail += std::string("; still unresponsive after a reset: ") + why;
    return false;
  }

  void one_case() {
    CasePlan plan;
    plan.template_index = rng_.below(templates().size());
    plan.target_step = rng_.below(templates()[plan.template_index].steps.size());
    plan.mutation_seed = rng_.next();
    plan.unmutated = rng_.one_in(16);
    CaseState state;
    state.scope = &scope_;
    state.inside = fresh_inside();
    state.outside = fresh_outside();
    const std::uint32_t low_span = static_cast<std::uint32_t>(ports_.low_last - ports_.low_first) + 1;
    state.spare_port = static_cast<std::uint16_t>(ports_.low_first + rng_.below(low_span));

    CaseRun run = run_case(*session_, scope_, plan, state, options_.window, &ledger_);
    const std::string& name = templates()[plan.template_index].name;
    ++report_.cases;
    ++report_.operator_counts[run.operator_name];
    ++report_.template_counts[name];
    last_template_ = name;
    last_operator_ = run.operator_name;
    std::vector<SentPacket> sent;
    std::vector<Captured> evidence;
    for (const auto& step : run.trace) {
      for (const auto& p : step.sent) sent.push_back({step.side, p});
      for (const auto& c : step.captured) evidence.push_back(c);
    }
    report_.packets_sent += sent.size();
    report_.packets_captured += evidence.size();
    for (const auto& p : sent) {
      window_.push_back(p);
      if (window_.size() > max_window_packets) window_.pop_front();
    }

    std::vector<Violation> violations = check_invariants(run.trace, scope_, ledger_);
    if (reference_session_) {
      CaseRun reference_run = run_case(*reference_session_, scope_, plan, state, options_.window, nullptr);
      if (auto difference = compare_with_reference(run.trace, reference_run.trace)) violations.push_back(*difference);
    }
    for (const auto& violation : violations) {
      Finding finding;
      finding.oracle = violation.oracle;
      finding.detail = violation.detail;
      finding.seed_template = name;
      finding.mutation = run.operator_name;
      finding.case_index = report_.cases;
      finding.packets = sent.size();
      const Oracle oracle = violation.oracle;
      save(finding, sent, evidence, [this, oracle](const std::vector<SentPacket>& subset) {
        if (oracle == Oracle::reference_difference) return false;  // not minimised (see docs)
        open();
        OutboundLedger ledger;
        const Trace trace = send_packets(*session_, scope_, subset, options_.window, ledger);
        const auto found = check_invariants(trace, scope_, ledger);
        return std::any_of(found.begin(), found.end(), [oracle](const Violation& v) { return v.oracle == oracle; });
      });
    }
  }

  // Records a finding once per signature (oracle, template, operator); the first few are minimised and
  // written as reproducers.
  void save(Finding finding, const std::vector<SentPacket>& packets, const std::vector<Captured>& evidence,
            const std::function<bool(const std::vector<SentPacket>&)>& reproduces) {
    ++report_.findings_by_oracle[std::string(to_string(finding.oracle))];
    const std::string signature =
        std::string(to_string(finding.oracle)) + "|" + finding.seed_template + "|" + finding.mutation;
    for (auto& known : report_.findings) {
      if (known.oracle == finding.oracle && signature == std::string(to_string(known.oracle)) + "|" +
                                                             known.seed_template + "|" + known.mutation) {
        ++known.occurrences;
        return;
      }
    }
    Reproducer reproducer;
    reproducer.oracle = finding.oracle;
    reproducer.detail = finding.detail;
    reproducer.packets = packets;
    reproducer.evidence = evidence;
    if (!options_.out.empty() && saved_ < options_.max_reproducers) {
      if (finding.oracle != Oracle::reference_difference && options_.minimize_trials > 0 && !packets.empty()) {
        const auto began = Clock::now();
        const auto deadline = began + (testbed_.virtual_time() ? std::chrono::seconds(2) : std::chrono::seconds(6));
        if (reproduces(packets)) {
          reproducer.packets = ddmin(packets, reproduces, options_.minimize_trials, deadline);
          finding.minimized_packets = reproducer.packets.size();
        }
        open();
        minimizing_ += Clock::now() - began;
      }
      const std::string file = std::string("finding-") + std::to_string(++saved_) + "-" + std::string(to_string(finding.oracle)) + ".pcapng";
      write_reproducer(reproducer, options_.out / "findings" / file);
      finding.reproducer = std::string("findings/") + file;
    }
    report_.findings.push_back(std::move(finding));
  }

  static constexpr std::size_t max_window_packets = 200;

  harness::Testbed& testbed_;
  const CampaignOptions& options_;
  Scope scope_;
  Rng rng_;
  CampaignReport report_;
  std::unique_ptr<harness::DutSession> session_;
  std::unique_ptr<harness::Testbed> reference_;
  std::unique_ptr<harness::DutSession> reference_session_;
  harness::PortRanges ports_{};
  std::uint32_t port_counter_ = 0;
  std::uint64_t sessions_ = 0;
  OutboundLedger ledger_;
  std::deque<SentPacket> window_;
  std::string last_template_ = "none";
  std::string last_operator_ = "none";
  std::size_t saved_ = 0;
  Clock::duration minimizing_{};
};

}  // namespace

CampaignReport run_campaign(harness::Testbed& testbed, const std::string& dut_label, const CampaignOptions& options) {
  Campaign campaign(testbed, dut_label, options);
  return campaign.run();
}

ReplayOutcome replay(harness::Testbed& testbed, const Reproducer& reproducer, const CampaignOptions& options) {
  const Scope scope = Scope::from(testbed.addressing());
  auto session = testbed.open_session(fuzz_test_case(), options.seed);
  OutboundLedger ledger;
  const Trace trace = send_packets(*session, scope, reproducer.packets, options.window, ledger);
  ReplayOutcome outcome;
  switch (reproducer.oracle) {
    case Oracle::dut_unresponsive: {
      const auto ports = session->ports();
      std::string why;
      const bool alive = sanity_probe(*session, scope, {scope.addressing.inside[0], ports.high_last},
                                      {scope.addressing.outside[0], ports.high_last}, probe_window(testbed, options.window),
                                      ledger, why);
      outcome.reproduced = !alive;
      outcome.detail = alive ? "the DUT answers the sanity probe" : std::string("sanity probe failed: ") + why;
      return outcome;
    }
    case Oracle::reference_difference: {
      if (options.reference_spec.empty()) {
        throw std::runtime_error("this reproducer is a difference from the reference: give --reference SPEC");
      }
      auto reference = make_reference(options.reference_spec, scope.addressing);
      auto reference_session = reference->open_session(fuzz_test_case(), options.seed);
      OutboundLedger unused;
      const Trace reference_trace = send_packets(*reference_session, scope, reproducer.packets, options.window, unused);
      const auto difference = compare_with_reference(trace, reference_trace);
      outcome.reproduced = difference.has_value();
      outcome.detail = difference ? difference->detail : "the DUT and the reference agree on every packet";
      return outcome;
    }
    default: {
      for (const auto& violation : check_invariants(trace, scope, ledger)) {
        if (violation.oracle == reproducer.oracle) {
          outcome.reproduced = true;
          outcome.detail = violation.detail;
          return outcome;
        }
      }
      outcome.detail = std::string("no ") + std::string(to_string(reproducer.oracle)) + " finding";
      return outcome;
    }
  }
}

}  // namespace natcert::campaign
