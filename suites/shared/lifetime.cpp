#include "shared/lifetime.hpp"

#include <algorithm>
#include <cmath>

namespace natcert::suites::lifetime {
namespace {

using namespace std::chrono_literals;

// Real time a probe round needs beyond its longest idle time: opening its flows, and the last probe's
// reply window.
constexpr Duration kRoundSlack = 3s;

struct State {
  Bracket bracket;
  bool done = false;
  Duration searched_to{};  // the longest idle time planned so far
};

struct Planned {
  std::size_t subject = 0;
  Duration idle{};
  std::unique_ptr<Flow> flow;
  Duration opened{};
};

Duration seconds_rounded(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0)));
}

// Round 1: geometric down from the ceiling (or what the budget allows), plus minimum - margin.
std::vector<Duration> first_round(const Subject& subject, Duration cap, const Search& search) {
  std::vector<Duration> times;
  const std::size_t points = search.probes_per_round + 2;
  Duration t = cap;
  for (std::size_t i = 0; i < points && t >= search.resolution; ++i) {
    times.push_back(t);
    t = t / 2;
  }
  const Duration at_minimum = subject.minimum - search.margin;
  if (subject.minimum > Duration::zero() && at_minimum > Duration::zero() && at_minimum <= cap) {
    std::erase_if(times, [&](Duration x) { return x != cap && x > at_minimum - search.resolution && x < at_minimum + search.resolution; });
    times.push_back(at_minimum);
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

// Later rounds: evenly between the last alive and the first dead time, within what the budget allows.
std::vector<Duration> refining_round(const Bracket& b, std::optional<Duration> cap, const Search& search) {
  std::vector<Duration> times;
  const Duration low = b.alive_at;
  const Duration high = *b.expired_by;
  const double step = std::chrono::duration<double>(high - low).count() / static_cast<double>(search.probes_per_round + 1);
  for (std::size_t k = 1; k <= search.probes_per_round; ++k) {
    const Duration t = low + seconds_rounded(step * static_cast<double>(k));
    if (t <= low || t >= high) continue;
    if (cap && t > *cap) break;
    times.push_back(t);
  }
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

bool narrow_enough(const Bracket& b, const Search& search) {
  if (!b.expired_by) return true;
  const Duration width = *b.expired_by - b.alive_at;
  const double relative = std::chrono::duration<double>(b.alive_at).count() * search.precision;
  return width <= search.resolution || std::chrono::duration<double>(width).count() <= relative;
}

}  // namespace

std::string Bracket::describe() const {
  const std::string what = subject.empty() ? std::string() : subject + " ";
  if (expired_by) {
    if (alive_at == Duration::zero()) return what + "expired by " + harness::format_duration(*expired_by);
    return what + "alive at " + harness::format_duration(alive_at) + ", expired by " +
           harness::format_duration(*expired_by);
  }
  if (budget_limited && alive_at == Duration::zero()) {
    return what + "not measured: the " + harness::format_duration(budget) + " timer budget ended the search";
  }
  if (budget_limited) {
    return what + "alive at " + harness::format_duration(alive_at) + " (the " + harness::format_duration(budget) +
           " timer budget ended the search)";
  }
  return what + "alive at " + harness::format_duration(alive_at) + ", never seen to expire";
}

std::optional<Duration> remaining_budget(TestContext& ctx) {
  const auto budget = ctx.timer_budget();
  if (!budget || ctx.virtual_time()) return std::nullopt;
  return *budget > ctx.now() ? *budget - ctx.now() : Duration::zero();
}

void require_budget(TestContext& ctx, Duration needed, std::string_view what) {
  const auto left = remaining_budget(ctx);
  if (!left || needed <= *left) return;
  ctx.skip(std::string(what) + " needs " + harness::format_duration(needed) + " of real time; the timer budget is " +
           harness::format_duration(*ctx.timer_budget()) + " (natcert run --timer-budget, or the profile's "
           "realtime_budget)");
}

std::vector<Bracket> measure(TestContext& ctx, const std::vector<Subject>& subjects, const Search& search) {
  std::vector<State> states(subjects.size());
  for (std::size_t i = 0; i < subjects.size(); ++i) states[i].bracket.subject = subjects[i].name;
  const auto budget = ctx.virtual_time() ? std::nullopt : ctx.timer_budget();

  for (int round = 1; round <= search.max_rounds; ++round) {
    std::optional<Duration> cap;
    if (auto left = remaining_budget(ctx)) cap = *left > kRoundSlack ? *left - kRoundSlack : Duration::zero();
    std::vector<Planned> plan;
    for (std::size_t i = 0; i < subjects.size(); ++i) {
      State& s = states[i];
      if (s.done) continue;
      std::vector<Duration> times;
      if (round == 1) {
        const Duration limit = cap ? std::min(*cap, subjects[i].ceiling) : subjects[i].ceiling;
        times = first_round(subjects[i], limit, search);
        if (cap && *cap < subjects[i].ceiling) {
          s.bracket.budget_limited = true;  // until a probe finds the flow dead
          s.bracket.budget = *budget;
        }
      } else {
        times = refining_round(s.bracket, cap, search);
      }
      if (times.empty()) {
        s.done = true;
        continue;
      }
      s.bracket.rounds = round;
      for (Duration t : times) plan.push_back(Planned{i, t, nullptr, {}});
    }
    if (plan.empty()) break;

    for (Planned& p : plan) {
      p.flow = subjects[p.subject].open(ctx);
      p.opened = ctx.now();
    }
    std::stable_sort(plan.begin(), plan.end(),
                     [](const Planned& a, const Planned& b) { return a.opened + a.idle < b.opened + b.idle; });
    std::vector<bool> dead_this_round(subjects.size(), false);
    for (Planned& p : plan) {
      State& s = states[p.subject];
      if (dead_this_round[p.subject]) continue;  // a shorter idle time already found it dead
      const Duration due = p.opened + p.idle;
      if (due > ctx.now()) ctx.sleep(due - ctx.now());
      const bool alive = p.flow->alive(ctx, subjects[p.subject].name + " after " + harness::format_duration(p.idle) + " idle");
      ++s.bracket.probes;
      if (alive) {
        s.bracket.alive_at = std::max(s.bracket.alive_at, p.idle);
      } else {
        dead_this_round[p.subject] = true;
        s.bracket.budget_limited = false;
        if (!s.bracket.expired_by || p.idle < *s.bracket.expired_by) s.bracket.expired_by = p.idle;
      }
      p.flow.reset();
    }
    for (std::size_t i = 0; i < subjects.size(); ++i) {
      State& s = states[i];
      // A probe alive past an earlier dead one (jitter at the boundary): keep the bracket ordered.
      if (s.bracket.expired_by && s.bracket.alive_at >= *s.bracket.expired_by) s.bracket.alive_at = Duration::zero();
      if (!s.done && narrow_enough(s.bracket, search)) s.done = true;
    }
  }
  std::vector<Bracket> out;
  for (State& s : states) {
    ctx.log("lifetime: " + s.bracket.describe() + " (" + std::to_string(s.bracket.probes) + " probes in " +
            std::to_string(s.bracket.rounds) + " round(s))");
    out.push_back(std::move(s.bracket));
  }
  return out;
}

Bracket measure(TestContext& ctx, const Subject& subject, const Search& search) {
  return measure(ctx, std::vector<Subject>{subject}, search).front();
}

bool reaches(TestContext& ctx, const Bracket& bracket, Duration minimum, const Search& search) {
  if (bracket.alive_at >= minimum - search.margin) return true;
  if (bracket.expired_by && *bracket.expired_by < minimum) return false;
  if (bracket.budget_limited) {
    ctx.skip(bracket.describe() + "; the RFC minimum " + harness::format_duration(minimum) + " exceeds the " +
             harness::format_duration(bracket.budget) +
             " timer budget (natcert run --timer-budget, or the profile's realtime_budget)");
  }
  ctx.inconclusive("the lifetime search did not decide the " + harness::format_duration(minimum) +
                   " minimum: " + bracket.describe());
}

void record(TestContext& ctx, const std::string& key, const Bracket& bracket) {
  Bracket shown = bracket;
  shown.subject.clear();
  ctx.profile(key, shown.describe());
}

void check_minimum(TestContext& ctx, const std::string& requirement, harness::Level level,
                   const std::vector<Bracket>& brackets, Duration minimum, const std::string& expected) {
  std::string below;
  std::string all;
  const Bracket* limited = nullptr;
  for (const auto& b : brackets) {
    all += (all.empty() ? "" : "; ") + b.describe();
    if (b.expired_by && *b.expired_by < minimum) {
      below += (below.empty() ? "" : "; ") + b.describe();
    } else if (b.alive_at < minimum - 1s && !limited) {
      limited = &b;
    }
  }
  if (below.empty() && limited) reaches(ctx, *limited, minimum);  // SKIPs with the bound
  ctx.check(requirement, level, below.empty(), expected, below.empty() ? all : "below the minimum: " + below);
}

}  // namespace natcert::suites::lifetime
