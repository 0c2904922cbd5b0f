#!/usr/bin/env bash
# `make run`: DeliverTrack from the production build.
#
# Embedded (none of DATABASE_URL, REDIS_URL, AMQP_URL set): one process with
# everything in it, data under DATA_DIR (./data), and the location simulator as
# demo data once the gateway answers (DEMO=0 to skip it).
#
# Services (`make run-services`, RUN_MODE=services): the gateway against PostgreSQL,
# Redis and RabbitMQ (the local defaults unless the URLs are set) and a worker
# beside it with RUN_WORKER_ROLES (default notify,webhooks,inbox,metrics,status-updates; add archive once an S3
# endpoint is reachable, or set RUN_WORKER_ROLES= for the gateway alone), and the
# dispatch service (RUN_DISPATCH=0 to leave it out).
#
# Both modes offer new packages to drivers on shift (DISPATCH_AUTO_ASSIGN, on here
# unless set; embedded, dispatch runs inside the gateway).
#
# Ctrl-C or SIGTERM stops everything gracefully, each process with one SIGTERM; if
# the gateway exits, the rest is stopped too.
set -uo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3000}
export PORT

export DISPATCH_AUTO_ASSIGN=${DISPATCH_AUTO_ASSIGN:-true}

mode=${RUN_MODE:-}
if [[ -z $mode ]]; then
  if [[ -z ${DATABASE_URL:-}${REDIS_URL:-}${AMQP_URL:-} ]]; then mode=embedded; else mode=services; fi
fi

# Each child in a process group of its own: a Ctrl-C at the terminal reaches only
# this script, which passes it on once (a second signal makes them exit at once).
set -m
pids=()
stopping=0
stop() {
  [[ $stopping == 1 ]] && return
  stopping=1
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
}
trap stop INT TERM

if [[ $mode == services ]]; then
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
  roles="${RUN_WORKER_ROLES-notify,webhooks,inbox,metrics,status-updates}"
  # Unless WORKER_QUEUES says otherwise, keep events only for the roles run here: a queue
  # for a role nobody runs (the archive, by default) would only grow.
  roles_list="${roles// /}"
  export WORKER_QUEUES="${WORKER_QUEUES:-${roles_list:-none}}"
fi

node dist/cmd/gateway/main.js &
gateway=$!
pids+=("$gateway")

if [[ $mode == services && -n $roles ]]; then
  echo "worker: roles $roles (RUN_WORKER_ROLES)" >&2
  node dist/cmd/worker/main.js --only "$roles" &
  pids+=($!)
fi

if [[ $mode == services && ${RUN_DISPATCH:-1} != 0 ]]; then
  echo "dispatch: DISPATCH_AUTO_ASSIGN=$DISPATCH_AUTO_ASSIGN (RUN_DISPATCH=0 to skip)" >&2
  node dist/cmd/dispatch/main.js &
  pids+=($!)
fi

if [[ $mode == embedded && ${DEMO:-1} != 0 ]]; then
  (
    for _ in $(seq 1 120); do
      node -e "fetch('http://127.0.0.1:$PORT/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" 2>/dev/null && break
      sleep 0.5
    done
    echo "demo: simulating trucks with IoT trackers (DEMO=0 to skip); console at http://127.0.0.1:$PORT" >&2
    exec node dist/cmd/simulator/main.js
  ) &
  pids+=($!)
fi

# Until the gateway exits or a signal arrives (wait then returns early); then stop the rest.
while kill -0 "$gateway" 2>/dev/null && [[ $stopping == 0 ]]; do wait -n; done
stop
status=0
for pid in "${pids[@]}"; do
  # A signal arriving now interrupts wait with 128+n; wait again for the real exit status.
  while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done
  wait "$pid"
  code=$?
  [[ $pid == "$gateway" ]] && status=$code
done
exit "$status"
