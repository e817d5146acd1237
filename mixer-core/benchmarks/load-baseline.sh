#!/usr/bin/env bash
# Load run against a live bin/mixs: Check and Report versus the empty-RPC baseline
# (grpc.health.v1.Health/Check on the same server), interleaved, ROUNDS rounds each.
# Usage: mixer-core/benchmarks/load-baseline.sh [ROUNDS=3] [DURATION=10s] [CONCURRENCY=16]
# Starts mixs on free ports, warms it up, prints one JSON line per run, stops mixs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"
duration="${2:-10s}"
concurrency="${3:-16}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
mon=$(free_port)
log=$(mktemp)
"$root/bin/mixs" server --port "$port" --monitoringPort "$mon" \
    --configStoreURL "fs://$root/examples/quickstart" >"$log" 2>&1 &
mixs=$!
trap 'kill -TERM $mixs 2>/dev/null; wait $mixs 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fs "localhost:$mon/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

# An Envoy-like inbound HTTP Check: 12 attributes including a header map.
attrs=(-s "destination.service=ratings.default.svc.cluster.local,destination.uid=kubernetes://ratings-v1.default,source.uid=kubernetes://reviews-v2.default,request.method=GET,request.path=/ratings/0,request.host=ratings:9080,request.scheme=http,context.protocol=http,request.id=5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10"
       -i "request.size=0,source.port=43512"
       --stringmap_attributes "request.headers=:authority:ratings:9080;:path:/ratings/0;:method:GET;user-agent:curl/7.58;x-request-id:5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10")

run() { "$root/bin/mixc" load -m "localhost:$port" --concurrency "$concurrency" "$@" | tail -n 1; }

run --target check --duration 15s --warmup 5s "${attrs[@]}" >/dev/null   # JIT warm-up of the server
for _ in $(seq 1 "$rounds"); do
  run --target health --duration "$duration" --warmup 2s
  run --target check --duration "$duration" --warmup 2s "${attrs[@]}"
  run --target check --duration "$duration" --warmup 2s "${attrs[@]}" -q RequestCount=1
  run --target report --duration "$duration" --warmup 2s "${attrs[@]}" -i response.code=200
done
