// FTP control-line parsing for the reference FTP ALG. Strict on purpose: a line that is not exactly
// one of the four endpoint-carrying forms is left alone (RFC 3027 §4.1: rewriting nonsense is worse
// than not rewriting).
#include "natcert/reference/alg_ftp.hpp"

namespace natcert::ref::ftp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_word(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(line[i]) != lower(word[i])) return false;
  }
  return true;
}

// A decimal number of 1..max_digits digits at `pos`, at most `limit`; advances `pos`.
std::optional<std::uint32_t> number(std::string_view text, std::size_t& pos, std::size_t max_digits,
                                    std::uint32_t limit) {
  std::size_t digits = 0;
  std::uint32_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (++digits > max_digits) return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(text[pos] - '0');
    ++pos;
  }
  if (digits == 0 || value > limit) return std::nullopt;
  return value;
}

bool only_spaces_from(std::string_view text, std::size_t pos) {
  for (; pos < text.size(); ++pos) {
    if (text[pos] != ' ') return false;
  }
  return true;
}

// "h1,h2,h3,h4,p1,p2" at `pos` (RFC 959 host-port); fills the announcement and advances `pos`.
bool host_port(std::string_view text, std::size_t& pos, Announcement& found) {
  std::uint32_t values[6];
  for (int i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != ',') return false;
      ++pos;
    }
    const auto value = number(text, pos, 3, 255);
    if (!value) return false;
    values[i] = *value;
  }
  found.address = (values[0] << 24) | (values[1] << 16) | (values[2] << 8) | values[3];
  found.port = static_cast<std::uint16_t>((values[4] << 8) | values[5]);
  return found.port != 0;
}

std::optional<Announcement> parse_port(std::string_view line) {
  if (!starts_with_word(line, "PORT ")) return std::nullopt;
  std::size_t pos = 5;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  Announcement found{Message::port, pos, pos, 0, 0, '|'};
  if (!host_port(line, pos, found) || !only_spaces_from(line, pos)) return std::nullopt;
  found.end = pos;
  return found;
}

std::optional<Announcement> parse_eprt(std::string_view line) {
  if (!starts_with_word(line, "EPRT ")) return std::nullopt;
  std::size_t pos = 5;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  Announcement found{Message::eprt, pos, pos, 0, 0, '|'};
  if (pos >= line.size() || line[pos] < 33 || line[pos] > 126 || is_digit(line[pos]) || line[pos] == '.') {
    return std::nullopt;
  }
  const char d = line[pos++];
  found.delimiter = d;
  // <d>1<d>a.b.c.d<d>port<d>
  if (pos + 1 >= line.size() || line[pos] != '1' || line[pos + 1] != d) return std::nullopt;
  pos += 2;
  std::uint32_t address = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= line.size() || line[pos] != '.') return std::nullopt;
      ++pos;
    }
    const auto octet = number(line, pos, 3, 255);
    if (!octet) return std::nullopt;
    address = (address << 8) | *octet;
  }
  if (pos >= line.size() || line[pos] != d) return std::nullopt;
  ++pos;
  const auto port = number(line, pos, 5, 65535);
  if (!port || *port == 0 || pos >= line.size() || line[pos] != d) return std::nullopt;
  ++pos;
  if (!only_spaces_from(line, pos)) return std::nullopt;
  found.address = address;
  found.port = static_cast<std::uint16_t>(*port);
  found.end = pos;
  return found;
}

std::optional<Announcement> parse_227(std::string_view line) {
  if (line.size() < 4 || line.substr(0, 4) != "227 ") return std::nullopt;
  // RFC 1123 §4.1.2.6: the reply text may vary; clients scan for the first digit of h1.
  std::size_t pos = line.find('(', 4);
  if (pos == std::string_view::npos) {
    pos = 4;
    while (pos < line.size() && !is_digit(line[pos])) ++pos;
  } else {
    ++pos;
  }
  Announcement found{Message::passive_reply, pos, pos, 0, 0, '|'};
  if (!host_port(line, pos, found)) return std::nullopt;
  if (pos < line.size() && is_digit(line[pos])) return std::nullopt;
  found.end = pos;
  return found;
}

std::optional<Announcement> parse_229(std::string_view line) {
  if (line.size() < 4 || line.substr(0, 4) != "229 ") return std::nullopt;
  std::size_t pos = line.find('(', 4);
  if (pos == std::string_view::npos) return std::nullopt;
  ++pos;
  Announcement found{Message::extended_passive_reply, pos, pos, 0, 0, '|'};
  // (<d><d><d>port<d>)
  if (pos + 3 > line.size()) return std::nullopt;
  const char d = line[pos];
  if (d < 33 || d > 126 || is_digit(d) || line[pos + 1] != d || line[pos + 2] != d) return std::nullopt;
  pos += 3;
  const auto port = number(line, pos, 5, 65535);
  if (!port || *port == 0 || pos >= line.size() || line[pos] != d) return std::nullopt;
  ++pos;
  if (pos >= line.size() || line[pos] != ')') return std::nullopt;
  found.delimiter = d;
  found.port = static_cast<std::uint16_t>(*port);
  found.end = pos;
  return found;
}

std::string decimal(std::uint32_t value) { return std::to_string(value); }

}  // namespace

std::optional<Announcement> parse_line(std::string_view line, bool from_client) {
  if (from_client) {
    if (auto found = parse_port(line)) return found;
    return parse_eprt(line);
  }
  if (auto found = parse_227(line)) return found;
  return parse_229(line);
}

std::string format_endpoint(Message message, Ipv4Address address, std::uint16_t port, char delimiter) {
  std::string text;
  switch (message) {
    case Message::port:
    case Message::passive_reply:
      for (int shift = 24; shift >= 0; shift -= 8) {
        text += decimal((address >> shift) & 0xffu);
        text += ',';
      }
      text += decimal(port >> 8u);
      text += ',';
      text += decimal(port & 0xffu);
      return text;
    case Message::eprt:
      text += delimiter;
      text += '1';
      text += delimiter;
      for (int shift = 24; shift >= 0; shift -= 8) {
        text += decimal((address >> shift) & 0xffu);
        if (shift > 0) text += '.';
      }
      text += delimiter;
      text += decimal(port);
      text += delimiter;
      return text;
    case Message::extended_passive_reply:
      text.append(3, delimiter);
      text += decimal(port);
      text += delimiter;
      return text;
  }
  return text;
}

bool is_epsv_all(std::string_view line) {
  if (!starts_with_word(line, "EPSV ")) return false;
  std::size_t pos = 5;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  return starts_with_word(line.substr(pos), "ALL") && only_spaces_from(line, pos + 3);
}

}  // namespace natcert::ref::ftp
