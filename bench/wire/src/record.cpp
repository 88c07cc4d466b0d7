// The wire benchmark record (Google Benchmark JSON via natcert::perf) and the summary table.
#include <cstdio>

#include "natcert/wirebench/wire_bench.hpp"

namespace natcert::wirebench {

namespace {

// Ratio to the null DUT's figure of the same measure (same repetition when there is one).
double null_value(const Result& result, const Measurement& m, std::size_t repetition, bool median) {
  const Measurement* null = result.find("null", m.measure, m.protocol, m.direction);
  if (null == nullptr || null->values.empty()) return 0;
  if (median || repetition >= null->values.size()) return null->median();
  return null->values[repetition];
}

std::string number(double value) {
  char buffer[48];
  if (value >= 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.2fM", value / 1e6);
  } else if (value >= 1e4) {
    std::snprintf(buffer, sizeof buffer, "%.1fk", value / 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  }
  return buffer;
}

}  // namespace

perf::Record to_record(const Result& result, const std::string& revision) {
  perf::Record record;
  record.context = perf::context_for_this_machine("natcert bench", revision);
  record.context.dut_profile = result.dut;
  const auto& s = result.settings;
  record.context.settings = {
      {"repetitions", s.repetitions},       {"trial_seconds", s.trial_seconds},
      {"connections", s.connections},       {"capacity_cap", s.capacity_cap},
      {"setup_rate", s.setup_rate},         {"max_rate", s.max_rate},
      {"precision", s.precision},           {"max_trials", s.max_trials},
      {"udp", s.udp},                       {"tcp", s.tcp},
      {"outbound", s.outbound},             {"inbound", s.inbound},
      {"null_dut", s.null_dut},             {"seed", s.seed},
      {"source_ports", std::to_string(s.ports.source_min) + "-" + std::to_string(s.ports.source_max)},
      {"destination_ports", std::to_string(s.ports.destination_min) + "-" + std::to_string(s.ports.destination_max)},
      {"dut_description", result.description},
      {"method", "RFC 9693 (RFC 4814 pseudorandom ports); generator: AF_PACKET sendmmsg, namespaces and veth"}};
  record.context.extra["natcert_higher_is_better"] = {"rate_per_s", "ratio_to_null", "capacity_connections"};
  std::int64_t family = 0;
  for (const auto& m : result.measurements) {
    std::vector<perf::Metric> runs;
    for (std::size_t r = 0; r < m.values.size(); ++r) {
      perf::Metric metric;
      metric.name = "wire/" + m.dut + "/" + m.measure + "/" + m.protocol + "/" + m.direction;
      metric.run_name = metric.name;
      metric.family_index = family;
      metric.iterations = static_cast<std::int64_t>(r < m.items.size() ? m.items[r] : 0);
      const double value = m.values[r];
      if (m.measure == "capacity") {
        metric.real_time = metric.cpu_time = 0;
        metric.counters["capacity_connections"] = value;
      } else {
        metric.real_time = metric.cpu_time = value > 0 ? 1e9 / value : 0;
        metric.counters["rate_per_s"] = value;
      }
      if (r < m.trials.size()) metric.counters["trials"] = static_cast<double>(m.trials[r]);
      if (m.dut != "null" && m.dut != "generator") {
        const double null = null_value(result, m, r, false);
        if (null > 0) metric.counters["ratio_to_null"] = value / null;
      }
      if (m.dut != "generator" && result.generator_pps > 0 && m.unit == "packets/s") {
        metric.counters["fraction_of_generator"] = value / result.generator_pps;
      }
      if (m.lower_bound) metric.label = "lower bound (search ceiling or capacity cap reached)";
      for (const auto& note : m.notes) metric.label += (metric.label.empty() ? "" : "; ") + note;
      runs.push_back(std::move(metric));
    }
    if (runs.empty()) continue;
    auto entries = perf::repetitions_with_aggregates(std::move(runs));
    record.benchmarks.insert(record.benchmarks.end(), entries.begin(), entries.end());
    ++family;
  }
  return record;
}

std::string summary_table(const Result& result) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-22s %-16s %-4s %-9s %10s %21s %8s  %s\n", "DUT", "measure", "prot", "direction",
                "median", "min..max", "vs null", "unit");
  out += line;
  for (const auto& m : result.measurements) {
    std::string ratio = "-";
    if (m.dut != "null" && m.dut != "generator") {
      const double null = null_value(result, m, 0, true);
      if (null > 0) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.2f", m.median() / null);
        ratio = buffer;
      } else {
        ratio = "n/a";
      }
    }
    const std::string spread = number(m.min()) + ".." + number(m.max());
    std::snprintf(line, sizeof line, "%-22s %-16s %-4s %-9s %10s %21s %8s  %s%s\n", m.dut.substr(0, 22).c_str(),
                  m.measure.c_str(), m.protocol.c_str(), m.direction.c_str(),
                  ((m.lower_bound ? ">=" : "") + number(m.median())).c_str(), spread.c_str(), ratio.c_str(),
                  m.unit.c_str(), m.notes.empty() ? "" : " (see record)");
    out += line;
  }
  out += "generator alone (direct veth, unpaced): " + number(result.generator_pps) +
         " packets/s; searches are bounded by it, so a figure near it is generator-bound\n";
  return out;
}

}  // namespace natcert::wirebench
