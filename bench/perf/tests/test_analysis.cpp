// Measures, counter directions and the regression rule.
#include <gtest/gtest.h>

#include "natcert/perf/analysis.hpp"

namespace natcert::perf {
namespace {

Record record_with(const std::string& name, std::vector<double> times, double rate_per_s, const std::string& unit = "ns") {
  std::vector<Metric> runs;
  for (const double t : times) {
    Metric m;
    m.name = name;
    m.real_time = m.cpu_time = t;
    m.time_unit = unit;
    m.counters["rate_per_s"] = rate_per_s;
    m.counters["sessions"] = 100;
    runs.push_back(m);
  }
  Record record;
  record.context.date = "2026-11-22T01:00:00+01:00";
  record.benchmarks = repetitions_with_aggregates(runs);
  return record;
}

TEST(Analysis, DirectionsFollowTheNamingConvention) {
  Context context;
  EXPECT_EQ(direction_of("real_time", context), Direction::lower_is_better);
  EXPECT_EQ(direction_of("rate_per_s", context), Direction::higher_is_better);
  EXPECT_EQ(direction_of("items_per_second", context), Direction::higher_is_better);
  EXPECT_EQ(direction_of("ratio_to_null", context), Direction::higher_is_better);
  EXPECT_EQ(direction_of("bytes_per_session", context), Direction::lower_is_better);
  EXPECT_EQ(direction_of("nat_drops", context), Direction::lower_is_better);
  EXPECT_EQ(direction_of("sessions", context), Direction::informational);
  context.extra["natcert_higher_is_better"] = {"sessions"};
  EXPECT_EQ(direction_of("sessions", context), Direction::higher_is_better);
}

TEST(Analysis, MeasuresUseTheRepetitionsMedianAndSpread) {
  const auto all = measures(record_with("BM_X", {1, 2, 9}, 5, "us"));
  ASSERT_EQ(all.size(), 4u);  // real_time, cpu_time, rate_per_s, sessions
  EXPECT_EQ(all[0].key(), "BM_X real_time");
  EXPECT_DOUBLE_EQ(all[0].center, 2000);  // in ns
  EXPECT_DOUBLE_EQ(all[0].low, 1000);
  EXPECT_DOUBLE_EQ(all[0].high, 9000);
  EXPECT_EQ(all[0].repetitions, 3u);
  EXPECT_GT(all[0].noise, 0.5);
}

TEST(Analysis, AggregatesOnlyRecordsStillHaveANoiseBand) {
  Record record = record_with("BM_X", {10, 12, 14}, 5);
  std::erase_if(record.benchmarks, [](const Metric& m) { return !m.aggregate(); });
  const auto all = measures(record);
  ASSERT_FALSE(all.empty());
  EXPECT_DOUBLE_EQ(all[0].center, 12);
  EXPECT_DOUBLE_EQ(all[0].low, 10);
  EXPECT_DOUBLE_EQ(all[0].high, 14);
}

TEST(Analysis, IdenticalRecordsDoNotRegress) {
  const auto record = record_with("BM_X", {10, 10.2, 9.9}, 1e8);
  EXPECT_EQ(compare(record, record, RegressionRule{}).regressions(), 0u);
}

TEST(Analysis, SlowerBeyondNoiseRegressesWithinNoiseDoesNot) {
  const auto base = record_with("BM_X", {10, 10.1, 9.9}, 1e8);
  const auto slower = record_with("BM_X", {20, 20.2, 19.8}, 1e8);
  const auto result = compare(base, slower, RegressionRule{});
  EXPECT_EQ(result.regressions(), 2u);  // real and CPU time
  EXPECT_EQ(result.changes[0].current.field, "real_time");
  EXPECT_TRUE(result.changes[0].regression);

  const auto noisy_base = record_with("BM_X", {5, 10, 15}, 1e8);
  const auto noisy_slower = record_with("BM_X", {6, 12, 18}, 1e8);
  EXPECT_EQ(compare(noisy_base, noisy_slower, RegressionRule{}).regressions(), 0u);
}

TEST(Analysis, AFallingRateIsARegression) {
  const auto base = record_with("BM_X", {10, 10, 10}, 1e8);
  const auto current = record_with("BM_X", {10, 10, 10}, 5e7);
  const auto result = compare(base, current, RegressionRule{});
  ASSERT_EQ(result.regressions(), 1u);
  EXPECT_EQ(result.changes[2].current.field, "rate_per_s");
  EXPECT_DOUBLE_EQ(result.changes[2].worsening, 0.5);
}

TEST(Analysis, MissingMetricsAreListed) {
  const auto result = compare(record_with("BM_A", {1}, 1), record_with("BM_B", {1}, 1), RegressionRule{});
  EXPECT_TRUE(result.changes.empty());
  EXPECT_EQ(result.only_in_base.size(), 4u);
  EXPECT_EQ(result.only_in_new.size(), 4u);
}

TEST(Analysis, RecordTimeHonoursTheOffset) {
  Record record;
  record.context.date = "2026-11-22T01:00:00+01:00";
  ASSERT_TRUE(record_time(record));
  EXPECT_EQ(*record_time(record), 1795305600);  // 2026-11-22T00:00:00Z
  record.context.date = "yesterday";
  EXPECT_FALSE(record_time(record));
}

TEST(Analysis, FormatsWithSiPrefixes) {
  EXPECT_EQ(format_value(41.234, "ns"), "41.2 ns");
  EXPECT_EQ(format_value(1234567, "ns"), "1.23 ms");
  EXPECT_EQ(format_value(2.5e7, ""), "25 M");
  EXPECT_EQ(format_value(120.5, ""), "120");
}

}  // namespace
}  // namespace natcert::perf
