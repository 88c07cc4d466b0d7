// Measures of a record, counter directions, the regression rule.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "natcert/perf/analysis.hpp"

namespace natcert::perf {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool listed(const Context& context, const char* key, const std::string& field) {
  const auto it = context.extra.find(key);
  if (it == context.extra.end() || !it->is_array()) return false;
  return std::any_of(it->begin(), it->end(), [&](const auto& name) { return name.is_string() && name == field; });
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double relative_stddev(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  double sum = 0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  const double deviation = std::sqrt(squares / static_cast<double>(values.size() - 1));
  return mean == 0 ? 0 : std::fabs(deviation / mean);
}

// The values of one field across a benchmark's entries.
struct Samples {
  std::vector<double> repetitions;        // from "iteration" entries
  std::map<std::string, double> aggregates;  // aggregate_name -> value
};

}  // namespace

std::string to_string(Direction direction) {
  switch (direction) {
    case Direction::lower_is_better: return "lower is better";
    case Direction::higher_is_better: return "higher is better";
    case Direction::informational: return "informational";
  }
  return "informational";
}

Direction direction_of(const std::string& field, const Context& context) {
  if (listed(context, "natcert_higher_is_better", field)) return Direction::higher_is_better;
  if (listed(context, "natcert_lower_is_better", field)) return Direction::lower_is_better;
  if (field == "real_time" || field == "cpu_time") return Direction::lower_is_better;
  if (ends_with(field, "_per_s") || ends_with(field, "_pps") || ends_with(field, "per_second") ||
      starts_with(field, "ratio_") || ends_with(field, "_ratio") || starts_with(field, "capacity")) {
    return Direction::higher_is_better;
  }
  if (starts_with(field, "bytes_per_") || starts_with(field, "ns_per_") || ends_with(field, "_drops") ||
      field.find("loss") != std::string::npos) {
    return Direction::lower_is_better;
  }
  return Direction::informational;
}

std::vector<Measure> measures(const Record& record) {
  std::vector<std::string> order;  // keys in first-seen order
  std::map<std::string, Measure> prototypes;
  std::map<std::string, Samples> samples;
  const auto add = [&](const Metric& metric, const std::string& field, double value) {
    const std::string benchmark = metric.run_name.empty() ? metric.name : metric.run_name;
    const std::string key = benchmark + " " + field;
    if (prototypes.count(key) == 0) {
      order.push_back(key);
      Measure measure;
      measure.benchmark = benchmark;
      measure.field = field;
      measure.direction = direction_of(field, record.context);
      prototypes[key] = measure;
    }
    auto& sample = samples[key];
    if (metric.aggregate()) {
      // cv is a fraction of the mean for every field, time included: keep it apart from the units.
      sample.aggregates[metric.aggregate_name] = value;
    } else {
      sample.repetitions.push_back(value);
    }
  };
  for (const auto& metric : record.benchmarks) {
    if (!metric.error_message.empty()) continue;
    const bool cv = metric.aggregate() && metric.aggregate_name == "cv";
    add(metric, "real_time", cv ? metric.real_time : to_nanoseconds(metric.real_time, metric.time_unit));
    // On a shared machine the CPU time is the steadier figure (real time includes waiting for a core).
    add(metric, "cpu_time", cv ? metric.cpu_time : to_nanoseconds(metric.cpu_time, metric.time_unit));
    for (const auto& [counter, value] : metric.counters) add(metric, counter, value);
  }

  std::vector<Measure> result;
  for (const auto& key : order) {
    Measure measure = prototypes[key];
    const auto& sample = samples[key];
    const auto& reps = sample.repetitions;
    if (!reps.empty()) {
      measure.repetitions = reps.size();
      measure.center = median_of(reps);
      measure.low = *std::min_element(reps.begin(), reps.end());
      measure.high = *std::max_element(reps.begin(), reps.end());
      measure.noise = relative_stddev(reps);
    } else {
      // Only aggregates (--benchmark_report_aggregates_only): the median (or mean) and the stddev.
      const auto find = [&](const char* name) -> std::optional<double> {
        const auto it = sample.aggregates.find(name);
        return it == sample.aggregates.end() ? std::nullopt : std::optional<double>(it->second);
      };
      const auto center = find("median") ? find("median") : find("mean");
      if (!center) continue;
      const double deviation = find("stddev").value_or(0);
      measure.center = *center;
      measure.low = *center - deviation;
      measure.high = *center + deviation;
      const auto mean = find("mean").value_or(*center);
      measure.noise = find("cv").value_or(mean == 0 ? 0 : std::fabs(deviation / mean));
      measure.repetitions = 0;
    }
    result.push_back(measure);
  }
  return result;
}

Change judge(const Measure& base, const Measure& current, const RegressionRule& rule) {
  Change change;
  change.base = base;
  change.current = current;
  change.allowed = std::max(rule.threshold, rule.noise_factor * std::max(base.noise, current.noise));
  if (current.direction == Direction::informational || base.center == 0) return change;
  const double relative = (current.center - base.center) / std::fabs(base.center);
  change.worsening = current.direction == Direction::lower_is_better ? relative : -relative;
  change.regression = change.worsening > change.allowed;
  change.improvement = -change.worsening > change.allowed;
  return change;
}

std::size_t Comparison::regressions() const {
  return static_cast<std::size_t>(std::count_if(changes.begin(), changes.end(), [](const Change& c) { return c.regression; }));
}

Comparison compare(const Record& base, const Record& current, const RegressionRule& rule) {
  Comparison comparison;
  const auto base_measures = measures(base);
  const auto current_measures = measures(current);
  std::map<std::string, const Measure*> base_by_key;
  for (const auto& m : base_measures) base_by_key[m.key()] = &m;
  std::map<std::string, bool> seen;
  for (const auto& m : current_measures) {
    const auto it = base_by_key.find(m.key());
    if (it == base_by_key.end()) {
      comparison.only_in_new.push_back(m.key());
      continue;
    }
    seen[m.key()] = true;
    comparison.changes.push_back(judge(*it->second, m, rule));
  }
  for (const auto& m : base_measures) {
    if (seen.count(m.key()) == 0) comparison.only_in_base.push_back(m.key());
  }
  return comparison;
}

std::optional<std::time_t> record_time(const Record& record) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset_hours = 0, offset_minutes = 0;
  char sign = '+';
  const std::string& date = record.context.date;
  const int fields = std::sscanf(date.c_str(), "%d-%d-%dT%d:%d:%d%c%d:%d", &year, &month, &day, &hour, &minute,
                                 &second, &sign, &offset_hours, &offset_minutes);
  if (fields < 6) return std::nullopt;
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  std::time_t time = ::timegm(&utc);
  if (fields == 9 && (sign == '+' || sign == '-')) {
    const std::time_t offset = offset_hours * 3600 + offset_minutes * 60;
    time += sign == '+' ? -offset : offset;
  }
  return time;
}

std::string format_value(double value, const std::string& unit) {
  if (unit == "ns") {
    const double magnitude = std::fabs(value);
    const char* units[] = {"ns", "us", "ms", "s"};
    int index = 0;
    while (magnitude >= 1000 * std::pow(1000.0, index) && index < 3) ++index;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.3g %s", value / std::pow(1000.0, index), units[index]);
    return buffer;
  }
  const double magnitude = std::fabs(value);
  const char* prefixes[] = {"", "k", "M", "G", "T"};
  int index = 0;
  while (magnitude >= 1000 * std::pow(1000.0, index) && index < 4) ++index;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.3g%s%s%s", value / std::pow(1000.0, index), index == 0 ? "" : " ",
                prefixes[index], unit.empty() ? "" : (std::string(" ") + unit).c_str());
  return buffer;
}

}  // namespace natcert::perf
