#!/usr/bin/env bash
# What Redis itself spends on one quota allocation, with no Java at all (docs/performance.md, issue 7).
# Usage: mixer-core/benchmarks/redis-floor.sh [REQUESTS=100000]
# Starts its own redis-server on a free port, loads a trivial script, scripts doing part of an
# allocation, and redisquota's fixed-window script, and runs each with redis-benchmark at 1 and 8
# connections (every call with its own deduplication key, as Envoy sends). Stops the server at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-100000}"
for bin in redis-server redis-cli redis-benchmark; do
  command -v "$bin" >/dev/null || { echo "$bin not found: apt-get install -y redis-server redis-tools" >&2; exit 1; }
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

load() { redis-cli -p "$port" script load "$1"; }
trivial=$(load 'return 1')
incr=$(load 'return redis.call("INCRBY", KEYS[1], ARGV[2])')
setnx_incr=$(load 'if not redis.call("SET", KEYS[2], ARGV[2], "NX", "PX", ARGV[5]) then return 0 end
return redis.call("INCRBY", KEYS[1], ARGV[2])')
sadd_incr=$(load 'if redis.call("SADD", KEYS[1] .. ":ids", KEYS[2]) == 0 then return 0 end
return redis.call("INCRBY", KEYS[1], ARGV[2])')
fixed=$(load "$(cat "$root/adapters/redisquota/src/main/resources/io/istio4j/adapters/redisquota/fixed_window.lua")")

keys=("istio4j:quota:{bench}:f" "istio4j:quota:{bench}:d:req-__rand_int__RequestCount")
args=(4503599627370496 1 0 10000 20000 1)
rate() {
  redis-benchmark -p "$port" -q -c "$1" -n "$n" -r 100000000 "${@:2}" 2>&1 | tr '\r' '\n' \
    | awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($i == "requests") print $(i - 1)}' | tail -n 1
}
printf '%-48s %12s %12s\n' script "calls/s c=1" "calls/s c=8"
row() {
  local name="$1"; shift
  redis-cli -p "$port" flushall >/dev/null
  local one eight
  one=$(rate 1 "$@")
  redis-cli -p "$port" flushall >/dev/null
  eight=$(rate 8 "$@")
  printf '%-48s %12s %12s\n' "$name" "$one" "$eight"
}
row "return 1 (no keys, no arguments)" evalsha "$trivial" 0
row "return 1 (redisquota's keys and arguments)" evalsha "$trivial" 2 "${keys[@]}" "${args[@]}"
row "INCRBY only" evalsha "$incr" 2 "${keys[@]}" "${args[@]}"
row "SET NX PX of the request id, INCRBY" evalsha "$setnx_incr" 2 "${keys[@]}" "${args[@]}"
row "SADD of the request id to one set, INCRBY" evalsha "$sadd_incr" 2 "${keys[@]}" "${args[@]}"
row "redisquota fixed_window.lua" evalsha "$fixed" 2 "${keys[@]}" "${args[@]}"
