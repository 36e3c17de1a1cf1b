#!/usr/bin/env bash
# The benchmark: tweetpipe beside Kafka's and PostgreSQL's own ceilings, on the same data, in one
# run. Prints a report (and keeps it, with every log, under $BENCH_DIR).
#
#   bench/run.sh                     1M tweets, consumers 1 2 4, latency at 2000 tweets/s for 30 s
#   TWEETS=200000 bench/run.sh       a quicker pass
#
# What it measures (see README, "Performance"):
#   (a) producer: a file of v2 stream lines (1-3 KB, with includes) -> Kafka; and Kafka's
#       ProducerPerformance on the same lines with the same producer settings (acks=all).
#   (b) consumer drain of that topic into a fresh database with 1, 2, 4 processes; Kafka's
#       ConsumerPerformance on the same topic; the PostgreSQL ceiling: the very rows the single
#       consumer stored, COPYed into a staging table and INSERT ... ON CONFLICT'ed by psql in
#       one transaction.
#   (c) end-to-end latency, created_at (stamped when the producer generates the tweet) to the
#       commit of the row's transaction (track_commit_timestamp), at a fixed offered rate.
#   (d) peak RSS of every process (GNU time).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=deploy/local/build-deps.sh
. "$ROOT/deploy/local/build-deps.sh"

TWEETS="${TWEETS:-1000000}"
CONSUMER_COUNTS="${CONSUMER_COUNTS:-1 2 4}"
PARTITIONS="${PARTITIONS:-12}"
LATENCY_RATE="${LATENCY_RATE:-2000}"
LATENCY_SECONDS="${LATENCY_SECONDS:-30}"
BENCH_DIR="${BENCH_DIR:-$ROOT/.stack/bench}"
KAFKA="${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe}"
PG_BASE="${PG_ADMIN_URL%/*}"
KAFKA_LIBS="$ROOT/.stack/kafka/libs/*"
BIN="$ROOT/target/release"
RUN_ID=$(date +%Y%m%d-%H%M%S)
LOGS="$BENCH_DIR/$RUN_ID"
# The producer settings ProducerPerformance gets too (producer/src/sink.rs sets them for ours).
PRODUCER_PROPS=(acks=all enable.idempotence=true compression.type=lz4 linger.ms=20 batch.size=1000000)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
field() { grep -o " $1=[0-9.]*" "$2" | head -n 1 | cut -d= -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print 0 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 "$PG_BASE/$1" "${@:2}"; }
now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# Peak RSS in MiB from a GNU time output file.
rss_mib() { awk '{ sub(/^maxrss_kb=/, "", $1); printf "%.0f\n", $1 / 1024 }' "$1"; }
timed() { local out=$1; shift; /usr/bin/time -o "$out" -f 'maxrss_kb=%M wall_s=%e' "$@"; }
# Samples the RSS (KiB) of the process GNU time ($1) runs, once a second, until it exits.
sample_rss() {
  local child=""
  while kill -0 "$1" 2>/dev/null; do
    # $1 is the background subshell; GNU time is its child, the binary its grandchild.
    [ -n "$child" ] || child=$(pgrep -x tweetpipe-consu -P "$(pgrep -P "$1" | tr '\n' ',' | sed 's/,$//')" 2>/dev/null | head -n 1 || true)
    [ -z "$child" ] || awk '/^VmRSS:/ { print $2 }' "/proc/$child/status" 2>/dev/null || true
    sleep 1
  done
}
# The samples at a quarter, half, three quarters and the end of the run, in MiB.
rss_curve() {
  awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
    for (q = 1; q <= 4; q++) { i = int(NR * q / 4); if (i < 1) i = 1; printf "%s%.0f", (q > 1 ? " / " : ""), v[i] / 1024 } }' "$1"
}

fresh_db() {
  psql_db tweetpipe -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  DATABASE_URL="$PG_BASE/$1" "$BIN/tweetpipe-consumer" migrate >/dev/null 2>&1
}

delete_topic() {
  java -cp "$KAFKA_LIBS" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA" --delete --topic "$1" >/dev/null 2>&1 \
    || log "could not delete topic $1"
}

fresh_topic() {
  "$BIN/tweetpipe-producer" topic create --brokers "$KAFKA" --topic "$1" --partitions "$PARTITIONS" >/dev/null 2>&1
}

# --- setup ------------------------------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
  log "installing GNU time (peak RSS)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null \
    || die "GNU time (/usr/bin/time) is needed for peak RSS"
fi
ensure_build_deps
deploy/local/stack.sh up
log "building (release)"
cargo build --locked --release --bins -q
mkdir -p "$LOGS"
if [ "$(psql_db tweetpipe -tAc 'SHOW track_commit_timestamp')" != "on" ]; then
  die "PostgreSQL runs without track_commit_timestamp (started by an older stack.sh): run deploy/local/stack.sh down && deploy/local/stack.sh up"
fi

DATA="$BENCH_DIR/tweets-$TWEETS.jsonl"
if [ ! -s "$DATA" ]; then
  log "generating $TWEETS tweets (10% re-deliveries, 5% of new tweets music) into $DATA"
  "$BIN/tweetpipe-producer" generate --count "$TWEETS" --duplicate-share 0.1 --music-share 0.05 \
    --seed 2026 --out "$DATA.tmp"
  mv "$DATA.tmp" "$DATA"
fi
DATA_BYTES=$(stat -c %s "$DATA")
AVG_BYTES=$((DATA_BYTES / TWEETS - 1))
log "input: $TWEETS lines, $(mb "$DATA_BYTES") MiB, $AVG_BYTES bytes per tweet on average"

# --- (a) producer -----------------------------------------------------------------------------
# Each side runs twice, alternately, and keeps its best: the broker shares the two cores, and a
# single run of either swings by a fifth.
best_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0 ? b : a) }'; }
prod_rate=0 prod_mbs=0 pp_rate=0 pp_mbs=0
for round in 1 2; do
  TOPIC="bench-$RUN_ID-$round"
  fresh_topic "$TOPIC"
  log "(a) tweetpipe-producer, round $round: $DATA -> $TOPIC"
  timed "$LOGS/producer-$round.time" "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$TOPIC" \
    --source "file:$DATA" >"$LOGS/producer-$round.txt" 2>"$LOGS/producer-$round.log"
  prod_tweets=$(field tweets "$LOGS/producer-$round.txt")
  [ "$prod_tweets" = "$TWEETS" ] || die "the producer sent $prod_tweets of $TWEETS tweets; see $LOGS/producer-$round.log"
  # Its own clock, from the first line read to the last delivery confirmed: like
  # ProducerPerformance's, it leaves out process start-up (and, there, loading the file).
  secs=$(field elapsed_s "$LOGS/producer-$round.txt")
  prod_rate=$(best_of "$prod_rate" "$(per_sec "$TWEETS" "$secs")")
  prod_mbs=$(best_of "$prod_mbs" "$(awk -v b="$DATA_BYTES" -v s="$secs" 'BEGIN { printf "%.1f", b / 1048576 / s }')")

  log "(a) Kafka ProducerPerformance, round $round: the same lines, the same settings"
  PP_TOPIC="bench-$RUN_ID-pp-$round"
  fresh_topic "$PP_TOPIC"
  java -Xmx6g -cp "$KAFKA_LIBS" org.apache.kafka.tools.ProducerPerformance \
    --bootstrap-server "$KAFKA" --topic "$PP_TOPIC" --num-records "$TWEETS" --throughput -1 \
    --payload-file "$DATA" --command-property "${PRODUCER_PROPS[@]}" >"$LOGS/producer-perf-$round.txt" 2>&1
  # "1000000 records sent, 98765.4 records/sec (190.12 MB/sec), ..."
  summary=$(grep 'records sent' "$LOGS/producer-perf-$round.txt" | tail -n 1)
  [ -n "$summary" ] || die "ProducerPerformance failed; see $LOGS/producer-perf-$round.txt"
  pp_rate=$(best_of "$pp_rate" "$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$summary" | cut -d. -f1)")
  pp_mbs=$(best_of "$pp_mbs" "$(sed -E 's/.*records\/sec \(([0-9.]+) MB\/sec\).*/\1/' <<<"$summary")")
  [ "$round" -eq 1 ] || delete_topic "$PP_TOPIC"
  [ "$round" -eq 1 ] || delete_topic "bench-$RUN_ID-pp-1"
done
# The second round's topic is the one drained below; the first is not needed.
delete_topic "bench-$RUN_ID-1"

# --- (b) consumer drain -----------------------------------------------------------------------
declare -A drain_rate drain_rows drain_rss drain_wall
for n in $CONSUMER_COUNTS; do
  db="bench_c$n"
  fresh_db "$db"
  group="bench-$RUN_ID-c$n"
  log "(b) draining $TOPIC with $n consumer process(es) into database $db"
  start=$(now)
  pids=()
  for i in $(seq 1 "$n"); do
    DATABASE_URL="$PG_BASE/$db" timed "$LOGS/consumer-$n-$i.time" "$BIN/tweetpipe-consumer" run \
      --brokers "$KAFKA" --topic "$TOPIC" --group "$group" --exit-at-end \
      >"$LOGS/consumer-$n-$i.txt" 2>"$LOGS/consumer-$n-$i.log" &
    pids+=($!)
    [ "$i" -ne 1 ] || { sample_rss "$!" >"$LOGS/consumer-$n-1.rss" & }
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "a consumer failed; see $LOGS/consumer-$n-*.log"; done
  drain_wall[$n]=$(elapsed_since "$start")
  drain_rows[$n]=$(psql_db "$db" -tAc "SELECT count(*) FROM tweets")
  drain_rate[$n]=$(per_sec "$TWEETS" "${drain_wall[$n]}")
  drain_rss[$n]=$(for i in $(seq 1 "$n"); do rss_mib "$LOGS/consumer-$n-$i.time"; done | sort -n | tail -n 1)
done
first=$(echo "$CONSUMER_COUNTS" | awk '{print $1}')
rows=${drain_rows[$first]}
for n in $CONSUMER_COUNTS; do
  [ "${drain_rows[$n]}" = "$rows" ] || die "$n consumers stored ${drain_rows[$n]} rows, $first stored $rows"
done

log "(b) Kafka ConsumerPerformance on $TOPIC"
java -Xmx2g -cp "$KAFKA_LIBS" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$KAFKA" \
  --topic "$TOPIC" --group "bench-$RUN_ID-cp" --num-records "$TWEETS" --timeout 60000 \
  >"$LOGS/consumer-perf.txt" 2>&1
# Columns: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
cp_rate=$(awk -F', *' '/^[0-9][0-9][0-9][0-9]-/ { printf "%.0f", $6 }' "$LOGS/consumer-perf.txt")

log "(b) PostgreSQL ceiling: the $rows stored rows, COPY into staging + INSERT ... ON CONFLICT, one transaction"
psql_db "bench_c$first" -c "\\copy tweets TO '$LOGS/rows.copy'"
fresh_db bench_ceiling
cat >"$LOGS/ceiling.sql" <<SQL
BEGIN;
CREATE TEMP TABLE staging (LIKE tweets INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DROP;
\\copy staging FROM '$LOGS/rows.copy'
INSERT INTO tweets SELECT * FROM staging
ON CONFLICT (id) DO UPDATE SET retweet_count = GREATEST(tweets.retweet_count, EXCLUDED.retweet_count),
    like_count = GREATEST(tweets.like_count, EXCLUDED.like_count), raw = EXCLUDED.raw, updated_at = now()
WHERE EXCLUDED.retweet_count > tweets.retweet_count;
COMMIT;
SQL
start=$(now)
psql_db bench_ceiling -f "$LOGS/ceiling.sql" >/dev/null
ceiling_wall=$(elapsed_since "$start")
ceiling_rows=$(psql_db bench_ceiling -tAc "SELECT count(*) FROM tweets")
[ "$ceiling_rows" = "$rows" ] || die "the ceiling stored $ceiling_rows rows, the consumer $rows"
ceiling_rate=$(per_sec "$rows" "$ceiling_wall")

# --- (c) end-to-end latency -------------------------------------------------------------------
LAT_TOPIC="bench-$RUN_ID-latency"
LAT_COUNT=$((LATENCY_RATE * LATENCY_SECONDS))
fresh_topic "$LAT_TOPIC"
fresh_db bench_latency
log "(c) latency: $LAT_COUNT tweets offered at $LATENCY_RATE/s through one consumer"
DATABASE_URL="$PG_BASE/bench_latency" "$BIN/tweetpipe-consumer" run --brokers "$KAFKA" --topic "$LAT_TOPIC" \
  --group "bench-$RUN_ID-latency" >"$LOGS/latency-consumer.txt" 2>"$LOGS/latency-consumer.log" &
lat_consumer=$!
deadline=$((SECONDS + 60))
until grep -q 'joined consumer group' "$LOGS/latency-consumer.log"; do
  [ $SECONDS -lt $deadline ] || die "the latency consumer did not start; see $LOGS/latency-consumer.log"
  sleep 0.2
done
timed "$LOGS/latency-producer.time" "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$LAT_TOPIC" \
  --source synthetic --count "$LAT_COUNT" --rate "$LATENCY_RATE" --duplicate-share 0 --music-share 0.05 \
  --seed 7 --wall-clock >"$LOGS/latency-producer.txt" 2>"$LOGS/latency-producer.log"
# The consumer counts every message it has handled (after the commit) in ingest_counts.
deadline=$((SECONDS + 120))
until [ "$(psql_db bench_latency -tAc "SELECT coalesce(sum(seen), 0) FROM ingest_counts")" -ge "$LAT_COUNT" ]; do
  [ $SECONDS -lt $deadline ] || die "the consumer did not handle all $LAT_COUNT tweets; see $LOGS/latency-consumer.log"
  sleep 0.5
done
kill -TERM "$lat_consumer"
wait "$lat_consumer" || true
read -r lat_p50 lat_p99 lat_max < <(psql_db bench_latency -tAc "
  SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)), round(max(ms))
  FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - created_at) * 1000 AS ms FROM tweets) l" | tr '|' ' ')

# The topics hold gigabytes; the databases stay for inspection until the next run.
delete_topic "$TOPIC"
delete_topic "$LAT_TOPIC"

# --- report -----------------------------------------------------------------------------------
{
  echo "# tweetpipe benchmark $RUN_ID"
  echo
  echo "$(nproc) cores, $TWEETS tweets of $AVG_BYTES bytes on average ($(mb "$DATA_BYTES") MiB), topic of $PARTITIONS partitions."
  echo
  echo "| measurement | tweetpipe | reference | ratio |"
  echo "|---|---|---|---|"
  echo "| (a) producer, file -> Kafka, tweets/s | $prod_rate ($prod_mbs MB/s) | ProducerPerformance $pp_rate ($pp_mbs MB/s) | $(ratio "$prod_rate" "$pp_rate") |"
  for n in $CONSUMER_COUNTS; do
    rows_rate=$(per_sec "$rows" "${drain_wall[$n]}")
    echo "| (b) drain, $n consumer(s): tweets/s (rows/s) | ${drain_rate[$n]} ($rows_rate) | PostgreSQL ceiling $ceiling_rate rows/s | $(ratio "$rows_rate" "$ceiling_rate") |"
  done
  echo "| (b) drain, 1 consumer vs Kafka alone, tweets/s | ${drain_rate[$first]} | ConsumerPerformance $cp_rate | $(ratio "${drain_rate[$first]}" "$cp_rate") |"
  echo "| (c) end-to-end latency at $LATENCY_RATE tweets/s | p50 ${lat_p50} ms, p99 ${lat_p99} ms, max ${lat_max} ms | | |"
  echo "| (d) peak RSS, producer | $(rss_mib "$LOGS/producer-2.time") MiB | | |"
  for n in $CONSUMER_COUNTS; do
    echo "| (d) peak RSS, consumer ($n process(es), $((TWEETS / n)) messages each) | ${drain_rss[$n]} MiB | | |"
  done
  echo "| (d) RSS of the single consumer at 1/4, 1/2, 3/4 and the end of its drain | $(rss_curve "$LOGS/consumer-$first-1.rss") MiB | | |"
  echo
  echo "Rows stored: $rows of $TWEETS messages. Logs: $LOGS"
} | tee "$LOGS/report.md"
