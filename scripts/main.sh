#!/usr/bin/env bash
# weft's main job, from a fresh Debian machine: installs what it needs,
# builds weft optimized, and runs the weft twin of every seed program,
# showing what each one demonstrates. (Once the IO-model work lands this
# becomes `weft shootout`.)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/release -j "$(nproc)"
bash examples/seeds/run_all.sh build/release
