# Shared by load-tracing.sh and load-tracing-ab.sh (sourced, not run): a scratch config dir with the
# benchmark policy, a real Zipkin, stand-ins for a stuck Zipkin ("slow") and a fast one that discards
# spans ("sink"), a closed port ("down"), the Check attributes, and flags MODE -> mixs's tracing flags.
# Expects $root; sets dir, pids, zport, sport, kport, closed, attrs; removes everything on exit.
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
