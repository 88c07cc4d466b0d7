// Records in Google Benchmark's JSON format: what Google Benchmark writes reads back, natcert's own
// records round-trip, and malformed input is one line naming the file and the place.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "natcert/perf/record.hpp"

namespace natcert::perf {
namespace {

// Trimmed from a real `reference_bench --benchmark_out` record (Google Benchmark 1.7.1).
constexpr const char* google_benchmark_output = R"({
  "context": {
    "date": "2026-11-22T01:50:00+00:00", "host_name": "vm", "executable": "./reference_bench",
    "num_cpus": 2, "mhz_per_cpu": 2445, "cpu_scaling_enabled": false,
    "caches": [{"type": "Data", "level": 1, "size": 32768, "num_sharing": 1}],
    "load_avg": [1.5, 0.9, 0.4], "library_build_type": "release",
    "natcert_revision": "b079dc9", "kernel": "Linux 6.1 x86_64"
  },
  "benchmarks": [
    {"name": "BM_Lookup/65536", "family_index": 3, "per_family_instance_index": 0, "run_name": "BM_Lookup/65536",
     "run_type": "iteration", "repetitions": 2, "repetition_index": 0, "threads": 1, "iterations": 1000,
     "real_time": 40.5, "cpu_time": 40.1, "time_unit": "ns", "bytes_per_session": 120.5, "items_per_second": 2.4e7},
    {"name": "BM_Lookup/65536", "family_index": 3, "per_family_instance_index": 0, "run_name": "BM_Lookup/65536",
     "run_type": "iteration", "repetitions": 2, "repetition_index": 1, "threads": 1, "iterations": 1000,
     "real_time": 41.5, "cpu_time": 41.1, "time_unit": "ns", "bytes_per_session": 120.5, "items_per_second": 2.4e7},
    {"name": "BM_Lookup/65536_mean", "family_index": 3, "per_family_instance_index": 0,
     "run_name": "BM_Lookup/65536", "run_type": "aggregate", "repetitions": 2, "threads": 1,
     "aggregate_name": "mean", "aggregate_unit": "time", "iterations": 2, "real_time": 41.0, "cpu_time": 40.6,
     "time_unit": "ns", "bytes_per_session": 120.5, "items_per_second": 2.4e7},
    {"name": "BM_Skipped", "family_index": 4, "per_family_instance_index": 0, "run_name": "BM_Skipped",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1,
     "error_occurred": true, "error_message": "needs root", "iterations": 0, "real_time": 0, "cpu_time": 0,
     "time_unit": "us"}
  ]
})";

TEST(Record, ReadsGoogleBenchmarkOutput) {
  const auto record = parse_record(google_benchmark_output, "gb.json");
  EXPECT_EQ(record.context.num_cpus, 2);
  EXPECT_EQ(record.context.natcert_revision, "b079dc9");
  ASSERT_EQ(record.context.caches.size(), 1u);
  EXPECT_EQ(record.context.caches[0].size, 32768);
  ASSERT_EQ(record.benchmarks.size(), 4u);
  EXPECT_EQ(record.benchmarks[1].repetition_index, 1);
  EXPECT_DOUBLE_EQ(record.benchmarks[1].counters.at("bytes_per_session"), 120.5);
  EXPECT_TRUE(record.benchmarks[2].aggregate());
  EXPECT_EQ(record.benchmarks[2].aggregate_name, "mean");
  EXPECT_EQ(record.benchmarks[3].error_message, "needs root");
}

TEST(Record, RoundTripsThroughAFile) {
  Record record = parse_record(google_benchmark_output, "gb.json");
  record.context.dut_profile = "linux-nft-masquerade";
  record.context.settings = {{"duration", 1.0}, {"protocol", "udp"}};
  record.context.extra["natcert_higher_is_better"] = {"capacity"};
  const auto path = std::filesystem::temp_directory_path() / ("perf-roundtrip-" + std::to_string(::getpid()) + ".json");
  write_record(record, path);
  const auto again = read_record(path);
  std::filesystem::remove(path);
  EXPECT_EQ(to_json_text(again), to_json_text(record));
  EXPECT_EQ(again.context.settings.at("protocol"), "udp");
  EXPECT_EQ(again.benchmarks[3].error_message, "needs root");
}

std::string error_of(const std::string& text) {
  try {
    parse_record(text, "bad.json");
  } catch (const RecordError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Record, MalformedInputIsOneLineNamingThePlace) {
  EXPECT_EQ(error_of("{\"benchmarks\": [{\"name\": \"x\", \"real_time\": \"fast\", \"cpu_time\": 1}]}"),
            "bad.json: benchmarks[0].real_time: not a number");
  EXPECT_EQ(error_of("{\"context\": {}}"), "bad.json: not a benchmark record: no \"benchmarks\" array");
  EXPECT_EQ(error_of("{\"benchmarks\": [{\"name\": \"x\", \"real_time\": 1, \"cpu_time\": 1, \"time_unit\": \"h\"}]}"),
            "bad.json: benchmarks[0].time_unit: unknown unit \"h\" (ns, us, ms or s)");
  const auto syntax = error_of("{\"benchmarks\": [\n{,");
  EXPECT_EQ(syntax.rfind("bad.json: parse error", 0), 0u) << syntax;
  EXPECT_EQ(syntax.find('\n'), std::string::npos);
  EXPECT_THROW(read_record("/nonexistent/record.json"), RecordError);
}

TEST(Record, AggregatesAsGoogleBenchmarkComputesThem) {
  std::vector<Metric> runs(3);
  const double times[] = {10, 12, 14};
  for (int i = 0; i < 3; ++i) {
    runs[static_cast<std::size_t>(i)].name = "wire/x/connection_rate/udp/outbound";
    runs[static_cast<std::size_t>(i)].real_time = times[i];
    runs[static_cast<std::size_t>(i)].cpu_time = times[i];
    runs[static_cast<std::size_t>(i)].counters["rate_per_s"] = 1e9 / times[i];
  }
  const auto all = repetitions_with_aggregates(runs);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[2].repetition_index, 2);
  EXPECT_EQ(all[2].repetitions, 3);
  EXPECT_EQ(all[3].name, "wire/x/connection_rate/udp/outbound_mean");
  EXPECT_DOUBLE_EQ(all[3].real_time, 12);
  EXPECT_DOUBLE_EQ(all[4].real_time, 12);  // median
  EXPECT_DOUBLE_EQ(all[5].real_time, 2);   // sample stddev
  EXPECT_DOUBLE_EQ(all[6].real_time, 2.0 / 12);
  EXPECT_EQ(all[6].aggregate_unit, "percentage");
}

TEST(Record, ContextForThisMachine) {
  const auto context = context_for_this_machine("test", "abc123");
  EXPECT_GT(context.num_cpus, 0);
  EXPECT_EQ(context.natcert_revision, "abc123");
  EXPECT_EQ(context.kernel.rfind("Linux ", 0), 0u);
  EXPECT_NE(context.machine.find("vCPU"), std::string::npos);
  EXPECT_EQ(context.date.size(), 25u) << context.date;
}

}  // namespace
}  // namespace natcert::perf
