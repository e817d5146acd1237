#!/usr/bin/env bash
# Checks that grpc-js's xDS client (@grpc/grpc-js-xds) accepts what Pilot serves to proxyless clients
# and routes by it. Needs a built tree (./mvnw -q -DskipTests install -pl pilot/discovery -am),
# Node >= 18 and npm (with registry access for the first `npm ci`). NOT run by Maven or CI.
#
# 1. Two Echo backends (server.js): v1 on 127.0.0.1, v2 on 127.0.0.2, free ports.
# 2. Pilot (bin/pilot-discovery discovery) on free ports, file registry describing them as service
#    echo.default.svc.cluster.local port 7070 named `grpc`, fs config store with an 80/20 RouteRule.
# 3. client.js makes $CALLS calls to xds:///echo.default.svc.cluster.local:7070 and counts who answered.
# 4. A header RouteRule (x-user: exact jason -> v2) is added while Pilot runs; calls with and
#    without the header are counted.
# 5. Pilot's NACK counters (/metrics pilot_total_xds_rejects, /debug/adsz) and grpc-js's xDS trace
#    are checked. Prints a summary; exit status 0 only if every check passed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../../.." && pwd)"
CALLS="${CALLS:-500}"
HEADER_CALLS="${HEADER_CALLS:-50}"
TOLERANCE="${TOLERANCE:-0.06}"   # |observed v2 share - 0.20| allowed; 500 calls: sd of the share ~0.018
work="$(mktemp -d /tmp/pilot-grpc-js.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

cd "$here"
if [[ ! -d node_modules/@grpc/grpc-js-xds ]]; then
  npm ci --no-audit --no-fund >"$work/npm.log" 2>&1 || { cat "$work/npm.log"; exit 1; }
fi

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'; }
wait_for() { # wait_for <what> <command...>: up to 60 s
  local what="$1"; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "timed out waiting for $what" >&2; exit 1
}

p1=$(free_port); p2=$(free_port); xds=$(free_port); mon=$(free_port)

mkdir -p "$work/registry" "$work/config"
sed -e "s/@V1_PORT@/$p1/" -e "s/@V2_PORT@/$p2/" "$here/config/registry-echo.yaml" >"$work/registry/echo.yaml"
cp "$here/config/route-rule-echo-80-20.yaml" "$work/config/"
sed -e "s/@XDS_PORT@/$xds/" "$here/config/bootstrap.json" >"$work/bootstrap.json"

node server.js v1 "$p1" 127.0.0.1 >"$work/server-v1.log" 2>&1 & pids+=($!)
# 127.0.0.2 is loopback too on Linux; distinct IPs let the registry tell the two pods apart.
node server.js v2 "$p2" 127.0.0.2 >"$work/server-v2.log" 2>&1 & pids+=($!)

"$root/bin/pilot-discovery" discovery --grpcPort "$xds" --monitoringPort "$mon" \
  --registries "file://$work/registry" --configStoreURL "fs://$work/config" >"$work/pilot.log" 2>&1 & pids+=($!)
wait_for "Pilot /readyz (log: $work/pilot.log)" curl -sf "localhost:$mon/readyz"

export GRPC_XDS_BOOTSTRAP="$work/bootstrap.json"
export GRPC_TRACE="${GRPC_TRACE:-xds_client}" GRPC_VERBOSITY="${GRPC_VERBOSITY:-DEBUG}"
target="xds:///echo.default.svc.cluster.local:7070"
cd "$here"

echo "== split: $CALLS calls, RouteRule 80% v1 / 20% v2"
split=$(node client.js "$target" "$CALLS" 2>"$work/client-split.log") || true
echo "$split"

cp "$here/config/route-rule-echo-header.yaml" "$work/config/"
wait_for "Pilot to load the header rule" sh -c "curl -sf localhost:$mon/debug/configz | grep -q echo-jason"
sleep 2   # the config store's poll, then the push

echo "== header: $HEADER_CALLS calls with x-user: jason (expect all v2)"
header=$(node client.js "$target" "$HEADER_CALLS" x-user=jason 2>"$work/client-header.log") || true
echo "$header"
echo "== no header after the header rule: $CALLS calls (expect the 80/20 split still)"
node client.js "$target" "$CALLS" x-user=someone-else >"$work/split2.json" 2>"$work/client-split2.log" & client=$!
# /debug/adsz while this client is connected: what it ACKed (and any NACK reason) per type.
wait_for "the client in /debug/adsz" sh -c "curl -sf localhost:$mon/debug/adsz | grep -q grpc-js-echo-client"
curl -s "localhost:$mon/debug/adsz" >"$work/adsz.json"
wait "$client" || true
split2=$(cat "$work/split2.json")
echo "$split2"

cp "$here/config/route-rule-echo-fault.yaml" "$here/config/destination-policy-echo-v1.yaml" "$work/config/"
wait_for "Pilot to load the fault rule and the policy" sh -c \
  "curl -sf localhost:$mon/debug/configz | grep -q echo-fault && curl -sf localhost:$mon/debug/configz | grep -q echo-v1"
sleep 2
echo "== fault: $HEADER_CALLS calls with x-fault: abort (expect all UNAVAILABLE, injected by grpc-js's fault filter)"
fault=$(node client.js "$target" "$HEADER_CALLS" x-fault=abort 2>"$work/client-fault.log") || true
echo "$fault"
echo "== no fault header, with the v1 circuit breaker / outlier policy: $CALLS calls (expect 80/20)"
split3=$(node client.js "$target" "$CALLS" 2>"$work/client-split3.log") || true
echo "$split3"

rejects=$(curl -s "localhost:$mon/metrics" | grep '^pilot_total_xds_rejects' || true)

# Phase 4: grpc-js 1.14 implements only ROUND_ROBIN (and RING_HASH) lb_policy; a LEAST_CONN
# (LEAST_REQUEST) or RANDOM cluster used to be NACKed. Proxyless clients now get a gRFC A52
# load_balancing_policy list (least_request, then round_robin): grpc-js must take round robin.
cp "$here/config/destination-policy-echo-v1-least-conn.yaml" "$work/config/destination-policy-echo-v1.yaml"
sleep 4
echo "== DestinationPolicy LEAST_CONN on v1, a fresh client, $HEADER_CALLS calls (expect all ok, no NACK)"
least=$(node client.js "$target" "$HEADER_CALLS" 2>"$work/leastconn.log") || true
echo "$least"
rejects_least=$(curl -s "localhost:$mon/metrics" | grep '^pilot_total_xds_rejects' || true)
echo "   Pilot: $(echo "$rejects_least" | tr '\n' ' ')"
echo "   grpc-js: $(grep -o 'unsupported lb_policy[^"]*' "$work/leastconn.log" | sort -u | head -1)"
echo "== /debug/adsz while the client was connected"
cat "$work/adsz.json"; echo
# grpc-js traces each ACK/NACK request: a NACK carries a non-null error_detail.
nacks_client=$(cat "$work"/client-*.log | grep -ciE '"error_detail": \{|validation failed|NACKED' || true)

status=0
node - "$split" "$header" "$split2" "$TOLERANCE" "$rejects" "$nacks_client" "$work/adsz.json" "$fault" "$split3" "$least" "$rejects_least" <<'JS' || status=$?
const [split, header, split2, tol, rejects, nacksClient, adszFile, fault, split3, least, rejectsLeast] = process.argv.slice(2);
const parse = (s) => { try { return JSON.parse(s); } catch (e) { return {calls: 0, ok: 0, byVersion: {}, errors: {parse: s}}; } };
const checks = [];
const check = (name, ok, detail) => { checks.push(ok); console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`); };
for (const [name, r] of [['split', parse(split)], ['split after header rule', parse(split2)],
    ['split with fault rule and v1 policy', parse(split3)]]) {
  const v2 = (r.byVersion.v2 || 0) / Math.max(r.ok, 1);
  check(name, r.ok === r.calls && Math.abs(v2 - 0.2) <= Number(tol),
      `${r.ok}/${r.calls} ok, v1=${r.byVersion.v1 || 0} v2=${r.byVersion.v2 || 0} (v2 share ${v2.toFixed(3)}, want 0.2±${tol})` +
      (Object.keys(r.errors).length ? ` errors=${JSON.stringify(r.errors)}` : ''));
}
const h = parse(header);
check('header x-user=jason', h.ok === h.calls && (h.byVersion.v2 || 0) === h.calls,
    `${h.ok}/${h.calls} ok, v1=${h.byVersion.v1 || 0} v2=${h.byVersion.v2 || 0}` +
    (Object.keys(h.errors).length ? ` errors=${JSON.stringify(h.errors)}` : ''));
const f = parse(fault);
const unavailable = Object.entries(f.errors).filter(([k]) => k.startsWith('UNAVAILABLE')).reduce((a, [, n]) => a + n, 0);
check('fault abort x-fault=abort', unavailable === f.calls, `${unavailable}/${f.calls} UNAVAILABLE, errors=${JSON.stringify(f.errors)}`);
const rejectCount = rejects.split('\n').filter((l) => l.trim()).reduce((a, l) => a + Number(l.trim().split(/\s+/).pop() || 0), 0);
check('Pilot counted no NACK', rejectCount === 0, rejects.trim() ? rejects.trim().replace(/\n/g, '; ') : 'pilot_total_xds_rejects absent (no NACK)');
let adsz = [];
try { adsz = JSON.parse(require('fs').readFileSync(adszFile, 'utf8')); } catch (e) { /* checked below */ }
const me = adsz.find((c) => c.node === 'grpc-js-echo-client');
const types = me ? Object.entries(me.types) : [];
check('/debug/adsz: client ACKed every type it was sent', types.length === 4 &&
    types.every(([, t]) => t.nacks === 0 && t.ackedNonce === t.sentNonce),
    me ? types.map(([k, t]) => `${k} sent ${t.sentVersion}/${t.sentNonce} acked ${t.ackedVersion}/${t.ackedNonce} nacks ${t.nacks}`).join('; ') : 'client not listed');
check('grpc-js trace has no NACK/error line', Number(nacksClient) === 0, `${nacksClient} matching lines`);
const l = parse(least);
check('LEAST_CONN policy: calls ok, no NACK', l.ok === l.calls && !rejectsLeast.trim(),
    `${l.ok}/${l.calls} ok, v1=${l.byVersion.v1 || 0} v2=${l.byVersion.v2 || 0}; rejects: ${rejectsLeast.trim() || 'none'}`);
process.exit(checks.every(Boolean) ? 0 : 1);
JS
echo "work dir (logs, adsz.json): $work"
exit $status
