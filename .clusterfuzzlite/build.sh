#!/bin/bash -eu
# Builds natcert's libFuzzer targets the ClusterFuzzLite/OSS-Fuzz way (docs/fuzzing.md): compiler and
# instrumentation from CC, CXX, CFLAGS, CXXFLAGS, the engine from LIB_FUZZING_ENGINE, everything a run
# needs into OUT: the binaries, <target>_seed_corpus.zip (seeds + regression inputs), <target>.dict,
# <target>.options, and lib/ with the shared libraries the runner image lacks (rpath $ORIGIN/lib).
#
# Run from the source root (the Dockerfile's WORKDIR). NATCERT_FUZZ_BUILD_DIR picks the CMake build
# directory (default $WORK/natcert-build, or build/cfl); ci/fuzz-smoke reuses it between runs.
source_dir=$(pwd)
build_dir=${NATCERT_FUZZ_BUILD_DIR:-${WORK:-$source_dir/build}/natcert-build}
: "${CC:?}" "${CXX:?}" "${CXXFLAGS:?}" "${LIB_FUZZING_ENGINE:?}" "${OUT:?}"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$source_dir" -B "$build_dir" -G Ninja \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE= \
  -DCMAKE_BUILD_RPATH='$ORIGIN/lib' \
  -DNATCERT_FUZZ=ON -DNATCERT_FUZZ_SANITIZERS=OFF -DNATCERT_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DNATCERT_TESTS=OFF -DNATCERT_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build_dir" --target fuzz_targets

mkdir -p "$OUT/lib"
for binary in "$build_dir"/fuzz/fuzz_*; do
  target=$(basename "$binary")
  target=${target#fuzz_}
  cp "$binary" "$OUT/$target"
  # Shared libraries outside the C/C++ runtime go along (the runner image has only the base system).
  ldd "$binary" | awk '/=> \// {print $3}' |
    grep -Ev '/(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' |
    xargs -r cp -L -t "$OUT/lib/"
  seeds=()
  for directory in fuzz/corpus/"$target" fuzz/regression/"$target"; do
    if [[ -d $directory ]]; then seeds+=("$directory"); fi
  done
  rm -f "$OUT/${target}_seed_corpus.zip"
  if ((${#seeds[@]})); then
    find "${seeds[@]}" -type f -print0 | xargs -0 zip -q -j "$OUT/${target}_seed_corpus.zip"
  fi
  # Reference specs are short, and an unknown key's "did you mean" is quadratic in its length.
  max_len=4096
  if [[ $target == config_spec ]]; then max_len=256; fi
  options="[libfuzzer]\nmax_len = $max_len\n"
  if [[ -f fuzz/dict/$target.dict ]]; then
    cp "fuzz/dict/$target.dict" "$OUT/$target.dict"
    options+="dict = $target.dict\n"
  fi
  printf "%b" "$options" >"$OUT/$target.options"
done
echo "build.sh: $(ls "$build_dir"/fuzz/fuzz_* | wc -l) fuzz targets in $OUT"
