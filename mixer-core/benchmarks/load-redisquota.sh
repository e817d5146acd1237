#!/usr/bin/env bash
# Check-with-quota load run through bin/mixs with the redisquota adapter on a real redis-server
# (docs/performance.md, issue 7). Starts redis-server on a free port, fills in configs/redisquota.yaml.template,
# runs load-runtime.sh with it, stops redis-server.
# Usage: mixer-core/benchmarks/load-redisquota.sh [ROUNDS=3] [DURATION=10s] [CONCURRENCY=32]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1]); s.close()')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
redis=$!
trap 'kill $redis 2>/dev/null; wait $redis 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
sed "s/REDIS_URL/127.0.0.1:$port/" "$here/configs/redisquota.yaml.template" > "$dir/redisquota.yaml"
"$here/load-runtime.sh" "$dir/redisquota.yaml" "${1:-3}" "${2:-10s}" "${3:-32}" "health check"
echo "{\"redisKeys\": $(redis-cli -p "$port" dbsize)}"
