// What a record measured, metric by metric, with its noise; and the regression rule shared by
// `natcert bench compare` and the dashboard.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "natcert/perf/record.hpp"

namespace natcert::perf {

enum class Direction { lower_is_better, higher_is_better, informational };
std::string to_string(Direction direction);

// Time (real_time) is lower-is-better; a counter's direction comes from its name (docs/benchmarks.md:
// "..._per_s", "ratio_..." are higher-is-better, "bytes_per_...", "..._drops" lower-is-better, others
// informational), unless the record's context lists it in "natcert_higher_is_better" or
// "natcert_lower_is_better".
Direction direction_of(const std::string& field, const Context& context);

// One metric of one benchmark in one record: the repetitions' median and their spread.
struct Measure {
  std::string benchmark;  // run_name, e.g. "BM_LookupAtTableSize/65536"
  std::string field;      // "real_time" or "cpu_time" (always in ns here), or a counter name
  Direction direction = Direction::informational;
  double center = 0;      // median of the repetitions (or the median/mean aggregate)
  double low = 0;         // noise band: the repetitions' range, or center -/+ stddev from aggregates
  double high = 0;
  double noise = 0;       // relative: stddev / mean of the repetitions (0 with one repetition)
  std::size_t repetitions = 0;

  std::string key() const { return benchmark + " " + field; }
  std::string unit() const { return field == "real_time" || field == "cpu_time" ? "ns" : ""; }
};

// Every measure of a record, in the record's benchmark order (errored benchmarks are left out).
std::vector<Measure> measures(const Record& record);

struct RegressionRule {
  double threshold = 0.05;    // a relative change below this is never a regression
  double noise_factor = 2.0;  // nor one below noise_factor x the larger relative noise of the two
};

struct Change {
  Measure base;
  Measure current;
  double worsening = 0;  // relative change in the bad direction (negative: it improved)
  double allowed = 0;    // max(threshold, noise_factor x noise)
  bool regression = false;
  bool improvement = false;
};
// Judges `current` against `base` (same key). Informational metrics are never regressions.
Change judge(const Measure& base, const Measure& current, const RegressionRule& rule);

struct Comparison {
  std::vector<Change> changes;           // metrics in both records
  std::vector<std::string> only_in_base;  // keys
  std::vector<std::string> only_in_new;
  std::size_t regressions() const;
};
Comparison compare(const Record& base, const Record& current, const RegressionRule& rule);

// The run's date as seconds since the epoch (context.date, ISO 8601 with an offset), if it parses.
std::optional<std::time_t> record_time(const Record& record);

// "12.3 ns", "1.23 M/s" ...: a value with an SI prefix, 3 significant digits.
std::string format_value(double value, const std::string& unit);

}  // namespace natcert::perf
