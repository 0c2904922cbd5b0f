#!/usr/bin/env bash
# `make demo`: the location simulator against the gateway on 127.0.0.1:$PORT (3000).
# Uses a gateway that is already running (e.g. `make run` in another terminal);
# otherwise starts one from the production build for the demo and stops it after.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3000}
export PORT

healthy() { node -e "fetch('http://127.0.0.1:$PORT/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; }

if ! healthy; then
  log="${TMPDIR:-/tmp}/delivertrack-demo-gateway.log"
  echo "demo: no gateway on 127.0.0.1:$PORT; starting one (log: $log)"
  node dist/cmd/gateway/main.js >"$log" 2>&1 &
  gateway=$!
  trap 'kill "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null; true' EXIT
  for _ in $(seq 1 60); do
    healthy && break
    kill -0 "$gateway" 2>/dev/null || { echo "demo: the gateway exited; see $log" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 1
  done
  healthy || { echo "demo: the gateway did not answer within 60 s; see $log" >&2; exit 1; }
fi

echo "demo: open ws://127.0.0.1:$PORT/api/v1/ws (subscribe to package:<tn> or all) or GET /api/v1/locations/nearby to watch"
npm run --silent simulate
