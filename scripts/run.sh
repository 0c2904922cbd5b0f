#!/usr/bin/env bash
# `make run`: the gateway in the foreground and a worker beside it, from the
# production build. The worker takes RUN_WORKER_ROLES (default notify,webhooks;
# add archive once an S3 endpoint is reachable, e.g. MinIO from docker-compose.yml,
# or set RUN_WORKER_ROLES= to run the gateway alone). Ctrl-C or SIGTERM stops both
# gracefully, each with one SIGTERM; if either exits, the other is stopped too.
set -uo pipefail
cd "$(dirname "$0")/.."

roles="${RUN_WORKER_ROLES-notify,webhooks}"
# Unless WORKER_QUEUES says otherwise, keep events only for the roles run here: a queue
# for a role nobody runs (the archive, by default) would only grow.
roles_list="${roles// /}"
export WORKER_QUEUES="${WORKER_QUEUES:-${roles_list:-none}}"
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

node dist/cmd/gateway/main.js &
gateway=$!
pids+=("$gateway")
if [[ -n "$roles" ]]; then
  echo "worker: roles $roles (RUN_WORKER_ROLES)" >&2
  node dist/cmd/worker/main.js --only "$roles" &
  pids+=($!)
fi

# Until one of them exits or a signal arrives (wait then returns early); then stop the rest.
wait -n
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
