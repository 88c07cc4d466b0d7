// Per-packet cost of the reference NAT: established flows both ways (checksum update included) and
// new-session creation. items_per_second is packets (or sessions) per second.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench_support.hpp"

namespace natcert::bench {
namespace {

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

// The first packet of a flow: mapping, port allocation, session, timers. The NAT is rebuilt (untimed)
// every `batch` sessions so the table size stays in the same range whatever the iteration count.
void BM_NewSessionCreation(benchmark::State& state) {
  const std::size_t batch = 200000;
  const auto packets = population(0, batch);
  std::unique_ptr<ReferenceNat> nat;
  Output out;
  std::size_t next = batch;
  for (auto _ : state) {
    if (next == batch) {
      state.PauseTiming();
      nat.reset();
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

}  // namespace
}  // namespace natcert::bench
