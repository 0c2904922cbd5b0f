#!/usr/bin/env bash
# `make demo`: the location simulator and a few carrier trackings against the
# gateway on 127.0.0.1:$PORT (3000).
#
# Carrier trackings come from the sandbox provider (`npm run carrier-sandbox`, here
# from dist/), started on CARRIER_SANDBOX_PORT (4010) unless one answers there,
# with its clock sped up (CARRIER_SANDBOX_SPEED, 360: a two-day journey in 8 min).
# The sandbox is only ever used here: nothing else defaults to it.
#
# Uses a gateway that is already running (e.g. `make run` in another terminal); its
# carrier trackings move only if it was started with CARRIER_PROVIDER=sandbox.
# Otherwise starts one from the production build with the sandbox as its provider
# and checks every minute (TRACKING_*_FREQ=1), embedded, or against the services
# with a worker for the carriers role when DATABASE_URL, REDIS_URL or AMQP_URL is
# set. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3000}
SANDBOX_PORT=${CARRIER_SANDBOX_PORT:-4010}
SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
# The admin the started gateway creates and the trackings below are added as (the Makefile's defaults).
export PORT ADMIN_EMAIL=${ADMIN_EMAIL:-admin@example.com} ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin-password}
log_dir="${TMPDIR:-/tmp}"

answers() { node -e "fetch('$1').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; }
healthy() { answers "http://127.0.0.1:$PORT/health"; }

# Each child in a process group of its own: a Ctrl-C reaches only this script, which stops them with one SIGTERM each.
set -m
pids=()
# Last started first: the simulator before the gateway it talks to, the sandbox last.
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts `node <script>` in the background with the environment given; waits (60 s) until <url> answers.
start() {
  local name=$1 url=$2 script=$3
  shift 3
  local out="$log_dir/delivertrack-demo-$name.log"
  env "$@" node "$script" >"$out" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 60); do
    answers "$url" && { echo "demo: $name started (log: $out)"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "demo: $name exited; see $out" >&2; tail -20 "$out" >&2; exit 1; }
    sleep 1
  done
  echo "demo: $name did not answer within 60 s; see $out" >&2
  exit 1
}

# Pushes reach the gateway once it serves POST /carrier-webhooks/sandbox; until then polls alone move the trackings.
secret=${CARRIER_WEBHOOK_SECRET:-demo-webhook-secret}
if answers "$SANDBOX_URL/__sandbox/calls"; then
  echo "demo: using the carrier sandbox on $SANDBOX_URL"
else
  start carrier-sandbox "$SANDBOX_URL/__sandbox/calls" dist/cmd/carrier-sandbox/main.js NODE_ENV=development \
    CARRIER_SANDBOX_PORT="$SANDBOX_PORT" CARRIER_SANDBOX_SPEED="${CARRIER_SANDBOX_SPEED:-360}" \
    CARRIER_SANDBOX_WEBHOOK_URL="http://127.0.0.1:$PORT/api/v1/carrier-webhooks/sandbox" CARRIER_WEBHOOK_SECRET="$secret"
fi

if healthy; then
  echo "demo: using the gateway on 127.0.0.1:$PORT; its carrier trackings move only if it runs with CARRIER_PROVIDER=sandbox CARRIER_API_URL=$SANDBOX_URL"
else
  carrier_env=(CARRIER_PROVIDER=sandbox CARRIER_API_URL="$SANDBOX_URL" CARRIER_WEBHOOK_SECRET="$secret"
    TRACKING_PRE_SHIPMENT_FREQ="${TRACKING_PRE_SHIPMENT_FREQ:-1}" TRACKING_IN_TRANSIT_FREQ="${TRACKING_IN_TRANSIT_FREQ:-1}"
    TRACKING_OUT_FOR_DELIVERY_FREQ="${TRACKING_OUT_FOR_DELIVERY_FREQ:-1}" TRACKING_EXCEPTION_FREQ="${TRACKING_EXCEPTION_FREQ:-1}")
  echo "demo: no gateway on 127.0.0.1:$PORT; starting one with the carrier sandbox as its provider"
  start gateway "http://127.0.0.1:$PORT/health" dist/cmd/gateway/main.js "${carrier_env[@]}"
  if [[ -n ${DATABASE_URL:-}${REDIS_URL:-}${AMQP_URL:-} ]]; then
    # Services mode: the gateway runs no workers; the carriers role needs one.
    env "${carrier_env[@]}" node dist/cmd/worker/main.js --only carriers >"$log_dir/delivertrack-demo-worker.log" 2>&1 &
    pids+=($!)
    echo "demo: worker for the carriers role started (log: $log_dir/delivertrack-demo-worker.log)"
  fi
fi

# A few external trackings, one per sandbox journey, on the admin's tracking list.
suffix=$(date +%H%M%S)
PORT=$PORT SUFFIX=$suffix node --input-type=module -e '
const base = `http://127.0.0.1:${process.env.PORT}/api/v1`
const post = (path, body, token) => fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
const login = await post("/auth/login", { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD })
if (!login.ok) { console.error(`demo: could not sign in as ADMIN_EMAIL (${login.status}); no carrier trackings added`); process.exit(0) }
const { accessToken } = await login.json()
const journeys = { SBXDELIVERED: "delivered", SBXOFD: "out for delivery", SBXRETURNED: "returned", SBXFAILURE: "failure" }
for (const [prefix, label] of Object.entries(journeys)) {
  const tn = prefix + process.env.SUFFIX
  const res = await post("/me/trackings", { trackingNumber: tn, carrier: "ups", label: `Sandbox: ${label}` }, accessToken)
  console.log(`demo: carrier tracking ${tn} (${label}): ${res.ok ? "added" : `HTTP ${res.status} ${await res.text()}`}`)
}
'

echo "demo: console at http://127.0.0.1:$PORT (sign in as $ADMIN_EMAIL: My trackings, the SBX... packages); carrier calls: $SANDBOX_URL/__sandbox/calls"
echo "demo: open ws://127.0.0.1:$PORT/api/v1/ws (subscribe to package:<tn> or all) or GET /api/v1/locations/nearby to watch"
node dist/cmd/simulator/main.js &
pids+=($!)
wait "$!" || true
