// The context of a run on this machine, read from uname, /proc and /sys as Google Benchmark does.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "natcert/perf/record.hpp"

namespace natcert::perf {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The value of the first "key : value" line of /proc/cpuinfo whose key is `key`.
std::string cpuinfo(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name != key) continue;
    auto value = line.substr(colon + 1);
    const auto start = value.find_first_not_of(' ');
    return start == std::string::npos ? std::string() : value.substr(start);
  }
  return {};
}

// "32K" -> 32768.
std::int64_t parse_size(const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == nullptr) return 0;
  switch (*end) {
    case 'K': return value * 1024;
    case 'M': return value * 1024 * 1024;
    case 'G': return value * 1024 * 1024 * 1024;
    default: return value;
  }
}

// "0-1,4" -> 3.
int count_cpus(const std::string& list) {
  int count = 0;
  std::stringstream ranges(list);
  std::string range;
  while (std::getline(ranges, range, ',')) {
    if (range.empty()) continue;
    const auto dash = range.find('-');
    if (dash == std::string::npos) {
      ++count;
    } else {
      count += std::atoi(range.substr(dash + 1).c_str()) - std::atoi(range.substr(0, dash).c_str()) + 1;
    }
  }
  return count;
}

std::vector<Cache> caches() {
  std::vector<Cache> result;
  for (int index = 0;; ++index) {
    const std::string base = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    const std::string type = read_first_line(base + "type");
    if (type.empty()) break;
    result.push_back(Cache{type, std::atoi(read_first_line(base + "level").c_str()),
                           parse_size(read_first_line(base + "size")),
                           count_cpus(read_first_line(base + "shared_cpu_list"))});
  }
  return result;
}

std::string iso8601_now() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S%z", &local);
  std::string text = buffer;  // "+0000" -> "+00:00", as Google Benchmark writes it
  if (text.size() >= 5) text.insert(text.size() - 2, ":");
  return text;
}

}  // namespace

std::string kernel_description() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  return std::string(name.sysname) + " " + name.release + " " + name.machine;
}

std::string machine_description() {
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::string model = cpuinfo("model name");
  if (model.empty()) model = "unknown CPU";
  return std::to_string(cpus) + " vCPU " + model;
}

Context context_for_this_machine(std::string executable, std::string natcert_revision) {
  Context context;
  context.date = iso8601_now();
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) context.host_name = host;
  context.executable = std::move(executable);
  context.num_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  context.mhz_per_cpu = std::atof(cpuinfo("cpu MHz").c_str());
  const std::string governor = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  context.cpu_scaling_enabled = !governor.empty() && governor != "performance";
  context.caches = caches();
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) == 3) context.load_avg = {load[0], load[1], load[2]};
  context.library_build_type = "release";
#ifndef NDEBUG
  context.library_build_type = "debug";
#endif
  context.natcert_revision = std::move(natcert_revision);
  context.kernel = kernel_description();
  context.machine = machine_description();
  return context;
}

}  // namespace natcert::perf
