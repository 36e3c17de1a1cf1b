# shellcheck shell=bash
# The benchmark's peer: what users would otherwise deploy — Kafka Connect (standalone) running
# the Debezium JDBC sink in upsert mode — fed the same tweets, already flattened into schema'd
# JSON rows (bench/shapes.py flatten; the conversion is not timed). Sourced by bench/run.sh,
# after bench/lib/common.sh (log, die, now, elapsed_since, per_sec, rss_mib, cpu_s, psql_db, drop_db,
# fresh_topic, delete_topic), the results array R and the KAFKA, KAFKA_LIBS, PG_BASE, LOGS,
# STACK, RUN_ID and TIME_FORMAT variables.

# shellcheck disable=SC2034 # R is read back by bench/lib/report.sh
declare -gA R
CONNECT_DIR="$STACK/connect"
CONNECT_POM="$ROOT/bench/connect-pom.xml"
# Launch to the last row, JVM start-up and the group join included, as for the consumers.
CONNECT_TIMEOUT="${CONNECT_TIMEOUT:-1800}"
# Configured as its users would for throughput, not left at Debezium's defaults (batches of 500
# rows, polls of 500 records): the sink writes batches of 3000 rows (as tweetpipe's --batch-size)
# and its consumer polls as many, an override the worker must allow.
CONNECT_WORKER_TUNING=(connector.client.config.override.policy=All)
CONNECT_SINK_TUNING=(batch.size=3000 consumer.override.max.poll.records=3000)

# The report's line on how the peer ran.
connect_settings() {
  local version
  version=$(sed -n 's:.*<debezium.version>\(.*\)</debezium.version>.*:\1:p' "$CONNECT_POM")
  echo "Kafka Connect (standalone) + Debezium JDBC sink $version: insert.mode=upsert, tasks.max=1, ${CONNECT_SINK_TUNING[*]}; worker: ${CONNECT_WORKER_TUNING[*]}"
}

# Kafka Connect and the sink from Maven Central (first run only), as stack.sh resolves Kafka.
connect_install() {
  local stamp="$CONNECT_DIR/.resolved" version archive
  if [ -f "$stamp" ] && cmp -s "$stamp" "$CONNECT_POM"; then return; fi
  log "resolving Kafka Connect and the Debezium JDBC sink from Maven Central (first run only)"
  rm -rf "$CONNECT_DIR"
  mkdir -p "$CONNECT_DIR/libs" "$CONNECT_DIR/plugins"
  mvn -q -B -f "$CONNECT_POM" -Dmaven.repo.local="$STACK/m2" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$CONNECT_DIR/libs" >&2 \
    || die "could not resolve Kafka Connect from Maven Central"
  # The sink's POM needs org.hibernate:hibernate-agroal, which Maven Central does not serve;
  # its own plugin archive there carries it (and the PostgreSQL driver), so that is what we take.
  version=$(sed -n 's:.*<debezium.version>\(.*\)</debezium.version>.*:\1:p' "$CONNECT_POM")
  mvn -q -B -Dmaven.repo.local="$STACK/m2" dependency:copy \
    -Dartifact="io.debezium:debezium-connector-jdbc:$version:tar.gz:plugin" \
    -DoutputDirectory="$CONNECT_DIR" >&2 || die "could not fetch the Debezium JDBC sink $version"
  archive="$CONNECT_DIR/debezium-connector-jdbc-$version-plugin.tar.gz"
  tar -xzf "$archive" -C "$CONNECT_DIR/plugins" && rm -f "$archive"
  cp "$CONNECT_POM" "$stamp"
}

# The same columns as `tweets` where the rows carry them; `seq` (the input line) stands in for
# the Kafka position and tells when the drain has ended.
connect_table() {
  drop_db bench_connect
  psql_db tweetpipe -c "CREATE DATABASE bench_connect" >/dev/null
  psql_db bench_connect >/dev/null <<'SQL'
CREATE TABLE tweets (
    id BIGINT PRIMARY KEY, author_id BIGINT, username TEXT, created_at TIMESTAMPTZ, text TEXT NOT NULL,
    retweet_count BIGINT, like_count BIGINT, reply_count BIGINT, quote_count BIGINT, location TEXT,
    lang TEXT, hashtags TEXT[], is_retweet BOOLEAN NOT NULL, format TEXT NOT NULL, raw JSONB NOT NULL,
    seq BIGINT NOT NULL, ingested_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX ON tweets (created_at);
CREATE INDEX ON tweets (username);
ALTER TABLE tweets ALTER COLUMN raw SET COMPRESSION lz4;
SQL
}

# connect_drain KEY LABEL DATA PARTITIONS: drains DATA's tweets through Connect from a topic of
# PARTITIONS partitions; records in R under KEY the rows/s (launch to the last row), rows, peak
# RSS (MiB) and CPU seconds of the worker. LABEL names its topic, connector and files.
connect_drain() {
  local key=$1 label=$2 data=$3 parts=$4 records target topic hostport creds deadline start wall rows sum want_rows want_sum pid
  records="$data.connect.tsv"
  target="$data.connect.target"
  if [ ! -s "$records" ] || [ ! -s "$target" ]; then
    log "(b) flattening $data into Connect's schema'd JSON rows (not timed)"
    python3 "$ROOT/bench/shapes.py" flatten "$target.tmp" <"$data" >"$records.tmp"
    mv "$records.tmp" "$records" && mv "$target.tmp" "$target"
  fi
  read -r want_rows want_sum <"$target"
  topic="bench-$RUN_ID-$label-connect"
  fresh_topic "$topic" "$parts"
  log "(b) producing the $label rows to $topic (not timed)"
  java -cp "$KAFKA_LIBS" org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$KAFKA" --topic "$topic" \
    --reader-property parse.key=true --reader-property "key.separator=$(printf '\t')" \
    --command-property compression.type=lz4 --command-property linger.ms=20 \
    --command-property batch.size=1000000 --command-property acks=all <"$records" \
    >"$LOGS/$label-connect-produce.log" 2>&1 || die "could not produce the Connect rows; see $LOGS/$label-connect-produce.log"
  connect_table
  hostport=${PG_BASE#*@}
  creds=${PG_BASE#*://}
  creds=${creds%@*}
  cat >"$LOGS/$label-connect-worker.properties" <<EOF
bootstrap.servers=$KAFKA
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=true
offset.storage.file.filename=$LOGS/$label-connect.offsets
offset.flush.interval.ms=1000
plugin.path=$CONNECT_DIR/plugins
plugin.discovery=service_load
listeners=http://127.0.0.1:0
EOF
  printf '%s\n' "${CONNECT_WORKER_TUNING[@]}" >>"$LOGS/$label-connect-worker.properties"
  # record_key with an int64 key fails in 3.6.0 (ClassCastException): the key comes from the
  # row. stringtype=unspecified lets strings into the JSONB and TIMESTAMPTZ columns.
  cat >"$LOGS/$label-connect-sink.properties" <<EOF
name=bench-$RUN_ID-$label
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max=1
topics=$topic
connection.url=jdbc:postgresql://$hostport/bench_connect?stringtype=unspecified
connection.username=${creds%%:*}
connection.password=${creds#*:}
insert.mode=upsert
primary.key.mode=record_value
primary.key.fields=id
schema.evolution=none
collection.name.format=tweets
EOF
  printf '%s\n' "${CONNECT_SINK_TUNING[@]}" >>"$LOGS/$label-connect-sink.properties"
  cat >"$LOGS/connect-log4j2.properties" <<'EOF'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
EOF
  log "(b) Kafka Connect + Debezium JDBC sink: draining $topic into bench_connect ($want_rows rows)"
  start=$(now)
  # GNU time itself in the background (not through a function's subshell), so that $! is its pid
  # and the worker is its only child.
  /usr/bin/time -o "$LOGS/$label-connect.time" -f "$TIME_FORMAT" java "-Dlog4j2.configurationFile=$LOGS/connect-log4j2.properties" \
    -cp "$CONNECT_DIR/libs/*" org.apache.kafka.connect.cli.ConnectStandalone \
    "$LOGS/$label-connect-worker.properties" "$LOGS/$label-connect-sink.properties" \
    >"$LOGS/$label-connect.log" 2>&1 &
  pid=$!
  deadline=$((SECONDS + CONNECT_TIMEOUT))
  while :; do
    read -r rows sum < <(psql_db bench_connect -tAc "SELECT count(*), coalesce(sum(seq), 0) FROM tweets" | tr '|' ' ')
    [ "$rows" != "$want_rows" ] || [ "$sum" != "$want_sum" ] || break
    kill -0 "$pid" 2>/dev/null || die "Kafka Connect exited early; see $LOGS/$label-connect.log"
    [ $SECONDS -lt $deadline ] || { kill -TERM "$(pgrep -P "$pid")"; die "Kafka Connect stored $rows of $want_rows rows in ${CONNECT_TIMEOUT}s; see $LOGS/$label-connect.log"; }
    sleep 0.2
  done
  wall=$(elapsed_since "$start")
  # The worker (GNU time's child) stops cleanly on SIGTERM; GNU time then writes its figures.
  kill -TERM "$(pgrep -P "$pid")" 2>/dev/null || true
  wait "$pid" || true
  R[$key:connect_rows]=$rows
  R[$key:connect]=$(per_sec "$rows" "$wall")
  R[$key:connect_rss]=$(rss_mib "$LOGS/$label-connect.time")
  R[$key:connect_cpu]=$(cpu_s "$LOGS/$label-connect.time")
  delete_topic "$topic"
}
