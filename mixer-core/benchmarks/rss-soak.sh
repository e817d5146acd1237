#!/usr/bin/env bash
# RSS of bin/mixs over a long load run (docs/performance.md, issue 5): the policy and telemetry configs,
# Check (with quota) and Report load alternating in 60 s runs for DURATION seconds, RSS sampled every 30 s.
# Usage: mixer-core/benchmarks/rss-soak.sh [DURATION_SECONDS=600]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
total="${1:-600}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port); mon=$(free_port); dir=$(mktemp -d)
cp "$root/examples/quickstart/attributes.yaml" "$root/mixer-core/benchmarks/configs/policy.yaml" \
   "$root/mixer-core/benchmarks/configs/telemetry.yaml" "$dir/"
"$root/bin/mixs" server --port "$port" --monitoringPort "$mon" --configStoreURL "fs://$dir" --allowedOutputDir /tmp >"$dir/mixs.log" 2>&1 &
mixs=$!
trap 'kill -TERM $mixs 2>/dev/null; wait $mixs 2>/dev/null || true; rm -rf "$dir" /tmp/istio4j-bench-accesslog.json*' EXIT
until curl -fs "localhost:$mon/readyz" >/dev/null 2>&1; do sleep 0.05; done
attrs=(-s "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local,source.user=jason,request.method=GET,request.path=/ratings/0"
       -i "response.code=200,request.size=10" -t "request.time=2017-11-21T10:15:30Z"
       --stringmap_attributes "request.headers=:authority:ratings:9080;x-request-id:abc")
start=$(date +%s)
(
  while [ $(( $(date +%s) - start )) -lt "$total" ]; do
    "$root/bin/mixc" load -m "localhost:$port" --target check -q RequestCount=1 --concurrency 16 --duration 60s --warmup 0s "${attrs[@]}" 2>/dev/null | tail -n 1
    "$root/bin/mixc" load -m "localhost:$port" --target report --concurrency 16 --duration 60s --warmup 0s "${attrs[@]}" 2>/dev/null | tail -n 1
  done
) > "$dir/load.jsonl" &
load=$!
while [ $(( $(date +%s) - start )) -lt "$total" ]; do
  echo "{\"t_s\": $(( $(date +%s) - start )), \"rss_kb\": $(awk '/VmRSS/ {print $2}' /proc/$mixs/status)}"
  sleep 30
done
wait $load || true
echo "{\"t_s\": $(( $(date +%s) - start )), \"rss_kb\": $(awk '/VmRSS/ {print $2}' /proc/$mixs/status)}"
cat "$dir/load.jsonl"
