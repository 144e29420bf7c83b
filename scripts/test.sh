#!/usr/bin/env bash
# The whole suite (make test): sanitizer build, fuzz runs, then the normal build's ctest, whose
# summary line ends the output. Each stage stops the run on failure.
set -euo pipefail
build=${1:-build}
fuzz_secs=${2:-30}
jobs=$(nproc 2>/dev/null || echo 2)
cd "$(dirname "$0")/.."

echo "== sanitizer build (address, undefined): build-asan/"
cmake -S . -B build-asan -DCKPT_SANITIZE=ON -DCKPT_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
# The PostgreSQL suites (cli_catalog_pg, cli_catalog_pg_tools: the catalog CLI suites and the
# catalog unit tests again, each against a throwaway cluster) run in the normal build only: under
# the sanitizers they took 372 s + 368 s on the loaded 2-core box, more than the 15-minute budget
# allows. They passed under ASan/UBSan when they were added (session 3); run them there by hand
# with `cd build-asan && ctest -R _pg`.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs" -E '^cli_catalog_pg' | tail -n 4)

echo "== fuzz targets, ${fuzz_secs}s each: build-fuzz/"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCKPT_FUZZ=ON \
  -DCKPT_FUZZ_SECONDS="$fuzz_secs" -DCKPT_FUZZ_SEEDS="$PWD/build-asan/fixtures" >/dev/null
targets=$(ls fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//')
cmake --build build-fuzz -j "$jobs" --target $targets >/dev/null
(cd build-fuzz && ctest --output-on-failure -j "$jobs" -R '^fuzz_' | tail -n 4)

echo "== the suite: $build/"
cd "$build"
ctest --output-on-failure -j "$jobs"
