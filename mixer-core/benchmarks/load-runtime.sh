#!/usr/bin/env bash
# Load runs of the runtime against a live bin/mixs (docs/performance.md, issue 5).
# Usage: mixer-core/benchmarks/load-runtime.sh CONFIG.yaml [ROUNDS=3] [DURATION=10s] [CONCURRENCY=32] [TARGETS="health check"]
# Targets: health, check, report (one record per Report), report:N (N delta-encoded records per Report).
# Starts mixs on free ports with examples/quickstart/attributes.yaml plus CONFIG.yaml, prints the time from
# launch to ready, runs the targets interleaved (one JSON line each, with the server's CPU seconds during the run),
# and stops mixs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
config="$1"
rounds="${2:-3}"
duration="${3:-10s}"
concurrency="${4:-32}"
targets="${5:-health check}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
mon=$(free_port)
dir=$(mktemp -d)
cp "$root/examples/quickstart/attributes.yaml" "$dir/"
cp "$config" "$dir/config.yaml"
log="$dir/mixs.log"
rm -f /tmp/istio4j-bench-accesslog.json* # written by the telemetry config's access log
start=$(date +%s%N)
"$root/bin/mixs" server --port "$port" --monitoringPort "$mon" --configStoreURL "fs://$dir" --allowedOutputDir /tmp >"$log" 2>&1 &
mixs=$!
trap 'kill -TERM $mixs 2>/dev/null; wait $mixs 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do
  curl -fs "localhost:$mon/readyz" >/dev/null 2>&1 && break
  sleep 0.02
done
echo "{\"startToReadyMs\": $(( ($(date +%s%N) - start) / 1000000 ))}"
rejected=$(curl -fs "localhost:$mon/metrics" | awk '/^mixer_config_objects\{state="rejected"\}/ {print $2}')
if [ "$rejected" != "0.0" ]; then
  echo "config has rejected objects:" >&2
  curl -fs "localhost:$mon/debug/config" >&2
  exit 1
fi

# An Envoy-like inbound HTTP Check from reviews to ratings: 14 attributes including a header map.
attrs=(-s "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local,source.user=jason,destination.uid=kubernetes://ratings-v1.default,source.uid=kubernetes://reviews-v2.default,request.method=GET,request.path=/ratings/0,request.host=ratings:9080,request.scheme=http,context.protocol=http,request.id=5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10"
       -i "request.size=0,source.port=43512,response.code=200"
       --duration_attributes "response.duration=12ms" -t "request.time=2017-11-21T10:15:30Z"
       --stringmap_attributes "request.headers=:authority:ratings:9080;:path:/ratings/0;:method:GET;user-agent:curl/7.58;x-request-id:5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10,source.labels=app:reviews;version:v2,destination.labels=app:ratings;version:v1")

cpu() { awk '{print $14 + $15}' "/proc/$mixs/stat"; }
run() {
  local before after
  before=$(cpu)
  local out
  out=$("$root/bin/mixc" load -m "localhost:$port" --concurrency "$concurrency" "$@" | tail -n 1)
  after=$(cpu)
  echo "${out%\}}, \"serverCpuSeconds\": $(python3 -c "print(round(($after - $before) / $(getconf CLK_TCK), 2))")}"
}
target_args() {
  case "$1" in
    health) echo "--target health" ;;
    check) echo "--target check -q RequestCount=1" ;;
    report) echo "--target report" ;;
    report:*) echo "--target report --records ${1#report:}" ;; # N records per Report, as mixerclient batches
  esac
}

run --target check --duration 15s --warmup 5s "${attrs[@]}" >/dev/null   # JIT warm-up
run --target report --duration 5s --warmup 2s "${attrs[@]}" >/dev/null
for _ in $(seq 1 "$rounds"); do
  for t in $targets; do
    # shellcheck disable=SC2046
    run $(target_args "$t") --duration "$duration" --warmup 2s "${attrs[@]}"
  done
done
# Telemetry config only: lines the stdio access log wrote (rotated files included) and lines it dropped.
if grep -q istio4j-bench-accesslog "$config"; then
  sleep 1 # the writer thread drains its buffer
  lines=$(cat /tmp/istio4j-bench-accesslog.json* 2>/dev/null | wc -l)
  dropped=$(curl -fs "localhost:$mon/metrics" | awk '/dropped_lines/ && !/^#/ {d += $2} END {print d + 0}')
  echo "{\"accessLogLines\": $lines, \"stdioDroppedLines\": $dropped}"
  rm -f /tmp/istio4j-bench-accesslog.json*
fi
