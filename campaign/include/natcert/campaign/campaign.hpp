// Fuzzing campaigns against a live DUT: structure-aware mutation of packets sent from both sides through
// a testbed's DutSession, invariant oracles over what the DUT emits, pcapng reproducers (minimised by
// delta debugging), replay, and a JSON/HTML report. Works on every testbed (in-process reference,
// namespace, physical ports): the campaign sends only through DutSession, never anywhere else.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "natcert/harness/testbed.hpp"

namespace natcert::campaign {

// The oracles. Every finding names one.
enum class Oracle : std::uint8_t {
  dut_unresponsive,   // the sanity probe (a fresh UDP flow out and its reply back) failed
  inside_leak,        // an inside address in the IP source or in a quoted header captured outside
  unsolicited,        // delivered inside to an endpoint that never sent anything outbound
  bad_checksum,       // a packet the DUT emitted has a wrong IP checksum (or transport checksum for valid input)
  reference_difference,  // the DUT forwarded where the reference drops, or the other way round
};
std::string_view to_string(Oracle oracle);
std::optional<Oracle> parse_oracle(std::string_view text);
// Differences are reported, not counted as DUT failures.
inline bool is_invariant(Oracle oracle) { return oracle != Oracle::reference_difference; }

// One packet sent to the DUT, as an emulated host on `side`.
struct SentPacket {
  harness::Side side = harness::Side::inside;
  harness::Packet bytes;
};

// A reproducer: the packets to send, in order, and what they showed. Stored as pcapng (interfaces
// "inside" and "outside" for the sent packets, "captured-inside"/"captured-outside" for evidence), with
// the oracle in the section comment, so Wireshark opens it and `natcert fuzz --replay` replays it.
struct Reproducer {
  Oracle oracle = Oracle::inside_leak;
  std::string detail;                // one line: what the oracle saw
  std::vector<SentPacket> packets;   // what to send
  std::vector<harness::Captured> evidence;  // what the DUT emitted when found (not replayed)
};
void write_reproducer(const Reproducer& reproducer, const std::filesystem::path& file);
// Throws std::runtime_error with a one-line reason for anything that is not a natcert reproducer.
Reproducer read_reproducer(const std::filesystem::path& file);

struct CampaignOptions {
  std::uint64_t seed = 1;
  harness::Duration duration = std::chrono::seconds(10);
  std::uint64_t max_cases = 0;          // 0: no cap but the duration
  std::uint64_t sanity_every = 50;      // cases between sanity probes
  // How long to watch for the DUT's answer to one packet (virtual on the in-process testbed).
  harness::Duration window = std::chrono::milliseconds(40);
  // Reference configuration for the reference-difference oracle; empty: that oracle is off.
  std::string reference_spec;
  std::filesystem::path out;            // reproducers go to out/findings/; empty: none written
  std::size_t max_reproducers = 16;     // distinct findings saved (each signature once)
  std::size_t minimize_trials = 24;     // DUT runs per minimisation
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to end the campaign early
};

struct Finding {
  Oracle oracle = Oracle::inside_leak;
  std::string detail;
  std::string seed_template;  // which seed flow
  std::string mutation;       // which operator
  std::uint64_t case_index = 0;
  std::size_t packets = 0;            // in the case (or window) that showed it
  std::size_t minimized_packets = 0;  // after delta debugging (0: not minimised)
  std::string reproducer;             // file name under out/findings/, when saved
  std::uint64_t occurrences = 1;      // cases with the same signature
};

struct CampaignReport {
  std::string dut;
  std::string reference_spec;
  std::uint64_t seed = 0;
  std::uint64_t cases = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_captured = 0;
  std::uint64_t sanity_probes = 0;
  std::uint64_t sanity_failures = 0;
  double seconds = 0;
  double cases_per_second() const { return seconds > 0 ? static_cast<double>(cases) / seconds : 0.0; }
  bool stopped_early = false;  // by a signal
  std::string end_reason;      // "duration", "max-cases", "signal", "dut-dead"
  std::map<std::string, std::uint64_t> operator_counts;
  std::map<std::string, std::uint64_t> template_counts;
  std::map<std::string, std::uint64_t> findings_by_oracle;  // occurrences
  std::vector<Finding> findings;                            // one per signature
  std::size_t invariant_findings() const;
};

// The mutation operators and seed templates by name (for docs, reports and tests).
std::vector<std::string> operator_names();
std::vector<std::string> template_names();

// Runs a campaign on `testbed` (sessions are opened and closed as needed; reopening one resets a wire
// DUT). Throws std::runtime_error when no session can be opened or the reference spec is bad.
CampaignReport run_campaign(harness::Testbed& testbed, const std::string& dut_label, const CampaignOptions& options);

// Replays a reproducer on a freshly reset DUT; true when its oracle fires again.
struct ReplayOutcome {
  bool reproduced = false;
  std::string detail;  // what fired, or why nothing did
};
ReplayOutcome replay(harness::Testbed& testbed, const Reproducer& reproducer, const CampaignOptions& options);

// fuzz.json and fuzz.html in `directory`.
void write_campaign_report(const CampaignReport& report, const std::filesystem::path& directory);

}  // namespace natcert::campaign
