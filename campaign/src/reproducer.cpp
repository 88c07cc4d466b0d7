// Reproducers as pcapng (little endian): one section whose comment names the oracle, four interfaces
// of LINKTYPE_RAW ("inside" and "outside": packets natcert sent as emulated hosts on that side, in
// order; "dut-to-inside" and "dut-to-outside": what the DUT emitted when the finding was made), one
// Enhanced Packet Block per packet. Wireshark opens it as is; replay reads only the sent packets.
#include <array>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "engine.hpp"

namespace natcert::campaign {

namespace {

constexpr std::uint32_t section_header = 0x0A0D0D0Au;
constexpr std::uint32_t interface_description = 1;
constexpr std::uint32_t enhanced_packet = 6;
constexpr std::uint32_t byte_order_magic = 0x1A2B3C4Du;
constexpr std::uint16_t linktype_raw = 101;
constexpr std::string_view comment_prefix = "natcert-fuzz-reproducer oracle=";
const std::array<std::string_view, 4> interface_names{"inside", "outside", "dut-to-inside", "dut-to-outside"};

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void pad4(std::vector<std::uint8_t>& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}
void put_option(std::vector<std::uint8_t>& out, std::uint16_t code, std::string_view value) {
  put16(out, code);
  put16(out, static_cast<std::uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  pad4(out);
}

void put_block(std::vector<std::uint8_t>& file, std::uint32_t type, const std::vector<std::uint8_t>& body) {
  const auto length = static_cast<std::uint32_t>(12 + body.size());
  put32(file, type);
  put32(file, length);
  file.insert(file.end(), body.begin(), body.end());
  put32(file, length);
}

void put_packet(std::vector<std::uint8_t>& file, std::uint32_t interface, std::uint64_t micros, const harness::Packet& bytes) {
  std::vector<std::uint8_t> body;
  put32(body, interface);
  put32(body, static_cast<std::uint32_t>(micros >> 32));
  put32(body, static_cast<std::uint32_t>(micros));
  put32(body, static_cast<std::uint32_t>(bytes.size()));
  put32(body, static_cast<std::uint32_t>(bytes.size()));
  body.insert(body.end(), bytes.begin(), bytes.end());
  pad4(body);
  put_block(file, enhanced_packet, body);
}

std::uint32_t get32(const std::vector<std::uint8_t>& data, std::size_t at) {
  return static_cast<std::uint32_t>(data[at]) | static_cast<std::uint32_t>(data[at + 1]) << 8 |
         static_cast<std::uint32_t>(data[at + 2]) << 16 | static_cast<std::uint32_t>(data[at + 3]) << 24;
}
std::uint16_t get16(const std::vector<std::uint8_t>& data, std::size_t at) {
  return static_cast<std::uint16_t>(data[at] | data[at + 1] << 8);
}

// Options from `at` to `end`: code -> value (the first of each code).
std::vector<std::pair<std::uint16_t, std::string>> read_options(const std::vector<std::uint8_t>& data, std::size_t at,
                                                                std::size_t end) {
  std::vector<std::pair<std::uint16_t, std::string>> options;
  while (at + 4 <= end) {
    const std::uint16_t code = get16(data, at);
    const std::uint16_t length = get16(data, at + 2);
    if (code == 0) break;
    if (at + 4 + length > end) throw std::runtime_error("an option runs past its block");
    options.emplace_back(code, std::string(data.begin() + static_cast<std::ptrdiff_t>(at + 4),
                                           data.begin() + static_cast<std::ptrdiff_t>(at + 4 + length)));
    at += 4 + ((length + 3u) & ~3u);
  }
  return options;
}

}  // namespace

void write_reproducer(const Reproducer& reproducer, const std::filesystem::path& file) {
  std::vector<std::uint8_t> data;
  {
    std::vector<std::uint8_t> body;
    put32(body, byte_order_magic);
    put16(body, 1);
    put16(body, 0);
    put32(body, 0xFFFFFFFFu);  // section length unknown
    put32(body, 0xFFFFFFFFu);
    std::string comment = std::string(comment_prefix) + std::string(to_string(reproducer.oracle)) + "\n" + reproducer.detail;
    put_option(body, 1, comment);
    put_option(body, 4, "natcert fuzz");  // shb_userappl
    put32(body, 0);                       // opt_endofopt
    put_block(data, section_header, body);
  }
  for (const auto name : interface_names) {
    std::vector<std::uint8_t> body;
    put16(body, linktype_raw);
    put16(body, 0);
    put32(body, 65535);
    put_option(body, 2, name);  // if_name
    put32(body, 0);
    put_block(data, interface_description, body);
  }
  std::uint64_t micros = 0;
  for (const auto& packet : reproducer.packets) put_packet(data, packet.side == harness::Side::inside ? 0 : 1, micros += 1000, packet.bytes);
  for (const auto& captured : reproducer.evidence) {
    put_packet(data, captured.side == harness::Side::inside ? 2 : 3,
               static_cast<std::uint64_t>(std::max<std::int64_t>(0, captured.at.count() / 1000)), captured.bytes);
  }
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

Reproducer read_reproducer(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open");
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string where = file.string() + ": ";
  if (data.size() < 28 || get32(data, 0) != section_header || get32(data, 8) != byte_order_magic) {
    throw std::runtime_error(where + "not a little-endian pcapng file (natcert fuzz reproducers are)");
  }
  Reproducer reproducer;
  bool have_oracle = false;
  std::vector<std::string> interfaces;
  std::size_t at = 0;
  try {
    while (at < data.size()) {
      if (at + 12 > data.size()) throw std::runtime_error("truncated block at byte " + std::to_string(at));
      const std::uint32_t type = get32(data, at);
      const std::uint32_t length = get32(data, at + 4);
      if (length < 12 || length % 4 != 0 || at + length > data.size() || get32(data, at + length - 4) != length) {
        throw std::runtime_error("bad block length at byte " + std::to_string(at));
      }
      const std::size_t body = at + 8;
      const std::size_t end = at + length - 4;
      if (type == section_header) {
        if (end < body + 16) throw std::runtime_error("short section header");
        for (const auto& [code, value] : read_options(data, body + 16, end)) {
          if (code != 1 || !value.starts_with(comment_prefix)) continue;
          const std::string rest = value.substr(comment_prefix.size());
          const auto newline = rest.find('\n');
          const auto oracle = parse_oracle(rest.substr(0, newline));
          if (!oracle) throw std::runtime_error("unknown oracle \"" + rest.substr(0, newline) + "\"");
          reproducer.oracle = *oracle;
          reproducer.detail = newline == std::string::npos ? "" : rest.substr(newline + 1);
          have_oracle = true;
        }
      } else if (type == interface_description) {
        if (end < body + 8 || get16(data, body) != linktype_raw) throw std::runtime_error("an interface is not LINKTYPE_RAW");
        std::string name;
        for (const auto& [code, value] : read_options(data, body + 8, end)) {
          if (code == 2) name = value;
        }
        interfaces.push_back(name);
      } else if (type == enhanced_packet) {
        if (end < body + 20) throw std::runtime_error("short packet block");
        const std::uint32_t interface = get32(data, body);
        const std::uint32_t captured = get32(data, body + 12);
        if (interface >= interfaces.size()) throw std::runtime_error("a packet names an undeclared interface");
        if (body + 20 + captured > end) throw std::runtime_error("a packet runs past its block");
        harness::Packet bytes(data.begin() + static_cast<std::ptrdiff_t>(body + 20),
                              data.begin() + static_cast<std::ptrdiff_t>(body + 20 + captured));
        const std::string& name = interfaces[interface];
        if (name == "inside" || name == "outside") {
          reproducer.packets.push_back({name == "inside" ? harness::Side::inside : harness::Side::outside, std::move(bytes)});
        } else if (name == "dut-to-inside" || name == "dut-to-outside") {
          reproducer.evidence.push_back({name == "dut-to-inside" ? harness::Side::inside : harness::Side::outside,
                                         harness::Duration{}, std::move(bytes)});
        } else {
          throw std::runtime_error("unknown interface \"" + name + "\"");
        }
      }
      at += length;
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(where + e.what());
  }
  if (!have_oracle) throw std::runtime_error(where + "no natcert fuzz comment naming the oracle");
  if (reproducer.packets.empty()) throw std::runtime_error(where + "no packet to send");
  return reproducer;
}

}  // namespace natcert::campaign
