// natcert bench --dut PROFILE: the RFC 9693 wire benchmarks (bench/wire/). cmd_bench.cpp owns the
// "bench" subcommand; these two functions are its wire part.
#pragma once

#include <CLI/CLI.hpp>

namespace natcert::cli {

// Adds the wire benchmark options (--dut, --duration, --repetitions, --protocol, --direction, -o,
// --null/--no-null, ...) to the "bench" subcommand.
void add_wire_bench_options(CLI::App& bench);

// Runs the wire benchmarks with the options parsed by `add_wire_bench_options`; call it when
// `natcert bench` was invoked without a subcommand. Returns the exit code (0 done, 2 usage or
// configuration error, 3 the measurement could not be completed); throws UsageError for bad input.
int run_wire_bench();

}  // namespace natcert::cli
