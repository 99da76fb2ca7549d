#!/usr/bin/env bash
# The "Outgrowing one machine" example across two simulated hosts: network
# namespaces A (Redis and the submitter, 10.$N.0.1) and B (the workers,
# 10.$N.0.2) joined by a veth pair, so every task and result crosses a
# network link between two network stacks. Needs root (CAP_NET_ADMIN);
# exits 77 (skipped) where namespaces cannot be made.
#
#   run_two_hosts.sh WEFT_TOOL DIST_FIB
set -euo pipefail
weft=$1
dist_fib=$2

a=weft-a-$$
b=weft-b-$$
net=$(( $$ % 200 + 20 ))
dir=$(mktemp -d)
redis_pid=
worker_pid=
cleanup() {
  [ -z "$worker_pid" ] || { kill -TERM "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null; } || true
  [ -z "$redis_pid" ] || { kill -TERM "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; } || true
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

if ! command -v ip >/dev/null || ! ip netns add "$a" 2>/dev/null; then
  echo "run_two_hosts.sh: cannot create network namespaces here (needs root and iproute2); skipped"
  exit 77
fi
ip netns add "$b"
ip link add "va$$" type veth peer name "vb$$"
ip link set "va$$" netns "$a"
ip link set "vb$$" netns "$b"
ip -n "$a" addr add "10.$net.0.1/24" dev "va$$"
ip -n "$b" addr add "10.$net.0.2/24" dev "vb$$"
for ns in "$a" "$b"; do
  ip -n "$ns" link set lo up
done
ip -n "$a" link set "va$$" up
ip -n "$b" link set "vb$$" up

url=redis://10.$net.0.1:6379/0
# Host A: Redis, listening on its link only.
ip netns exec "$a" redis-server --port 6379 --bind "10.$net.0.1" --protected-mode no --dir "$dir" \
  --save "" --appendonly yes --daemonize no --logfile "$dir/redis.log" &
redis_pid=$!
# Host B: the workers, under a host name of their own.
ip netns exec "$b" unshare --uts sh -c 'hostname host-b && exec "$@"' sh \
  "$weft" worker --redis "$url" --queue fib --concurrency 2 "$dist_fib" &
worker_pid=$!
# Host A: the submitter.
ip netns exec "$a" "$dist_fib" "$url"
