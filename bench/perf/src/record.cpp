// Reading and writing records in Google Benchmark's JSON format.
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include "natcert/perf/record.hpp"

namespace natcert::perf {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Keys of a benchmark object that are not counters.
const std::set<std::string>& benchmark_keys() {
  static const std::set<std::string> keys = {
      "name",       "family_index",  "per_family_instance_index", "run_name", "run_type", "repetitions",
      "repetition_index", "threads", "aggregate_name", "aggregate_unit", "iterations", "real_time",
      "cpu_time",   "time_unit",     "label",     "error_occurred", "error_message"};
  return keys;
}

const std::set<std::string>& context_keys() {
  static const std::set<std::string> keys = {
      "date",      "host_name", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "caches",
      "load_avg",  "library_build_type", "natcert_revision", "kernel", "dut_profile", "machine", "settings"};
  return keys;
}

// Reads fields of one JSON object, naming the path in every error.
class Reader {
 public:
  Reader(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail("not an object");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw RecordError(where_.empty() ? what : where_ + ": " + what);
  }
  const json* find(const std::string& key) const {
    const auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string string(const std::string& key, const std::string& fallback, bool required = false) const {
    const json* value = find(key);
    if (value == nullptr) {
      if (required) Reader(object_, where_ + (where_.empty() ? "" : ".") + key).fail("missing");
      return fallback;
    }
    if (!value->is_string()) at(key).fail("not a string");
    return value->get<std::string>();
  }
  double number(const std::string& key, double fallback, bool required = false) const {
    const json* value = find(key);
    if (value == nullptr) {
      if (required) at(key).fail("missing");
      return fallback;
    }
    if (!value->is_number()) at(key).fail("not a number");
    return value->get<double>();
  }
  std::int64_t integer(const std::string& key, std::int64_t fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_number_integer() && !value->is_number_unsigned()) at(key).fail("not an integer");
    return value->get<std::int64_t>();
  }
  bool boolean(const std::string& key, bool fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) at(key).fail("not true or false");
    return value->get<bool>();
  }
  Reader at(const std::string& key) const {
    // Only used for error messages about scalars, so an empty object stands in for the value.
    static const json empty = json::object();
    const json* value = find(key);
    return Reader(value != nullptr && value->is_object() ? *value : empty, where_.empty() ? key : where_ + "." + key);
  }

 private:
  const json& object_;
  std::string where_;
};

void check_time_unit(const std::string& unit, const Reader& reader) {
  if (unit != "ns" && unit != "us" && unit != "ms" && unit != "s") {
    reader.at("time_unit").fail("unknown unit \"" + unit + "\" (ns, us, ms or s)");
  }
}

Context parse_context(const json& object) {
  const Reader reader(object, "context");
  Context context;
  context.date = reader.string("date", "");
  context.host_name = reader.string("host_name", "");
  context.executable = reader.string("executable", "");
  context.num_cpus = static_cast<int>(reader.integer("num_cpus", 0));
  context.mhz_per_cpu = reader.number("mhz_per_cpu", 0);
  context.cpu_scaling_enabled = reader.boolean("cpu_scaling_enabled", false);
  if (const json* caches = reader.find("caches")) {
    if (!caches->is_array()) reader.at("caches").fail("not an array");
    for (std::size_t i = 0; i < caches->size(); ++i) {
      const Reader cache((*caches)[i], "context.caches[" + std::to_string(i) + "]");
      context.caches.push_back(Cache{cache.string("type", ""), static_cast<int>(cache.integer("level", 0)),
                                     cache.integer("size", 0), static_cast<int>(cache.integer("num_sharing", 0))});
    }
  }
  if (const json* load = reader.find("load_avg")) {
    if (!load->is_array()) reader.at("load_avg").fail("not an array");
    for (const auto& value : *load) {
      if (!value.is_number()) reader.at("load_avg").fail("not a list of numbers");
      context.load_avg.push_back(value.get<double>());
    }
  }
  context.library_build_type = reader.string("library_build_type", "");
  context.natcert_revision = reader.string("natcert_revision", "");
  context.kernel = reader.string("kernel", "");
  context.dut_profile = reader.string("dut_profile", "");
  context.machine = reader.string("machine", "");
  if (const json* settings = reader.find("settings")) {
    if (!settings->is_object()) reader.at("settings").fail("not an object");
    context.settings = *settings;
  }
  for (const auto& [key, value] : object.items()) {
    if (context_keys().count(key) == 0) context.extra[key] = value;
  }
  return context;
}

Metric parse_metric(const json& object, std::size_t index) {
  const Reader reader(object, "benchmarks[" + std::to_string(index) + "]");
  Metric metric;
  metric.name = reader.string("name", "", true);
  if (metric.name.empty()) reader.at("name").fail("empty");
  metric.family_index = reader.integer("family_index", 0);
  metric.per_family_instance_index = reader.integer("per_family_instance_index", 0);
  metric.run_name = reader.string("run_name", metric.name);
  metric.run_type = reader.string("run_type", "iteration");
  if (metric.run_type != "iteration" && metric.run_type != "aggregate") {
    reader.at("run_type").fail("\"" + metric.run_type + "\" is neither \"iteration\" nor \"aggregate\"");
  }
  metric.repetitions = reader.integer("repetitions", 1);
  metric.repetition_index = reader.integer("repetition_index", 0);
  metric.threads = reader.integer("threads", 1);
  metric.aggregate_name = reader.string("aggregate_name", "");
  if (metric.aggregate() && metric.aggregate_name.empty()) reader.at("aggregate_name").fail("missing");
  metric.aggregate_unit = reader.string("aggregate_unit", "");
  metric.iterations = reader.integer("iterations", 0);
  metric.error_message = reader.string("error_message", "");
  if (reader.boolean("error_occurred", false) && metric.error_message.empty()) metric.error_message = "error";
  const bool errored = !metric.error_message.empty();
  metric.real_time = reader.number("real_time", 0, !errored);
  metric.cpu_time = reader.number("cpu_time", 0, !errored);
  metric.time_unit = reader.string("time_unit", "ns");
  check_time_unit(metric.time_unit, reader);
  metric.label = reader.string("label", "");
  for (const auto& [key, value] : object.items()) {
    if (benchmark_keys().count(key) != 0) continue;
    if (!value.is_number()) reader.at(key).fail("a counter must be a number");
    metric.counters[key] = value.get<double>();
  }
  return metric;
}

ordered_json context_json(const Context& context) {
  ordered_json object;
  object["date"] = context.date;
  object["host_name"] = context.host_name;
  object["executable"] = context.executable;
  object["num_cpus"] = context.num_cpus;
  object["mhz_per_cpu"] = context.mhz_per_cpu;
  object["cpu_scaling_enabled"] = context.cpu_scaling_enabled;
  object["caches"] = ordered_json::array();
  for (const auto& cache : context.caches) {
    object["caches"].push_back(
        {{"type", cache.type}, {"level", cache.level}, {"size", cache.size}, {"num_sharing", cache.num_sharing}});
  }
  object["load_avg"] = context.load_avg;
  object["library_build_type"] = context.library_build_type;
  const auto optional = [&](const char* key, const std::string& value) {
    if (!value.empty()) object[key] = value;
  };
  optional("natcert_revision", context.natcert_revision);
  optional("kernel", context.kernel);
  optional("dut_profile", context.dut_profile);
  optional("machine", context.machine);
  if (context.settings.is_object() && !context.settings.empty()) {
    object["settings"] = ordered_json::parse(context.settings.dump());
  }
  if (context.extra.is_object()) {
    for (const auto& [key, value] : context.extra.items()) object[key] = ordered_json::parse(value.dump());
  }
  return object;
}

ordered_json metric_json(const Metric& metric) {
  ordered_json object;
  object["name"] = metric.name;
  object["family_index"] = metric.family_index;
  object["per_family_instance_index"] = metric.per_family_instance_index;
  object["run_name"] = metric.run_name.empty() ? metric.name : metric.run_name;
  object["run_type"] = metric.run_type;
  object["repetitions"] = metric.repetitions;
  if (!metric.aggregate()) object["repetition_index"] = metric.repetition_index;
  object["threads"] = metric.threads;
  if (metric.aggregate()) {
    object["aggregate_name"] = metric.aggregate_name;
    object["aggregate_unit"] = metric.aggregate_unit.empty() ? "time" : metric.aggregate_unit;
  }
  if (!metric.error_message.empty()) {
    object["error_occurred"] = true;
    object["error_message"] = metric.error_message;
  }
  object["iterations"] = metric.iterations;
  object["real_time"] = metric.real_time;
  object["cpu_time"] = metric.cpu_time;
  object["time_unit"] = metric.time_unit;
  for (const auto& [key, value] : metric.counters) object[key] = value;
  if (!metric.label.empty()) object["label"] = metric.label;
  return object;
}

}  // namespace

double to_nanoseconds(double value, const std::string& unit) {
  if (unit == "ns") return value;
  if (unit == "us") return value * 1e3;
  if (unit == "ms") return value * 1e6;
  if (unit == "s") return value * 1e9;
  throw RecordError("unknown time unit \"" + unit + "\"");
}

Record parse_record(const std::string& text, const std::string& origin) {
  try {
    json document;
    try {
      document = json::parse(text);
    } catch (const json::parse_error& e) {
      // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> the part after "] ".
      std::string what = e.what();
      const auto bracket = what.find("] ");
      throw RecordError(bracket == std::string::npos ? what : what.substr(bracket + 2));
    }
    if (!document.is_object()) throw RecordError("not a benchmark record (a JSON object with \"benchmarks\")");
    const auto benchmarks = document.find("benchmarks");
    if (benchmarks == document.end() || !benchmarks->is_array()) {
      throw RecordError("not a benchmark record: no \"benchmarks\" array");
    }
    Record record;
    const auto context = document.find("context");
    if (context != document.end()) record.context = parse_context(*context);
    for (std::size_t i = 0; i < benchmarks->size(); ++i) record.benchmarks.push_back(parse_metric((*benchmarks)[i], i));
    return record;
  } catch (const RecordError& e) {
    std::string message = origin + ": " + e.what();
    for (auto& c : message) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    throw RecordError(message);
  }
}

Record read_record(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RecordError(path.string() + ": cannot open (" + std::error_code(errno, std::generic_category()).message() + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_record(text.str(), path.string());
}

std::string to_json_text(const Record& record) {
  ordered_json document;
  document["context"] = context_json(record.context);
  document["benchmarks"] = ordered_json::array();
  for (const auto& metric : record.benchmarks) document["benchmarks"].push_back(metric_json(metric));
  return document.dump(2) + "\n";
}

void write_record(const Record& record, const std::filesystem::path& path) {
  const auto temporary = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw RecordError(path.string() + ": cannot write (" + std::error_code(errno, std::generic_category()).message() + ")");
    out << to_json_text(record);
    out.close();
    if (!out) throw RecordError(path.string() + ": write failed");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    throw RecordError(path.string() + ": cannot write (" + error.message() + ")");
  }
}

}  // namespace natcert::perf
