// Timer measurement shared by every timer test (UDP mappings, TCP states, ICMP query sessions): a
// lifetime found by parallel bisection, with a flow of its own per probe so that no probe refreshes
// the flow it measures.
//
// Round 1 opens one flow per probe time at once and probes each once, at geometrically spread idle
// times (plus one just below the RFC minimum, so the bracket answers the question directly). The
// first probe that finds its flow dead ends the round (later probes are pointless). Each next round
// opens fresh flows and probes them at times spread between the last alive and the first dead time,
// until the bracket is narrow enough. Several subjects (e.g. the TCP transitory states) are measured
// in the same rounds, side by side, so a test costs about as much real time as its longest lifetime.
//
// On a real-time testbed the test's timer budget (TestContext::timer_budget) caps the waiting: no
// probe is scheduled past it. A flow that dies below the RFC minimum is still found within the budget;
// one still alive at the budget's end gives a lower bound only (Bracket::budget_limited).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/harness/context.hpp"

namespace natcert::suites::lifetime {

using harness::Duration;
using harness::TestContext;

// One flow (a UDP mapping, a TCP connection in some state, an ICMP query session), opened for one
// probe and probed once.
class Flow {
 public:
  virtual ~Flow() = default;
  // Whether the flow still carries traffic. Probe with a packet from which the DUT cannot recreate a
  // dead state (inbound). Called at most once per flow.
  virtual bool alive(TestContext& ctx, std::string_view note) = 0;
};

// Opens a fresh flow through the DUT (fresh ports); INCONCLUSIVE (ctx.inconclusive) when it cannot.
using OpenFlow = std::function<std::unique_ptr<Flow>(TestContext& ctx)>;

struct Bracket {
  std::string subject;                  // "UDP mapping", "TCP SYN-sent", ...
  Duration alive_at{};                  // the longest idle time a probe found the flow alive (0: none)
  std::optional<Duration> expired_by;   // the shortest idle time a probe found it dead
  bool budget_limited = false;          // the search stopped at the timer budget, not at its ceiling
  Duration budget{};                    // the budget that limited it
  int rounds = 0;
  int probes = 0;

  // "alive at 2 min, expired by 2 min 15 s" / "alive at 10 min, never seen to expire" /
  // "alive at 10 min (the 10 min timer budget ended the search)"
  std::string describe() const;
};

struct Subject {
  std::string name;       // for the bracket, notes and logs
  OpenFlow open;
  Duration minimum{};     // the RFC minimum the test decides (0: characterisation only)
  Duration ceiling{};     // look no further: a lifetime beyond it is "never seen to expire"
};

struct Search {
  std::size_t probes_per_round = 6;
  double precision = 0.1;                            // stop when the bracket is within 10 % of alive_at...
  Duration resolution = std::chrono::seconds(2);     // ...or narrower than this
  int max_rounds = 4;
  Duration margin = std::chrono::seconds(1);         // the minimum's probe runs this much earlier
};

// Measures every subject side by side. Real-time testbeds: the whole measurement stays within the
// test's timer budget (counted from the session start).
std::vector<Bracket> measure(TestContext& ctx, const std::vector<Subject>& subjects, const Search& search = {});
Bracket measure(TestContext& ctx, const Subject& subject, const Search& search = {});

// Answers "does the lifetime reach `minimum`?": true when a flow was alive at minimum - margin, false
// when one was dead before `minimum`. When the budget ended the search below the minimum with every
// flow alive, the test SKIPs (throws) with the lower bound it did establish:
//   "UDP mapping alive at 10 min; the RFC minimum 2 h 4 min exceeds the 10 min timer budget".
bool reaches(TestContext& ctx, const Bracket& bracket, Duration minimum, const Search& search = {});

// Decides `requirement` at `level` for flows that must each live at least `minimum`: not met, naming
// every bracket below the minimum; else SKIP (through reaches()) when the budget stopped a search short
// of it; else met, listing every bracket.
void check_minimum(TestContext& ctx, const std::string& requirement, harness::Level level,
                   const std::vector<Bracket>& brackets, Duration minimum, const std::string& expected);

// Records the bracket as a behaviour-profile fact (`key` -> describe()); reports list these facts in
// their Timers section (keys ending in "-lifetime" or starting with "timer.").
void record(TestContext& ctx, const std::string& key, const Bracket& bracket);

// Real time left in the test's budget (nullopt: unlimited, virtual time).
std::optional<Duration> remaining_budget(TestContext& ctx);
// SKIPs the test unless `needed` more real time fits the budget ("needs 7 min 30 s of real time ...").
void require_budget(TestContext& ctx, Duration needed, std::string_view what);

}  // namespace natcert::suites::lifetime
