#!/usr/bin/env bash
# Reloading a 1000-rule config under Check load (docs/performance.md, issue 5): starts bin/mixs on the
# policy config plus 1000 rules, runs mixc load for 20 s, rewrites the config 8 s in, and prints how long
# the new snapshot took to go live (from the write to /metrics showing version 2), how long building it
# took, and the load run's errors.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port); mon=$(free_port); dir=$(mktemp -d)
cp "$root/examples/quickstart/attributes.yaml" "$root/mixer-core/benchmarks/configs/policy.yaml" "$dir/"
rules() {
  python3 - "$1" <<'PY'
import sys
tag = sys.argv[1]
for i in range(1000):
    print(f'''---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {{name: r{i}, namespace: default}}
spec:
  match: source.user == "{tag}{i}"
  actions:
  - handler: deny.denier.istio-system
    instances: [denyrequest.checknothing.istio-system]''')
PY
}
rules old > "$dir/rules.yaml"
"$root/bin/mixs" server --port "$port" --monitoringPort "$mon" --configStoreURL "fs://$dir" >"$dir/mixs.log" 2>&1 &
mixs=$!
trap 'kill -TERM $mixs 2>/dev/null; wait $mixs 2>/dev/null || true; rm -rf "$dir"' EXIT
until curl -fs "localhost:$mon/readyz" >/dev/null 2>&1; do sleep 0.05; done
version() { curl -fs "localhost:$mon/metrics" | awk '/^mixer_config_snapshot_version / {print $2}'; }
echo "{\"rules\": $(curl -fs "localhost:$mon/debug/config" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rules"])'), \"version\": $(version)}"
"$root/bin/mixc" load -m "localhost:$port" --target check --concurrency 32 --duration 20s --warmup 2s \
    -s destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local,source.user=jason \
    -q RequestCount=1 2>/dev/null | tail -n 1 > "$dir/load.json" &
load=$!
sleep 10
rules new > "$dir/rules.yaml.tmp" && mv "$dir/rules.yaml.tmp" "$dir/rules.yaml"
start=$(date +%s%N)
until [ "$(version)" = "2.0" ]; do sleep 0.01; done
live=$(( ($(date +%s%N) - start) / 1000000 ))
build=$(curl -fs "localhost:$mon/metrics" | awk '/^mixer_config_snapshot_build_seconds / {print $2}')
wait $load
echo "{\"writeToLiveMs\": $live, \"snapshotBuildSeconds\": $build}"
cat "$dir/load.json"
