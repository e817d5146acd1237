#!/usr/bin/env bash
# Check with a memquota rule versus the same Check with a redisquota rule, against ONE bin/mixs and a
# real redis-server (docs/performance.md, issue 13). Starts redis-server and mixs on free ports with
# configs/quota-compare.yaml.template, warms both paths up, then runs `mixc load` ROUNDS times for
# each, back to back (memquota first), one JSON line per run with the server's CPU seconds and the
# load average; prints Redis' EVALSHA count and the handler's pipeline count at the end.
# Usage: mixer-core/benchmarks/load-quota-compare.sh [ROUNDS=2] [DURATION=20s] [CONCURRENCY=32]
#        (environment: CONNECTIONS=10 redisquota connectionPoolSize (at most 4 are opened), PIPELINE_LIMIT=64,
#        ALGORITHM=FIXED_WINDOW or ROLLING_WINDOW, QUOTAS="memquota redisquota"
#        the rules to load, MIXS_JAVA_OPTS for mixs only, e.g. -XX:StartFlightRecording=filename=/tmp/mixs.jfr)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:-2}"
duration="${2:-20s}"
concurrency="${3:-32}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
redis_port=$(free_port)
port=$(free_port)
mon=$(free_port)
dir=$(mktemp -d)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
redis=$!
cleanup() {
  kill -TERM "${mixs:-}" 2>/dev/null || true; wait "${mixs:-}" 2>/dev/null || true
  kill "$redis" 2>/dev/null || true; wait "$redis" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
mkdir "$dir/config"
cp "$root/examples/quickstart/attributes.yaml" "$dir/config/"
sed -e "s/REDIS_URL/127.0.0.1:$redis_port/" -e "s/CONNECTIONS/${CONNECTIONS:-10}/" \
    -e "s/PIPELINE_LIMIT/${PIPELINE_LIMIT:-64}/" -e "s/ALGORITHM/${ALGORITHM:-FIXED_WINDOW}/" "$here/configs/quota-compare.yaml.template" > "$dir/config/quota.yaml"
JAVA_OPTS="${MIXS_JAVA_OPTS:-}" "$root/bin/mixs" server --port "$port" --monitoringPort "$mon" --configStoreURL "fs://$dir/config" >"$dir/mixs.log" 2>&1 &
mixs=$!
for _ in $(seq 1 200); do curl -fs "localhost:$mon/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
rejected=$(curl -fs "localhost:$mon/metrics" | awk '/^mixer_config_objects\{state="rejected"\}/ {print $2}')
if [ "$rejected" != "0.0" ]; then
  echo "config has rejected objects:" >&2
  curl -fs "localhost:$mon/debug/config" >&2
  exit 1
fi

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
seconds() { python3 -c "print(round(($2 - $1) / $(getconf CLK_TCK), 2))"; }
run() { # $1: memquota or redisquota; the rest: mixc load flags
  local which="$1" before after redis_before redis_after out
  shift
  before=$(cpu "$mixs")
  redis_before=$(cpu "$redis")
  out=$("$root/bin/mixc" load -m "localhost:$port" --target check --concurrency "$concurrency" -q RequestCount=1 \
    -s "destination.service=$which.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local" \
    "$@" | tail -n 1)
  after=$(cpu "$mixs")
  redis_after=$(cpu "$redis")
  echo "{\"quota\": \"$which\", ${out#\{}" | sed "s/}\$/, \"serverCpuSeconds\": $(seconds "$before" "$after"), \"redisCpuSeconds\": $(seconds "$redis_before" "$redis_after"), \"loadavg\": \"$(cut -d' ' -f1-3 \/proc\/loadavg)\"}/"
}
quotas="${QUOTAS:-memquota redisquota}"
for q in $quotas; do
  run "$q" --duration 15s --warmup 5s >/dev/null # JIT warm-up of each path
done
for _ in $(seq 1 "$rounds"); do
  for q in $quotas; do
    run "$q" --duration "$duration" --warmup 2s
  done
done
evalsha=$(redis-cli -p "$redis_port" info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_evalsha:/ {print $3}')
metrics=$(curl -fs "localhost:$mon/metrics")
pipelines=$(echo "$metrics" | awk '/^redisquota_pipelines_total/ {s += $2} END {print s + 0}')
allocations=$(echo "$metrics" | awk '/^redisquota_pipelined_allocations_total/ {s += $2} END {print s + 0}')
failures=$(echo "$metrics" | awk '/^redisquota_failures_total/ {s += $2} END {print s + 0}')
echo "{\"redisEvalsha\": ${evalsha:-0}, \"redisquotaPipelines\": $pipelines, \"redisquotaAllocations\": $allocations, \"redisquotaFailures\": $failures}"
