// fuzz.json (the record) and fuzz.html (a small self-contained page) for a campaign.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine.hpp"

namespace natcert::campaign {

namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

nlohmann::json to_json(const CampaignReport& r) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"oracle", std::string(to_string(f.oracle))},
                        {"invariant", is_invariant(f.oracle)},
                        {"detail", f.detail},
                        {"template", f.seed_template},
                        {"mutation", f.mutation},
                        {"case", f.case_index},
                        {"occurrences", f.occurrences},
                        {"packets", f.packets},
                        {"minimized_packets", f.minimized_packets},
                        {"reproducer", f.reproducer}});
  }
  nlohmann::json by_oracle = nlohmann::json::object();
  for (Oracle o : {Oracle::dut_unresponsive, Oracle::inside_leak, Oracle::unsolicited, Oracle::bad_checksum,
                   Oracle::reference_difference}) {
    const auto it = r.findings_by_oracle.find(std::string(to_string(o)));
    by_oracle[std::string(to_string(o))] = it == r.findings_by_oracle.end() ? 0 : it->second;
  }
  return {{"schema", "natcert-fuzz"},
          {"schema_version", 1},
          {"dut", r.dut},
          {"reference", r.reference_spec},
          {"seed", r.seed},
          {"cases", r.cases},
          {"seconds", r.seconds},
          {"cases_per_second", r.cases_per_second()},
          {"packets_sent", r.packets_sent},
          {"packets_captured", r.packets_captured},
          {"sanity_probes", r.sanity_probes},
          {"sanity_failures", r.sanity_failures},
          {"end_reason", r.end_reason},
          {"operators", r.operator_counts},
          {"templates", r.template_counts},
          {"findings_by_oracle", by_oracle},
          {"invariant_findings", r.invariant_findings()},
          {"findings", findings}};
}

std::string counts_table(const std::map<std::string, std::uint64_t>& counts, const char* what) {
  std::string html = std::string("<table><tr><th>") + std::string(what) + "</th><th>cases</th></tr>";
  for (const auto& [name, count] : counts) {
    html += std::string("<tr><td>") + html_escape(name) + "</td><td class=n>" + std::to_string(count) + "</td></tr>";
  }
  return html + "</table>";
}

std::string to_html(const CampaignReport& r) {
  std::string html =
      "<!doctype html><html><head><meta charset=utf-8><title>natcert fuzz: " + html_escape(r.dut) +
      "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}.n{text-align:right}"
      ".bad{color:#a00;font-weight:bold}.diff{color:#a60}.ok{color:#070}code{font-size:90%}</style></head><body>";
  html += "<h1>natcert fuzz campaign</h1><table>";
  auto row = [&](const std::string& k, const std::string& v) { html += std::string("<tr><th>") + k + "</th><td>" + v + "</td></tr>"; };
  row("DUT", html_escape(r.dut));
  row("reference", r.reference_spec.empty() ? "none (difference oracle off)" : html_escape(r.reference_spec));
  row("seed", std::to_string(r.seed));
  row("cases", std::to_string(r.cases) + " in " + fixed(r.seconds) + " s (" + fixed(r.cases_per_second()) + " cases/s)");
  row("packets", std::to_string(r.packets_sent) + " sent, " + std::to_string(r.packets_captured) + " captured");
  row("sanity probes", std::to_string(r.sanity_probes) + " (" + std::to_string(r.sanity_failures) + " failed)");
  row("ended by", html_escape(r.end_reason));
  const std::size_t invariant = r.invariant_findings();
  row("verdict", invariant == 0 ? "<span class=ok>no invariant violated</span>"
                                : std::string("<span class=bad>") + std::to_string(invariant) + " distinct invariant finding(s)</span>");
  html += "</table><h2>Findings</h2>";
  if (r.findings.empty()) {
    html += "<p>None.</p>";
  } else {
    html += "<table><tr><th>oracle</th><th>seed / mutation</th><th>case</th><th>seen</th><th>packets</th><th>detail</th>"
            "<th>reproducer</th></tr>";
    for (const auto& f : r.findings) {
      html += std::string("<tr><td class=") + (is_invariant(f.oracle) ? "bad" : "diff") + ">" +
              std::string(to_string(f.oracle)) + "</td><td>" + html_escape(f.seed_template) + " / " +
              html_escape(f.mutation) + "</td><td class=n>" + std::to_string(f.case_index) + "</td><td class=n>" +
              std::to_string(f.occurrences) + "</td><td class=n>" + std::to_string(f.packets) +
              (f.minimized_packets ? std::string(" &rarr; ") + std::to_string(f.minimized_packets) : std::string()) + "</td><td>" +
              html_escape(f.detail) + "</td><td>" +
              (f.reproducer.empty() ? std::string("-")
                                    : std::string("<a href=\"") + html_escape(f.reproducer) + "\"><code>" + html_escape(f.reproducer) +
                                          "</code></a>") +
              "</td></tr>";
    }
    html += std::string("</table><p>Replay: <code>natcert fuzz --replay FILE --dut ") + html_escape(r.dut) +
            "</code> (exit 1 when the finding reproduces).</p>";
  }
  html += std::string("<h2>Findings by oracle</h2>") + counts_table(r.findings_by_oracle, "oracle");
  html += std::string("<h2>Mutation operators</h2>") + counts_table(r.operator_counts, "operator");
  html += std::string("<h2>Seed templates</h2>") + counts_table(r.template_counts, "template");
  return html + "</body></html>\n";
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

void write_campaign_report(const CampaignReport& report, const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create " + directory.string() + ": " + error.message());
  write_text(directory / "fuzz.json", to_json(report).dump(2) + "\n");
  write_text(directory / "fuzz.html", to_html(report));
}

}  // namespace natcert::campaign
