// Reference NAT micro-benchmarks. Targets (issue "Reference NAT"): established-flow translation
// <= 100 ns/packet including the checksum update; new session creation <= 1 us; <= 256 bytes per UDP
// session; lookup cost flat from 64k to 1M sessions.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <vector>

#include "natcert/reference/nat.hpp"

namespace {

using namespace natcert::ref;

constexpr Ipv4Address kInsideBase = 0x0a000000;  // 10.0.0.0/8: room for millions of inside endpoints
constexpr Ipv4Address kRemote = 0xc6336410;      // 198.51.100.16

// A UDP packet with a valid checksum, built by hand so the benchmark has no dependency on libtins.
std::vector<std::uint8_t> make_udp(Ipv4Address src, std::uint16_t sport, Ipv4Address dst, std::uint16_t dport,
                                   std::size_t payload = 64) {
  std::vector<std::uint8_t> packet(28 + payload, 0xab);
  packet[0] = 0x45;
  packet[1] = 0;
  store16(&packet[2], static_cast<std::uint16_t>(packet.size()));
  store16(&packet[4], 1);
  store16(&packet[6], 0);
  packet[8] = 64;
  packet[9] = ip_protocol::udp;
  store32(&packet[12], src);
  store32(&packet[16], dst);
  store16(&packet[20], sport);
  store16(&packet[22], dport);
  store16(&packet[24], static_cast<std::uint16_t>(8 + payload));
  store16(&packet[26], 0);
  recompute_checksums(packet, false);
  return packet;
}

NatConfig bench_config() {
  NatConfig config = defaults();
  config.max_sessions = 8u * 1024u * 1024u;
  config.ports.preserve_port = false;
  // Enough external addresses for millions of concurrent mappings (about 64k ports each).
  config.external_addresses.clear();
  for (Ipv4Address a = 0xcb007101; a < 0xcb007101 + 80; ++a) config.external_addresses.push_back(a);
  config.pooling = Pooling::arbitrary;
  return config;
}

// Endpoint i of the inside population: distinct hosts and ports so every flow is its own mapping.
Ipv4Address host_of(std::size_t i) { return kInsideBase + 1 + static_cast<Ipv4Address>(i / 50000); }
std::uint16_t port_of(std::size_t i) { return static_cast<std::uint16_t>(10000 + i % 50000); }

void BM_EstablishedFlowTranslation(benchmark::State& state) {
  ReferenceNat nat(bench_config());
  Output out;
  const auto packet = make_udp(kInsideBase + 1, 40000, kRemote, 3478);
  nat.process(packet, Side::inside, TimePoint{}, out);
  for (auto _ : state) {
    nat.process(packet, Side::inside, TimePoint{1}, out);
    benchmark::DoNotOptimize(out.packets().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EstablishedFlowTranslation);

void BM_EstablishedInboundTranslation(benchmark::State& state) {
  ReferenceNat nat(bench_config());
  Output out;
  nat.process(make_udp(kInsideBase + 1, 40000, kRemote, 3478), Side::inside, TimePoint{}, out);
  const auto mapping = nat.mappings().front().external;
  const auto reply = make_udp(kRemote, 3478, mapping.address, mapping.port);
  for (auto _ : state) {
    nat.process(reply, Side::outside, TimePoint{1}, out);
    benchmark::DoNotOptimize(out.packets().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EstablishedInboundTranslation);

void BM_NewSessionCreation(benchmark::State& state) {
  const std::size_t batch = 200000;
  std::vector<std::vector<std::uint8_t>> packets;
  packets.reserve(batch);
  for (std::size_t i = 0; i < batch; ++i) packets.push_back(make_udp(host_of(i), port_of(i), kRemote, 3478));
  std::unique_ptr<ReferenceNat> nat;
  Output out;
  std::size_t next = batch;
  for (auto _ : state) {
    if (next == batch) {
      state.PauseTiming();
      nat = std::make_unique<ReferenceNat>(bench_config());
      next = 0;
      state.ResumeTiming();
    }
    nat->process(packets[next++], Side::inside, TimePoint{}, out);
    benchmark::DoNotOptimize(out.packets().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewSessionCreation);

// Heap in use, including large blocks malloc serves with mmap (table arrays at 1M sessions).
std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Lookup cost at a given table size: established packets spread over all sessions (cache-hostile).
void BM_LookupAtTableSize(benchmark::State& state) {
  const auto sessions = static_cast<std::size_t>(state.range(0));
  const std::size_t heap_before = heap_in_use();
  ReferenceNat nat(bench_config());
  Output out;
  for (std::size_t i = 0; i < sessions; ++i) {
    nat.process(make_udp(host_of(i), port_of(i), kRemote, 3478), Side::inside, TimePoint{}, out);
  }
  const std::size_t heap_after = heap_in_use();
  std::vector<std::vector<std::uint8_t>> probes;
  const std::size_t stride = 7919;  // a prime: visits sessions in a scattered order
  for (std::size_t k = 0; k < 4096; ++k) {
    const std::size_t i = (k * stride) % sessions;
    probes.push_back(make_udp(host_of(i), port_of(i), kRemote, 3478));
  }
  std::size_t k = 0;
  for (auto _ : state) {
    nat.process(probes[k++ & 4095], Side::inside, TimePoint{1}, out);
    benchmark::DoNotOptimize(out.packets().data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["sessions"] = static_cast<double>(nat.stats().sessions);
  state.counters["bytes_per_session"] = static_cast<double>(heap_after - heap_before) / static_cast<double>(sessions);
}
BENCHMARK(BM_LookupAtTableSize)->Arg(64 << 10)->Arg(256 << 10)->Arg(1 << 20)->Unit(benchmark::kNanosecond);

void BM_Expiry(benchmark::State& state) {
  const std::size_t sessions = 100000;
  for (auto _ : state) {
    state.PauseTiming();
    ReferenceNat nat(bench_config());
    Output out;
    for (std::size_t i = 0; i < sessions; ++i) {
      nat.process(make_udp(host_of(i), port_of(i), kRemote, 3478), Side::inside, TimePoint{}, out);
    }
    state.ResumeTiming();
    nat.advance(std::chrono::seconds(3600), out);
    benchmark::DoNotOptimize(nat.stats().sessions);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(sessions));
}
BENCHMARK(BM_Expiry)->Unit(benchmark::kMillisecond);

void BM_ChecksumIncrementalUpdate(benchmark::State& state) {
  std::uint8_t field[2] = {0x12, 0x34};
  std::uint32_t value = 0;
  for (auto _ : state) {
    patch_checksum32(field, value, value + 1);
    ++value;
    benchmark::DoNotOptimize(field);
  }
}
BENCHMARK(BM_ChecksumIncrementalUpdate);

void BM_ChecksumFull1500(benchmark::State& state) {
  std::vector<std::uint8_t> data(1500, 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(internet_checksum(data));
  state.SetBytesProcessed(state.iterations() * 1500);
}
BENCHMARK(BM_ChecksumFull1500);

void BM_ParseUdp(benchmark::State& state) {
  const auto packet = make_udp(kInsideBase + 1, 40000, kRemote, 3478);
  for (auto _ : state) benchmark::DoNotOptimize(parse_packet(packet).error);
}
BENCHMARK(BM_ParseUdp);

}  // namespace
