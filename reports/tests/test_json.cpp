// Canonical JSON: schema header, round trip, and clear one-line errors on bad input.
#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using natcert::reports::testing::hostile_run;
using natcert::reports::testing::real_run;
using Json = nlohmann::json;

namespace {

std::string error_of(std::string_view text) {
  try {
    (void)from_json(text);
  } catch (const ReportError& e) {
    return e.what();
  }
  return "(no error)";
}

// A valid report with `patch` applied to its JSON.
std::string patched(const std::function<void(Json&)>& patch) {
  Json j = Json::parse(to_json(hostile_run()));
  patch(j);
  return j.dump();
}

}  // namespace

TEST(Json, SchemaHeaderAndMetadata) {
  const Json j = Json::parse(to_json(hostile_run()));
  EXPECT_EQ(j["schema"], "natcert-report");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["run"]["natcert_version"], "0.1.0");
  EXPECT_EQ(j["run"]["git_revision"], "abc123-dirty");
  EXPECT_EQ(j["run"]["seed"], "18446744073709551615");  // a string: exceeds 2^53
  EXPECT_EQ(j["run"]["dut_config"]["udp.mapping"], "endpoint-independent");
  EXPECT_EQ(j["run"]["started"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(j["run"]["wall_ns"], 3250000000LL);
  EXPECT_EQ(j["run"]["wall"], "3.250000000");
  EXPECT_EQ(j["summary"]["tests"], 6);
  EXPECT_EQ(j["summary"]["verdicts"]["FAIL"], 1);
  EXPECT_EQ(j["summary"]["by_level"]["MUST"]["FAIL"], 1);    // REQ-13a MUST
  EXPECT_EQ(j["summary"]["by_level"]["SHOULD"]["WARN"], 2);  // REQ-8 RECOMMENDED, RFC5382-REQ-3
  EXPECT_EQ(j["summary"]["by_level"]["SHOULD"]["FAIL"], 1);  // REQ-13a SHOULD: no check, test verdict
  EXPECT_EQ(j["summary"]["exit_code"], 3);                   // an ERROR makes the run incomplete
  EXPECT_EQ(j["summary"]["legacy_nat_type"], "port-restricted cone");
  EXPECT_EQ(j["sanity"]["begin"]["id"], "sanity.begin");
}

TEST(Json, PerTestFields) {
  const Json j = Json::parse(to_json(hostile_run()));
  const Json& t = j["tests"][0];
  EXPECT_EQ(t["id"], "rfc4787.req1.mapping.udp");
  EXPECT_EQ(t["level"], "MUST");
  EXPECT_EQ(t["requirements"][0]["id"], "RFC4787-REQ-1");
  EXPECT_EQ(t["requirements"][0]["level"], "MUST");
  EXPECT_EQ(t["verdict"], "PASS");
  EXPECT_EQ(t["checks"][0]["expected"], "the same X':x'");
  EXPECT_EQ(t["checks"][0]["observed"], "203.0.113.1:40000 twice");
  EXPECT_EQ(t["seed"], "18446744073709551600");
  const Json& e = t["evidence"][1];
  EXPECT_EQ(e["at_ns"], 1500000);
  EXPECT_EQ(e["at"], "0.001500000");
  EXPECT_EQ(e["side"], "outside");
  EXPECT_EQ(e["direction"], "captured");
  EXPECT_EQ(e["decisive"], true);
  EXPECT_EQ(e["hex"], "4500001cdead");
  EXPECT_EQ(e["length"], 6);
  EXPECT_EQ(e["summary"], "UDP 203.0.113.1:40000 > 198.51.100.10:3478");
  EXPECT_EQ(e["note"], "translated probe");
  EXPECT_EQ(j["tests"][1]["level"], "MUST");  // strongest of RECOMMENDED, MUST, SHOULD
}

TEST(Json, RoundTripIsExact) {
  for (const auto& run : {hostile_run(), real_run()}) {
    const std::string once = to_json(run);
    const std::string twice = to_json(from_json(once));
    EXPECT_EQ(once, twice);
  }
}

TEST(Json, RoundTripPreservesValues) {
  const auto original = hostile_run();
  const auto back = from_json(to_json(original));
  ASSERT_EQ(back.tests.size(), original.tests.size());
  EXPECT_EQ(back.seed, original.seed);
  EXPECT_EQ(back.tests[0].seed, original.tests[0].seed);
  EXPECT_EQ(back.tests[0].evidence[1].bytes, original.tests[0].evidence[1].bytes);
  EXPECT_EQ(back.tests[0].evidence[1].at, original.tests[0].evidence[1].at);
  EXPECT_EQ(back.tests[1].requirements.size(), 3u);
  EXPECT_EQ(back.tests[1].requirements[2].level, natcert::harness::Level::should);
  EXPECT_EQ(back.tests[1].evidence[0].bytes, original.tests[1].evidence[0].bytes);  // NUL and 0xff bytes
  EXPECT_EQ(back.dut_config, original.dut_config);
  EXPECT_EQ(back.profile.size(), 2u);
  ASSERT_TRUE(back.sanity_end.has_value());
  EXPECT_EQ(back.sanity_end->id, "sanity.end");
  EXPECT_EQ(back.wall, original.wall);
  EXPECT_EQ(back.jobs, 4u);
}

TEST(Json, InvalidUtf8IsReplacedNotFatal) {
  const std::string text = to_json(hostile_run());
  EXPECT_NE(text.find("payload \xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos);
  EXPECT_TRUE(Json::accept(text));
}

TEST(Json, MalformedInputIsOneLineError) {
  const std::string message = error_of("{\"schema\": ");
  EXPECT_NE(message.find("malformed JSON"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(error_of("").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of("[]").find("expected an object"), std::string::npos);
}

TEST(Json, ForeignOrNewerSchemaIsRejected) {
  EXPECT_NE(error_of(R"({"schema":"other","schema_version":1})").find("not a natcert report"), std::string::npos);
  EXPECT_NE(error_of(patched([](Json& j) { j["schema_version"] = 2; })).find("newer"), std::string::npos);
  EXPECT_NE(error_of(patched([](Json& j) { j["schema_version"] = "1"; })).find("schema_version"), std::string::npos);
}

TEST(Json, BadFieldsNameTheirPath) {
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][1]["verdict"] = "MAYBE"; })),
            "$.tests[1].verdict: unknown verdict \"MAYBE\"");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][0]["evidence"][0]["hex"] = "abc"; })),
            "$.tests[0].evidence[0].hex: expected an even number of hex digits");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][0]["evidence"][0]["hex"] = "zz"; })),
            "$.tests[0].evidence[0].hex: expected an even number of hex digits");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][0]["evidence"][0]["side"] = "left"; })),
            "$.tests[0].evidence[0].side: expected \"inside\" or \"outside\"");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][0].erase("id"); })), "$.tests[0]: missing field \"id\"");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][0]["checks"][0]["level"] = "OUGHT"; })),
            "$.tests[0].checks[0].level: unknown level \"OUGHT\"");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"][0]["wall_ns"] = "soon"; })),
            "$.tests[0].wall_ns: expected an integer, found string");
  EXPECT_EQ(error_of(patched([](Json& j) { j["run"]["seed"] = "-1"; })),
            "$.run.seed: expected a decimal unsigned integer, found \"-1\"");
  EXPECT_EQ(error_of(patched([](Json& j) { j["run"]["seed"] = "99999999999999999999"; })), "$.run.seed: out of range");
  EXPECT_EQ(error_of(patched([](Json& j) { j["tests"] = Json::object(); })), "$.tests: expected an array, found object");
  EXPECT_EQ(error_of(patched([](Json& j) { j.erase("tests"); })), "$: missing field \"tests\"");
}

TEST(Json, SeedsAcceptNumbersToo) {
  const auto run = from_json(patched([](Json& j) { j["run"]["seed"] = 42; }));
  EXPECT_EQ(run.seed, 42u);
}

TEST(Json, DeepNestingDoesNotCrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NE(error_of(deep).find("expected an object"), std::string::npos);
}
