#!/usr/bin/env bash
# The benchmark: tweetpipe beside Kafka's and PostgreSQL's own ceilings, on the same data, in one
# run. Prints a report (and keeps it, with every log, under $BENCH_DIR/<run id>/ as report.md,
# drawn beside it by bench/charts.py as throughput.svg and latency.svg).
#
#   bench/run.sh                     1M tweets per shape, consumers 1 2 4, latency at 2000 tweets/s for 30 s
#   TWEETS=200000 bench/run.sh       a quicker pass
#   SHAPES="standard" CONNECT=0 ...  one tweet shape, without the Kafka Connect peer
#
# Tweet shapes (SHAPES): standard (the generator's v2 stream lines, 1-3 KB with includes),
# small (the same tweets slimmed to ~700 B lines), corpus (lines derived from the real v2 tweets
# at $TWEETPIPE_CORPUS, read in place, with fresh ids). For each shape it measures (see README,
# "Performance"):
#   (a) producer: the file -> Kafka; and Kafka's ProducerPerformance on the same lines with the
#       same producer settings (acks=all).
#   (b) consumer drain of that topic into a fresh database with 1, 2, 4 processes; Kafka's
#       ConsumerPerformance on the same topic; the PostgreSQL ceiling: the very rows the single
#       consumer stored, COPYed into a staging table and INSERT ... ON CONFLICT'ed by psql in
#       one transaction; the peer (CONNECT=1): Kafka Connect + the Debezium JDBC sink
#       (bench/connect.sh) on the same tweets flattened into rows.
#   (c) end-to-end latency, created_at (stamped when the producer generates the tweet) to the
#       commit of the row's transaction (track_commit_timestamp), at a fixed offered rate.
#   (d) peak RSS and CPU seconds of every process (GNU time), and of the PostgreSQL server.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=deploy/local/build-deps.sh
. "$ROOT/deploy/local/build-deps.sh"

TWEETS="${TWEETS:-1000000}"
SHAPES="${SHAPES:-standard small corpus}"
CONNECT="${CONNECT:-1}"
CORPUS="${TWEETPIPE_CORPUS:-$ROOT/../shared/corpus}"
CONSUMER_COUNTS="${CONSUMER_COUNTS:-1 2 4}"
PARTITIONS="${PARTITIONS:-12}"
LATENCY_RATE="${LATENCY_RATE:-2000}"
LATENCY_SECONDS="${LATENCY_SECONDS:-30}"
BENCH_DIR="${BENCH_DIR:-$ROOT/.stack/bench}"
KAFKA="${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe}"
PG_BASE="${PG_ADMIN_URL%/*}"
STACK="${TWEETPIPE_STACK_DIR:-$ROOT/.stack}"
KAFKA_LIBS="$STACK/kafka/libs/*"
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
# (GNU time writes "Command exited with non-zero status N" first when it did.)
rss_mib() { awk '/^maxrss_kb=/ { sub(/^maxrss_kb=/, "", $1); printf "%.0f\n", $1 / 1024 }' "$1"; }
# CPU seconds (user + system) from a GNU time output file.
cpu_s() { awk '/^maxrss_kb=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%.1f\n", v["user_s"] + v["sys_s"] }' "$1"; }
TIME_FORMAT='maxrss_kb=%M wall_s=%e user_s=%U sys_s=%S'
timed() { local out=$1; shift; /usr/bin/time -o "$out" -f "$TIME_FORMAT" "$@"; }
sum() { awk '{ s += $1 } END { printf "%.1f", s }'; }
# CPU seconds the PostgreSQL server has used so far: the postmaster, its live processes, and
# (through the postmaster's children's times) every backend that has exited.
pg_cpu() {
  local pm tck p stat
  pm=$(head -n 1 "$STACK/postgres/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  tck=$(getconf CLK_TCK)
  for p in "$pm" $(pgrep -P "$pm"); do
    # A backend may be gone by now: skip it (its time is in the postmaster's children's).
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    echo "${stat##*) }"
  done | awk -v t="$tck" '{ s += $12 + $13 + $14 + $15 } END { printf "%.1f", s / t }' # utime stime cutime cstime
}
# Writes out PostgreSQL's dirty pages before a timed phase, so that it does not pay for the
# previous phase's writes: a drain of a million rows leaves a checkpoint running for a minute,
# which doubled the latency run's p99. Only for the local stack's server.
settle_pg() {
  [ -f "$STACK/postgres/data/postmaster.pid" ] || return 0
  "$ROOT/deploy/local/stack.sh" checkpoint >/dev/null 2>&1 || log "could not CHECKPOINT PostgreSQL before the next phase"
}
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
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
need_package() {
  command -v "$1" >/dev/null && return
  log "installing $2"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2" \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2"; }; } >/dev/null \
    || die "$2 is needed ($3)"
}
[ -x /usr/bin/time ] || need_package /usr/bin/time time "peak RSS and CPU seconds"
need_package python3 python3 "the small and corpus shapes, and the Connect peer's input"
ensure_build_deps
deploy/local/stack.sh up
log "building (release)"
cargo build --locked --release --bins -q
mkdir -p "$LOGS"
if [ "$(psql_db tweetpipe -tAc 'SHOW track_commit_timestamp')" != "on" ]; then
  die "PostgreSQL runs without track_commit_timestamp (started by an older stack.sh): run deploy/local/stack.sh down && deploy/local/stack.sh up"
fi
if [ "$CONNECT" = 1 ]; then
  # shellcheck source=bench/connect.sh
  . "$ROOT/bench/connect.sh"
  connect_install
fi

# --- inputs (cached; not timed) ---------------------------------------------------------------
# input SHAPE: the path of SHAPE's TWEETS lines, made on first use.
input() {
  local standard="$BENCH_DIR/tweets-$TWEETS.jsonl" out="$BENCH_DIR/$1-$TWEETS.jsonl"
  if [ ! -s "$standard" ]; then
    log "generating $TWEETS tweets (10% re-deliveries, 5% of new tweets music) into $standard"
    "$BIN/tweetpipe-producer" generate --count "$TWEETS" --duplicate-share 0.1 --music-share 0.05 \
      --seed 2026 --out "$standard.tmp" >&2
    mv "$standard.tmp" "$standard"
  fi
  case $1 in
    standard) echo "$standard"; return ;;
    small) [ -s "$out" ] || python3 "$ROOT/bench/shapes.py" small <"$standard" >"$out.tmp" ;;
    corpus) [ -s "$out" ] || python3 "$ROOT/bench/shapes.py" corpus "$CORPUS" "$TWEETS" 2026 >"$out.tmp" ;;
    *) die "unknown shape $1 (standard, small, corpus)" ;;
  esac
  [ -s "$out" ] || mv "$out.tmp" "$out"
  echo "$out"
}

declare -A R # results, keyed "shape:name"
best_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0 ? b : a) }'; }

measure_shape() {
  local shape=$1 data bytes round topic secs summary pp_topic n db group start pids i pg0 rows first
  data=$(input "$shape")
  bytes=$(stat -c %s "$data")
  R[$shape:avg]=$((bytes / TWEETS - 1))
  R[$shape:mib]=$(mb "$bytes")
  log "[$shape] input: $TWEETS lines, ${R[$shape:mib]} MiB, ${R[$shape:avg]} bytes per tweet on average"

  # (a) producer. Each side runs twice, alternately, and keeps its best: the broker shares the
  # two cores, and a single run of either swings by a fifth.
  R[$shape:prod]=0 R[$shape:prod_mbs]=0 R[$shape:pp]=0 R[$shape:pp_mbs]=0
  for round in 1 2; do
    topic="bench-$RUN_ID-$shape-$round"
    fresh_topic "$topic"
    log "[$shape] (a) tweetpipe-producer, round $round: $data -> $topic"
    # ProducerPerformance loads its payload file before its clock starts; the producer reads
    # the file inside its run, so it gets the file in the page cache, not on disk, as well.
    cat "$data" >/dev/null
    timed "$LOGS/$shape-producer-$round.time" "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$topic" \
      --source "file:$data" >"$LOGS/$shape-producer-$round.txt" 2>"$LOGS/$shape-producer-$round.log"
    R[$shape:sent]=$(field tweets "$LOGS/$shape-producer-$round.txt")
    [ "${R[$shape:sent]}" = "$TWEETS" ] || die "the producer sent ${R[$shape:sent]} of $TWEETS tweets; see $LOGS/$shape-producer-$round.log"
    # Its own clock, from the first line read to the last delivery confirmed: like
    # ProducerPerformance's, it leaves out process start-up (and, there, loading the file).
    secs=$(field elapsed_s "$LOGS/$shape-producer-$round.txt")
    R[$shape:prod]=$(best_of "${R[$shape:prod]}" "$(per_sec "$TWEETS" "$secs")")
    R[$shape:prod_mbs]=$(best_of "${R[$shape:prod_mbs]}" "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1048576 / s }')")

    log "[$shape] (a) Kafka ProducerPerformance, round $round: the same lines, the same settings"
    pp_topic="bench-$RUN_ID-$shape-pp-$round"
    fresh_topic "$pp_topic"
    timed "$LOGS/$shape-producer-perf-$round.time" java -Xmx6g -cp "$KAFKA_LIBS" org.apache.kafka.tools.ProducerPerformance \
      --bootstrap-server "$KAFKA" --topic "$pp_topic" --num-records "$TWEETS" --throughput -1 \
      --payload-file "$data" --command-property "${PRODUCER_PROPS[@]}" >"$LOGS/$shape-producer-perf-$round.txt" 2>&1
    # "1000000 records sent, 98765.4 records/sec (190.12 MB/sec), ..."
    summary=$(grep 'records sent' "$LOGS/$shape-producer-perf-$round.txt" | tail -n 1)
    [ -n "$summary" ] || die "ProducerPerformance failed; see $LOGS/$shape-producer-perf-$round.txt"
    R[$shape:pp]=$(best_of "${R[$shape:pp]}" "$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$summary" | cut -d. -f1)")
    R[$shape:pp_mbs]=$(best_of "${R[$shape:pp_mbs]}" "$(sed -E 's/.*records\/sec \(([0-9.]+) MB\/sec\).*/\1/' <<<"$summary")")
    delete_topic "$pp_topic"
  done
  # The price of the opt-in lineage headers (three per message), one run.
  pp_topic="bench-$RUN_ID-$shape-lineage"
  fresh_topic "$pp_topic"
  log "[$shape] (a) tweetpipe-producer --lineage-headers: $data -> $pp_topic"
  cat "$data" >/dev/null
  "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$pp_topic" --source "file:$data" --lineage-headers \
    >"$LOGS/$shape-producer-lineage.txt" 2>"$LOGS/$shape-producer-lineage.log"
  R[$shape:prod_lh]=$(per_sec "$TWEETS" "$(field elapsed_s "$LOGS/$shape-producer-lineage.txt")")
  delete_topic "$pp_topic"
  # The second round's topic is the one drained below; the first is not needed.
  delete_topic "bench-$RUN_ID-$shape-1"
  R[$shape:prod_cpu]=$(cpu_s "$LOGS/$shape-producer-2.time")
  R[$shape:pp_cpu]=$(cpu_s "$LOGS/$shape-producer-perf-2.time")
  R[$shape:prod_rss]=$(rss_mib "$LOGS/$shape-producer-2.time")
  R[$shape:pp_rss]=$(rss_mib "$LOGS/$shape-producer-perf-2.time")

  # (b) consumer drain, wall time from launch to the last exit, group joins included.
  for n in $CONSUMER_COUNTS; do
    db="bench_${shape}_c$n"
    fresh_db "$db"
    group="bench-$RUN_ID-$shape-c$n"
    log "[$shape] (b) draining $topic with $n consumer process(es) into database $db"
    settle_pg
    pg0=$(pg_cpu)
    start=$(now)
    pids=()
    for i in $(seq 1 "$n"); do
      DATABASE_URL="$PG_BASE/$db" timed "$LOGS/$shape-consumer-$n-$i.time" "$BIN/tweetpipe-consumer" run \
        --brokers "$KAFKA" --topic "$topic" --group "$group" --exit-at-end \
        >"$LOGS/$shape-consumer-$n-$i.txt" 2>"$LOGS/$shape-consumer-$n-$i.log" &
      pids+=($!)
      [ "$i" -ne 1 ] || { sample_rss "$!" >"$LOGS/$shape-consumer-$n-1.rss" & }
    done
    for pid in "${pids[@]}"; do wait "$pid" || die "a consumer failed; see $LOGS/$shape-consumer-$n-*.log"; done
    R[$shape:wall:$n]=$(elapsed_since "$start")
    R[$shape:pg_cpu:$n]=$(minus "$(pg_cpu)" "$pg0")
    R[$shape:rows:$n]=$(psql_db "$db" -tAc "SELECT count(*) FROM tweets")
    R[$shape:rate:$n]=$(per_sec "$TWEETS" "${R[$shape:wall:$n]}")
    R[$shape:rss:$n]=$(for i in $(seq 1 "$n"); do rss_mib "$LOGS/$shape-consumer-$n-$i.time"; done | sort -n | tail -n 1)
    R[$shape:cpu:$n]=$(for i in $(seq 1 "$n"); do cpu_s "$LOGS/$shape-consumer-$n-$i.time"; done | sum)
  done
  first=$(echo "$CONSUMER_COUNTS" | awk '{print $1}')
  rows=${R[$shape:rows:$first]}
  R[$shape:rows]=$rows
  for n in $CONSUMER_COUNTS; do
    [ "${R[$shape:rows:$n]}" = "$rows" ] || die "$n consumers stored ${R[$shape:rows:$n]} rows, $first stored $rows"
  done

  log "[$shape] (b) Kafka ConsumerPerformance on $topic"
  java -Xmx2g -cp "$KAFKA_LIBS" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$KAFKA" \
    --topic "$topic" --group "bench-$RUN_ID-$shape-cp" --num-records "$TWEETS" --timeout 60000 \
    >"$LOGS/$shape-consumer-perf.txt" 2>&1
  # Columns: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  R[$shape:cp]=$(awk -F', *' '/^[0-9][0-9][0-9][0-9]-/ { printf "%.0f", $6 }' "$LOGS/$shape-consumer-perf.txt")

  log "[$shape] (b) PostgreSQL ceiling: the $rows stored rows, COPY into staging + INSERT ... ON CONFLICT, one transaction"
  psql_db "bench_${shape}_c$first" -c "\\copy tweets TO '$LOGS/$shape-rows.copy'"
  fresh_db bench_ceiling
  cat >"$LOGS/$shape-ceiling.sql" <<SQL
BEGIN;
CREATE TEMP TABLE staging (LIKE tweets INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DROP;
\\copy staging FROM '$LOGS/$shape-rows.copy'
INSERT INTO tweets SELECT * FROM staging
ON CONFLICT (id) DO UPDATE SET retweet_count = GREATEST(tweets.retweet_count, EXCLUDED.retweet_count),
    like_count = GREATEST(tweets.like_count, EXCLUDED.like_count), raw = EXCLUDED.raw, updated_at = now()
WHERE EXCLUDED.retweet_count > tweets.retweet_count;
COMMIT;
SQL
  settle_pg
  pg0=$(pg_cpu)
  start=$(now)
  psql_db bench_ceiling -f "$LOGS/$shape-ceiling.sql" >/dev/null
  R[$shape:ceiling_wall]=$(elapsed_since "$start")
  R[$shape:ceiling_pg_cpu]=$(minus "$(pg_cpu)" "$pg0")
  [ "$(psql_db bench_ceiling -tAc "SELECT count(*) FROM tweets")" = "$rows" ] || die "the ceiling stored other rows than the consumer"
  R[$shape:ceiling]=$(per_sec "$rows" "${R[$shape:ceiling_wall]}")
  rm -f "$LOGS/$shape-rows.copy"
  delete_topic "$topic"

  if [ "$CONNECT" = 1 ]; then
    settle_pg
    pg0=$(pg_cpu)
    connect_drain "$shape" "$data"
    R[$shape:connect_pg_cpu]=$(minus "$(pg_cpu)" "$pg0")
  fi
}

for shape in $SHAPES; do
  if [ "$shape" = corpus ] && [ ! -d "$CORPUS/v2" ]; then
    log "no corpus at $CORPUS (TWEETPIPE_CORPUS): skipping the corpus shape"
    continue
  fi
  measure_shape "$shape"
  DONE_SHAPES="${DONE_SHAPES:-} $shape"
done
# --- (c) end-to-end latency -------------------------------------------------------------------
LAT_TOPIC="bench-$RUN_ID-latency"
LAT_COUNT=$((LATENCY_RATE * LATENCY_SECONDS))
fresh_topic "$LAT_TOPIC"
fresh_db bench_latency
settle_pg
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

# The topic is deleted; the databases stay for inspection until the next run.
delete_topic "$LAT_TOPIC"

# --- report -----------------------------------------------------------------------------------
{
  echo "# tweetpipe benchmark $RUN_ID"
  echo
  echo "$(nproc) cores; $TWEETS tweets per shape; topics of $PARTITIONS partitions. CPU is user + system"
  echo "seconds; \"+ PG\" adds what the PostgreSQL server spent meanwhile. Ratios are tweetpipe / reference."
  [ "$CONNECT" != 1 ] || { echo; echo "The peer: $(connect_settings)."; }
  for shape in ${DONE_SHAPES:-}; do
    first=$(echo "$CONSUMER_COUNTS" | awk '{print $1}')
    echo
    echo "## $shape: ${R[$shape:avg]} bytes per tweet on average (${R[$shape:mib]} MiB), ${R[$shape:rows]} rows stored"
    echo
    echo "| measurement | tweetpipe | reference | ratio |"
    echo "|---|---|---|---|"
    echo "| (a) producer, file -> Kafka, tweets/s | ${R[$shape:prod]} (${R[$shape:prod_mbs]} MB/s) | ProducerPerformance ${R[$shape:pp]} (${R[$shape:pp_mbs]} MB/s) | $(ratio "${R[$shape:prod]}" "${R[$shape:pp]}") |"
    echo "| (a) the same with --lineage-headers (one run), tweets/s | ${R[$shape:prod_lh]} | ProducerPerformance ${R[$shape:pp]} | $(ratio "${R[$shape:prod_lh]}" "${R[$shape:pp]}") |"
    echo "| (a) producer CPU s / peak RSS MiB | ${R[$shape:prod_cpu]} / ${R[$shape:prod_rss]} | ProducerPerformance ${R[$shape:pp_cpu]} / ${R[$shape:pp_rss]} | $(ratio "${R[$shape:prod_cpu]}" "${R[$shape:pp_cpu]}") / $(ratio "${R[$shape:prod_rss]}" "${R[$shape:pp_rss]}") |"
    for n in $CONSUMER_COUNTS; do
      rows_rate=$(per_sec "${R[$shape:rows]}" "${R[$shape:wall:$n]}")
      echo "| (b) drain, $n consumer(s): tweets/s (rows/s) | ${R[$shape:rate:$n]} ($rows_rate) | PostgreSQL ceiling ${R[$shape:ceiling]} rows/s | $(ratio "$rows_rate" "${R[$shape:ceiling]}") |"
      echo "| (b) drain, $n consumer(s): CPU s + PG / peak RSS MiB | ${R[$shape:cpu:$n]} + ${R[$shape:pg_cpu:$n]} / ${R[$shape:rss:$n]} | ceiling: PG ${R[$shape:ceiling_pg_cpu]} | |"
    done
    echo "| (b) drain, 1 consumer vs Kafka alone, tweets/s | ${R[$shape:rate:$first]} | ConsumerPerformance ${R[$shape:cp]} | $(ratio "${R[$shape:rate:$first]}" "${R[$shape:cp]}") |"
    if [ -n "${R[$shape:connect]:-}" ]; then
      rows_rate=$(per_sec "${R[$shape:rows]}" "${R[$shape:wall:$first]}")
      mine=$(awk -v a="${R[$shape:cpu:$first]}" -v b="${R[$shape:pg_cpu:$first]}" 'BEGIN { printf "%.1f", a + b }')
      theirs=$(awk -v a="${R[$shape:connect_cpu]}" -v b="${R[$shape:connect_pg_cpu]}" 'BEGIN { printf "%.1f", a + b }')
      echo "| (b) drain, $first consumer(s) vs Kafka Connect + Debezium JDBC sink, rows/s | $rows_rate | Connect ${R[$shape:connect]} (${R[$shape:connect_rows]} rows) | $(ratio "$rows_rate" "${R[$shape:connect]}") |"
      echo "| (b) the same: CPU s + PG | ${R[$shape:cpu:$first]} + ${R[$shape:pg_cpu:$first]} | Connect ${R[$shape:connect_cpu]} + ${R[$shape:connect_pg_cpu]} | $(ratio "$mine" "$theirs") |"
      echo "| (b) the same: peak RSS MiB | ${R[$shape:rss:$first]} | Connect ${R[$shape:connect_rss]} | $(ratio "${R[$shape:rss:$first]}" "${R[$shape:connect_rss]}") |"
    fi
    echo "| (d) RSS of the single consumer at 1/4, 1/2, 3/4 and the end of its drain | $(rss_curve "$LOGS/$shape-consumer-$first-1.rss") MiB | | |"
  done
  echo
  echo "## latency"
  echo
  echo "| (c) end-to-end latency at $LATENCY_RATE tweets/s | p50 ${lat_p50} ms, p99 ${lat_p99} ms, max ${lat_max} ms |"
  echo "|---|---|"
  echo
  echo "Logs: $LOGS"
} | tee "$LOGS/report.md"
python3 "$ROOT/bench/charts.py" "$LOGS" || log "charts not drawn"
