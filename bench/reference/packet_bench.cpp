// Packet-level building blocks: parsing and checksums.
#include <benchmark/benchmark.h>

#include "bench_support.hpp"

namespace natcert::bench {
namespace {

void BM_ChecksumIncrementalUpdate(benchmark::State& state) {
  std::uint8_t field[2] = {0x12, 0x34};
  std::uint32_t value = 0;
  for (auto _ : state) {
    patch_checksum32(field, value, value + 1);
    ++value;
    benchmark::DoNotOptimize(field);
  }
  state.SetItemsProcessed(state.iterations());
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
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseUdp);

}  // namespace
}  // namespace natcert::bench
