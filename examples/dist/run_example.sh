#!/usr/bin/env bash
# The README's "Outgrowing one machine" example on one host: a Redis on a
# free loopback port, two `weft worker` groups (as two hosts would run
# them), and the submitter. Everything started here is stopped on exit.
#
#   run_example.sh WEFT_TOOL DIST_FIB
set -euo pipefail
weft=$1
dist_fib=$2

dir=$(mktemp -d)
redis_pid=
worker_pids=()
cleanup() {
  # Workers first (they finish their task), then Redis.
  for pid in "${worker_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${worker_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -z "$redis_pid" ] || { kill -TERM "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; } || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=redis://127.0.0.1:$port/0

# 1. Redis (connections below retry with backoff until it answers).
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
  --daemonize no --logfile "$dir/redis.log" &
redis_pid=$!
# 2. Workers: two groups of two processes, as on hosts B and C.
"$weft" worker --redis "$url" --queue fib --concurrency 2 "$dist_fib" &
worker_pids+=($!)
"$weft" worker --redis "$url" --queue fib --concurrency 2 "$dist_fib" &
worker_pids+=($!)
# 3. The submitter.
"$dist_fib" "$url"
