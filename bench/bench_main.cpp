// main() of natcert's Google Benchmark executables: Google Benchmark's own, plus the natcert context
// keys of a benchmark record (docs/benchmarks.md) in every --benchmark_out file.
#include <benchmark/benchmark.h>

#include <string>

#include "natcert/harness/version.hpp"
#include "natcert/perf/record.hpp"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("natcert_revision", std::string(natcert::harness::git_revision()));
  benchmark::AddCustomContext("kernel", natcert::perf::kernel_description());
  benchmark::AddCustomContext("machine", natcert::perf::machine_description());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
