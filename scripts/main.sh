#!/usr/bin/env bash
# weft's main job, from a fresh Debian machine: installs what it needs,
# builds the weft tool and the C++ peers optimized, and runs `weft shootout`:
# every IO model of the seeds, and its peers (a raw epoll server, Boost.Asio,
# the seeds' Python servers), under the same load, in one table. The table
# is also written to build/shootout/shootout.md, with a chart beside it
# (shootout.svg). Arguments go to `weft shootout` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF -DWEFT_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build/release -j "$(nproc)" --target weft_tool weft_peer_raw_epoll weft_peer_asio
build/release/tools/weft shootout --out build/shootout "$@"
