#!/usr/bin/env bash
# Installs what the build needs, builds everything with warnings as errors and
# runs every test under CTest. Usage: scripts/test.sh [--sanitize]
#   --sanitize   build with AddressSanitizer + UBSan into build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

"$(pwd)/scripts/setup.sh"

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DIMI_SANITIZE=ON)
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"

# The decoders' fuzz targets once more under clang's libFuzzer with ASan, for
# a bounded time each (the g++ build above runs them with a seeded mutation
# driver). setup.sh installs clang and its runtime.
if [ "${1:-}" != "--sanitize" ] && command -v clang++ >/dev/null 2>&1; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j "$jobs" --target json_fuzz tx_fuzz
  ctest --test-dir build-fuzz --output-on-failure -R '^fuzz/'
fi
