// Classic libpcap capture files, written by hand (no libpcap dependency):
//   global header: magic a1b2c3d4, version 2.4, thiszone 0, sigfigs 0, snaplen, linktype
//   per record:    ts_sec, ts_usec, incl_len, orig_len, then incl_len bytes
// All fields little endian (readers detect the byte order from the magic).
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "common.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

constexpr std::uint32_t pcap_magic = 0xA1B2C3D4u;  // microsecond timestamps
constexpr std::uint32_t snaplen = 65535;           // the largest IPv4 packet

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
}

}  // namespace

std::vector<std::uint8_t> pcap_bytes(const std::vector<harness::EvidencePacket>& evidence, Side side) {
  std::vector<std::uint8_t> out;
  put32(out, pcap_magic);
  put16(out, 2);  // version major
  put16(out, 4);  // version minor
  put32(out, 0);  // thiszone
  put32(out, 0);  // sigfigs
  put32(out, snaplen);
  put32(out, pcap_linktype_raw);
  for (const auto& packet : evidence) {
    if (packet.side != side) continue;
    // Times come from the testbed (or from JSON): clamp what a 32-bit seconds field cannot hold.
    const long long ns = std::max<long long>(0, packet.at.count());
    const unsigned long long micros = static_cast<unsigned long long>(ns) / 1000ull;
    const unsigned long long seconds = std::min<unsigned long long>(micros / 1000000ull, 0xFFFFFFFFull);
    const auto length = static_cast<std::uint32_t>(std::min<std::size_t>(packet.bytes.size(), 0xFFFFFFFFu));
    const std::uint32_t captured = std::min(length, snaplen);
    put32(out, static_cast<std::uint32_t>(seconds));
    put32(out, static_cast<std::uint32_t>(micros % 1000000ull));
    put32(out, captured);
    put32(out, length);
    out.insert(out.end(), packet.bytes.begin(), packet.bytes.begin() + captured);
  }
  return out;
}

std::string pcap_file_name(std::string_view test_id, Side side) {
  return detail::safe_name(test_id) + "." + std::string(detail::side_name(side)) + ".pcap";
}

std::vector<std::filesystem::path> write_pcaps(const RunResult& run, const std::filesystem::path& directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw ReportError("cannot create " + directory.string() + ": " + error.message());
  // Per-test captures of an earlier run in the same directory would be mistaken for this run's. Only
  // files named like ours go: a wire testbed writes its whole-side captures ("netns-inside.pcap")
  // into the same directory during the run.
  auto per_test_capture = [](const fs::path& path) {
    const std::string name = path.filename().string();
    return name.ends_with(".inside.pcap") || name.ends_with(".outside.pcap");
  };
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    std::error_code ignored;
    if (per_test_capture(it->path()) && it->is_regular_file(ignored)) stale.push_back(it->path());
  }
  if (error) throw ReportError("cannot list " + directory.string() + ": " + error.message());
  for (const auto& path : stale) {
    std::error_code ignored;  // a capture that cannot be removed is overwritten or left; no reason to stop
    fs::remove(path, ignored);  // not while iterating: whether the iterator then skips entries is unspecified
  }

  std::vector<fs::path> written;
  auto write_test = [&](const TestResult& test) {
    if (test.evidence.empty()) return;
    for (Side side : {Side::inside, Side::outside}) {
      const fs::path path = directory / pcap_file_name(test.id, side);
      write_binary_file(path, pcap_bytes(test.evidence, side));
      written.push_back(path);
    }
  };
  if (run.sanity_begin) write_test(*run.sanity_begin);
  for (const auto& test : run.tests) write_test(test);
  if (run.sanity_end) write_test(*run.sanity_end);
  return written;
}

}  // namespace natcert::reports
