// The dashboard page: a table of runs, the regressions, then one hand-drawn SVG chart per metric,
// grouped by benchmark. Native SVG <title> tooltips give each point's figures; no script.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "natcert/perf/dashboard.hpp"

namespace natcert::perf {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed(double value, int decimals = 1) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%+.1f%%", fraction * 100);
  return buffer;
}

std::string utc_text(std::optional<std::time_t> time, const std::string& fallback) {
  if (!time) return fallback.empty() ? "(no date)" : fallback;
  std::tm utc{};
  gmtime_r(&*time, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &utc);
  return buffer;
}

std::string short_date(std::optional<std::time_t> time) {
  if (!time) return "";
  std::tm utc{};
  gmtime_r(&*time, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%m-%d %H:%M", &utc);
  return buffer;
}

// What a chart's field means, for its heading.
std::string describe_field(const std::string& field) {
  if (field == "real_time") return "real time per iteration";
  if (field == "cpu_time") return "CPU time per iteration";
  return field;
}

// One point of a chart: run `run` (index into the ordered runs) measured `measure`.
struct Point {
  std::size_t run = 0;
  Measure measure;
  std::optional<Change> against_previous;
};

struct Series {
  std::string benchmark;
  std::string field;
  Direction direction = Direction::informational;
  std::vector<Point> points;
  bool regressed_last = false;  // the newest point regressed against the one before it
};

// "Nice" axis ticks covering [low, high].
std::vector<double> ticks(double low, double high) {
  const double span = high - low;
  const double raw = span / 4;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double multiple : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = multiple * magnitude;
    if (span / step <= 5) break;
  }
  std::vector<double> result;
  for (double tick = std::ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) result.push_back(tick);
  return result;
}

std::string render_chart(const Series& series, const std::vector<RecordFile>& runs) {
  constexpr double width = 440, height = 230, left = 64, right = 14, top = 12, bottom = 40;
  const double plot_width = width - left - right, plot_height = height - top - bottom;
  const std::string unit = (series.field == "real_time" || series.field == "cpu_time" ? "ns" : "");

  double low = series.points.front().measure.low, high = series.points.front().measure.high;
  for (const auto& point : series.points) {
    low = std::min({low, point.measure.low, point.measure.center});
    high = std::max({high, point.measure.high, point.measure.center});
  }
  if (high - low < std::fabs(high) * 1e-3 || high == low) {  // flat: give it some room
    const double pad = high == 0 ? 1 : std::fabs(high) * 0.05;
    low -= pad;
    high += pad;
  }
  const double margin = (high - low) * 0.08;
  low -= margin;
  high += margin;
  if (low < 0 && series.points.front().measure.low >= 0) low = std::max(low, 0.0);
  const auto axis = ticks(low, high);
  if (!axis.empty()) {
    low = std::min(low, axis.front());
    high = std::max(high, axis.back());
  }

  const std::size_t count = runs.size();
  const auto x_of = [&](std::size_t run) {
    return count <= 1 ? left + plot_width / 2 : left + plot_width * static_cast<double>(run) / static_cast<double>(count - 1);
  };
  const auto y_of = [&](double value) { return top + plot_height * (1 - (value - low) / (high - low)); };

  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + fixed(width, 0) + " " + fixed(height, 0) +
                    "\" width=\"" + fixed(width, 0) + "\" height=\"" + fixed(height, 0) +
                    "\" role=\"img\" aria-label=\"" + escape(series.benchmark + " " + series.field) + "\">\n";
  // Grid and y labels.
  for (const double tick : axis) {
    const double y = y_of(tick);
    svg += "<line class=\"grid\" x1=\"" + fixed(left) + "\" x2=\"" + fixed(width - right) + "\" y1=\"" + fixed(y) +
           "\" y2=\"" + fixed(y) + "\"/>";
    svg += "<text class=\"ylabel\" x=\"" + fixed(left - 6) + "\" y=\"" + fixed(y + 4) + "\">" +
           escape(format_value(tick, unit)) + "</text>\n";
  }
  // X labels: run numbers, with the date under the first and last.
  const std::size_t label_every = std::max<std::size_t>(1, (count + 9) / 10);
  for (std::size_t run = 0; run < count; ++run) {
    if (run % label_every != 0 && run + 1 != count) continue;
    const double x = x_of(run);
    svg += "<text class=\"xlabel\" x=\"" + fixed(x) + "\" y=\"" + fixed(top + plot_height + 15) + "\">#" +
           std::to_string(run + 1) + "</text>";
    if (run == 0 || run + 1 == count) {
      const char* anchor = count > 1 && run + 1 == count ? "end" : (count > 1 ? "start" : "middle");
      svg += "<text class=\"xdate\" style=\"text-anchor:" + std::string(anchor) + "\" x=\"" +
             fixed(run == 0 && count > 1 ? x - 14 : x) + "\" y=\"" + fixed(top + plot_height + 29) + "\">" +
             escape(short_date(record_time(runs[run].record))) + "</text>";
    }
  }
  svg += "<line class=\"axis\" x1=\"" + fixed(left) + "\" x2=\"" + fixed(left) + "\" y1=\"" + fixed(top) + "\" y2=\"" +
         fixed(top + plot_height) + "\"/>\n";

  // The noise band: each run's spread of repetitions, joined between consecutive runs.
  if (series.points.size() >= 2) {
    std::string upper, lower;
    for (const auto& point : series.points) {
      upper += fixed(x_of(point.run)) + "," + fixed(y_of(point.measure.high)) + " ";
    }
    for (auto it = series.points.rbegin(); it != series.points.rend(); ++it) {
      lower += fixed(x_of(it->run)) + "," + fixed(y_of(it->measure.low)) + " ";
    }
    svg += "<polygon class=\"band\" points=\"" + upper + lower + "\"/>\n";
  }
  for (const auto& point : series.points) {  // per-run whisker, also visible for a lone run
    if (point.measure.high > point.measure.low) {
      const double x = x_of(point.run);
      svg += "<line class=\"whisker\" x1=\"" + fixed(x) + "\" x2=\"" + fixed(x) + "\" y1=\"" +
             fixed(y_of(point.measure.high)) + "\" y2=\"" + fixed(y_of(point.measure.low)) + "\"/>";
    }
  }
  // The median line and points.
  if (series.points.size() >= 2) {
    std::string line;
    for (const auto& point : series.points) line += fixed(x_of(point.run)) + "," + fixed(y_of(point.measure.center)) + " ";
    svg += "\n<polyline class=\"line\" points=\"" + line + "\"/>\n";
  }
  for (const auto& point : series.points) {
    const auto& m = point.measure;
    const bool regressed = point.against_previous && point.against_previous->regression;
    const bool improved = point.against_previous && point.against_previous->improvement;
    std::string tip = "#" + std::to_string(point.run + 1) + "  " + utc_text(record_time(runs[point.run].record), runs[point.run].record.context.date) +
                      "\n" + runs[point.run].path.filename().string() + "\nmedian " + format_value(m.center, unit) +
                      "  (noise band " + format_value(m.low, unit) + " .. " + format_value(m.high, unit) + ", " +
                      std::to_string(m.repetitions) + " repetition(s), cv " + fixed(m.noise * 100) + "%)";
    if (point.against_previous) {
      tip += "\nvs previous run: worse by " + percent(point.against_previous->worsening) + ", allowed " +
             percent(point.against_previous->allowed);
      if (regressed) tip += "  REGRESSION";
      if (improved) tip += "  improved";
    }
    const std::string cls = regressed ? "point regressed" : (improved ? "point improved" : "point");
    svg += "<circle class=\"" + cls + "\" cx=\"" + fixed(x_of(point.run)) + "\" cy=\"" + fixed(y_of(m.center)) +
           "\" r=\"" + (regressed ? "6" : "3.5") + "\"><title>" + escape(tip) + "</title></circle>";
    if (regressed) {
      const bool near_right = x_of(point.run) > width - right - 60;
      svg += std::string("<text class=\"flag\" style=\"text-anchor:") + (near_right ? "end" : "middle") +
             "\" x=\"" + fixed(x_of(point.run) + (near_right ? 4 : 0)) + "\" y=\"" + fixed(y_of(m.center) - 10) +
             "\">regressed " + escape(percent(point.against_previous->worsening)) + "</text>";
    }
  }
  svg += "\n</svg>";
  return svg;
}

constexpr const char* style = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1d2430; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 28px 0 8px 0; padding-bottom: 4px; border-bottom: 1px solid #dde3ea; font-family: ui-monospace, monospace; }
.sub { color: #5b6675; font-size: 13px; margin-bottom: 16px; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0 16px 0; }
th, td { border: 1px solid #dde3ea; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f6f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.regressions td { background: #fff3f2; }
.ok { color: #1b7a3a; font-weight: 600; }
.bad { color: #c62828; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 8px 2px 8px; background: #fcfdfe; }
figure.has-regression { border-color: #e57373; box-shadow: 0 0 0 1px #e57373; }
figcaption { font-size: 12px; margin-bottom: 2px; }
figcaption .field { font-weight: 600; font-family: ui-monospace, monospace; }
figcaption .dir { color: #5b6675; }
svg.chart { display: block; }
svg .grid { stroke: #e8edf2; stroke-width: 1; }
svg .axis { stroke: #9aa5b1; stroke-width: 1; }
svg .ylabel { font-size: 10px; fill: #5b6675; text-anchor: end; }
svg .xlabel { font-size: 10px; fill: #5b6675; text-anchor: middle; }
svg .xdate { font-size: 9px; fill: #8a94a1; text-anchor: middle; }
svg .band { fill: #1e88e5; fill-opacity: 0.14; stroke: none; }
svg .whisker { stroke: #1e88e5; stroke-opacity: 0.45; stroke-width: 1.5; }
svg .line { fill: none; stroke: #1565c0; stroke-width: 1.8; }
svg .point { fill: #1565c0; stroke: #fff; stroke-width: 1; }
svg .point.improved { fill: #2e7d32; }
svg .point.regressed { fill: #d32f2f; stroke: #fff; stroke-width: 1.5; }
svg .flag { font-size: 10px; fill: #c62828; text-anchor: middle; font-weight: 600; }
.legend { font-size: 12px; color: #5b6675; margin: 4px 0 12px 0; }
.legend span.swatch { display: inline-block; width: 18px; height: 10px; vertical-align: middle; margin: 0 4px 0 12px; }
)";

}  // namespace

std::vector<RecordFile> read_record_directory(const std::filesystem::path& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw RecordError(directory.string() + ": not a directory of benchmark records");
  }
  std::vector<RecordFile> runs;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    runs.push_back(RecordFile{entry.path(), read_record(entry.path())});
  }
  if (error) throw RecordError(directory.string() + ": " + error.message());
  if (runs.empty()) throw RecordError(directory.string() + ": no benchmark records (*.json)");
  std::stable_sort(runs.begin(), runs.end(), [](const RecordFile& a, const RecordFile& b) {
    const auto ta = record_time(a.record), tb = record_time(b.record);
    if (ta.has_value() != tb.has_value()) return ta.has_value();  // undated runs last
    if (ta && tb && *ta != *tb) return *ta < *tb;
    return a.path.filename() < b.path.filename();
  });
  return runs;
}

std::string render_dashboard(const std::vector<RecordFile>& runs, const RegressionRule& rule, DashboardSummary* summary) {
  // Series in first-seen order, grouped by benchmark.
  std::vector<std::string> benchmark_order;
  std::map<std::string, std::vector<std::string>> fields_of;
  std::map<std::string, Series> series_by_key;
  for (std::size_t run = 0; run < runs.size(); ++run) {
    for (const auto& measure : measures(runs[run].record)) {
      const std::string key = measure.key();
      auto it = series_by_key.find(key);
      if (it == series_by_key.end()) {
        if (fields_of.count(measure.benchmark) == 0) benchmark_order.push_back(measure.benchmark);
        fields_of[measure.benchmark].push_back(measure.field);
        Series series;
        series.benchmark = measure.benchmark;
        series.field = measure.field;
        series.direction = measure.direction;
        it = series_by_key.emplace(key, series).first;
      }
      Point point{run, measure, std::nullopt};
      if (!it->second.points.empty()) point.against_previous = judge(it->second.points.back().measure, measure, rule);
      it->second.points.push_back(point);
    }
  }

  struct Flag {
    std::size_t run;
    const Series* series;
    Change change;
  };
  std::vector<Flag> flags;
  for (const auto& [key, series] : series_by_key) {
    for (const auto& point : series.points) {
      if (point.against_previous && point.against_previous->regression) flags.push_back({point.run, &series, *point.against_previous});
    }
  }
  std::sort(flags.begin(), flags.end(), [](const Flag& a, const Flag& b) {
    if (a.run != b.run) return a.run > b.run;  // newest first
    return a.change.worsening > b.change.worsening;
  });

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>natcert benchmark dashboard</title>\n<style>";
  html += style;
  html += "</style></head><body>\n<h1>natcert benchmark dashboard</h1>\n";
  html += "<div class=\"sub\">" + std::to_string(runs.size()) + " run(s), " + std::to_string(series_by_key.size()) +
          " metric(s); a regression is a run worse than the previous one by more than max(" +
          fixed(rule.threshold * 100) + "%, " + fixed(rule.noise_factor, 1) +
          " &times; the larger relative stddev of their repetitions).</div>\n";

  html += "<table class=\"runs\"><tr><th>#</th><th>date</th><th>record</th><th>natcert</th><th>DUT profile</th>"
          "<th>machine</th><th>kernel</th><th>host</th><th>load avg</th></tr>\n";
  for (std::size_t run = 0; run < runs.size(); ++run) {
    const auto& c = runs[run].record.context;
    std::string load;
    for (const double l : c.load_avg) load += (load.empty() ? "" : " ") + fixed(l, 2);
    html += "<tr><td class=\"num\">" + std::to_string(run + 1) + "</td><td>" +
            escape(utc_text(record_time(runs[run].record), c.date)) + "</td><td>" +
            escape(runs[run].path.filename().string()) + "</td><td>" + escape(c.natcert_revision) + "</td><td>" +
            escape(c.dut_profile.empty() ? "(reference micro-benchmarks)" : c.dut_profile) + "</td><td>" +
            escape(c.machine.empty() ? std::to_string(c.num_cpus) + " CPU" : c.machine) + "</td><td>" +
            escape(c.kernel) + "</td><td>" + escape(c.host_name) + "</td><td>" + escape(load) + "</td></tr>\n";
  }
  html += "</table>\n";

  if (flags.empty()) {
    html += "<p class=\"ok\">No regression: no run is worse than the previous one beyond the noise.</p>\n";
  } else {
    html += "<p class=\"bad\">" + std::to_string(flags.size()) + " regression(s) flagged:</p>\n";
    html += "<table class=\"regressions\"><tr><th>run</th><th>benchmark</th><th>metric</th><th>previous</th>"
            "<th>this run</th><th>worse by</th><th>allowed</th></tr>\n";
    for (const auto& flag : flags) {
      const std::string unit = (flag.series->field == "real_time" || flag.series->field == "cpu_time" ? "ns" : "");
      html += "<tr><td class=\"num\">#" + std::to_string(flag.run + 1) + "</td><td>" + escape(flag.series->benchmark) +
              "</td><td>" + escape(flag.series->field) + "</td><td class=\"num\">" +
              escape(format_value(flag.change.base.center, unit)) + "</td><td class=\"num\">" +
              escape(format_value(flag.change.current.center, unit)) + "</td><td class=\"num\">" +
              percent(flag.change.worsening) + "</td><td class=\"num\">" + percent(flag.change.allowed) + "</td></tr>\n";
    }
    html += "</table>\n";
  }
  html += "<div class=\"legend\">Line: median of each run's repetitions.<span class=\"swatch\" "
          "style=\"background:rgba(30,136,229,0.25)\"></span>noise band: the repetitions' range (or median "
          "&plusmn; stddev when a record keeps only aggregates).<span class=\"swatch\" style=\"background:#d32f2f\"></span>"
          "regressed against the previous run. Hover a point for its figures.</div>\n";

  for (const auto& benchmark : benchmark_order) {
    html += "<h2>" + escape(benchmark) + "</h2>\n<div class=\"charts\">\n";
    for (const auto& field : fields_of[benchmark]) {
      const Series& series = series_by_key.at(benchmark + " " + field);
      const bool flagged = std::any_of(series.points.begin(), series.points.end(), [](const Point& p) {
        return p.against_previous && p.against_previous->regression;
      });
      html += std::string("<figure class=\"metric") + (flagged ? " has-regression" : "") + "\" data-metric=\"" +
              escape(series.benchmark + " " + series.field) + "\"><figcaption><span class=\"field\">" +
              escape(describe_field(field)) + "</span> <span class=\"dir\">(" + to_string(series.direction) +
              ")</span></figcaption>\n";
      html += render_chart(series, runs);
      html += "</figure>\n";
    }
    html += "</div>\n";
  }
  html += "</body></html>\n";

  if (summary != nullptr) {
    summary->runs = runs.size();
    summary->charts = series_by_key.size();
    summary->regressions = flags.size();
  }
  return html;
}

}  // namespace natcert::perf
