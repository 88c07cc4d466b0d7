// A benchmark record: one run of natcert's benchmarks (reference micro-benchmarks or wire benchmarks)
// in Google Benchmark's JSON format, so that its tools/compare.py and existing dashboards read
// natcert's records as they are. natcert adds keys to "context" (revision, kernel, DUT profile,
// settings, machine); everything else is Google Benchmark's own schema. See docs/benchmarks.md.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace natcert::perf {

// A record that cannot be read or written; the message is one line and starts with the file name.
class RecordError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Cache {
  std::string type;  // "Data", "Instruction", "Unified"
  int level = 0;
  std::int64_t size = 0;  // bytes
  int num_sharing = 0;
};

// Google Benchmark's "context", plus natcert's keys (empty strings are left out of the JSON).
struct Context {
  std::string date;  // ISO 8601 with offset, "2026-11-22T01:47:42+00:00"
  std::string host_name;
  std::string executable;
  int num_cpus = 0;
  double mhz_per_cpu = 0;
  bool cpu_scaling_enabled = false;
  std::vector<Cache> caches;
  std::vector<double> load_avg;
  std::string library_build_type = "release";

  std::string natcert_revision;  // git describe of the natcert that ran
  std::string kernel;            // "Linux 6.1.0-26-amd64 x86_64"
  std::string dut_profile;       // wire records: the DUT profile; empty for the reference micro-benchmarks
  std::string machine;           // "2 vCPU AMD EPYC 7B13"
  nlohmann::json settings = nlohmann::json::object();  // the run's settings (duration, repetitions ...)
  nlohmann::json extra = nlohmann::json::object();     // any other context key, kept as read
};

// One element of "benchmarks": one repetition of a benchmark (run_type "iteration") or an aggregate
// over its repetitions (run_type "aggregate": mean, median, stddev, cv).
struct Metric {
  std::string name;      // aggregates: run_name + "_" + aggregate_name
  std::int64_t family_index = 0;
  std::int64_t per_family_instance_index = 0;
  std::string run_name;
  std::string run_type = "iteration";
  std::int64_t repetitions = 1;
  std::int64_t repetition_index = 0;
  std::int64_t threads = 1;
  std::string aggregate_name;  // aggregates only
  std::string aggregate_unit;  // aggregates only: "time", or "percentage" for cv
  std::int64_t iterations = 0;
  double real_time = 0;        // per iteration, in time_unit; for rates: time per item
  double cpu_time = 0;
  std::string time_unit = "ns";  // ns, us, ms, s
  std::map<std::string, double> counters;  // top-level keys of the benchmark object in the JSON
  std::string label;
  std::string error_message;   // error_occurred is true when this is not empty

  bool aggregate() const { return run_type == "aggregate"; }
};

struct Record {
  Context context;
  std::vector<Metric> benchmarks;
};

// Parses a record; `origin` names it in errors ("runs/a.json: benchmarks[3]: real_time: not a number").
Record parse_record(const std::string& text, const std::string& origin);
Record read_record(const std::filesystem::path& path);
std::string to_json_text(const Record& record);
// Writes atomically enough for a dashboard directory (a temporary file renamed into place).
void write_record(const Record& record, const std::filesystem::path& path);

// The context of a run on this machine, now: date, host name, kernel (uname), CPUs, MHz, caches and
// load from /proc and /sys, machine ("2 vCPU AMD EPYC 7B13").
Context context_for_this_machine(std::string executable, std::string natcert_revision);
// The same facts as they go into Google Benchmark's AddCustomContext: kernel, machine.
std::string kernel_description();
std::string machine_description();

// Google Benchmark's aggregates over repetitions: given the per-repetition entries of one benchmark
// (same run_name; real_time, cpu_time and counters filled), returns them with repetitions and
// repetition_index set, followed by mean, median, stddev and cv entries.
std::vector<Metric> repetitions_with_aggregates(std::vector<Metric> runs);

// Time in nanoseconds of a value in `unit` (ns, us, ms, s); RecordError for another unit.
double to_nanoseconds(double value, const std::string& unit);

}  // namespace natcert::perf
