#!/usr/bin/env bash
# `make run`: the gateway in the foreground and a worker beside it, from the
# production build. The worker takes RUN_WORKER_ROLES (default notify,webhooks;
# add archive once an S3 endpoint is reachable, e.g. MinIO from docker-compose.yml,
# or set RUN_WORKER_ROLES= to run the gateway alone). Ctrl-C or SIGTERM stops both
# gracefully; if either one exits, the other is stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."

roles="${RUN_WORKER_ROLES-notify,webhooks}"
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop INT TERM EXIT

node dist/cmd/gateway/main.js &
pids+=($!)
if [[ -n "$roles" ]]; then
  echo "worker: roles $roles (RUN_WORKER_ROLES)" >&2
  node dist/cmd/worker/main.js --only "$roles" &
  pids+=($!)
fi
# Whichever exits first takes the other one down with it.
set +e
wait -n
status=$?
stop
exit "$status"
