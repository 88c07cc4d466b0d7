// natcert fuzz: a mutation campaign against a DUT (natcert::campaign), or the replay of one finding.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "common.hpp"
#include "natcert/campaign/campaign.hpp"
#include "natcert/harness/netns_testbed.hpp"

namespace natcert::cli {
namespace {

constexpr const char* fuzz_footer = R"(Exit codes:
  0  no invariant finding (differences from the reference are reported, not failures); with --replay,
     the finding does not reproduce
  1  an invariant finding (DUT unresponsive, inside address leaked, unsolicited delivery inside, bad
     checksum); with --replay, the finding reproduces
  2  usage or configuration error: bad option, unknown DUT, no root for a wire DUT, malformed reproducer
  3  the campaign could not run (the DUT failed the sanity probe before the first case)

Oracles, operators and reproducers: docs/fuzzing-campaigns.md)";

struct FuzzOptions {
  std::string dut = "reference:rfc-strict";
  std::string duration = "10";
  std::uint64_t seed = 1;
  std::string out = "natcert-fuzz";
  std::uint64_t sanity_every = 50;
  std::uint64_t max_cases = 0;
  std::uint64_t window_ms = 40;
  std::string reference;
  std::string replay;
  bool quiet = false;
};

std::atomic<bool> stop_requested{false};

// First SIGINT/SIGTERM: finish the current case, write the report, remove the namespaces as usual.
// A second one: remove the namespaces now and leave.
void on_stop_signal(int signal) {
  if (stop_requested.exchange(true)) {
    harness::netns_emergency_cleanup();
    _exit(128 + signal);
  }
}

class StopSignals {
 public:
  StopSignals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// "30", "30s", "2m", "1h".
harness::Duration parse_duration(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  if (digits == 0 || digits > 9 || !(unit.empty() || unit == "s" || unit == "m" || unit == "h")) {
    throw UsageError("--duration \"" + reports::one_line(text) + "\": expected seconds, e.g. 30, 30s, 5m or 1h");
  }
  const long long value = std::stoll(text.substr(0, digits));
  const long long factor = unit == "m" ? 60 : unit == "h" ? 3600 : 1;
  return std::chrono::seconds(value * factor);
}

// The behaviour the DUT declares: the reference spec it runs (reference:SPEC, refnat:SPEC, a refnat
// profile); other DUTs declare none unless --reference names one.
std::string declared_reference(const FuzzOptions& options, const DutSpec& spec, const harness::Testbed& testbed) {
  if (options.reference == "none") return {};
  if (!options.reference.empty()) {
    ref::NatConfig config;
    std::string error;
    if (!ref::make_config(options.reference, config, error)) {
      throw UsageError("--reference \"" + reports::one_line(options.reference) + "\": " + reports::one_line(error));
    }
    return options.reference;
  }
  if ((spec.kind == "reference" || spec.kind == "refnat") && !spec.argument.empty()) return spec.argument;
  for (const auto& [key, value] : testbed.dut_configuration()) {
    if (key == "refnat.spec") return value;
  }
  return {};
}

campaign::CampaignOptions campaign_options(const FuzzOptions& options) {
  campaign::CampaignOptions c;
  c.seed = options.seed;
  c.duration = parse_duration(options.duration);
  c.max_cases = options.max_cases;
  c.sanity_every = options.sanity_every;
  if (options.window_ms == 0 || options.window_ms > 10000) throw UsageError("--window-ms must be 1 to 10000");
  c.window = std::chrono::milliseconds(options.window_ms);
  c.stop = &stop_requested;
  return c;
}

std::filesystem::path prepare_out(const std::string& text) {
  const std::filesystem::path out = text;
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error || !std::filesystem::is_directory(out)) {
    throw UsageError("--out " + out.string() + ": cannot create the directory" +
                     (error ? std::string(": ") + error.message() : std::string(" (a file is in the way)")));
  }
  return out;
}

int replay_command(const FuzzOptions& options) {
  campaign::CampaignOptions c = campaign_options(options);
  campaign::Reproducer reproducer;
  try {
    reproducer = campaign::read_reproducer(options.replay);
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
  const DutSpec spec = parse_dut(options.dut);
  // A wire testbed writes its whole-side captures somewhere: next to the reproducer.
  const std::filesystem::path captures =
      std::filesystem::path(options.replay).parent_path() / (std::filesystem::path(options.replay).stem().string() + ".replay");
  auto testbed = make_testbed(spec, captures.string());
  c.reference_spec = declared_reference(options, spec, *testbed);
  StopSignals signals;
  campaign::ReplayOutcome outcome;
  try {
    outcome = campaign::replay(*testbed, reproducer, c);
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
  std::fprintf(stderr, "natcert fuzz: replay of %s (%s, %zu packet(s)) on %s: %s: %s\n",
               reports::one_line(options.replay).c_str(), std::string(campaign::to_string(reproducer.oracle)).c_str(),
               reproducer.packets.size(), reports::one_line(options.dut).c_str(),
               outcome.reproduced ? "reproduces" : "does not reproduce", reports::one_line(outcome.detail).c_str());
  return outcome.reproduced ? exit_failed : exit_ok;
}

int fuzz_command(const FuzzOptions& options) {
  if (!options.replay.empty()) return replay_command(options);
  campaign::CampaignOptions c = campaign_options(options);
  const std::filesystem::path out = prepare_out(options.out);
  const DutSpec spec = parse_dut(options.dut);
  auto testbed = make_testbed(spec, (out / "pcap").string());
  c.reference_spec = declared_reference(options, spec, *testbed);
  c.out = out;
  {
    std::error_code ignored;  // reproducers of an earlier campaign in the same directory would mislead
    std::filesystem::remove_all(out / "findings", ignored);
  }
  if (!options.quiet) {
    std::fprintf(stderr, "natcert fuzz: %s, seed %llu, for %s%s; reference: %s\n",
                 reports::one_line(testbed->describe()).c_str(), static_cast<unsigned long long>(options.seed),
                 harness::format_duration(c.duration).c_str(),
                 options.max_cases ? (" or " + std::to_string(options.max_cases) + " cases").c_str() : "",
                 c.reference_spec.empty() ? "none" : reports::one_line(c.reference_spec).c_str());
  }
  StopSignals signals;
  campaign::CampaignReport report;
  try {
    report = campaign::run_campaign(*testbed, options.dut, c);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "natcert fuzz: %s\n", reports::one_line(e.what()).c_str());
    return exit_incomplete;
  }
  campaign::write_campaign_report(report, out);
  // The first few of each kind; fuzz.html lists them all.
  std::size_t shown_invariant = 0;
  std::size_t shown_differences = 0;
  for (const auto& f : report.findings) {
    std::size_t& shown = campaign::is_invariant(f.oracle) ? shown_invariant : shown_differences;
    if (++shown > (campaign::is_invariant(f.oracle) ? 10u : 3u)) continue;
    std::fprintf(stderr, "  %s %s: %s/%s x%llu: %s%s%s\n", campaign::is_invariant(f.oracle) ? "FINDING" : "differs",
                 std::string(campaign::to_string(f.oracle)).c_str(), f.seed_template.c_str(), f.mutation.c_str(),
                 static_cast<unsigned long long>(f.occurrences), reports::one_line(f.detail).c_str(),
                 f.reproducer.empty() ? "" : " -> ", f.reproducer.empty() ? "" : (out / f.reproducer).string().c_str());
  }
  const std::size_t invariant = report.invariant_findings();
  if (shown_invariant > 10 || shown_differences > 3) {
    std::fprintf(stderr, "  ... and %zu more in %s\n",
                 (shown_invariant > 10 ? shown_invariant - 10 : 0) + (shown_differences > 3 ? shown_differences - 3 : 0),
                 (out / "fuzz.html").string().c_str());
  }
  const int code = invariant == 0 ? exit_ok : exit_failed;
  std::fprintf(stderr,
               "natcert fuzz: %llu case(s) in %.1f s (%.1f cases/s), %llu packet(s) sent; %zu invariant finding(s), "
               "%zu difference(s); ended by %s; exit %d; report: %s\n",
               static_cast<unsigned long long>(report.cases), report.seconds, report.cases_per_second(),
               static_cast<unsigned long long>(report.packets_sent), invariant, report.findings.size() - invariant,
               report.end_reason.c_str(), code, (out / "fuzz.html").string().c_str());
  return code;
}

}  // namespace

Command add_fuzz(CLI::App& root) {
  auto options = std::make_shared<FuzzOptions>();
  CLI::App* app = root.add_subcommand("fuzz", "Fuzz a DUT with mutated packets from both sides (or replay a finding)");
  app->add_option("--dut", options->dut,
                  "The device under test: reference:PRESET[,key=value...], refnat:PRESET[,...], a bundled profile or a "
                  "profile file")
      ->capture_default_str();
  app->add_option("--duration", options->duration, "How long to fuzz: seconds, or 30s, 5m, 1h")->capture_default_str();
  app->add_option("--seed", options->seed, "Campaign seed (the same seed gives the same cases on the in-process DUT)")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_option("--out,-o", options->out, "Report directory: fuzz.json, fuzz.html, findings/*.pcapng, pcap/")
      ->capture_default_str();
  app->add_option("--sanity-every", options->sanity_every, "Cases between sanity probes (0: only at start and end)")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_option("--max-cases", options->max_cases, "Stop after this many cases (0: only --duration)")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_option("--window-ms", options->window_ms, "How long to wait for the DUT's answer to each packet")
      ->check(unsigned_integer())
      ->capture_default_str();
  app->add_option("--reference", options->reference,
                  "Reference spec the DUT should agree with (default: the spec a reference/refnat DUT runs; none for "
                  "other DUTs); \"none\" turns the difference oracle off");
  app->add_option("--replay", options->replay,
                  "Replay a finding (findings/*.pcapng) on a freshly reset DUT: exit 1 when it reproduces, 0 when not");
  app->add_flag("--quiet,-q", options->quiet, "No start line (findings and the summary line stay)");
  app->footer(fuzz_footer);
  return {app, [options] { return fuzz_command(*options); }};
}

}  // namespace natcert::cli
