#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, next to (and apart from) the
# installed broker on 5672: its own node names, ports, data, logs, plugins file
# and Erlang cookie, all under one directory. For the cluster failover check
# (`npm run test:cluster`) and for trying quorum queues by hand.
#
#   scripts/rabbitmq-cluster.sh start    start the nodes not running, join them; prints the AMQP URLs
#   scripts/rabbitmq-cluster.sh status   each node's state; prints the AMQP URLs; fails unless all 3 run clustered
#   scripts/rabbitmq-cluster.sh stop     stops the nodes and removes the directory
#   scripts/rabbitmq-cluster.sh ctl N .. rabbitmqctl against node N (1..3), e.g. `ctl 1 cluster_status`
#   scripts/rabbitmq-cluster.sh queues N .. rabbitmq-queues against node N
#   scripts/rabbitmq-cluster.sh pid N    the node's Erlang VM (beam.smp) pid
#
# Idempotent. The last line `start` and `status` print on stdout is the
# comma-separated AMQP URL list (everything else goes to stderr).
# Environment: RABBIT_CLUSTER_DIR (default /tmp/delivertrack-rabbit-cluster),
# RABBIT_CLUSTER_PORT (default 5680: nodes listen on 5681..5683, Erlang
# distribution on 25681..25683), RABBIT_CLUSTER_HOST (default localhost: node
# names dt1@localhost..dt3@localhost). Needs the rabbitmq-server package
# (/usr/lib/rabbitmq/bin); runs the nodes as the calling user (root in CI).
set -euo pipefail

DIR=${RABBIT_CLUSTER_DIR:-/tmp/delivertrack-rabbit-cluster}
BASE=${RABBIT_CLUSTER_PORT:-5680}
HOST=${RABBIT_CLUSTER_HOST:-localhost}
BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
NODES="1 2 3"

say() { echo "rabbitmq-cluster: $*" >&2; }

[ -x "$BIN/rabbitmq-server" ] || { say "no $BIN/rabbitmq-server (install the rabbitmq-server package)"; exit 1; }

node() { echo "dt$1@$HOST"; }
port() { echo $((BASE + $1)); }

# The environment of node N's server and of the CLI tools talking to it. The
# Debian wrapper in /usr/sbin would su to the rabbitmq user and use its cookie
# and /etc/rabbitmq's settings (which name the installed node): the scripts in
# $BIN are called directly instead, with everything pointed into $DIR.
node_env() {
  local n=$1 d="$DIR/dt$1"
  export HOME="$DIR"
  export RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
  export RABBITMQ_NODENAME
  RABBITMQ_NODENAME=$(node "$n")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT
  RABBITMQ_NODE_PORT=$(port "$n")
  export RABBITMQ_DIST_PORT=$((20000 + $(port "$n")))
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$d/mnesia"
  export RABBITMQ_LOG_BASE="$d/log"
  export RABBITMQ_PID_FILE="$d/pid"
  # The CLI tools' own distribution ports, apart from those of the installed node's CLI.
  export RABBITMQ_CTL_DIST_PORT_MIN=$((35700 + 20 * n))
  export RABBITMQ_CTL_DIST_PORT_MAX=$((RABBITMQ_CTL_DIST_PORT_MIN + 19))
  # Distribution on loopback only, as the installed node does.
  export ERL_EPMD_ADDRESS=${ERL_EPMD_ADDRESS:-127.0.0.1}
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

ctl() { local n=$1; shift; (node_env "$n"; "$BIN/rabbitmqctl" -n "$(node "$n")" "$@"); }
queues() { local n=$1; shift; (node_env "$n"; "$BIN/rabbitmq-queues" -n "$(node "$n")" "$@"); }

pid_of() {
  local f="$DIR/dt$1/pid"
  [ -s "$f" ] || return 1
  local p
  p=$(tr -dc '0-9' <"$f")
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

running() { pid_of "$1" >/dev/null && ctl "$1" -q ping >/dev/null 2>&1; }

prepare() {
  mkdir -p "$DIR"
  if [ ! -s "$DIR/.erlang.cookie" ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -dc 'a-f0-9' | tr 'a-f' 'A-F' >"$DIR/.erlang.cookie")
  fi
  chmod 400 "$DIR/.erlang.cookie"
  : >"$DIR/rabbitmq-env.conf"
  echo '[rabbitmq_consistent_hash_exchange].' >"$DIR/enabled_plugins"
  local n
  for n in $NODES; do
    mkdir -p "$DIR/dt$n/mnesia" "$DIR/dt$n/log"
    cat >"$DIR/dt$n/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$(port "$n")
log.console = false
log.file.level = info
# A minority side stops serving rather than diverge (three nodes: one may go).
cluster_partition_handling = pause_minority
EOF
    echo '[].' >"$DIR/dt$n/advanced.config"
  done
}

start_node() {
  local n=$1
  if running "$n"; then say "$(node "$n") already running"; return 0; fi
  say "starting $(node "$n") on 127.0.0.1:$(port "$n")"
  rm -f "$DIR/dt$n/pid"
  (
    node_env "$n"
    cd "$DIR/dt$n"
    # Detached from the caller's session and terminal, so the node outlives it.
    setsid nohup "$BIN/rabbitmq-server" </dev/null >"$DIR/dt$n/log/console.log" 2>&1 &
  )
}

await_node() {
  local n=$1
  if ! ctl "$n" -q wait --timeout 120 "$DIR/dt$n/pid" >/dev/null 2>&1; then
    say "$(node "$n") did not start; the end of its log:"
    tail -n 30 "$DIR/dt$n/log/console.log" "$DIR/dt$n/log/"*.log >&2 2>/dev/null || true
    return 1
  fi
}

# Whether node N counts node 1 among its cluster's running nodes.
joined() {
  ctl "$1" -q cluster_status --formatter json 2>/dev/null | grep -q "\"$(node 1)\""
}

quietly() {
  local n=$1 out
  shift
  if ! out=$(ctl "$n" -q "$@" 2>&1); then
    say "rabbitmqctl $* on $(node "$n") failed:"
    echo "$out" >&2
    return 1
  fi
}

urls() {
  local n out=""
  for n in $NODES; do out="${out:+$out,}amqp://guest:guest@127.0.0.1:$(port "$n")"; done
  echo "$out"
}

cmd_start() {
  prepare
  local n
  for n in $NODES; do start_node "$n"; done
  for n in $NODES; do await_node "$n"; done
  for n in 2 3; do
    if joined "$n"; then continue; fi
    say "joining $(node "$n") to $(node 1)"
    # The CLI logs harmless errors while the app is stopped: shown only if a step fails.
    quietly "$n" stop_app
    quietly "$n" join_cluster "$(node 1)"
    quietly "$n" start_app
  done
  ctl 1 -q await_online_nodes 3 --timeout 60 >/dev/null
  say "running: $(node 1), $(node 2), $(node 3) (data and logs in $DIR)"
  urls
}

cmd_status() {
  local n ok=0
  if [ ! -d "$DIR" ]; then say "not started ($DIR is missing)"; urls; return 1; fi
  for n in $NODES; do
    if running "$n"; then
      if joined "$n"; then say "$(node "$n") running, pid $(pid_of "$n"), port $(port "$n"), clustered"
      else say "$(node "$n") running, pid $(pid_of "$n"), port $(port "$n"), NOT clustered"; ok=1; fi
    else say "$(node "$n") down"; ok=1; fi
  done
  urls
  return $ok
}

cmd_stop() {
  local n p pids=""
  for n in $NODES; do
    # SIGTERM stops a node as `rabbitmqctl stop` does, without a CLI round trip.
    if p=$(pid_of "$n"); then kill -TERM "$p" 2>/dev/null || true; pids="$pids $p"; fi
  done
  for p in $pids; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  # The wrapper shells exit with their VMs; nothing else of ours outlives them.
  rm -rf "$DIR"
  say "stopped; removed $DIR"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  ctl) shift; ctl "$@" ;;
  queues) shift; queues "$@" ;;
  pid) pid_of "${2:?node number}" ;;
  *) echo "usage: $0 start | stop | status | ctl N args.. | queues N args.. | pid N" >&2; exit 2 ;;
esac
