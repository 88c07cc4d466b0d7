// Timer | bracket | decided by: one row per measured lifetime, with the RFC minimum it is held to, so
// "alive at 14 s, expired by 15 s" reads next to "at least 2 min". The bracket comes from parallel
// bisection: the longest idle time a probe found the flow alive and the shortest it found it dead.
#include "html_timers.hpp"

#include <string_view>

#include "common.hpp"

namespace natcert::reports::detail {
namespace {

struct KnownTimer {
  std::string_view key;
  std::string_view name;
  std::string_view minimum;  // what the RFCs require, for the reader
};

constexpr KnownTimer kKnown[] = {
    {"udp.mapping-lifetime", "UDP mapping", "at least 2 min (RFC 4787 REQ-5), 5 min recommended (REQ-5c)"},
    {"udp.mapping-lifetime.port-53", "UDP mapping, destination port 53", "may be shorter (RFC 4787 REQ-5a)"},
    {"tcp.established-lifetime", "TCP established", "at least 2 h 4 min (RFC 5382 REQ-5)"},
    {"tcp.syn-sent-lifetime", "TCP SYN sent (half-open)", "at least 4 min (RFC 5382 REQ-5)"},
    {"tcp.fin-sent-lifetime", "TCP FIN sent (half-closed)", "at least 4 min (RFC 5382 REQ-5)"},
    {"tcp.time-wait-lifetime", "TCP both FINs (TIME_WAIT)", "at least 4 min (RFC 5382 REQ-5)"},
    {"icmp.query-lifetime", "ICMP query session", "at least 60 s (RFC 5508 REQ-2)"},
};

const KnownTimer* known(std::string_view key) {
  for (const auto& timer : kKnown) {
    if (timer.key == key) return &timer;
  }
  return nullptr;
}

bool is_timer_fact(std::string_view key) {
  return key.ends_with("-lifetime") || key.find("-lifetime.") != std::string_view::npos || key.starts_with("timer.");
}

std::string test_link(std::string_view test_id) {
  return "<a href=\"#test-" + safe_name(test_id) + "\">" + html_escape(test_id) + "</a>";
}

std::string fact(const harness::RunResult& run, std::string_view key) {
  for (const auto& entry : run.profile) {
    if (entry.key == key) return entry.value;
  }
  return {};
}

void timers_table(std::string& out, const harness::RunResult& run) {
  std::string rows;
  for (const auto& entry : run.profile) {
    if (!is_timer_fact(entry.key)) continue;
    const KnownTimer* timer = known(entry.key);
    rows += "<tr><td>" + html_escape(timer ? timer->name : entry.key) + "</td><td>" + html_escape(entry.value) +
            "</td><td>" + html_escape(timer ? timer->minimum : "") + "</td><td>" +
            (entry.test_id.empty() ? std::string() : test_link(entry.test_id)) + "</td></tr>\n";
  }
  const std::string refresh_out = fact(run, "udp.refresh.outbound");
  const std::string refresh_in = fact(run, "udp.refresh.inbound");
  if (rows.empty() && refresh_out.empty() && refresh_in.empty()) return;
  out += "<section id=\"timers\">\n<h2>Timers</h2>\n"
         "<p class=\"muted\">Measured by parallel bisection, a flow of its own per probe: \"alive at A, expired by "
         "E\" means the longest idle time a probe found the flow alive and the shortest it found it gone. On a "
         "wire DUT the timer budget may end a search early; the bracket then gives the lower bound "
         "established.</p>\n";
  if (!rows.empty()) {
    out += "<table>\n<tr><th>Timer</th><th>Measured</th><th>Required</th><th>Measured by</th></tr>\n" + rows +
           "</table>\n";
  }
  if (!refresh_out.empty() || !refresh_in.empty()) {
    out += "<p>UDP mapping refreshed by outbound packets: <strong>" + html_escape(refresh_out.empty() ? "not measured" : refresh_out) +
           "</strong> (MUST, RFC 4787 REQ-6); by inbound packets: <strong>" +
           html_escape(refresh_in.empty() ? "not measured" : refresh_in) + "</strong> (MAY, REQ-6a)</p>\n";
  }
  out += "</section>\n";
}

void protocols_table(std::string& out, const harness::RunResult& run) {
  const std::string udp_filtering = fact(run, "udp.filtering");
  const std::string tcp_filtering = fact(run, "tcp.filtering");
  if (udp_filtering.empty() && tcp_filtering.empty()) return;
  const auto cell = [](const std::string& value) {
    return "<td>" + html_escape(value.empty() ? std::string("not measured") : value) + "</td>";
  };
  const auto row = [&](std::string_view what, std::string_view udp_key, std::string_view tcp_key) {
    return "<tr><td>" + std::string(what) + "</td>" + cell(fact(run, udp_key)) + cell(fact(run, tcp_key)) + "</tr>\n";
  };
  out += "<section id=\"protocols\">\n<h2>UDP and TCP side by side</h2>\n<table>\n"
         "<tr><th>Behaviour</th><th>UDP (RFC 4787)</th><th>TCP (RFC 5382)</th></tr>\n";
  out += row("Mapping (UDP REQ-1, TCP REQ-1)", "udp.mapping", "tcp.mapping");
  out += row("Filtering (UDP REQ-8, TCP REQ-3)", "udp.filtering", "tcp.filtering");
  out += row("Hairpinning (UDP REQ-9, TCP REQ-8)", "hairpinning", "tcp.hairpinning");
  out += row("Idle lifetime", "udp.mapping-lifetime", "tcp.established-lifetime");
  out += "</table>\n";
  if (!udp_filtering.empty() && !tcp_filtering.empty() && udp_filtering != tcp_filtering) {
    out += "<p>The DUT filters TCP (" + html_escape(tcp_filtering) + ") differently from UDP (" +
           html_escape(udp_filtering) + ").</p>\n";
  }
  out += "</section>\n";
}

}  // namespace

void html_timers_section(std::string& out, const harness::RunResult& run) {
  protocols_table(out, run);
  timers_table(out, run);
}

}  // namespace natcert::reports::detail
