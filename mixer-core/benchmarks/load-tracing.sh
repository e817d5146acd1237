#!/usr/bin/env bash
# Check throughput with tracing off and on (docs/performance.md, issue 16).
# Usage: mixer-core/benchmarks/load-tracing.sh [ROUNDS=3] [DURATION=10s] [CONCURRENCY=32] [MODES="off zipkin down slow"]
# Modes: off (no --zipkinURL), zipkin (a real Zipkin, every call sampled), down (--zipkinURL to a closed
# port), slow (a Zipkin stand-in that answers nothing for 30 s), rate:R (a real Zipkin, --traceSampleRate R),
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
repo="${MAVEN_REPO:-$HOME/.m2/repository}"
zipkin_jar="$repo/io/zipkin/zipkin-server/3.6.1/zipkin-server-3.6.1-exec.jar"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
dir=$(mktemp -d)
cp "$root/examples/quickstart/attributes.yaml" "$dir/"
cp "$root/mixer-core/benchmarks/configs/policy.yaml" "$dir/config.yaml"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

# A real Zipkin, and a stand-in that reads a request and never answers (until 30 s pass).
zport=$(free_port)
QUERY_PORT=$zport STORAGE_TYPE=mem java -Xmx256m -jar "$zipkin_jar" >"$dir/zipkin.log" 2>&1 &
pids+=($!)
sport=$(free_port)
python3 - "$sport" >"$dir/slow.log" 2>&1 <<'PY' &
import sys, time, http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        time.sleep(30)
        self.send_response(202); self.end_headers()
    def log_message(self, *a): pass
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
closed=$(free_port)
for _ in $(seq 1 600); do curl -fs "localhost:$zport/health" >/dev/null 2>&1 && break; sleep 0.1; done

attrs=(-s "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local,source.user=jason,destination.uid=kubernetes://ratings-v1.default,source.uid=kubernetes://reviews-v2.default,request.method=GET,request.path=/ratings/0,request.host=ratings:9080,request.scheme=http,context.protocol=http,request.id=5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10"
       -i "request.size=0,source.port=43512,response.code=200"
       --duration_attributes "response.duration=12ms" -t "request.time=2017-11-21T10:15:30Z"
       --stringmap_attributes "request.headers=:authority:ratings:9080;:path:/ratings/0;:method:GET;user-agent:curl/7.58;x-request-id:5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10,source.labels=app:reviews;version:v2,destination.labels=app:ratings;version:v1")

flags() {
  case "$1" in
    off|base) ;;
    zipkin) echo "--zipkinURL http://127.0.0.1:$zport/api/v2/spans --traceSampleRate 1" ;;
    down) echo "--zipkinURL http://127.0.0.1:$closed/api/v2/spans --traceSampleRate 1" ;;
    slow) echo "--zipkinURL http://127.0.0.1:$sport/api/v2/spans --traceSampleRate 1" ;;
    rate:*) echo "--zipkinURL http://127.0.0.1:$zport/api/v2/spans --traceSampleRate ${1#rate:}" ;;
  esac
}

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
