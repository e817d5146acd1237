#!/usr/bin/env bash
# Check throughput with tracing off and on (docs/performance.md, issue 16).
# Usage: mixer-core/benchmarks/load-tracing.sh [ROUNDS=3] [DURATION=10s] [CONCURRENCY=32] [MODES="off zipkin down slow"]
# Modes: off (no --zipkinURL), zipkin (a real Zipkin, every call sampled), down (--zipkinURL to a closed
# port), slow (a Zipkin stand-in that answers nothing for 30 s), sink (a stand-in that discards spans at once), rate:R (a real Zipkin, --traceSampleRate R),
# base (no flags, run with $BASE_MIXS: a build of the code before tracing, for before/after).
# Each run starts its own mixs (bin/mixs, or $MIXS) with mixer-core/benchmarks/configs/policy.yaml, warms it
# up, runs `mixc load --target check` and prints one JSON line with the server's CPU seconds and the
# tracing counters from /metrics. mixc sends no B3 headers, so --traceSampleRate decides what is traced.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"
duration="${2:-10s}"
concurrency="${3:-32}"
modes="${4:-off zipkin down slow}"
mixs_bin="${MIXS:-$root/bin/mixs}"
# shellcheck source=load-tracing-lib.sh
source "$root/mixer-core/benchmarks/load-tracing-lib.sh"

one() {
  local mode="$1" port mon mixs before after out
  port=$(free_port); mon=$(free_port)
  # shellcheck disable=SC2046
  local bin="$mixs_bin"
  [ "$mode" = base ] && bin="${BASE_MIXS:?BASE_MIXS must name the mixs launcher of the base build}"
  "$bin" server --port "$port" --monitoringPort "$mon" --configStoreURL "fs://$dir" $(flags "$mode") \
    >"$dir/mixs-$mode.log" 2>&1 &
  mixs=$!
  for _ in $(seq 1 500); do curl -fs "localhost:$mon/readyz" >/dev/null 2>&1 && break; sleep 0.02; done
  "$root/bin/mixc" load -m "localhost:$port" --concurrency "$concurrency" --target check -q RequestCount=1 \
    --duration 10s --warmup 5s "${attrs[@]}" >/dev/null
  before=$(awk '{print $14 + $15}' "/proc/$mixs/stat")
  out=$("$root/bin/mixc" load -m "localhost:$port" --concurrency "$concurrency" --target check -q RequestCount=1 \
    --duration "$duration" --warmup 2s "${attrs[@]}" | tail -n 1)
  after=$(awk '{print $14 + $15}' "/proc/$mixs/stat")
  local m
  m=$(curl -fs "localhost:$mon/metrics" | awk '/^mixer_trace_(spans_total|spans_dropped_total|messages_dropped_total|queued_spans|b3_malformed_total) / {printf "\"%s\": %s, ", $1, $2}')
  echo "{\"mode\": \"$mode\", ${m}${out#\{}" | sed "s/}\$/, \"serverCpuSeconds\": $(python3 -c "print(round(($after - $before) / $(getconf CLK_TCK), 2))")}/"
  kill -TERM "$mixs"; wait "$mixs" 2>/dev/null || true
}

for _ in $(seq 1 "$rounds"); do
  for mode in $modes; do
    one "$mode"
  done
done
