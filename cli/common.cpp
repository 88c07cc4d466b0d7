#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "natcert/harness/dut_profile.hpp"
#include "natcert/harness/inprocess_testbed.hpp"
#include "natcert/harness/netns_testbed.hpp"
#include "natcert/harness/ports_testbed.hpp"
#include "natcert/harness/version.hpp"
#include "natcert/reference/config.hpp"
#include "natcert/reports/reports.hpp"
#include "natcert/suites/suites.hpp"

namespace natcert::cli {

using namespace std::chrono_literals;

std::string version_line() {
  return "natcert " + std::string(harness::natcert_version()) + " (git " + std::string(harness::git_revision()) + ")";
}

const CLI::Validator& unsigned_integer() {
  static const CLI::Validator validator(
      [](std::string& text) {
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (digits && (text.size() < 20 || (text.size() == 20 && text <= "18446744073709551615"))) return std::string();
        if (digits) return "\"" + text + "\" is out of range (at most 18446744073709551615)";
        return "expected a non-negative integer, got \"" + reports::one_line(text) + "\"";
      },
      "");
  return validator;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

DutSpec parse_dut(std::string_view text) {
  DutSpec spec;
  spec.text = std::string(text);
  const auto colon = text.find(':');
  spec.kind = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) spec.argument = std::string(text.substr(colon + 1));
  return spec;
}

std::string preset_names() {
  std::vector<std::string> names;
  for (const auto& preset : ref::presets()) names.emplace_back(preset.name);
  return join(names);
}

namespace {

// A bundled profile name resolves to profiles/NAME.toml; anything else is taken as a path.
std::optional<std::filesystem::path> find_profile(const std::string& name) {
  const std::filesystem::path bundled = std::filesystem::path(NATCERT_PROFILE_DIR) / (name + ".toml");
  if (name.find('/') == std::string::npos && std::filesystem::is_regular_file(bundled)) return bundled;
  if (std::filesystem::is_regular_file(name)) return std::filesystem::path(name);
  return std::nullopt;
}

// "refnat:SPEC": the bundled refnat-rfc-strict profile with SPEC (checked here, before anything runs).
harness::DutProfile refnat_profile(const DutSpec& spec) {
  const std::string shown = reports::one_line(spec.text);
  if (spec.argument.empty()) {
    throw UsageError("--dut \"" + shown + "\" names no configuration; use e.g. refnat:rfc-strict (presets: " +
                     preset_names() + ")");
  }
  ref::NatConfig config;
  std::string error;
  if (!ref::make_config(spec.argument, config, error)) {
    throw UsageError("--dut \"" + shown + "\": " + reports::one_line(error));
  }
  harness::DutProfile profile;
  try {
    profile = harness::load_profile(std::filesystem::path(NATCERT_PROFILE_DIR) / "refnat-rfc-strict.toml");
  } catch (const harness::ProfileError& e) {
    throw UsageError(reports::one_line(e.what()));
  }
  profile.name = "refnat:" + spec.argument;
  profile.description = "natcert reference NAT daemon, spec " + spec.argument;
  profile.refnat->spec = spec.argument;
  return profile;
}

std::unique_ptr<harness::Testbed> make_profile_testbed(const DutSpec& spec, const std::string& capture_directory,
                                                       const harness::PortInterfaces& interfaces) {
  const std::string shown = reports::one_line(spec.text);
  harness::DutProfile profile;
  if (spec.kind == "refnat" && spec.text.size() > spec.kind.size()) {
    profile = refnat_profile(spec);
  } else {
    const auto path = find_profile(spec.text);
    if (!path) {
      throw UsageError("unknown DUT \"" + shown + "\": use reference:PRESET[,key=value...] (presets: " +
                       preset_names() + "), refnat:PRESET[,key=value...] (the reference NAT daemon on the wire), "
                       "a bundled profile (" + profile_names() + ") or a profile file");
    }
    try {
      profile = harness::load_profile(*path);
    } catch (const harness::ProfileError& e) {
      throw UsageError(reports::one_line(e.what()));
    }
  }
  const bool ports = profile.kind == harness::DutKind::ports;
  if (!ports && (!interfaces.inside.empty() || !interfaces.outside.empty())) {
    throw UsageError("--inside-if/--outside-if apply to profiles of kind \"ports\"; --dut " + shown + " is kind \"" +
                     std::string(harness::to_string(profile.kind)) + "\"");
  }
  if (!harness::netns_privileged()) {
    throw UsageError("--dut " + shown +
                     (ports ? std::string(" needs root (CAP_NET_RAW and CAP_NET_ADMIN) to use its network interfaces")
                            : std::string(" needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to build its network namespaces")) +
                     ": run it as root, e.g. sudo natcert run --dut " + shown + " (natcert doctor checks the host)");
  }
  try {
    if (ports) {
      harness::PortsDutConfig config = harness::to_ports_config(profile, interfaces);
      config.pcap_directory = capture_directory;
      auto testbed = std::make_unique<harness::PortsTestbed>(std::move(config));
      for (const auto& note : testbed->notes()) std::fprintf(stderr, "natcert run: note: %s\n", reports::one_line(note).c_str());
      return testbed;
    }
    harness::NetnsDutConfig config =
        harness::to_netns_config(profile, harness::RefnatProgram{std::filesystem::read_symlink("/proc/self/exe")});
    config.pcap_directory = capture_directory;
    return std::make_unique<harness::NetnsTestbed>(std::move(config));
  } catch (const harness::ProfileError& e) {
    throw UsageError(reports::one_line(e.what()));
  } catch (const std::exception& e) {
    // The message carries the failing command and its output: the one case where more than a line helps.
    throw UsageError("--dut " + shown + ": the DUT could not be set up: " + e.what());
  }
}

}  // namespace

reports::Formats parse_format_option(const std::string& text) {
  try {
    return reports::parse_formats(text);
  } catch (const reports::ReportError& e) {
    throw UsageError(std::string("--format: ") + e.what());
  }
}

std::string profile_names() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(NATCERT_PROFILE_DIR, error)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return join(names, ", ");
}

std::unique_ptr<harness::Testbed> make_testbed(const DutSpec& spec, const std::string& capture_directory,
                                               const harness::PortInterfaces& interfaces) {
  const std::string shown = reports::one_line(spec.text);
  if (spec.text.empty()) throw UsageError("--dut is empty; use reference:PRESET[,key=value...]");
  if (spec.kind != "reference") return make_profile_testbed(spec, capture_directory, interfaces);
  if (!interfaces.inside.empty() || !interfaces.outside.empty()) {
    throw UsageError("--inside-if/--outside-if apply to profiles of kind \"ports\", not to --dut " + shown);
  }
  if (spec.argument.empty()) {
    throw UsageError("--dut \"" + shown + "\" names no preset; use e.g. reference:rfc-strict (presets: " +
                     preset_names() + ")");
  }
  ref::NatConfig config;
  std::string error;
  if (!ref::make_config(spec.argument, config, error)) {
    throw UsageError("--dut \"" + shown + "\": " + reports::one_line(error));
  }
  try {
    return std::make_unique<harness::InProcessTestbed>(std::move(config), spec.argument);
  } catch (const std::exception& e) {
    throw UsageError("--dut \"" + shown + "\": " + reports::one_line(e.what()));
  }
}

const harness::Registry& registry() {
  static const harness::Registry instance = [] {
    harness::Registry r;
    suites::register_all(r);
    return r;
  }();
  return instance;
}

std::vector<const harness::TestCase*> select_tests(const std::vector<std::string>& suite_names,
                                                   const std::vector<std::string>& patterns) {
  const auto& all = registry();
  std::vector<const harness::TestCase*> selected = all.all();
  if (!suite_names.empty()) {
    const auto known = all.suites();
    for (const auto& name : suite_names) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        throw UsageError("unknown suite \"" + reports::one_line(name) + "\"" +
                         (known.empty() ? std::string(" (no suite is registered)") : "; suites: " + join(known)));
      }
    }
    std::erase_if(selected, [&](const harness::TestCase* test) {
      return std::find(suite_names.begin(), suite_names.end(), test->suite) == suite_names.end();
    });
  }
  if (!patterns.empty()) {
    const std::string joined = join(patterns, ",");
    const auto matching = all.select(joined);
    if (matching.empty()) {
      throw UsageError("--test \"" + reports::one_line(joined) + "\" matches no test id or requirement (see natcert list)");
    }
    std::erase_if(selected, [&](const harness::TestCase* test) {
      return std::find(matching.begin(), matching.end(), test) == matching.end();
    });
    if (selected.empty()) {
      throw UsageError("--test \"" + reports::one_line(joined) + "\" matches no test of suite(s) " + join(suite_names));
    }
  }
  return selected;
}

void skip_tests(std::vector<const harness::TestCase*>& selected, const std::vector<std::string>& patterns) {
  std::vector<std::string> globs;
  for (const auto& pattern : patterns) {
    std::string_view rest = pattern;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view glob = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!glob.empty() && glob.front() == ' ') glob.remove_prefix(1);
      while (!glob.empty() && glob.back() == ' ') glob.remove_suffix(1);
      if (!glob.empty()) globs.emplace_back(glob);
    }
  }
  std::vector<const harness::TestCase*> skipped;
  for (const auto& glob : globs) {
    // One glob at a time, so a typo in one of them is not hidden by the others.
    const auto matching = registry().select(glob);
    if (matching.empty()) {
      throw UsageError("--skip \"" + reports::one_line(glob) + "\" matches no test id or requirement (see natcert list)");
    }
    skipped.insert(skipped.end(), matching.begin(), matching.end());
  }
  std::erase_if(selected, [&](const harness::TestCase* test) {
    return std::find(skipped.begin(), skipped.end(), test) != skipped.end();
  });
}

ProgressPrinter::ProgressPrinter(std::size_t total, bool quiet)
    : total_(total),
      quiet_(quiet),
      start_(std::chrono::steady_clock::now()),
      last_line_(start_),
      last_result_(start_) {
  if (!quiet_) thread_ = std::thread([this] { heartbeat(); });
}

ProgressPrinter::~ProgressPrinter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Average time per finished test so far, times the tests left, minus the time already spent waiting
// for the next one. Empty early on (too noisy) and when the estimate has run out.
std::string ProgressPrinter::eta(std::size_t done) const {
  const auto now = std::chrono::steady_clock::now();
  if (done == 0 || done >= total_ || now - start_ < 2s) return {};
  const auto per_test = (last_result_ - start_) / static_cast<long long>(done);
  const auto remaining = per_test * static_cast<long long>(total_ - done) - (now - last_result_);
  if (remaining <= std::chrono::steady_clock::duration::zero()) return {};
  return ", ETA " + harness::format_duration(std::chrono::duration_cast<std::chrono::seconds>(remaining) + 1s);
}

void ProgressPrinter::finished(std::size_t done, std::string_view id, std::string_view verdict,
                               std::chrono::nanoseconds wall) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  last_line_ = last_result_ = std::chrono::steady_clock::now();
  if (quiet_) return;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2fs", static_cast<double>(wall.count()) / 1e9);
  std::fprintf(stderr, "[%zu/%zu] %s %s (%s%s)\n", done, total_, reports::one_line(id).c_str(),
               std::string(verdict).c_str(), seconds, eta(done).c_str());
  std::fflush(stderr);
}

void ProgressPrinter::heartbeat() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, 1s, [this] { return stopping_; });
    if (stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_line_ < 15s) continue;
    last_line_ = now;
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - start_);
    const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_result_);
    std::fprintf(stderr, "[%zu/%zu] waiting: %s since the last result, %s elapsed (timers run in real time)%s\n",
                 done_, total_, harness::format_duration(idle).c_str(), harness::format_duration(elapsed).c_str(),
                 eta(done_).c_str());
    std::fflush(stderr);
  }
}

}  // namespace natcert::cli
