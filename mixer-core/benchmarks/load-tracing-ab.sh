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
repo="${MAVEN_REPO:-$HOME/.m2/repository}"
zipkin_jar="$repo/io/zipkin/zipkin-server/3.6.1/zipkin-server-3.6.1-exec.jar"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
dir=$(mktemp -d)
cp "$root/examples/quickstart/attributes.yaml" "$dir/"
cp "$root/mixer-core/benchmarks/configs/policy.yaml" "$dir/config.yaml"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

zport=$(free_port)
# In-memory Zipkin keeps at most MEM_MAX_SPANS: at 100% sampling of thousands of Checks a second
# the default (500,000 spans) outgrows a small heap and Zipkin stalls in GC, failing every message.
QUERY_PORT=$zport STORAGE_TYPE=mem MEM_MAX_SPANS=50000 java -Xmx512m -jar "$zipkin_jar" >"$dir/zipkin.log" 2>&1 &
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
# "sink": a stand-in that takes every message at once and discards it, so that the run measures
# Mixer's own tracing work without a real Zipkin's CPU on the same cores.
kport=$(free_port)
python3 - "$kport" >"$dir/sink.log" 2>&1 <<'PY' &
import sys, http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers()
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
    sink) echo "--zipkinURL http://127.0.0.1:$kport/api/v2/spans --traceSampleRate 1" ;;
    rate:*) echo "--zipkinURL http://127.0.0.1:$zport/api/v2/spans --traceSampleRate ${1#rate:}" ;;
  esac
}

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
