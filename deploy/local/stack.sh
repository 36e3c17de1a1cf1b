#!/usr/bin/env bash
# The local stack tweetpipe runs and tests against: a real Apache Kafka broker (KRaft, one node,
# resolved from Maven Central) and a real PostgreSQL server (Debian's packages).
#
#   deploy/local/stack.sh up       install what is missing, start what is not running, wait until ready
#   deploy/local/stack.sh down     stop both cleanly (data is kept under .stack/)
#   deploy/local/stack.sh status   what runs where
#   deploy/local/stack.sh kill kafka|postgres   SIGKILL one component (for fault drills)
#   deploy/local/stack.sh checkpoint   CHECKPOINT the local PostgreSQL (the benchmark, between phases)
#
#   deploy/local/stack.sh up --secure [kafka-N]   the production-shaped stack (deploy/local/secure.sh):
#                                        three SASL_SSL Kafka nodes, TLS-only PostgreSQL; writes
#                                        .stack/secure/env. With kafka-N, (re)starts that node only.
#   deploy/local/stack.sh down|status --secure
#   deploy/local/stack.sh kill --secure kafka-N      SIGKILL one secure broker
#
# `up` is idempotent: run it again and it brings back whatever died. All state lives under
# .stack/ at the repository root (ignored by git). Ports can be moved with KAFKA_PORT,
# KAFKA_CONTROLLER_PORT and PG_PORT.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/deploy/local"
STACK="${TWEETPIPE_STACK_DIR:-$ROOT/.stack}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${PG_PORT:-5432}"
KAFKA_DIR="$STACK/kafka"
PG_DIR="$STACK/postgres"
READY_TIMEOUT="${STACK_READY_TIMEOUT:-120}"

# shellcheck source=deploy/local/lib.sh
. "$HERE/lib.sh"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# Prerequisites: installed from Debian's packages when missing (a fresh machine has none of them).
# ---------------------------------------------------------------------------------------------
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "missing $*; install it with your package manager"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bindir() {
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

java_major() {
  java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

ensure_prerequisites() {
  local missing=()
  if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; then missing+=(openjdk-17-jre-headless); fi
  command -v mvn >/dev/null || missing+=(maven)
  pg_bindir >/dev/null || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------
kafka_classpath() { echo "$KAFKA_DIR/libs/*"; }

kafka_install() {
  local stamp="$KAFKA_DIR/libs/.resolved"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$HERE/kafka-pom.xml"; then return; fi
  log "resolving Apache Kafka from Maven Central (first run only)"
  rm -rf "$KAFKA_DIR/libs"
  mkdir -p "$KAFKA_DIR/libs"
  mvn -q -B -f "$HERE/kafka-pom.xml" -Dmaven.repo.local="$STACK/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_DIR/libs" >&2 \
    || die "could not resolve Kafka from Maven Central"
  cp "$HERE/kafka-pom.xml" "$stamp"
}

kafka_configure() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
EOF
  kafka_configure_logging "$KAFKA_DIR"
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$(kafka_classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    log "formatting Kafka storage (cluster $cluster_id)"
    java -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$(kafka_classpath)" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" >/dev/null
  fi
}

kafka_up() {
  if pid_alive "$KAFKA_DIR/kafka.pid" && port_open "$KAFKA_PORT"; then
    log "kafka already running (pid $(cat "$KAFKA_DIR/kafka.pid"))"
    return
  fi
  if port_open "$KAFKA_PORT"; then die "port $KAFKA_PORT is taken by a process this stack did not start"; fi
  kafka_install
  kafka_configure
  log "starting kafka on localhost:$KAFKA_PORT"
  : >"$KAFKA_DIR/kafka.log"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -cp "$(kafka_classpath)" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >>"$KAFKA_DIR/kafka.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_DIR/kafka.pid"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$KAFKA_DIR/kafka.log"; do
    pid_alive "$KAFKA_DIR/kafka.pid" || { tail -n 30 "$KAFKA_DIR/kafka.log" >&2; die "kafka exited during start-up"; }
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$KAFKA_DIR/kafka.log" >&2; die "kafka not ready after ${READY_TIMEOUT}s"; }
    sleep 0.5
  done
  log "kafka ready"
}

kafka_down() {
  if pid_alive "$KAFKA_DIR/kafka.pid"; then
    local pid
    pid=$(cat "$KAFKA_DIR/kafka.pid")
    log "stopping kafka (pid $pid)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || { log "kafka did not stop in 60s, killing"; kill -KILL "$pid"; }
      sleep 0.5
    done
  fi
  rm -f "$KAFKA_DIR/kafka.pid"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a cluster of our own under .stack/, run as the postgres user when we are root
# (the server refuses to run as root).
# ---------------------------------------------------------------------------------------------
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts one PostgreSQL cluster unless it runs already, and waits until it answers: its folder,
# port, name in the logs, pg_hba.conf (written at initdb) and extra server options. Used by the
# plaintext stack here and the TLS-only one in secure.sh.
pg_cluster_up() {
  local dir=$1 port=$2 name=$3 hba=$4 opts=$5
  local bin data="$dir/data"
  bin=$(pg_bindir) || die "PostgreSQL server binaries not found"
  mkdir -p "$dir/run"
  [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising the $name cluster in $data"
    as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    printf '%s\n' "$hba" >"$data/pg_hba.conf"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$data/pg_hba.conf"
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "$name already running"
  else
    if port_open "$port"; then die "port $port is taken by a process this stack did not start (a system cluster? try: pg_ctlcluster 15 main stop)"; fi
    log "starting $name on localhost:$port"
    # After a crash, the old server's last processes may still hold its shared memory for a
    # moment: try a few times before giving up.
    local attempt
    for attempt in 1 2 3 4 5; do
      if as_pg "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t "$READY_TIMEOUT" \
        -o "-p $port -k $dir/run -c listen_addresses=localhost $opts" start >/dev/null 2>&1; then
        break
      fi
      [ "$attempt" -lt 5 ] || { tail -n 30 "$dir/postgres.log" >&2; die "$name failed to start"; }
      log "$name did not start (attempt $attempt); retrying"
      sleep 1
    done
  fi
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$bin/pg_isready" -q -h "$dir/run" -p "$port"; do
    [ $SECONDS -lt $deadline ] || die "$name not ready after ${READY_TIMEOUT}s"
    sleep 0.5
  done
}

pg_up() {
  pg_cluster_up "$PG_DIR" "$PG_PORT" postgres \
    "# local socket: the stack's own admin steps; TCP: password (SCRAM) for everyone.
local   all all                trust
host    all all 127.0.0.1/32   scram-sha-256
host    all all ::1/128        scram-sha-256" \
    "-c max_connections=300 -c shared_buffers=256MB -c track_commit_timestamp=on"
  psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'tweetpipe'" | grep -q 1 \
    || psql_admin -c "CREATE ROLE tweetpipe LOGIN CREATEDB PASSWORD 'tweetpipe'" >/dev/null
  # The tests make roles of their own (a DML-only role, privileges revoked mid-run).
  psql_admin -c "ALTER ROLE tweetpipe CREATEROLE" >/dev/null
  psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'tweetpipe'" | grep -q 1 \
    || psql_admin -c "CREATE DATABASE tweetpipe OWNER tweetpipe" >/dev/null
  log "postgres ready"
}

psql_admin() { as_pg psql -X -q -h "$PG_DIR/run" -p "$PG_PORT" -U postgres -d postgres "$@"; }

pg_down() {
  local bin
  bin=$(pg_bindir) || return 0
  if [ -f "$PG_DIR/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    log "stopping postgres"
    as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
  fi
}

pg_pid() { head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
status() {
  if pid_alive "$KAFKA_DIR/kafka.pid" && port_open "$KAFKA_PORT"; then
    echo "kafka     running  pid $(cat "$KAFKA_DIR/kafka.pid")  localhost:$KAFKA_PORT  log $KAFKA_DIR/kafka.log"
  else
    echo "kafka     stopped"
  fi
  local pid
  pid=$(pg_pid || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && port_open "$PG_PORT"; then
    echo "postgres  running  pid $pid  localhost:$PG_PORT  log $PG_DIR/postgres.log"
  else
    echo "postgres  stopped"
  fi
}

kill_component() {
  case "${1:-}" in
    kafka) pid_alive "$KAFKA_DIR/kafka.pid" && kill -KILL "$(cat "$KAFKA_DIR/kafka.pid")" ;;
    postgres)
      # A crash of the whole server: the postmaster and every backend at once.
      local pid children
      pid=$(pg_pid) || die "postgres is not running"
      children=$(pgrep -P "$pid" || true)
      kill -KILL "$pid"
      # shellcheck disable=SC2086
      [ -z "$children" ] || kill -KILL $children 2>/dev/null || true
      local all deadline=$((SECONDS + 30))
      all=$(echo "$pid $children" | tr -s " \n" ",," | sed "s/,$//")
      while ps -o pid= -p "$all" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "postgres processes did not die"
        sleep 0.1
      done
      ;;
    *) die "usage: stack.sh kill kafka|postgres" ;;
  esac
}

# shellcheck source=deploy/local/secure.sh
. "$HERE/secure.sh"

if [ "${2:-}" = "--secure" ]; then
  case "${1:-}" in
    up | down | status | kill) secure_main "$1" "${3:-}" ;;
    *) die "usage: $0 up|down|status --secure, kill --secure kafka-N" ;;
  esac
  exit 0
fi

case "${1:-}" in
  up)
    mkdir -p "$STACK"
    ensure_prerequisites
    kafka_up
    pg_up
    status
    ;;
  down)
    kafka_down
    pg_down
    ;;
  status) status ;;
  kill) kill_component "${2:-}" ;;
  # Writes out PostgreSQL's dirty pages now (the benchmark, between its timed phases).
  checkpoint) psql_admin -c CHECKPOINT ;;
  *)
    echo "usage: $0 up | down | status | kill kafka|postgres | checkpoint   (add --secure for the secured stack)" >&2
    exit 2
    ;;
esac
