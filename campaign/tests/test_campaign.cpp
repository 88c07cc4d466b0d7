// The campaign engine against the in-process reference: clean on rfc-strict, finds the leak of a
// mutant that does not rewrite the outer source of outbound ICMP errors, writes reproducers that
// replay; the oracles and the operators on their own.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine.hpp"
#include "natcert/campaign/campaign.hpp"
#include "natcert/harness/craft.hpp"
#include "natcert/harness/inprocess_testbed.hpp"

namespace natcert::campaign {
namespace {

using harness::ipv4;
using harness::Side;

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("natcert-campaign-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

CampaignOptions quick(std::uint64_t cases) {
  CampaignOptions options;
  options.max_cases = cases;
  options.duration = std::chrono::seconds(60);
  options.sanity_every = 25;
  return options;
}

TEST(Campaign, CompliantReferenceShowsNoInvariantFinding) {
  harness::InProcessTestbed testbed("rfc-strict");
  CampaignOptions options = quick(400);
  options.reference_spec = "rfc-strict";
  const CampaignReport report = run_campaign(testbed, "reference:rfc-strict", options);
  EXPECT_EQ(report.cases, 400u);
  EXPECT_EQ(report.end_reason, "max-cases");
  for (const auto& f : report.findings) ADD_FAILURE() << to_string(f.oracle) << ": " << f.detail;
  std::uint64_t counted = 0;
  for (const auto& [name, count] : report.operator_counts) counted += count;
  EXPECT_EQ(counted, report.cases);
  EXPECT_GE(report.operator_counts.size(), operator_names().size());  // every operator, and "none"
  EXPECT_EQ(report.template_counts.size(), template_names().size());
  EXPECT_GT(report.sanity_probes, 10u);
  EXPECT_EQ(report.sanity_failures, 0u);
}

TEST(Campaign, SameSeedSameCampaignOnVirtualTime) {
  harness::InProcessTestbed testbed("rfc-strict");
  const auto a = run_campaign(testbed, "x", quick(100));
  const auto b = run_campaign(testbed, "x", quick(100));
  EXPECT_EQ(a.operator_counts, b.operator_counts);
  EXPECT_EQ(a.packets_sent, b.packets_sent);
  EXPECT_EQ(a.packets_captured, b.packets_captured);
}

TEST(Campaign, LeakingMutantIsFoundMinimisedAndReplayed) {
  const std::string mutant = "rfc-strict,icmp.rewrite-outer-source=false";
  harness::InProcessTestbed testbed(mutant);
  CampaignOptions options = quick(400);
  options.out = scratch("leak");
  const CampaignReport report = run_campaign(testbed, "reference:" + mutant, options);
  const Finding* leak = nullptr;
  for (const auto& f : report.findings) {
    if (f.oracle == Oracle::inside_leak && !f.reproducer.empty()) leak = &f;
  }
  ASSERT_NE(leak, nullptr) << "no inside-leak finding in " << report.cases << " cases";
  EXPECT_GT(report.invariant_findings(), 0u);
  EXPECT_GE(leak->minimized_packets, 1u);
  EXPECT_LE(leak->minimized_packets, leak->packets);

  const Reproducer reproducer = read_reproducer(options.out / leak->reproducer);
  EXPECT_EQ(reproducer.oracle, Oracle::inside_leak);
  EXPECT_EQ(reproducer.packets.size(), leak->minimized_packets);
  EXPECT_TRUE(replay(testbed, reproducer, options).reproduced);
  harness::InProcessTestbed compliant("rfc-strict");
  EXPECT_FALSE(replay(compliant, reproducer, options).reproduced);

  write_campaign_report(report, options.out);
  EXPECT_TRUE(std::filesystem::is_regular_file(options.out / "fuzz.json"));
  EXPECT_TRUE(std::filesystem::is_regular_file(options.out / "fuzz.html"));
  std::filesystem::remove_all(options.out);
}

TEST(Campaign, DifferenceFromAnotherReferenceIsReportedNotAnInvariant) {
  harness::InProcessTestbed testbed("rfc-strict,udp.filtering=endpoint-independent");
  CampaignOptions options = quick(300);
  options.reference_spec = "rfc-strict";
  const CampaignReport report = run_campaign(testbed, "x", options);
  EXPECT_EQ(report.invariant_findings(), 0u);
  EXPECT_GT(report.findings_by_oracle.count("reference-difference"), 0u);
}

TEST(Reproducer, RoundTripsAndRejectsOtherFiles) {
  const auto dir = scratch("file");
  Reproducer r;
  r.oracle = Oracle::unsolicited;
  r.detail = "delivered to UDP 10.0.0.10:5555";
  r.packets.push_back({Side::outside, harness::udp({ipv4("198.51.100.10"), 53}, {ipv4("203.0.113.1"), 5555}, "x")});
  r.packets.push_back({Side::inside, harness::udp({ipv4("10.0.0.10"), 5555}, {ipv4("198.51.100.10"), 53}, "y")});
  r.evidence.push_back({Side::inside, std::chrono::milliseconds(3), harness::udp({ipv4("198.51.100.10"), 53}, {ipv4("10.0.0.10"), 5555})});
  write_reproducer(r, dir / "r.pcapng");
  const Reproducer back = read_reproducer(dir / "r.pcapng");
  EXPECT_EQ(back.oracle, r.oracle);
  EXPECT_EQ(back.detail, r.detail);
  ASSERT_EQ(back.packets.size(), 2u);
  EXPECT_EQ(back.packets[0].side, Side::outside);
  EXPECT_EQ(back.packets[1].bytes, r.packets[1].bytes);
  EXPECT_EQ(back.evidence.size(), 1u);

  std::ofstream(dir / "junk.pcapng") << "not a capture at all, just text";
  EXPECT_THROW(read_reproducer(dir / "junk.pcapng"), std::runtime_error);
  EXPECT_THROW(read_reproducer(dir / "missing.pcapng"), std::runtime_error);
  // Truncated: a block that runs past the end of the file.
  std::ifstream in(dir / "r.pcapng", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "cut.pcapng", std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  EXPECT_THROW(read_reproducer(dir / "cut.pcapng"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

harness::Addressing addressing() {
  harness::Addressing a;
  a.inside = {ipv4("10.0.0.10"), ipv4("10.0.0.11")};
  a.outside = {ipv4("198.51.100.10"), ipv4("198.51.100.11")};
  a.third_party = ipv4("192.0.2.50");
  a.nat_external = {ipv4("203.0.113.1")};
  return a;
}

TEST(Oracles, LeakUnsolicitedAndChecksum) {
  const auto scope = detail::Scope::from(addressing());
  detail::OutboundLedger ledger;
  detail::StepRecord step;
  step.side = Side::outside;
  step.sent.push_back(harness::udp({ipv4("198.51.100.10"), 53}, {ipv4("203.0.113.1"), 5555}));
  step.captured.push_back({Side::inside, {}, harness::udp({ipv4("198.51.100.10"), 53}, {ipv4("10.0.0.10"), 5555})});
  auto found = detail::check_invariants({step}, scope, ledger);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].oracle, Oracle::unsolicited);
  ledger.record(harness::udp({ipv4("10.0.0.10"), 5555}, {ipv4("198.51.100.10"), 53}));
  EXPECT_TRUE(detail::check_invariants({step}, scope, ledger).empty());

  detail::StepRecord out;
  out.side = Side::inside;
  out.sent.push_back(harness::udp({ipv4("10.0.0.10"), 5555}, {ipv4("198.51.100.10"), 53}));
  const harness::Packet inner = harness::udp({ipv4("10.0.0.10"), 5555}, {ipv4("198.51.100.10"), 53});
  out.captured.push_back({Side::outside, {}, harness::icmp_error(ipv4("203.0.113.1"), ipv4("198.51.100.10"), 3, 3, inner)});
  found = detail::check_invariants({out}, scope, ledger);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].oracle, Oracle::inside_leak);

  harness::Packet broken = harness::udp({ipv4("203.0.113.1"), 5555}, {ipv4("198.51.100.10"), 53});
  broken[10] ^= 0xFF;
  out.captured = {{Side::outside, {}, broken}};
  found = detail::check_invariants({out}, scope, ledger);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].oracle, Oracle::bad_checksum);
}

TEST(Operators, NeverChangeAddresses) {
  const auto scope = detail::Scope::from(addressing());
  const std::vector<harness::Packet> seeds{
      harness::udp({ipv4("10.0.0.10"), 40000}, {ipv4("198.51.100.10"), 53}, std::string(100, 'u')),
      harness::tcp({ipv4("10.0.0.10"), 40001}, {ipv4("198.51.100.10"), 80}, {}, "data"),
      harness::icmp_echo(ipv4("10.0.0.10"), ipv4("198.51.100.10"), 7, 1, "echo"),
      harness::icmp_error(ipv4("198.51.100.10"), ipv4("203.0.113.1"), 3, 3,
                          harness::udp({ipv4("203.0.113.1"), 40000}, {ipv4("198.51.100.10"), 53}))};
  detail::Rng rng(7);
  detail::MutationInput input{&scope};
  for (const auto& op : detail::operators()) {
    std::size_t applied = 0;
    for (int round = 0; round < 200; ++round) {
      std::vector<harness::Packet> packets{seeds[static_cast<std::size_t>(round) % seeds.size()]};
      if (!op.apply(packets, rng, input)) continue;
      ++applied;
      for (const auto& p : packets) {
        ASSERT_GE(p.size(), 20u) << op.name;
        EXPECT_TRUE(scope.allowed(detail::source_of(p))) << op.name;
        EXPECT_TRUE(scope.allowed(detail::destination_of(p))) << op.name;
      }
    }
    EXPECT_GT(applied, 0u) << op.name << " never applied";
  }
}

}  // namespace
}  // namespace natcert::campaign
