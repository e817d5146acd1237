#!/usr/bin/env bash
# Paired Check runs against several mixs started side by side (docs/performance.md, issue 16): on a
# shared, busy machine, short runs alternating between servers that are all up compare them at
# nearly the same moment, which separate start-run-stop cycles (load-tracing.sh) cannot.
# Usage: BASE_MIXS=/path/to/base/bin/mixs MAVEN_REPO=~/.m2/repository \
#   mixer-core/benchmarks/load-tracing-ab.sh [ROUNDS=6] [DURATION=5s] [CONCURRENCY=32] [MODES="base off zipkin down slow"]
# Modes as in load-tracing.sh, plus "sink" (below) and "rate:R" ("base" needs BASE_MIXS; the default
# "off sink zipkin" compares tracing off and 100% sampling
# on one build). Prints one JSON line per run with the server's CPU seconds and CPU µs per Check (the
# CPU includes the 1 s warm-up of each run, so it slightly overstates; equally for every mode).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-6}"
duration="${2:-5s}"
concurrency="${3:-32}"
modes="${4:-off sink zipkin}"
# shellcheck source=load-tracing-lib.sh
source "$root/mixer-core/benchmarks/load-tracing-lib.sh"

declare -A grpc mon pid
for mode in $modes; do
  grpc[$mode]=$(free_port); mon[$mode]=$(free_port)
  bin="$root/bin/mixs"
  if [ "$mode" = base ]; then bin="${BASE_MIXS:?BASE_MIXS must name the mixs launcher of the base build}"; fi
  # shellcheck disable=SC2046
  "$bin" server --port "${grpc[$mode]}" --monitoringPort "${mon[$mode]}" --configStoreURL "fs://$dir" \
    $(flags "$mode") >"$dir/mixs-${mode//:/_}.log" 2>&1 &
  pid[$mode]=$!
  pids+=($!)
done
for mode in $modes; do
  for _ in $(seq 1 1000); do curl -fs "localhost:${mon[$mode]}/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  "$root/bin/mixc" load -m "localhost:${grpc[$mode]}" --concurrency "$concurrency" --target check -q RequestCount=1 \
    --duration "${WARMUP:-20s}" --warmup 5s "${attrs[@]}" >/dev/null # JIT warm-up (tracing has more code to compile)
done
for _ in $(seq 1 "$rounds"); do
  for mode in $modes; do
    before=$(awk '{print $14 + $15}' "/proc/${pid[$mode]}/stat")
    out=$("$root/bin/mixc" load -m "localhost:${grpc[$mode]}" --concurrency "$concurrency" --target check \
      -q RequestCount=1 --duration "$duration" --warmup 1s "${attrs[@]}" | tail -n 1)
    after=$(awk '{print $14 + $15}' "/proc/${pid[$mode]}/stat")
    m=$(curl -fs "localhost:${mon[$mode]}/metrics" | awk '/^mixer_trace_(spans_total|spans_dropped_total|messages_dropped_total|queued_spans) / {printf "\"%s\": %s, ", $1, $2}')
    cpu=$(python3 -c "print(round(($after - $before) / $(getconf CLK_TCK), 2))")
    reqs=$(sed -E 's/.*"requests":([0-9]+).*/\1/' <<<"$out")
    per=$(python3 -c "print(round($cpu * 1e6 / max($reqs, 1), 1))")
    echo "{\"mode\": \"$mode\", ${m}${out#\{}" | sed "s/}\$/, \"serverCpuSeconds\": $cpu, \"serverCpuUsPerCheck\": $per}/" | tee -a "$dir/runs.jsonl"
  done
done
# Medians per mode, and each mode's requests/s relative to "off" (on standard error: stdout stays JSON lines).
python3 - "$dir/runs.jsonl" >&2 <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
modes = list(dict.fromkeys(r["mode"] for r in runs))
med = {m: (statistics.median(r["rps"] for r in runs if r["mode"] == m),
           statistics.median(r["serverCpuUsPerCheck"] for r in runs if r["mode"] == m)) for m in modes}
for m in modes:
    rel = f", {100 * (med[m][0] / med['off'][0] - 1):+.1f}% rps against off" if "off" in med and m != "off" else ""
    print(f"median {m}: {med[m][0]:.0f} Checks/s, {med[m][1]:.1f} server CPU us per Check{rel}")
PY
