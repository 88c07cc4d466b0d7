#include "alg_sip_parse.hpp"

#include <charconv>

namespace natcert::ref::sip {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxMessage = 65535;
constexpr std::size_t kMaxMediaSections = 16;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// Replaces, in a Via or Contact value, each host:port naming the translated endpoint. An address that
// names another port of the host is left alone: rewriting half an endpoint would be nonsense.
bool rewrite_endpoints(std::string& value, const Translation& t) {
  const std::string from = format_ipv4(t.from_address);
  const std::string to = format_ipv4(t.to_address);
  bool changed = false;
  std::size_t at = 0;
  while ((at = value.find(from, at)) != std::string::npos) {
    const std::size_t end = at + from.size();
    const bool starts_clean = at == 0 || !(is_digit(value[at - 1]) || value[at - 1] == '.');
    const bool ends_clean = end == value.size() || !(is_digit(value[end]) || value[end] == '.');
    if (!starts_clean || !ends_clean) {
      at = end;
      continue;
    }
    std::size_t port_end = end;
    std::optional<std::uint16_t> port;
    if (end < value.size() && value[end] == ':') {
      port_end = end + 1;
      while (port_end < value.size() && is_digit(value[port_end])) ++port_end;
      port = parse_port(std::string_view(value).substr(end + 1, port_end - end - 1));
      if (!port) {
        at = end;
        continue;
      }
    }
    const std::uint16_t named = port.value_or(5060);  // RFC 3261 §19.1.2: SIP over UDP defaults to 5060
    if (named != t.from_port) {
      at = port_end;
      continue;
    }
    std::string replacement = to;
    if (port || t.to_port != 5060) replacement += ":" + std::to_string(t.to_port);
    value.replace(at, port_end - at, replacement);
    at += replacement.size();
    changed = true;
  }
  return changed;
}

struct Line {
  std::string_view text;  // without its terminator
  std::string_view end;   // "\r\n", "\n" or "" (last line)
};

std::vector<Line> split_lines(std::string_view body) {
  std::vector<Line> lines;
  while (!body.empty()) {
    const std::size_t newline = body.find('\n');
    if (newline == std::string_view::npos) {
      lines.push_back({body, {}});
      break;
    }
    const bool crlf = newline > 0 && body[newline - 1] == '\r';
    lines.push_back({body.substr(0, crlf ? newline - 1 : newline), body.substr(crlf ? newline - 1 : newline,
                                                                               crlf ? 2 : 1)});
    body.remove_prefix(newline + 1);
  }
  return lines;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    if (space != 0) out.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

// "IN IP4 a.b.c.d[/ttl[/n]]": the address part of a c= line, or nullopt.
std::optional<Ipv4Address> connection_address(std::string_view value) {
  const auto parts = words(value);
  if (parts.size() != 3 || parts[0] != "IN" || parts[1] != "IP4") return std::nullopt;
  return parse_ipv4_address(parts[2].substr(0, parts[2].find('/')));
}

struct MediaSection {
  std::size_t m_line = 0;
  std::optional<Ipv4Address> connection;  // its own c=, if any
};

// Rewrites an SDP body; nullopt when it is not SDP this ALG understands or mapping failed.
std::optional<std::string> rewrite_sdp(std::string_view body, const Translation& t, const MediaMapper& mapper,
                                       Mutant mutant, std::vector<std::uint16_t>& media_ports, bool& changed) {
  const std::vector<Line> lines = split_lines(body);
  if (lines.empty() || lines.front().text != "v=0") return std::nullopt;
  std::optional<Ipv4Address> session_connection;
  std::vector<MediaSection> media;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view text = lines[i].text;
    if (text.size() < 2 || text[1] != '=') {
      if (text.empty() && i + 1 == lines.size()) continue;
      return std::nullopt;  // every SDP line is <type>=<value> (RFC 4566 §5)
    }
    if (text[0] == 'm') {
      if (media.size() == kMaxMediaSections) return std::nullopt;
      media.push_back({i, std::nullopt});
    } else if (text[0] == 'c') {
      const auto address = connection_address(text.substr(2));
      if (!address) return std::nullopt;
      (media.empty() ? session_connection : media.back().connection) = address;
    }
  }
  const Ipv4Address wrong = t.to_address + 1;  // the mutant's neighbour of the right address
  const std::string to_text = format_ipv4(mutant == Mutant::wrong_sdp_address ? wrong : t.to_address);
  std::string out;
  out.reserve(body.size() + 64);
  std::size_t section = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string text(lines[i].text);
    while (section < media.size() && media[section].m_line < i) ++section;
    if (text.starts_with("c=") && connection_address(std::string_view(text).substr(2)) == t.from_address) {
      const std::string_view address = words(std::string_view(text).substr(2))[2];
      const std::size_t address_at = static_cast<std::size_t>(address.data() - text.data());
      text.replace(address_at, address.substr(0, address.find('/')).size(), to_text);
      changed = true;
    } else if (text.starts_with("o=")) {
      const auto parts = words(std::string_view(text).substr(2));
      if (parts.size() == 6 && parts[3] == "IN" && parts[4] == "IP4" && parse_ipv4_address(parts[5]) == t.from_address) {
        text.replace(static_cast<std::size_t>(parts[5].data() - text.data()), parts[5].size(),
                     format_ipv4(t.to_address));
        changed = true;
      }
    } else if (text.starts_with("m=") && mapper) {
      const MediaSection& m = media[section];
      const auto connection = m.connection ? m.connection : session_connection;
      const auto parts = words(std::string_view(text).substr(2));
      if (connection == t.from_address && parts.size() >= 3) {
        const std::string_view port_text = parts[1].substr(0, parts[1].find('/'));
        const auto port = parse_port(port_text);
        if (!port && port_text != "0") return std::nullopt;
        if (port) {
          const auto mapped = mapper(*port);
          if (!mapped) return std::nullopt;
          media_ports.push_back(*port);
          if (*mapped != *port) {
            const std::size_t port_at = static_cast<std::size_t>(port_text.data() - text.data());
            text.replace(port_at, port_text.size(), std::to_string(*mapped));
            changed = true;
          }
        }
      }
    }
    out += text;
    out += lines[i].end;
  }
  return out;
}

}  // namespace

bool is_sip_start_line(std::string_view line) {
  if (line.starts_with("SIP/2.0 ")) {
    return line.size() >= 11 && is_digit(line[8]) && is_digit(line[9]) && is_digit(line[10]) &&
           (line.size() == 11 || line[11] == ' ');
  }
  const std::size_t first = line.find(' ');
  if (first == std::string_view::npos || first == 0) return false;
  for (std::size_t i = 0; i < first; ++i) {
    if (line[i] < 'A' || line[i] > 'Z') return false;
  }
  const std::size_t second = line.find(' ', first + 1);
  return second != std::string_view::npos && second > first + 1 && line.substr(second + 1) == "SIP/2.0";
}

std::optional<std::size_t> parse_content_length(std::string_view value) {
  value = trim(value);
  if (value.empty() || value.size() > 7) return std::nullopt;
  std::size_t length = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (error != std::errc{} || end != value.data() + value.size() || !is_digit(value.front())) return std::nullopt;
  return length;
}

std::string canonical_header(std::string_view name) {
  std::string out;
  for (char c : trim(name)) out += lower(c);
  if (out == "v") return "via";
  if (out == "m") return "contact";
  if (out == "l") return "content-length";
  if (out == "c") return "content-type";
  return out;
}

std::optional<Rewritten> rewrite(std::string_view message, const Translation& t, const MediaMapper& mapper,
                                 Mutant mutant) {
  if (message.size() > kMaxMessage) return std::nullopt;
  const std::size_t header_end = message.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return std::nullopt;
  const std::string_view head = message.substr(0, header_end);
  std::string_view rest = message.substr(header_end + 4);

  Rewritten result;
  std::string headers;
  bool changed = false;
  std::optional<std::size_t> content_length;
  std::size_t length_value_at = std::string::npos;  // in `headers`
  std::size_t length_value_size = 0;
  bool sdp = false;
  bool first = true;
  std::string_view remaining = head;
  for (;;) {
    const std::size_t eol = remaining.find(kCrlf);
    const std::string_view line = remaining.substr(0, eol);
    if (first) {
      if (!is_sip_start_line(line)) return std::nullopt;
      headers += line;
      first = false;
    } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      headers += line;  // a folded continuation: kept as it is
    } else {
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return std::nullopt;
      const std::string name = canonical_header(line.substr(0, colon));
      std::string value(line.substr(colon + 1));
      if (name == "content-length") {
        if (content_length) return std::nullopt;  // two lengths: which one is right is anyone's guess
        content_length = parse_content_length(value);
        if (!content_length) return std::nullopt;
        const std::string_view digits = trim(value);
        length_value_at = headers.size() + colon + 1 + static_cast<std::size_t>(digits.data() - value.data());
        length_value_size = digits.size();
      } else if (name == "content-type") {
        std::string type;
        for (char c : trim(value)) type += lower(c);
        sdp = type.starts_with("application/sdp");
      } else if (name == "via" || name == "contact") {
        changed = rewrite_endpoints(value, t) || changed;
      }
      headers.append(line.substr(0, colon + 1));
      headers += value;
    }
    headers += kCrlf;
    if (eol == std::string_view::npos) break;
    remaining.remove_prefix(eol + 2);
  }

  std::string_view body = rest;
  std::string_view trailer;
  if (content_length) {
    if (*content_length > rest.size()) return std::nullopt;  // claims more than the datagram holds
    body = rest.substr(0, *content_length);
    trailer = rest.substr(*content_length);
  }
  std::string new_body(body);
  if (sdp && !body.empty()) {
    auto sdp_out = rewrite_sdp(body, t, mapper, mutant, result.media_ports, changed);
    if (!sdp_out) return std::nullopt;
    new_body = std::move(*sdp_out);
  }
  if (!changed) return std::nullopt;
  if (content_length && new_body.size() != body.size() && mutant != Mutant::stale_content_length) {
    headers.replace(length_value_at, length_value_size, std::to_string(new_body.size()));
  }
  result.message = std::move(headers);
  result.message += kCrlf;
  result.message += new_body;
  result.message += trailer;
  if (result.message.size() > kMaxMessage) return std::nullopt;
  return result;
}

}  // namespace natcert::ref::sip
