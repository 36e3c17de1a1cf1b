# shellcheck shell=bash
# The production-shaped stack, sourced by stack.sh for `--secure`: three Apache Kafka nodes
# (KRaft, combined broker+controller) whose client listeners speak only SASL_SSL with
# SCRAM-SHA-512, and a PostgreSQL server that accepts only TLS with SCRAM passwords. A CA and a
# server certificate for `localhost` are made with openssl. Everything lives under
# $STACK/secure/, and `env` there holds the export lines that point both binaries at it.
# log, die and kafka_configure_logging come from lib.sh, which stack.sh sources first.
#
# Ports (all overridable) stay clear of the plaintext stack so CI can run both at once:
#   SECURE_KAFKA_PORT (19092): node N's SASL_SSL listener is SECURE_KAFKA_PORT + N - 1
#   SECURE_KAFKA_CONTROLLER_PORT (19192), SECURE_KAFKA_INTERNAL_PORT (19292): same scheme
#   SECURE_PG_PORT (15432)
# Inter-broker and controller traffic stays on loopback in plaintext: the point of this stack is
# what the clients see.

SECURE="$STACK/secure"
SECURE_KAFKA_PORT="${SECURE_KAFKA_PORT:-19092}"
SECURE_KAFKA_CONTROLLER_PORT="${SECURE_KAFKA_CONTROLLER_PORT:-19192}"
SECURE_KAFKA_INTERNAL_PORT="${SECURE_KAFKA_INTERNAL_PORT:-19292}"
SECURE_PG_PORT="${SECURE_PG_PORT:-15432}"
SECURE_KAFKA_HEAP="${SECURE_KAFKA_HEAP:--Xms128m -Xmx384m}"
SECURE_NODES=(1 2 3)
SECURE_USER=tweetpipe

secure_port() { echo $(($1 + $2 - 1)); }
node_dir() { echo "$SECURE/kafka-$1"; }

# ---------------------------------------------------------------------------------------------
# Certificates and passwords: made once, kept across restarts.
# ---------------------------------------------------------------------------------------------
secure_pki() {
  mkdir -p "$SECURE/tls"
  local t="$SECURE/tls"
  if [ ! -f "$t/ca.crt" ]; then
    log "creating a CA and a server certificate for localhost under $t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tweetpipe local CA" \
      -keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null
    rm -f "$t/server.crt"
  fi
  if [ ! -f "$t/server.crt" ]; then
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >"$t/server.ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
      -days 3650 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
    rm -f "$t/server.p12"
  fi
  [ -f "$t/store-password" ] || openssl rand -hex 16 >"$t/store-password"
  if [ ! -f "$t/server.p12" ]; then
    openssl pkcs12 -export -in "$t/server.crt" -inkey "$t/server.key" -name localhost \
      -passout "file:$t/store-password" -out "$t/server.p12"
  fi
  [ -f "$SECURE/kafka-password" ] || openssl rand -hex 16 >"$SECURE/kafka-password"
  [ -f "$SECURE/pg-password" ] || openssl rand -hex 16 >"$SECURE/pg-password"
  chmod 600 "$t"/*.key "$t/store-password" "$SECURE/kafka-password" "$SECURE/pg-password"
}

# ---------------------------------------------------------------------------------------------
# Kafka: three combined nodes with a static controller quorum.
# ---------------------------------------------------------------------------------------------
secure_voters() {
  local n voters=""
  for n in "${SECURE_NODES[@]}"; do
    voters+="${voters:+,}$n@127.0.0.1:$(secure_port "$SECURE_KAFKA_CONTROLLER_PORT" "$n")"
  done
  echo "$voters"
}

secure_bootstrap() {
  local n list=""
  for n in "${SECURE_NODES[@]}"; do
    list+="${list:+,}localhost:$(secure_port "$SECURE_KAFKA_PORT" "$n")"
  done
  echo "$list"
}

secure_kafka_configure() {
  local n=$1 dir
  dir=$(node_dir "$n")
  mkdir -p "$dir/data"
  local client internal controller
  client=$(secure_port "$SECURE_KAFKA_PORT" "$n")
  internal=$(secure_port "$SECURE_KAFKA_INTERNAL_PORT" "$n")
  controller=$(secure_port "$SECURE_KAFKA_CONTROLLER_PORT" "$n")
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(secure_voters)
listeners=CLIENT://127.0.0.1:$client,INTERNAL://127.0.0.1:$internal,CONTROLLER://127.0.0.1:$controller
advertised.listeners=CLIENT://localhost:$client,INTERNAL://127.0.0.1:$internal
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.client.ssl.keystore.type=PKCS12
listener.name.client.ssl.keystore.location=$SECURE/tls/server.p12
listener.name.client.ssl.keystore.password=$(cat "$SECURE/tls/store-password")
log.dirs=$dir/data
num.partitions=1
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
EOF
  chmod 600 "$dir/server.properties"
  kafka_configure_logging "$dir"
}


secure_kafka_format() {
  local n pids=() cluster_id
  [ -f "$SECURE/cluster-id" ] ||
    java -cp "$(kafka_classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$SECURE/cluster-id"
  cluster_id=$(cat "$SECURE/cluster-id")
  for n in "${SECURE_NODES[@]}"; do
    local dir
    dir=$(node_dir "$n")
    [ ! -f "$dir/data/meta.properties" ] || continue
    log "formatting secure Kafka node $n (cluster $cluster_id, SCRAM user $SECURE_USER)"
    java -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$(kafka_classpath)" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=$SECURE_USER,password=$(cat "$SECURE/kafka-password")]" >/dev/null &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || die "formatting a secure Kafka node failed"; done
}

secure_kafka_running() {
  local dir
  dir=$(node_dir "$1")
  pid_alive "$dir/kafka.pid" && port_open "$(secure_port "$SECURE_KAFKA_PORT" "$1")"
}

secure_kafka_start() {
  local n=$1 dir port
  dir=$(node_dir "$n")
  port=$(secure_port "$SECURE_KAFKA_PORT" "$n")
  if secure_kafka_running "$n"; then
    log "secure kafka-$n already running (pid $(cat "$dir/kafka.pid"))"
    return 1
  fi
  if port_open "$port"; then die "port $port is taken by a process this stack did not start"; fi
  log "starting secure kafka-$n on localhost:$port (SASL_SSL)"
  : >"$dir/kafka.log"
  # shellcheck disable=SC2086 # the heap options are words on purpose
  nohup java $SECURE_KAFKA_HEAP -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$(kafka_classpath)" kafka.Kafka "$dir/server.properties" \
    >>"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
}

secure_kafka_wait() {
  local n=$1 dir deadline=$((SECONDS + READY_TIMEOUT)) retries=3
  dir=$(node_dir "$n")
  until secure_kafka_running "$n" && grep -q 'Kafka Server started' "$dir/kafka.log"; do
    if ! pid_alive "$dir/kafka.pid"; then
      # A port in the ephemeral range can be held for a moment by some client's outgoing
      # connection right after a kill: try again rather than fail the restart.
      if [ "$retries" -gt 0 ] && grep -q 'Address already in use' "$dir/kafka.log"; then
        retries=$((retries - 1))
        log "secure kafka-$n: a port was busy; starting again"
        sleep 2
        secure_kafka_start "$n" || true
        continue
      fi
      tail -n 30 "$dir/kafka.log" >&2
      die "secure kafka-$n exited during start-up"
    fi
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$dir/kafka.log" >&2; die "secure kafka-$n not ready after ${READY_TIMEOUT}s"; }
    sleep 0.5
  done
  log "secure kafka-$n ready"
}

secure_kafka_stop() {
  local dir pid
  dir=$(node_dir "$1")
  if pid_alive "$dir/kafka.pid"; then
    pid=$(cat "$dir/kafka.pid")
    log "stopping secure kafka-$1 (pid $pid)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || { log "secure kafka-$1 did not stop in 60s, killing"; kill -KILL "$pid"; }
      sleep 0.5
    done
  fi
  rm -f "$dir/kafka.pid"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL: TLS only (hostssl + scram-sha-256); the local socket serves the stack's own steps.
# ---------------------------------------------------------------------------------------------
SECURE_PG_DIR="$SECURE/postgres"

secure_psql() { as_pg psql -X -q -h "$SECURE_PG_DIR/run" -p "$SECURE_PG_PORT" -U postgres -d postgres "$@"; }

secure_pg_up() {
  mkdir -p "$SECURE_PG_DIR"
  cp "$SECURE/tls/server.crt" "$SECURE/tls/server.key" "$SECURE_PG_DIR/"
  chmod 600 "$SECURE_PG_DIR/server.key"
  pg_cluster_up "$SECURE_PG_DIR" "$SECURE_PG_PORT" "secure postgres" \
    "# local socket: the stack's own admin steps. TCP: TLS and a SCRAM password, nothing else.
local    all all                trust
hostssl  all all 127.0.0.1/32   scram-sha-256
hostssl  all all ::1/128        scram-sha-256" \
    "-c max_connections=100 -c ssl=on -c ssl_cert_file=$SECURE_PG_DIR/server.crt -c ssl_key_file=$SECURE_PG_DIR/server.key -c ssl_min_protocol_version=TLSv1.2"
  local password
  password=$(cat "$SECURE/pg-password")
  if secure_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$SECURE_USER'" | grep -q 1; then
    secure_psql -c "ALTER ROLE $SECURE_USER PASSWORD '$password'" >/dev/null
  else
    secure_psql -c "CREATE ROLE $SECURE_USER LOGIN CREATEDB PASSWORD '$password'" >/dev/null
  fi
  secure_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'tweetpipe'" | grep -q 1 ||
    secure_psql -c "CREATE DATABASE tweetpipe OWNER $SECURE_USER" >/dev/null
  log "secure postgres ready"
}

secure_pg_pid() { head -n 1 "$SECURE_PG_DIR/data/postmaster.pid" 2>/dev/null; }

secure_pg_down() {
  local bin
  bin=$(pg_bindir) || return 0
  if [ -f "$SECURE_PG_DIR/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$SECURE_PG_DIR/data" status >/dev/null 2>&1; then
    log "stopping secure postgres"
    as_pg "$bin/pg_ctl" -D "$SECURE_PG_DIR/data" -m fast -w stop >/dev/null
  fi
}

# ---------------------------------------------------------------------------------------------
secure_write_env() {
  local env="$SECURE/env"
  umask 077
  cat >"$env.tmp" <<EOF
# Generated by deploy/local/stack.sh up --secure: source it to point tweetpipe at the secured stack.
export KAFKA_BOOTSTRAP_SERVERS='$(secure_bootstrap)'
export KAFKA_SECURITY_PROTOCOL='SASL_SSL'
export KAFKA_SASL_MECHANISM='SCRAM-SHA-512'
export KAFKA_SASL_USERNAME='$SECURE_USER'
export KAFKA_SASL_PASSWORD='$(cat "$SECURE/kafka-password")'
export KAFKA_SSL_CA_LOCATION='$SECURE/tls/ca.crt'
export DATABASE_URL='postgres://$SECURE_USER:$(cat "$SECURE/pg-password")@localhost:$SECURE_PG_PORT/tweetpipe?sslmode=verify-full&sslrootcert=$SECURE/tls/ca.crt'
EOF
  mv "$env.tmp" "$env"
}

secure_status() {
  local n dir
  for n in "${SECURE_NODES[@]}"; do
    dir=$(node_dir "$n")
    if secure_kafka_running "$n"; then
      echo "kafka-$n   running  pid $(cat "$dir/kafka.pid")  localhost:$(secure_port "$SECURE_KAFKA_PORT" "$n") (SASL_SSL)  log $dir/kafka.log"
    else
      echo "kafka-$n   stopped"
    fi
  done
  local pid
  pid=$(secure_pg_pid || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && port_open "$SECURE_PG_PORT"; then
    echo "postgres  running  pid $pid  localhost:$SECURE_PG_PORT (TLS only)  log $SECURE_PG_DIR/postgres.log"
  else
    echo "postgres  stopped"
  fi
  [ ! -f "$SECURE/env" ] || echo "env       $SECURE/env"
}

secure_node_arg() {
  case "$1" in
    kafka-[123]) echo "${1#kafka-}" ;;
    *) die "unknown secure node '$1' (kafka-1, kafka-2, kafka-3)" ;;
  esac
}

# secure_main up|down|status|kill [kafka-N|postgres]
secure_main() {
  local command=$1 target=${2:-}
  case "$command" in
    up)
      mkdir -p "$SECURE"
      ensure_prerequisites
      command -v openssl >/dev/null || apt_install openssl
      kafka_install
      secure_pki
      local n nodes=("${SECURE_NODES[@]}") started=()
      [ -z "$target" ] || nodes=("$(secure_node_arg "$target")")
      for n in "${SECURE_NODES[@]}"; do secure_kafka_configure "$n"; done
      secure_kafka_format
      for n in "${nodes[@]}"; do
        if secure_kafka_start "$n"; then started+=("$n"); fi
      done
      for n in "${started[@]}"; do secure_kafka_wait "$n"; done
      [ -n "$target" ] || secure_pg_up
      secure_write_env
      secure_status
      ;;
    down)
      # All at once: a node stopped last, alone, waits in vain for a controller quorum.
      for n in "${SECURE_NODES[@]}"; do secure_kafka_stop "$n" & done
      wait
      secure_pg_down
      ;;
    status) secure_status ;;
    kill)
      local dir
      dir=$(node_dir "$(secure_node_arg "$target")")
      pid_alive "$dir/kafka.pid" || die "$target is not running"
      local pid deadline=$((SECONDS + 30))
      pid=$(cat "$dir/kafka.pid")
      kill -KILL "$pid"
      # Gone, and its port closed, before we return: a dying broker still resets connections.
      while kill -0 "$pid" 2>/dev/null || port_open "$(secure_port "$SECURE_KAFKA_PORT" "${target#kafka-}")"; do
        [ $SECONDS -lt $deadline ] || die "$target did not die"
        sleep 0.1
      done
      ;;
  esac
}
