# shellcheck shell=bash
# (c) End-to-end latency: created_at (stamped when the producer generates the tweet) to the
# commit of the row's transaction (track_commit_timestamp), at a fixed offered rate through one
# consumer. Sourced by bench/run.sh, after bench/lib/common.sh; records R[lat:p50|p99|max].

# shellcheck disable=SC2034 # R is read back by bench/lib/report.sh
declare -gA R

# start_consumer DB TOPIC GROUP FILES: one consumer in the background, until told to stop
# (SIGTERM), its summary in FILES.txt and its log in FILES.log; returns once it has joined
# its group. Its pid is in $! (and in BACKGROUND, stopped should the benchmark die).
start_consumer() {
  local deadline
  DATABASE_URL="$PG_BASE/$1" "$BIN/tweetpipe-consumer" run --brokers "$KAFKA" --topic "$2" \
    --group "$3" >"$4.txt" 2>"$4.log" &
  BACKGROUND+=($!)
  deadline=$((SECONDS + 60))
  until grep -q 'joined consumer group' "$4.log"; do
    [ $SECONDS -lt $deadline ] || die "a consumer did not start; see $4.log"
    sleep 0.2
  done
}

# wait_handled DB COUNT SECONDS: until the consumers have handled COUNT messages (every message
# handled is counted, after its commit, in ingest_counts).
wait_handled() {
  local deadline=$((SECONDS + $3))
  until [ "$(psql_db "$1" -tAc "SELECT coalesce(sum(seen), 0) FROM ingest_counts")" -ge "$2" ]; do
    [ $SECONDS -lt $deadline ] || die "the consumers did not handle all $2 tweets in $3 s; see their logs in $LOGS"
    sleep 0.5
  done
}

measure_latency() {
  local topic="bench-$RUN_ID-latency" count=$((LATENCY_RATE * LATENCY_SECONDS)) consumer
  fresh_topic "$topic"
  fresh_db bench_latency
  settle_pg
  log "(c) latency: $count tweets offered at $LATENCY_RATE/s through one consumer"
  start_consumer bench_latency "$topic" "bench-$RUN_ID-latency" "$LOGS/latency-consumer"
  consumer=$!
  timed "$LOGS/latency-producer.time" "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$topic" \
    --source synthetic --count "$count" --rate "$LATENCY_RATE" --duplicate-share 0 --music-share 0.05 \
    --seed 7 --wall-clock >"$LOGS/latency-producer.txt" 2>"$LOGS/latency-producer.log"
  wait_handled bench_latency "$count" 120
  kill -TERM "$consumer"
  wait "$consumer" || true
  read -r "R[lat:p50]" "R[lat:p99]" "R[lat:max]" < <(psql_db bench_latency -tAc "
    SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)), round(max(ms))
    FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - created_at) * 1000 AS ms FROM tweets) l" | tr '|' ' ')
  # The topic is deleted; the database stays for inspection until the next run.
  delete_topic "$topic"
}
