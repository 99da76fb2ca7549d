#!/usr/bin/env bash
# Installs, from Debian's packages only, everything weft needs to build, test
# and benchmark. Idempotent: a second run installs nothing new.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # library dependencies
  libboost-context-dev libfmt-dev libcli11-dev liburing-dev
  libmsgpack-cxx-dev libssl-dev libhiredis-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  # benchmark peers
  libboost-dev libboost-fiber-dev libconcurrentqueue-dev libtbb-dev
  python3 python3-gevent redis-server
  # the shootout: perf counts the servers' system calls; wrk drives --protocol http
  linux-perf wrk
  # the two-host dist example: network namespaces
  iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
