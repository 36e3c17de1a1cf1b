# shellcheck shell=bash
# One cell of the benchmark: a tweet shape at a size on a topic of some partitions, measured
# (a) producer against ProducerPerformance and (b) drains against ConsumerPerformance, the
# PostgreSQL ceiling and (CONNECT=1) the Kafka Connect peer. Sourced by bench/run.sh, after
# bench/lib/common.sh; records its figures in R under the key "SHAPE:SIZE:PARTITIONS".

# shellcheck disable=SC2034 # R is read back by bench/lib/report.sh
declare -gA R
CELLS=() # the keys measured, in order

# measure_cell SHAPE SIZE PARTITIONS
measure_cell() {
  local shape=$1 size=$2 parts=$3 c="$1:$2:$3" label="$1-$2-p$3" f data bytes round topic secs summary pp_topic n db group start pids i pg0 rows first
  f="$LOGS/$label"
  CELLS+=("$c")
  R[$c:shape]=$shape R[$c:size]=$size R[$c:parts]=$parts R[$c:log]=$f
  data=$(input "$shape" "$size")
  bytes=$(stat -c %s "$data")
  R[$c:avg]=$((bytes / size - 1))
  R[$c:mib]=$(mb "$bytes")
  log "[$label] input: $size lines, ${R[$c:mib]} MiB, ${R[$c:avg]} bytes per tweet on average; topics of $parts partitions"

  # (a) producer. Each side runs twice, alternately, and keeps its best: the broker shares the
  # two cores, and a single run of either swings by a fifth.
  R[$c:prod]=0 R[$c:prod_mbs]=0 R[$c:pp]=0 R[$c:pp_mbs]=0
  for round in 1 2; do
    topic="bench-$RUN_ID-$label-$round"
    fresh_topic "$topic" "$parts"
    log "[$label] (a) tweetpipe-producer, round $round: $data -> $topic"
    # ProducerPerformance loads its payload file before its clock starts; the producer reads
    # the file inside its run, so it gets the file in the page cache, not on disk, as well.
    cat "$data" >/dev/null
    timed "$f-producer-$round.time" "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$topic" \
      --source "file:$data" >"$f-producer-$round.txt" 2>"$f-producer-$round.log"
    R[$c:sent]=$(field tweets "$f-producer-$round.txt")
    [ "${R[$c:sent]}" = "$size" ] || die "the producer sent ${R[$c:sent]} of $size tweets; see $f-producer-$round.log"
    # Its own clock, from the first line read to the last delivery confirmed: like
    # ProducerPerformance's, it leaves out process start-up (and, there, loading the file).
    secs=$(field elapsed_s "$f-producer-$round.txt")
    R[$c:prod]=$(best_of "${R[$c:prod]}" "$(per_sec "$size" "$secs")")
    R[$c:prod_mbs]=$(best_of "${R[$c:prod_mbs]}" "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1048576 / s }')")

    log "[$label] (a) Kafka ProducerPerformance, round $round: the same lines, the same settings"
    pp_topic="bench-$RUN_ID-$label-pp-$round"
    fresh_topic "$pp_topic" "$parts"
    timed "$f-producer-perf-$round.time" java -Xmx6g -cp "$KAFKA_LIBS" org.apache.kafka.tools.ProducerPerformance \
      --bootstrap-server "$KAFKA" --topic "$pp_topic" --num-records "$size" --throughput -1 \
      --payload-file "$data" --command-property "${PRODUCER_PROPS[@]}" >"$f-producer-perf-$round.txt" 2>&1
    # "1000000 records sent, 98765.4 records/sec (190.12 MB/sec), ..."
    summary=$(grep 'records sent' "$f-producer-perf-$round.txt" | tail -n 1)
    [ -n "$summary" ] || die "ProducerPerformance failed; see $f-producer-perf-$round.txt"
    R[$c:pp]=$(best_of "${R[$c:pp]}" "$(sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/' <<<"$summary" | cut -d. -f1)")
    R[$c:pp_mbs]=$(best_of "${R[$c:pp_mbs]}" "$(sed -E 's/.*records\/sec \(([0-9.]+) MB\/sec\).*/\1/' <<<"$summary")")
    delete_topic "$pp_topic"
  done
  # The price of the opt-in lineage headers (three per message), one run.
  pp_topic="bench-$RUN_ID-$label-lineage"
  fresh_topic "$pp_topic" "$parts"
  log "[$label] (a) tweetpipe-producer --lineage-headers: $data -> $pp_topic"
  cat "$data" >/dev/null
  "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$pp_topic" --source "file:$data" --lineage-headers \
    >"$f-producer-lineage.txt" 2>"$f-producer-lineage.log"
  R[$c:prod_lh]=$(per_sec "$size" "$(field elapsed_s "$f-producer-lineage.txt")")
  delete_topic "$pp_topic"
  # The second round's topic is the one drained below; the first is not needed.
  delete_topic "bench-$RUN_ID-$label-1"
  R[$c:prod_cpu]=$(cpu_s "$f-producer-2.time")
  R[$c:pp_cpu]=$(cpu_s "$f-producer-perf-2.time")
  R[$c:prod_rss]=$(rss_mib "$f-producer-2.time")
  R[$c:pp_rss]=$(rss_mib "$f-producer-perf-2.time")

  # (b) consumer drain, wall time from launch to the last exit, group joins included.
  for n in $CONSUMER_COUNTS; do
    db="bench_${shape}_c$n"
    fresh_db "$db"
    group="bench-$RUN_ID-$label-c$n"
    log "[$label] (b) draining $topic with $n consumer process(es) into database $db"
    settle_pg
    pg0=$(pg_cpu)
    start=$(now)
    pids=()
    for i in $(seq 1 "$n"); do
      DATABASE_URL="$PG_BASE/$db" timed "$f-consumer-$n-$i.time" "$BIN/tweetpipe-consumer" run \
        --brokers "$KAFKA" --topic "$topic" --group "$group" --exit-at-end \
        >"$f-consumer-$n-$i.txt" 2>"$f-consumer-$n-$i.log" &
      pids+=($!)
      [ "$i" -ne 1 ] || { sample_rss "$!" >"$f-consumer-$n-1.rss" & }
    done
    for pid in "${pids[@]}"; do wait "$pid" || die "a consumer failed; see $f-consumer-$n-*.log"; done
    R[$c:wall:$n]=$(elapsed_since "$start")
    R[$c:pg_cpu_x:$n]=$(minus "$(pg_cpu_after "$db")" "$pg0" 2)
    R[$c:pg_cpu:$n]=$(one "${R[$c:pg_cpu_x:$n]}")
    R[$c:rows:$n]=$(psql_db "$db" -tAc "SELECT count(*) FROM tweets")
    R[$c:rate:$n]=$(per_sec "$size" "${R[$c:wall:$n]}")
    R[$c:rss:$n]=$(for i in $(seq 1 "$n"); do rss_mib "$f-consumer-$n-$i.time"; done | sort -n | tail -n 1)
    R[$c:cpu_x:$n]=$(for i in $(seq 1 "$n"); do cpu_s "$f-consumer-$n-$i.time" 2; done | sum 2)
    R[$c:cpu:$n]=$(one "${R[$c:cpu_x:$n]}")
  done
  first=$(awk '{ print $1 }' <<<"$CONSUMER_COUNTS")
  rows=${R[$c:rows:$first]}
  R[$c:rows]=$rows
  for n in $CONSUMER_COUNTS; do
    [ "${R[$c:rows:$n]}" = "$rows" ] || die "$n consumers stored ${R[$c:rows:$n]} rows, $first stored $rows"
  done

  log "[$label] (b) Kafka ConsumerPerformance on $topic"
  java -Xmx2g -cp "$KAFKA_LIBS" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$KAFKA" \
    --topic "$topic" --group "bench-$RUN_ID-$label-cp" --num-records "$size" --timeout 60000 \
    >"$f-consumer-perf.txt" 2>&1
  # Columns: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  R[$c:cp]=$(awk -F', *' '/^[0-9][0-9][0-9][0-9]-/ { printf "%.0f", $6 }' "$f-consumer-perf.txt")

  log "[$label] (b) PostgreSQL ceiling: the $rows stored rows, COPY into staging + INSERT ... ON CONFLICT, one transaction"
  psql_db "bench_${shape}_c$first" -c "\\copy tweets TO '$f-rows.copy'"
  fresh_db bench_ceiling
  cat >"$f-ceiling.sql" <<SQL
BEGIN;
CREATE TEMP TABLE staging (LIKE tweets INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DROP;
\\copy staging FROM '$f-rows.copy'
INSERT INTO tweets SELECT * FROM staging
ON CONFLICT (id) DO UPDATE SET retweet_count = GREATEST(tweets.retweet_count, EXCLUDED.retweet_count),
    like_count = GREATEST(tweets.like_count, EXCLUDED.like_count), raw = EXCLUDED.raw, updated_at = now()
WHERE EXCLUDED.retweet_count > tweets.retweet_count;
COMMIT;
SQL
  settle_pg
  pg0=$(pg_cpu)
  start=$(now)
  psql_db bench_ceiling -f "$f-ceiling.sql" >/dev/null
  R[$c:ceiling_wall]=$(elapsed_since "$start")
  R[$c:ceiling_pg_cpu_x]=$(minus "$(pg_cpu_after bench_ceiling)" "$pg0" 2)
  R[$c:ceiling_pg_cpu]=$(one "${R[$c:ceiling_pg_cpu_x]}")
  [ "$(psql_db bench_ceiling -tAc "SELECT count(*) FROM tweets")" = "$rows" ] || die "the ceiling stored other rows than the consumer"
  R[$c:ceiling]=$(per_sec "$rows" "${R[$c:ceiling_wall]}")
  rm -f "$f-rows.copy"
  delete_topic "$topic"

  if [ "$CONNECT" = 1 ]; then
    settle_pg
    pg0=$(pg_cpu)
    connect_drain "$c" "$label" "$data" "$parts"
    R[$c:connect_pg_cpu]=$(minus "$(pg_cpu_after bench_connect)" "$pg0")
  fi
}
