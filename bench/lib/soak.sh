# shellcheck shell=bash
# (f) The soak (SOAK_MINUTES=N): N minutes of synthetic tweets offered at SOAK_RATE/s by the
# producer -> Kafka -> two consumers -> PostgreSQL, sampled every 10 s (soak.csv); then the
# table checked exact and the figures per window (bench/soak.py). Sourced by bench/run.sh, after
# bench/lib/common.sh and bench/lib/latency.sh (start_consumer).

# shellcheck disable=SC2034 # R is read back by bench/lib/report.sh
declare -gA R
# The offered stream, again offline for the expected row count: the same seed, count and shares
# give the same ids and texts (--wall-clock changes created_at only).
SOAK_STREAM=(--duplicate-share 0.1 --music-share 0.05 --seed 11)

# "rss_kib,cpu_s" of a live process, ",": gone.
proc_sample() {
  local status stat
  if ! status=$(cat "/proc/$1/status" 2>/dev/null) || ! stat=$(cat "/proc/$1/stat" 2>/dev/null); then
    echo ","
    return
  fi
  awk -v t="$(getconf CLK_TCK)" -v s="${stat##*) }" '/^VmRSS:/ { rss = $2 }
    END { split(s, f, " "); printf "%s,%.2f", rss, (f[12] + f[13]) / t }' <<<"$status"
}

# "rss_kib,pss_kib" of the PostgreSQL server: its processes' VmRSS and PSS, summed (the PSS is
# empty when /proc does not let us read it).
pg_memory() {
  local p rss=0 pss=0 v
  for p in $(pg_pids); do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) && rss=$((rss + ${v:-0}))
    if [ -n "$pss" ]; then
      v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || v=""
      if [ -n "$v" ]; then pss=$((pss + v)); elif [ -e "/proc/$p" ]; then pss=""; fi
    fi
  done
  echo "$rss,$pss"
}

# The partitions a consumer holds now, by its log: the "now={...}" of its last assignment.
held_partitions() {
  { grep -E 'partitions (assigned|revoked)' "$1" | tail -n 1 | sed -n 's/.*now={\([^}]*\)}.*/\1/p' \
    | tr ',' '\n' | grep -c '[0-9]'; } || true
}

# wait_assigned PARTITIONS LOG...: until the consumers logging to LOG... hold every partition,
# each some (the first to join holds them all until the others' joins move some).
wait_assigned() {
  local want=$1 deadline=$((SECONDS + 60)) held f
  shift
  while :; do
    held=$(for f in "$@"; do held_partitions "$f"; done | awk '$1 == 0 { none = 1 } { s += $1 } END { print none ? 0 : s }')
    [ "$held" != "$want" ] || return 0
    [ $SECONDS -lt $deadline ] || die "the consumers hold $held of $want partitions after 60 s; see $*"
    sleep 0.2
  done
}

measure_soak() {
  local topic="bench-$RUN_ID-soak" count=$((SOAK_RATE * SOAK_MINUTES * 60)) db=bench_soak csv="$LOGS/soak.csv"
  local c1 c2 producer start t k seen deadline win status=0
  fresh_topic "$topic"
  fresh_db "$db"
  settle_pg
  log "(f) soak: $count tweets offered at $SOAK_RATE/s for $SOAK_MINUTES min, two consumers"
  start_consumer "$db" "$topic" "bench-$RUN_ID-soak" "$LOGS/soak-consumer-1"
  c1=$!
  start_consumer "$db" "$topic" "bench-$RUN_ID-soak" "$LOGS/soak-consumer-2"
  c2=$!
  # Offered once the group is settled: the second member's join moves partitions, and tweets
  # read meanwhile would wait for it (start-up, not what the soak measures).
  wait_assigned "$PARTITIONS" "$LOGS/soak-consumer-1.log" "$LOGS/soak-consumer-2.log"
  start=$(now)
  "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$topic" --source synthetic --count "$count" \
    --rate "$SOAK_RATE" "${SOAK_STREAM[@]}" --wall-clock >"$LOGS/soak-producer.txt" 2>"$LOGS/soak-producer.log" &
  producer=$!
  BACKGROUND+=("$producer")
  echo "t_s,seen,producer_rss_kib,producer_cpu_s,consumer1_rss_kib,consumer1_cpu_s,consumer2_rss_kib,consumer2_cpu_s,pg_rss_kib,pg_pss_kib,pg_cpu_s" >"$csv"
  deadline=$((SOAK_MINUTES * 60 + 300))
  k=0
  while :; do
    seen=$(psql_db "$db" -tAc "SELECT coalesce(sum(seen), 0) FROM ingest_counts")
    echo "$((k * 10)),$seen,$(proc_sample "$producer"),$(proc_sample "$c1"),$(proc_sample "$c2"),$(pg_memory),$(pg_cpu)" >>"$csv"
    if ! running "$producer" && [ "$seen" -ge "$count" ]; then break; fi
    if [ $((k * 10)) -ge "$deadline" ]; then
      log "WARNING: the soak's consumers handled $seen of $count tweets $deadline s after the start; stopping them"
      break
    fi
    k=$((k + 1))
    # The next sample on the 10-second grid from the start, whatever this one cost.
    t=$(awk -v s="$start" -v k="$k" -v n="$(now)" 'BEGIN { d = s + k * 10 - n; printf "%.2f", (d > 0 ? d : 0) }')
    sleep "$t"
  done
  wait "$producer" || status=$?
  [ "$status" -eq 0 ] || log "WARNING: the soak's producer exited with status $status; see $LOGS/soak-producer.log"
  kill -TERM "$c1" "$c2" 2>/dev/null || true
  wait "$c1" || true
  wait "$c2" || true
  delete_topic "$topic"

  win=$(python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import soak; print(soak.window_seconds($SOAK_MINUTES))")
  # Latency as (c) measures it, per window of created_at, on each row's first copy: a row a
  # re-delivery updated carries the later transaction's commit (updated_at then differs).
  psql_db "$db" -tA -F ' ' -c "
    SELECT w, round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)), count(*)
    FROM (SELECT floor((extract(epoch FROM created_at) - $start) / $win)::int AS w,
                 extract(epoch FROM pg_xact_commit_timestamp(xmin) - created_at) * 1000 AS ms
          FROM tweets WHERE updated_at = ingested_at) l
    GROUP BY w ORDER BY w" >"$LOGS/soak-latency.txt"
  R[soak:rows]=$(psql_db "$db" -tAc "SELECT count(*) FROM tweets")
  log "(f) soak: counting the distinct non-music tweets of the offered stream (not timed)"
  R[soak:expected]=$("$BIN/tweetpipe-producer" generate --count "$count" "${SOAK_STREAM[@]}" --out - 2>/dev/null \
    | python3 "$ROOT/bench/shapes.py" expect)
  R[soak:offered]=$count
  [ "${R[soak:rows]}" = "${R[soak:expected]}" ] \
    || log "WARNING: THE SOAK'S TABLE IS NOT EXACT: ${R[soak:rows]} rows stored, ${R[soak:expected]} expected"
}

soak_report() {
  echo
  echo "## soak"
  echo
  echo "$SOAK_MINUTES min at $SOAK_RATE tweets/s offered (synthetic standard tweets, 10% re-deliveries, 5% of"
  echo "new tweets music; ${R[soak:offered]} in all) by the producer -> Kafka ($PARTITIONS partitions) -> two consumers"
  echo "-> PostgreSQL; a sample every 10 s in soak.csv. Latency: created_at to the commit of the row's first"
  echo "copy. PostgreSQL's memory: its processes' PSS, summed (their RSS when PSS cannot be read)."
  echo
  python3 "$ROOT/bench/soak.py" "$LOGS/soak.csv" "$LOGS/soak-latency.txt" "$SOAK_MINUTES" || echo "(the soak's figures could not be computed; see soak.csv)"
  echo
  if [ "${R[soak:rows]}" = "${R[soak:expected]}" ]; then
    echo "Table: ${R[soak:rows]} rows stored, ${R[soak:expected]} expected (the distinct non-music tweets offered): exact."
  else
    echo "**WARNING: the table is NOT exact: ${R[soak:rows]} rows stored, ${R[soak:expected]} expected (the distinct non-music tweets offered).**"
  fi
}
