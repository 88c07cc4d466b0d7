// The canonical JSON form of a run (schema "natcert-report", version 1; docs/report-format.md).
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "natcert/harness/runner.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

using Json = nlohmann::ordered_json;
using harness::BoundValue;
using harness::Check;
using harness::Direction;
using harness::Duration;
using harness::EvidencePacket;
using harness::Level;
using harness::LogLine;
using harness::ProfileEntry;
using harness::Requirement;

std::string text(std::string_view value) { return detail::sanitize_utf8(value); }
std::string name(Verdict verdict) { return std::string(harness::to_string(verdict)); }
std::string name(Level level) { return std::string(harness::to_string(level)); }

Json requirement_json(const Requirement& requirement) {
  Json out = Json::object();
  out["id"] = text(requirement.id);
  out["level"] = name(requirement.level);
  return out;
}

Json test_json(const TestResult& test) {
  Json out = Json::object();
  out["id"] = text(test.id);
  out["suite"] = text(test.suite);
  out["title"] = text(test.title);
  const auto level = detail::strongest_level(test.requirements);
  out["level"] = level ? Json(name(*level)) : Json(nullptr);
  out["requirements"] = Json::array();
  for (const auto& requirement : test.requirements) out["requirements"].push_back(requirement_json(requirement));
  out["verdict"] = name(test.verdict);
  out["reason"] = text(test.reason);

  out["checks"] = Json::array();
  for (const auto& check : test.checks) {
    Json c = Json::object();
    c["requirement"] = text(check.requirement);
    c["level"] = name(check.level);
    c["met"] = check.met;
    c["verdict"] = name(check.verdict);
    c["expected"] = text(check.expected);
    c["observed"] = text(check.observed);
    out["checks"].push_back(std::move(c));
  }
  out["bound"] = Json::array();
  for (const auto& bound : test.bound) {
    Json b = Json::object();
    b["name"] = text(bound.name);
    b["value"] = text(bound.value);
    out["bound"].push_back(std::move(b));
  }
  out["profile"] = Json::array();
  for (const auto& entry : test.profile) {
    Json p = Json::object();
    p["key"] = text(entry.key);
    p["value"] = text(entry.value);
    p["test"] = text(entry.test_id);
    out["profile"].push_back(std::move(p));
  }
  out["log"] = Json::array();
  for (const auto& line : test.log) {
    Json l = Json::object();
    l["at_ns"] = line.at.count();
    l["at"] = detail::seconds_text(line.at);
    l["text"] = text(line.text);
    out["log"].push_back(std::move(l));
  }
  out["evidence"] = Json::array();
  for (const auto& packet : test.evidence) {
    Json e = Json::object();
    e["at_ns"] = packet.at.count();
    e["at"] = detail::seconds_text(packet.at);
    e["side"] = std::string(detail::side_name(packet.side));
    e["direction"] = std::string(harness::to_string(packet.direction));
    e["decisive"] = packet.decisive;
    e["note"] = text(packet.note);
    e["summary"] = text(packet.summary);
    e["length"] = packet.bytes.size();
    e["hex"] = detail::to_hex(packet.bytes);
    out["evidence"].push_back(std::move(e));
  }
  out["wall_ns"] = test.wall.count();
  out["virtual_elapsed_ns"] = test.virtual_elapsed.count();
  out["seed"] = std::to_string(test.seed);
  return out;
}

Json verdict_counts(const std::array<std::size_t, detail::verdict_count>& counts) {
  Json out = Json::object();
  for (Verdict verdict : detail::all_verdicts) out[name(verdict)] = counts[static_cast<std::size_t>(verdict)];
  return out;
}

Json optional_text(const std::optional<std::string>& value) { return value ? Json(text(*value)) : Json(nullptr); }

Json differential_json(const Differential& differential) {
  Json out = Json::object();
  out["against"] = text(differential.against);
  out["reference_dut"] = text(differential.reference_dut);
  out["reference_report"] = text(differential.reference_report);
  out["exit_code"] = differential.exit_code();
  out["incomplete"] = differential.incomplete;
  out["agreeing_tests"] = differential.agreeing_tests;
  out["agreeing_facts"] = differential.agreeing_facts;
  out["tests"] = Json::array();
  for (const auto& departure : differential.tests) {
    Json t = Json::object();
    t["test"] = text(departure.test_id);
    t["dut_verdict"] = name(departure.dut);
    t["reference_verdict"] = name(departure.reference);
    t["dut_reason"] = text(departure.dut_reason);
    t["reference_reason"] = text(departure.reference_reason);
    out["tests"].push_back(std::move(t));
  }
  out["profile"] = Json::array();
  for (const auto& departure : differential.profile) {
    Json p = Json::object();
    p["key"] = text(departure.key);
    p["dut_value"] = optional_text(departure.dut);
    p["reference_value"] = optional_text(departure.reference);
    out["profile"].push_back(std::move(p));
  }
  out["not_compared"] = Json::array();
  for (const auto& item : differential.not_compared) {
    Json n = Json::object();
    n["test"] = text(item.test_id);
    n["reason"] = text(item.reason);
    n["incomplete"] = item.incomplete;
    out["not_compared"].push_back(std::move(n));
  }
  return out;
}

// ---- Reading -------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw ReportError(path + ": " + what); }

std::string type_name(const Json& value) { return value.type_name(); }

const Json* optional_member(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json& required_member(const Json& object, const char* key, const std::string& path) {
  const Json* value = optional_member(object, key);
  if (!value) fail(path, std::string("missing field \"") + key + "\"");
  return *value;
}

void expect_object(const Json& value, const std::string& path) {
  if (!value.is_object()) fail(path, "expected an object, found " + type_name(value));
}

std::string get_string(const Json& object, const char* key, const std::string& path, bool required = false) {
  const Json* value = required ? &required_member(object, key, path) : optional_member(object, key);
  if (!value || value->is_null()) return {};
  if (!value->is_string()) fail(path + "." + key, "expected a string, found " + type_name(*value));
  return value->get<std::string>();
}

bool get_bool(const Json& object, const char* key, const std::string& path, bool fallback) {
  const Json* value = optional_member(object, key);
  if (!value) return fallback;
  if (!value->is_boolean()) fail(path + "." + key, "expected true or false, found " + type_name(*value));
  return value->get<bool>();
}

std::int64_t get_int64(const Json& object, const char* key, const std::string& path) {
  const Json* value = optional_member(object, key);
  if (!value) return 0;
  if (value->is_number_unsigned()) {
    const auto v = value->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(path + "." + key, "out of range");
    }
    return static_cast<std::int64_t>(v);
  }
  if (value->is_number_integer()) return value->get<std::int64_t>();
  fail(path + "." + key, "expected an integer, found " + type_name(*value));
}

std::uint64_t get_uint64(const Json& object, const char* key, const std::string& path) {
  const Json* value = optional_member(object, key);
  if (!value) return 0;
  if (value->is_number_unsigned()) return value->get<std::uint64_t>();
  if (value->is_number_integer()) fail(path + "." + key, "expected a non-negative integer");
  if (value->is_string()) {
    const auto digits = value->get<std::string>();
    if (digits.empty() || digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string::npos) {
      fail(path + "." + key, "expected a decimal unsigned integer, found \"" + text(digits) + "\"");
    }
    try {
      std::size_t used = 0;
      const auto v = std::stoull(digits, &used, 10);
      return v;
    } catch (const std::exception&) {
      fail(path + "." + key, "out of range");
    }
  }
  fail(path + "." + key, "expected an unsigned integer (number or decimal string), found " + type_name(*value));
}

const Json& get_array(const Json& object, const char* key, const std::string& path, const Json& empty) {
  const Json* value = optional_member(object, key);
  if (!value || value->is_null()) return empty;
  if (!value->is_array()) fail(path + "." + key, "expected an array, found " + type_name(*value));
  return *value;
}

Verdict get_verdict(const Json& object, const char* key, const std::string& path, bool required) {
  const Json* value = required ? &required_member(object, key, path) : optional_member(object, key);
  if (!value) return Verdict::pass;
  if (!value->is_string()) fail(path + "." + key, "expected a verdict string, found " + type_name(*value));
  const auto parsed = harness::parse_verdict(value->get<std::string>());
  if (!parsed) fail(path + "." + key, "unknown verdict \"" + text(value->get<std::string>()) + "\"");
  return *parsed;
}

Level get_level(const Json& object, const char* key, const std::string& path) {
  const Json& value = required_member(object, key, path);
  if (!value.is_string()) fail(path + "." + key, "expected a level string, found " + type_name(value));
  const auto parsed = harness::parse_level(value.get<std::string>());
  if (!parsed) fail(path + "." + key, "unknown level \"" + text(value.get<std::string>()) + "\"");
  return *parsed;
}

std::string index_path(const std::string& path, const char* key, std::size_t index) {
  return path + "." + key + "[" + std::to_string(index) + "]";
}

TestResult test_from_json(const Json& object, const std::string& path) {
  static const Json empty = Json::array();
  expect_object(object, path);
  TestResult test;
  test.id = get_string(object, "id", path, true);
  if (test.id.empty()) fail(path + ".id", "empty test id");
  test.suite = get_string(object, "suite", path);
  test.title = get_string(object, "title", path);
  const auto& requirements = get_array(object, "requirements", path, empty);
  for (std::size_t i = 0; i < requirements.size(); ++i) {
    const auto p = index_path(path, "requirements", i);
    expect_object(requirements[i], p);
    test.requirements.push_back({get_string(requirements[i], "id", p, true), get_level(requirements[i], "level", p)});
  }
  test.verdict = get_verdict(object, "verdict", path, true);
  test.reason = get_string(object, "reason", path);

  const auto& checks = get_array(object, "checks", path, empty);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto p = index_path(path, "checks", i);
    expect_object(checks[i], p);
    Check check;
    check.requirement = get_string(checks[i], "requirement", p);
    check.level = get_level(checks[i], "level", p);
    check.met = get_bool(checks[i], "met", p, true);
    check.verdict = get_verdict(checks[i], "verdict", p, true);
    check.expected = get_string(checks[i], "expected", p);
    check.observed = get_string(checks[i], "observed", p);
    test.checks.push_back(std::move(check));
  }
  const auto& bound = get_array(object, "bound", path, empty);
  for (std::size_t i = 0; i < bound.size(); ++i) {
    const auto p = index_path(path, "bound", i);
    expect_object(bound[i], p);
    test.bound.push_back(BoundValue{get_string(bound[i], "name", p), get_string(bound[i], "value", p)});
  }
  const auto& profile = get_array(object, "profile", path, empty);
  for (std::size_t i = 0; i < profile.size(); ++i) {
    const auto p = index_path(path, "profile", i);
    expect_object(profile[i], p);
    test.profile.push_back(
        ProfileEntry{get_string(profile[i], "key", p), get_string(profile[i], "value", p), get_string(profile[i], "test", p)});
  }
  const auto& log = get_array(object, "log", path, empty);
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto p = index_path(path, "log", i);
    expect_object(log[i], p);
    test.log.push_back(LogLine{Duration(get_int64(log[i], "at_ns", p)), get_string(log[i], "text", p)});
  }
  const auto& evidence = get_array(object, "evidence", path, empty);
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    const auto p = index_path(path, "evidence", i);
    const Json& e = evidence[i];
    expect_object(e, p);
    EvidencePacket packet;
    packet.at = Duration(get_int64(e, "at_ns", p));
    const auto side = detail::parse_side(get_string(e, "side", p, true));
    if (!side) fail(p + ".side", "expected \"inside\" or \"outside\"");
    packet.side = *side;
    const auto direction = detail::parse_direction(get_string(e, "direction", p, true));
    if (!direction) fail(p + ".direction", "expected \"sent\" or \"captured\"");
    packet.direction = *direction;
    packet.decisive = get_bool(e, "decisive", p, false);
    packet.note = get_string(e, "note", p);
    packet.summary = get_string(e, "summary", p);
    auto bytes = detail::from_hex(get_string(e, "hex", p, true));
    if (!bytes) fail(p + ".hex", "expected an even number of hex digits");
    packet.bytes = std::move(*bytes);
    test.evidence.push_back(std::move(packet));
  }
  test.wall = std::chrono::nanoseconds(get_int64(object, "wall_ns", path));
  test.virtual_elapsed = Duration(get_int64(object, "virtual_elapsed_ns", path));
  test.seed = get_uint64(object, "seed", path);
  return test;
}

std::optional<std::string> get_optional_string(const Json& object, const char* key, const std::string& path) {
  const Json* value = optional_member(object, key);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_string()) fail(path + "." + key, "expected a string or null, found " + type_name(*value));
  return value->get<std::string>();
}

Differential differential_from_json(const Json& object, const std::string& path) {
  static const Json empty = Json::array();
  expect_object(object, path);
  Differential out;
  out.against = get_string(object, "against", path, true);
  out.reference_dut = get_string(object, "reference_dut", path);
  out.reference_report = get_string(object, "reference_report", path);
  out.incomplete = get_bool(object, "incomplete", path, false);
  out.agreeing_tests = static_cast<std::size_t>(get_uint64(object, "agreeing_tests", path));
  out.agreeing_facts = static_cast<std::size_t>(get_uint64(object, "agreeing_facts", path));
  const auto& tests = get_array(object, "tests", path, empty);
  for (std::size_t i = 0; i < tests.size(); ++i) {
    const auto p = index_path(path, "tests", i);
    expect_object(tests[i], p);
    out.tests.push_back(TestDeparture{get_string(tests[i], "test", p, true), get_verdict(tests[i], "dut_verdict", p, true),
                                      get_verdict(tests[i], "reference_verdict", p, true),
                                      get_string(tests[i], "dut_reason", p), get_string(tests[i], "reference_reason", p)});
  }
  const auto& profile = get_array(object, "profile", path, empty);
  for (std::size_t i = 0; i < profile.size(); ++i) {
    const auto p = index_path(path, "profile", i);
    expect_object(profile[i], p);
    out.profile.push_back(ProfileDeparture{get_string(profile[i], "key", p, true),
                                           get_optional_string(profile[i], "dut_value", p),
                                           get_optional_string(profile[i], "reference_value", p)});
  }
  const auto& not_compared = get_array(object, "not_compared", path, empty);
  for (std::size_t i = 0; i < not_compared.size(); ++i) {
    const auto p = index_path(path, "not_compared", i);
    expect_object(not_compared[i], p);
    out.not_compared.push_back(NotCompared{get_string(not_compared[i], "test", p, true),
                                           get_string(not_compared[i], "reason", p),
                                           get_bool(not_compared[i], "incomplete", p, false)});
  }
  return out;
}

std::optional<TestResult> optional_test(const Json& object, const char* key, const std::string& path) {
  const Json* value = optional_member(object, key);
  if (!value || value->is_null()) return std::nullopt;
  return test_from_json(*value, path + "." + key);
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; keep the human part.
std::string strip_exception_prefix(std::string message) {
  if (!message.empty() && message.front() == '[') {
    const auto end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return message;
}

}  // namespace

std::string to_json(const RunResult& run, const std::optional<Differential>& differential) {
  Json root = Json::object();
  root["schema"] = std::string(schema_name);
  root["schema_version"] = schema_version;

  Json meta = Json::object();
  meta["natcert_version"] = text(run.natcert_version);
  meta["git_revision"] = text(run.git_revision);
  meta["testbed"] = text(run.testbed);
  meta["dut"] = text(run.dut);
  Json config = Json::object();
  for (const auto& [key, value] : run.dut_config) config[text(key)] = text(value);
  meta["dut_config"] = std::move(config);
  meta["seed"] = std::to_string(run.seed);
  meta["started"] = text(run.started);
  meta["finished"] = text(run.finished);
  meta["wall_ns"] = run.wall.count();
  meta["wall"] = detail::seconds_text(run.wall);
  meta["host"] = text(run.host);
  meta["jobs"] = run.jobs;
  root["run"] = std::move(meta);

  // Derived: never read back.
  Json summary = Json::object();
  const auto counts = harness::tally(run);
  summary["tests"] = counts.total();
  summary["verdicts"] = verdict_counts(counts.counts);
  const auto levels = detail::summarize_levels(run);
  Json by_level = Json::object();
  for (std::size_t g = 0; g < levels.counts.size(); ++g) {
    by_level[std::string(detail::level_group_names[g])] = verdict_counts(levels.counts[g]);
  }
  summary["by_level"] = std::move(by_level);
  summary["exit_code"] = harness::exit_code(run, false);
  summary["exit_code_strict"] = harness::exit_code(run, true);
  const auto legacy = detail::legacy_nat_type(run.profile);
  summary["legacy_nat_type"] = legacy ? Json(*legacy) : Json(nullptr);
  root["summary"] = std::move(summary);
  if (differential) root["differential"] = differential_json(*differential);

  Json profile = Json::array();
  for (const auto& entry : run.profile) {
    Json p = Json::object();
    p["key"] = text(entry.key);
    p["value"] = text(entry.value);
    p["test"] = text(entry.test_id);
    profile.push_back(std::move(p));
  }
  root["profile"] = std::move(profile);

  Json sanity = Json::object();
  sanity["begin"] = run.sanity_begin ? test_json(*run.sanity_begin) : Json(nullptr);
  sanity["end"] = run.sanity_end ? test_json(*run.sanity_end) : Json(nullptr);
  root["sanity"] = std::move(sanity);

  Json tests = Json::array();
  for (const auto& test : run.tests) tests.push_back(test_json(test));
  root["tests"] = std::move(tests);

  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

RunResult from_json(std::string_view input, std::optional<Differential>* differential) {
  Json root;
  try {
    root = Json::parse(input.begin(), input.end());
  } catch (const Json::exception& e) {
    throw ReportError("malformed JSON: " + strip_exception_prefix(e.what()));
  }
  try {
    static const Json empty = Json::array();
    const std::string path = "$";
    expect_object(root, path);
    const Json* schema = optional_member(root, "schema");
    if (!schema || !schema->is_string() || schema->get<std::string>() != schema_name) {
      throw ReportError("not a natcert report: \"schema\" is not \"" + std::string(schema_name) + "\"");
    }
    const Json& version = required_member(root, "schema_version", path);
    if (!version.is_number_integer()) fail("$.schema_version", "expected an integer");
    const auto v = version.get<std::int64_t>();
    if (v > schema_version) {
      throw ReportError("report schema_version " + std::to_string(v) + " is newer than this natcert understands (" +
                        std::to_string(schema_version) + "); upgrade natcert");
    }
    if (v < 1) fail("$.schema_version", "must be at least 1");

    RunResult run;
    const Json& meta = required_member(root, "run", path);
    expect_object(meta, "$.run");
    run.natcert_version = get_string(meta, "natcert_version", "$.run");
    run.git_revision = get_string(meta, "git_revision", "$.run");
    run.testbed = get_string(meta, "testbed", "$.run");
    run.dut = get_string(meta, "dut", "$.run");
    if (const Json* config = optional_member(meta, "dut_config"); config && !config->is_null()) {
      expect_object(*config, "$.run.dut_config");
      for (const auto& [key, value] : config->items()) {
        if (!value.is_string()) fail("$.run.dut_config." + text(key), "expected a string, found " + type_name(value));
        run.dut_config.emplace_back(key, value.get<std::string>());
      }
    }
    run.seed = get_uint64(meta, "seed", "$.run");
    run.started = get_string(meta, "started", "$.run");
    run.finished = get_string(meta, "finished", "$.run");
    run.wall = std::chrono::nanoseconds(get_int64(meta, "wall_ns", "$.run"));
    run.host = get_string(meta, "host", "$.run");
    const auto jobs = get_uint64(meta, "jobs", "$.run");
    run.jobs = static_cast<std::size_t>(jobs);

    const auto& profile = get_array(root, "profile", path, empty);
    for (std::size_t i = 0; i < profile.size(); ++i) {
      const auto p = index_path(path, "profile", i);
      expect_object(profile[i], p);
      run.profile.push_back(
          ProfileEntry{get_string(profile[i], "key", p), get_string(profile[i], "value", p), get_string(profile[i], "test", p)});
    }
    if (const Json* sanity = optional_member(root, "sanity"); sanity && !sanity->is_null()) {
      expect_object(*sanity, "$.sanity");
      run.sanity_begin = optional_test(*sanity, "begin", "$.sanity");
      run.sanity_end = optional_test(*sanity, "end", "$.sanity");
    }
    const Json& tests = required_member(root, "tests", path);
    if (!tests.is_array()) fail("$.tests", "expected an array, found " + type_name(tests));
    for (std::size_t i = 0; i < tests.size(); ++i) run.tests.push_back(test_from_json(tests[i], index_path(path, "tests", i)));
    std::optional<Differential> departures;
    if (const Json* value = optional_member(root, "differential"); value && !value->is_null()) {
      departures = differential_from_json(*value, "$.differential");
    }
    if (differential) *differential = std::move(departures);
    return run;
  } catch (const Json::exception& e) {
    // Defensive: every access above checks types first, so this means a bug here, not bad input.
    throw ReportError("malformed report: " + strip_exception_prefix(e.what()));
  }
}

}  // namespace natcert::reports
