// pcap: classic libpcap header, LINKTYPE_RAW, one record per packet of the side, little endian.
#include <gtest/gtest.h>

#include <filesystem>

#include "fixtures.hpp"
#include "natcert/reports/reports.hpp"

using namespace natcert::reports;
using namespace std::chrono_literals;
using natcert::harness::Direction;
using natcert::harness::EvidencePacket;
using natcert::reports::testing::TempDir;

namespace {

std::uint32_t le32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
std::uint16_t le16(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}

}  // namespace

TEST(Pcap, GlobalHeader) {
  const auto bytes = pcap_bytes({}, Side::inside);
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_EQ(le32(bytes, 0), 0xA1B2C3D4u);
  EXPECT_EQ(bytes[0], 0xD4);  // little endian on every host
  EXPECT_EQ(le16(bytes, 4), 2);
  EXPECT_EQ(le16(bytes, 6), 4);
  EXPECT_EQ(le32(bytes, 8), 0u);
  EXPECT_EQ(le32(bytes, 12), 0u);
  EXPECT_EQ(le32(bytes, 16), 65535u);
  EXPECT_EQ(le32(bytes, 20), 101u);  // LINKTYPE_RAW
}

TEST(Pcap, RecordsForOneSide) {
  std::vector<EvidencePacket> evidence = {
      {1'500'002'000ns, Side::inside, Direction::sent, "a", {0x45, 1, 2, 3}, false, ""},
      {2s, Side::outside, Direction::captured, "b", {0x45, 9}, true, ""},
      {3'000'001'999ns, Side::inside, Direction::captured, "c", {0x45, 4, 5}, false, ""},
  };
  const auto bytes = pcap_bytes(evidence, Side::inside);
  ASSERT_EQ(bytes.size(), 24u + 16 + 4 + 16 + 3);
  EXPECT_EQ(le32(bytes, 24), 1u);        // ts_sec
  EXPECT_EQ(le32(bytes, 28), 500002u);   // ts_usec
  EXPECT_EQ(le32(bytes, 32), 4u);        // incl_len
  EXPECT_EQ(le32(bytes, 36), 4u);        // orig_len
  EXPECT_EQ(bytes[40], 0x45);
  EXPECT_EQ(le32(bytes, 44), 3u);
  EXPECT_EQ(le32(bytes, 48), 1u);        // truncated to microseconds
  EXPECT_EQ(le32(bytes, 52), 3u);
  EXPECT_EQ(bytes[62], 5);

  const auto outside = pcap_bytes(evidence, Side::outside);
  ASSERT_EQ(outside.size(), 24u + 16 + 2);
  EXPECT_EQ(le32(outside, 24), 2u);
  EXPECT_EQ(le32(outside, 28), 0u);
}

TEST(Pcap, NegativeTimesClampToZero) {
  std::vector<EvidencePacket> evidence = {{-5s, Side::inside, Direction::sent, "", {0x45}, false, ""}};
  const auto bytes = pcap_bytes(evidence, Side::inside);
  EXPECT_EQ(le32(bytes, 24), 0u);
  EXPECT_EQ(le32(bytes, 28), 0u);
}

TEST(Pcap, FileNamesAreSafe) {
  EXPECT_EQ(pcap_file_name("rfc4787.req1.mapping.udp", Side::inside), "rfc4787.req1.mapping.udp.inside.pcap");
  EXPECT_EQ(pcap_file_name("rfc4787.req1", Side::outside), "rfc4787.req1.outside.pcap");
  EXPECT_EQ(pcap_file_name("../../etc/passwd", Side::inside), "_._.._etc_passwd.inside.pcap");
  EXPECT_EQ(pcap_file_name("", Side::inside), "_.inside.pcap");
}

TEST(Pcap, WritesBothSidesOfTestsWithEvidence) {
  TempDir dir;
  const auto run = natcert::reports::testing::hostile_run();
  // A stale capture from an earlier run is removed.
  std::filesystem::create_directories(dir.path() / "pcap");
  write_text_file(dir.path() / "pcap" / "stale.inside.pcap", "old");
  // A wire testbed's whole-side capture of this very run stays.
  write_text_file(dir.path() / "pcap" / "netns-inside.pcap", "this run");
  const auto written = write_pcaps(run, dir.path() / "pcap");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "pcap" / "stale.inside.pcap"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "pcap" / "netns-inside.pcap"));
  // sanity.begin, two tests with evidence, sanity.end: two files each.
  EXPECT_EQ(written.size(), 8u);
  const auto inside = dir.path() / "pcap" / "rfc4787.req1.mapping.udp.inside.pcap";
  ASSERT_TRUE(std::filesystem::exists(inside));
  EXPECT_EQ(std::filesystem::file_size(inside), 24u + 16 + 4);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "pcap" / "rfc4787.req2.pooling.inside.pcap"));  // no evidence
}
