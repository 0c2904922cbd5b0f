#!/usr/bin/env bash
# Makes sure the services `make test` needs answer on 127.0.0.1: PostgreSQL (5432),
# Redis (6379) and RabbitMQ (5672). An installed one that is down is started with this
# kind of machine's commands. Missing ones are installed from Debian's packages when
# the script runs as root on Debian; anywhere else it prints the one command that would
# install them and fails. Idempotent. Written for bash 3.2 too (macOS).
#
# For tests only: ENSURE_SERVICES_ASSUME_MISSING="postgresql redis rabbitmq" (any of
# them) treats those as down and not installed, and ENSURE_SERVICES_ASSUME_SYSTEM
# (debian-root, debian, brew or other) replaces the detection of the system. When the
# first names a service the script stops before installing or starting anything.
set -euo pipefail

# Debian keeps rabbitmq-server in /usr/sbin, which a user's PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    up "$port" && return 0
    sleep 1
  done
  echo "ensure-services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

assumed_missing() { [[ " ${ENSURE_SERVICES_ASSUME_MISSING:-} " == *" $1 "* ]]; }

# The version of the first PostgreSQL cluster, as pg_ctlcluster names it.
pg_version() {
  local dir
  for dir in /etc/postgresql/*/main; do
    if [ -d "$dir" ]; then basename "$(dirname "$dir")"; return 0; fi
  done
  return 1
}

answering() {
  assumed_missing "$1" && return 1
  case $1 in
    postgresql) up 5432 ;;
    redis) up 6379 ;;
    rabbitmq) up 5672 ;;
  esac
}

installed() {
  assumed_missing "$1" && return 1
  case $1 in
    postgresql) pg_version >/dev/null || command -v postgres >/dev/null ;;
    redis) command -v redis-server >/dev/null ;;
    rabbitmq) command -v rabbitmq-server >/dev/null ;;
  esac
}

system() {
  if [ -n "${ENSURE_SERVICES_ASSUME_SYSTEM:-}" ]; then
    echo "$ENSURE_SERVICES_ASSUME_SYSTEM"
  elif [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then echo debian-root; else echo debian; fi
  elif command -v brew >/dev/null; then
    echo brew
  else
    echo other
  fi
}

# The packages of a kind (debian, brew, title) that provide the named services.
# Debian's postgresql-contrib pulls in the server package that ships cube and earthdistance.
packages() {
  local kind=$1 name out=""
  shift
  for name in "$@"; do
    case $kind:$name in
      debian:postgresql) out="$out postgresql postgresql-contrib" ;;
      debian:redis) out="$out redis-server" ;;
      debian:rabbitmq) out="$out rabbitmq-server" ;;
      brew:postgresql) out="$out postgresql@16" ;;
      brew:redis) out="$out redis" ;;
      brew:rabbitmq) out="$out rabbitmq" ;;
      title:postgresql) out="$out PostgreSQL" ;;
      title:redis) out="$out Redis" ;;
      title:rabbitmq) out="$out RabbitMQ" ;;
    esac
  done
  echo "${out# }"
}

# Prints what is missing and the command that installs it (if one is known), and stops.
refuse() {
  local titles=$1 command=${2:-}
  echo "ensure-services: not installed: ${titles// /, }" >&2
  if [ -n "$command" ]; then
    echo "Install with:  $command" >&2
  else
    echo "Install them from your system's packages (PostgreSQL 15+ with its contrib extensions cube and earthdistance), listening on 127.0.0.1." >&2
  fi
  echo "make run needs none of them (embedded mode); make test does." >&2
  exit 1
}

install_debian() {
  echo "ensure-services: installing $* from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # C.UTF-8 makes the new PostgreSQL cluster UTF8 whatever the caller's locale.
  LC_ALL=C.UTF-8 apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# Debian's cluster asks for a password over TCP; the tests connect as postgres without one.
trust_local_tcp() {
  local version hba
  version=$(pg_version)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  sed -E -i 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[^[:space:]]+#\1trust#' "$hba"
  if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    echo "ensure-services: could not set trust for 127.0.0.1 in $hba" >&2
    exit 1
  fi
  if up 5432; then pg_ctlcluster --skip-systemctl-redirect "$version" main reload; fi
}

create_databases() {
  local db
  for db in test root; do
    if [ -z "$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname = '$db'")" ]; then
      createdb -h 127.0.0.1 -U postgres "$db"
    fi
  done
}

missing=()
for name in postgresql redis rabbitmq; do
  answering "$name" || installed "$name" || missing+=("$name")
done

installed_postgresql=no
if [ ${#missing[@]} -gt 0 ]; then
  titles=$(packages title "${missing[@]}")
  debian=$(packages debian "${missing[@]}")
  case $(system) in
    debian-root)
      if [ -n "${ENSURE_SERVICES_ASSUME_MISSING:-}" ]; then
        echo "ensure-services: ENSURE_SERVICES_ASSUME_MISSING is set; would run: apt-get install -y $debian" >&2
        exit 1
      fi
      read -r -a debian_packages <<<"$debian"
      install_debian "${debian_packages[@]}"
      if [[ " ${missing[*]} " == *" postgresql "* ]]; then
        installed_postgresql=yes
        trust_local_tcp
      fi
      ;;
    debian) refuse "$titles" "sudo apt-get install -y $debian" ;;
    brew) refuse "$titles" "brew install $(packages brew "${missing[@]}")" ;;
    *) refuse "$titles" ;;
  esac
fi

if ! up 5432; then
  echo "ensure-services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null && pg_version >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main start
  else
    echo "ensure-services: PostgreSQL is down and pg_ctlcluster is missing; start PostgreSQL or set DATABASE_URL" >&2
    exit 1
  fi
  wait_for PostgreSQL 5432
fi
if [ "$installed_postgresql" = yes ]; then create_databases; fi

if ! up 6379; then
  echo "ensure-services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis 6379
fi

if ! up 5672; then
  echo "ensure-services: starting RabbitMQ"
  rabbitmq-server -detached
  wait_for RabbitMQ 5672
fi

# The status updates' partitions hang off a consistent-hash exchange (docs/architecture.md).
# Enabling an enabled plugin changes nothing; the list is read first so a run without the
# rights to change it still passes when the plugin is there.
hash_plugin=rabbitmq_consistent_hash_exchange
if command -v rabbitmq-plugins >/dev/null && ! rabbitmq-plugins list -e -m 2>/dev/null | grep -qx "$hash_plugin"; then
  echo "ensure-services: enabling the RabbitMQ plugin $hash_plugin"
  rabbitmq-plugins enable "$hash_plugin" >/dev/null || {
    echo "ensure-services: could not enable $hash_plugin; run: rabbitmq-plugins enable $hash_plugin" >&2
    exit 1
  }
fi
echo "ensure-services: PostgreSQL, Redis and RabbitMQ are up"
