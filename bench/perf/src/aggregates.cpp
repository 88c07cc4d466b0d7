// Aggregates over repetitions, computed as Google Benchmark computes them (sample standard deviation;
// cv = stddev / mean, as a fraction, aggregate_unit "percentage").
#include <algorithm>
#include <cmath>
#include <functional>

#include "natcert/perf/record.hpp"

namespace natcert::perf {
namespace {

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (const double v : values) sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double stddev(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  const double m = mean(values);
  double sum = 0;
  for (const double v : values) sum += (v - m) * (v - m);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

double cv(const std::vector<double>& values) {
  const double m = mean(values);
  return m == 0 ? 0 : stddev(values) / m;
}

}  // namespace

std::vector<Metric> repetitions_with_aggregates(std::vector<Metric> runs) {
  if (runs.empty()) return runs;
  const auto count = static_cast<std::int64_t>(runs.size());
  for (std::int64_t i = 0; i < count; ++i) {
    auto& run = runs[static_cast<std::size_t>(i)];
    if (run.run_name.empty()) run.run_name = run.name;
    run.run_type = "iteration";
    run.repetitions = count;
    run.repetition_index = i;
  }
  if (count < 2) return runs;

  const Metric& first = runs.front();
  const auto column = [&](const std::function<double(const Metric&)>& field) {
    std::vector<double> values;
    for (const auto& run : runs) values.push_back(field(run));
    return values;
  };
  const auto real = column([](const Metric& m) { return m.real_time; });
  const auto cpu = column([](const Metric& m) { return m.cpu_time; });

  std::vector<Metric> aggregates;
  const std::vector<std::pair<std::string, std::function<double(const std::vector<double>&)>>> statistics = {
      {"mean", mean}, {"median", median}, {"stddev", stddev}, {"cv", cv}};
  for (const auto& [statistic, compute] : statistics) {
    Metric aggregate = first;
    aggregate.name = first.run_name + "_" + statistic;
    aggregate.run_type = "aggregate";
    aggregate.aggregate_name = statistic;
    aggregate.aggregate_unit = statistic == "cv" ? "percentage" : "time";
    aggregate.repetition_index = 0;
    aggregate.iterations = count;
    aggregate.real_time = compute(real);
    aggregate.cpu_time = compute(cpu);
    aggregate.label.clear();
    for (auto& entry : aggregate.counters) {
      const std::string& counter = entry.first;  // clang 14 cannot capture a structured binding
      entry.second = compute(column([&counter](const Metric& m) {
        const auto it = m.counters.find(counter);
        return it == m.counters.end() ? 0.0 : it->second;
      }));
    }
    aggregates.push_back(std::move(aggregate));
  }
  runs.insert(runs.end(), aggregates.begin(), aggregates.end());
  return runs;
}

}  // namespace natcert::perf
