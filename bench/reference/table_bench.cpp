// The session table at scale: lookup cost and memory per session at 64k, 256k, 1M and 4M sessions,
// and expiry of many mappings at once.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "bench_support.hpp"

namespace natcert::bench {
namespace {

// A NAT holding `sessions` UDP sessions, built once per size: Google Benchmark calls a benchmark
// function several times (to size the iteration count), and filling 4M sessions takes seconds.
struct FilledTable {
  std::size_t sessions = 0;
  std::unique_ptr<ReferenceNat> nat;
  double bytes_per_session = 0;
  double fill_sessions_per_s = 0;
};

FilledTable& filled_table(std::size_t sessions) {
  static FilledTable table;
  if (table.sessions == sessions && table.nat) return table;
  table.nat.reset();  // free the previous size first, so its memory is not counted
  const std::size_t heap_before = heap_in_use();
  table.nat = std::make_unique<ReferenceNat>(bench_config());
  Output out;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sessions; ++i) {
    table.nat->process(make_udp(host_of(i), port_of(i), kRemote, 3478), Side::inside, TimePoint{}, out);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out = Output{};
  table.sessions = sessions;
  table.bytes_per_session =
      static_cast<double>(heap_in_use() - heap_before) / static_cast<double>(sessions);
  table.fill_sessions_per_s = static_cast<double>(sessions) / seconds;
  return table;
}

// Established packets spread over the whole table in a scattered order (cache-hostile).
void BM_LookupAtTableSize(benchmark::State& state) {
  const auto sessions = static_cast<std::size_t>(state.range(0));
  FilledTable& table = filled_table(sessions);
  std::vector<std::vector<std::uint8_t>> probes;
  const std::size_t stride = 7919;  // a prime
  for (std::size_t k = 0; k < 4096; ++k) {
    const std::size_t i = (k * stride) % sessions;
    probes.push_back(make_udp(host_of(i), port_of(i), kRemote, 3478));
  }
  Output out;
  std::size_t k = 0;
  for (auto _ : state) {
    table.nat->process(probes[k++ & 4095], Side::inside, TimePoint{1}, out);
    benchmark::DoNotOptimize(out.packets().data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["sessions"] = static_cast<double>(table.nat->stats().sessions);
  state.counters["bytes_per_session"] = table.bytes_per_session;
  // Measured once per table size (no repetitions), so informational by name: not judged for regressions.
  state.counters["fill_sessions_rate"] = table.fill_sessions_per_s;
}
BENCHMARK(BM_LookupAtTableSize)->Arg(64 << 10)->Arg(256 << 10)->Arg(1 << 20)->Arg(4 << 20);

// One advance() over a table whose every mapping has expired. items_per_second: mappings expired per
// second. A fixed iteration count: each iteration refills the table (untimed, about a second).
void BM_Expiry(benchmark::State& state) {
  const auto sessions = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto nat = std::make_unique<ReferenceNat>(bench_config());
    Output out;
    for (std::size_t i = 0; i < sessions; ++i) {
      nat->process(make_udp(host_of(i), port_of(i), kRemote, 3478), Side::inside, TimePoint{}, out);
    }
    state.ResumeTiming();
    nat->advance(std::chrono::seconds(3600), out);
    benchmark::DoNotOptimize(nat->stats().sessions);
    state.PauseTiming();
    if (nat->stats().mappings != 0) state.SkipWithError("mappings left after expiry");
    nat.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(sessions));
}
BENCHMARK(BM_Expiry)->Arg(64 << 10)->Arg(256 << 10)->Iterations(4)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace natcert::bench
