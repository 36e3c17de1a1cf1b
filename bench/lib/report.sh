# shellcheck shell=bash
# The benchmark's report (report.md): a summary table of every cell with its ratios, each
# cell's detail, the latency, and the growth and soak sections when they ran. Sourced by
# bench/run.sh; reads R and CELLS (bench/lib/cell.sh).

# The summary: one line per cell (shape x size x partitions), tweetpipe against its references.
report_summary() {
  local c first rows mine peer cpu ceiling_cpu
  first=$(awk '{ print $1 }' <<<"$CONSUMER_COUNTS")
  echo
  echo "## summary"
  echo
  echo "Each cell: the producer against ProducerPerformance; $first consumer(s) against the PostgreSQL"
  echo "ceiling and the Kafka Connect peer (rows/s); CPU µs per stored row, consumer + PostgreSQL"
  echo "during the drain, against PostgreSQL's during the ceiling (< 1: tweetpipe costs less)."
  echo
  echo "| shape | tweets | partitions | rows stored | producer tweets/s | ProducerPerformance tweets/s | producer / PP | $first consumer(s) rows/s | ceiling rows/s | consumer / ceiling | Connect rows/s | consumer / Connect | CPU µs/row, consumer + PG | ceiling PG CPU µs/row | CPU / ceiling |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for c in "${CELLS[@]}"; do
    rows=${R[$c:rows]}
    mine=$(per_sec "$rows" "${R[$c:wall:$first]}")
    peer="– | –"
    [ -z "${R[$c:connect]:-}" ] || peer="${R[$c:connect]} | $(ratio "$mine" "${R[$c:connect]}")"
    cpu=$(awk -v a="${R[$c:cpu_x:$first]}" -v b="${R[$c:pg_cpu_x:$first]}" 'BEGIN { printf "%.2f", a + b }')
    ceiling_cpu=${R[$c:ceiling_pg_cpu_x]}
    echo "| ${R[$c:shape]} | ${R[$c:size]} | ${R[$c:parts]} | $rows | ${R[$c:prod]} | ${R[$c:pp]} | $(ratio "${R[$c:prod]}" "${R[$c:pp]}") | $mine | ${R[$c:ceiling]} | $(ratio "$mine" "${R[$c:ceiling]}") | $peer | $(us_per "$cpu" "$rows") | $(us_per "$ceiling_cpu" "$rows") | $(ratio "$cpu" "$ceiling_cpu") |"
  done
}

# One cell's detail: its heading names the shape alone unless the run was a matrix.
report_cell() {
  local c=$1 first rows_rate mine theirs heading n
  first=$(awk '{ print $1 }' <<<"$CONSUMER_COUNTS")
  heading=${R[$c:shape]}
  [ "$MATRIX" != 1 ] || heading="${R[$c:shape]}, ${R[$c:size]} tweets, ${R[$c:parts]} partitions"
  echo
  echo "## $heading: ${R[$c:avg]} bytes per tweet on average (${R[$c:mib]} MiB), ${R[$c:rows]} rows stored"
  echo
  echo "| measurement | tweetpipe | reference | ratio |"
  echo "|---|---|---|---|"
  echo "| (a) producer, file -> Kafka, tweets/s | ${R[$c:prod]} (${R[$c:prod_mbs]} MB/s) | ProducerPerformance ${R[$c:pp]} (${R[$c:pp_mbs]} MB/s) | $(ratio "${R[$c:prod]}" "${R[$c:pp]}") |"
  echo "| (a) the same with --lineage-headers (one run), tweets/s | ${R[$c:prod_lh]} | ProducerPerformance ${R[$c:pp]} | $(ratio "${R[$c:prod_lh]}" "${R[$c:pp]}") |"
  echo "| (a) producer CPU s / peak RSS MiB | ${R[$c:prod_cpu]} / ${R[$c:prod_rss]} | ProducerPerformance ${R[$c:pp_cpu]} / ${R[$c:pp_rss]} | $(ratio "${R[$c:prod_cpu]}" "${R[$c:pp_cpu]}") / $(ratio "${R[$c:prod_rss]}" "${R[$c:pp_rss]}") |"
  for n in $CONSUMER_COUNTS; do
    rows_rate=$(per_sec "${R[$c:rows]}" "${R[$c:wall:$n]}")
    echo "| (b) drain, $n consumer(s): tweets/s (rows/s) | ${R[$c:rate:$n]} ($rows_rate) | PostgreSQL ceiling ${R[$c:ceiling]} rows/s | $(ratio "$rows_rate" "${R[$c:ceiling]}") |"
    echo "| (b) drain, $n consumer(s): CPU s + PG / peak RSS MiB | ${R[$c:cpu:$n]} + ${R[$c:pg_cpu:$n]} / ${R[$c:rss:$n]} | ceiling: PG ${R[$c:ceiling_pg_cpu]} | |"
  done
  echo "| (b) drain, 1 consumer vs Kafka alone, tweets/s | ${R[$c:rate:$first]} | ConsumerPerformance ${R[$c:cp]} | $(ratio "${R[$c:rate:$first]}" "${R[$c:cp]}") |"
  if [ -n "${R[$c:connect]:-}" ]; then
    rows_rate=$(per_sec "${R[$c:rows]}" "${R[$c:wall:$first]}")
    mine=$(awk -v a="${R[$c:cpu:$first]}" -v b="${R[$c:pg_cpu:$first]}" 'BEGIN { printf "%.1f", a + b }')
    theirs=$(awk -v a="${R[$c:connect_cpu]}" -v b="${R[$c:connect_pg_cpu]}" 'BEGIN { printf "%.1f", a + b }')
    echo "| (b) drain, $first consumer(s) vs Kafka Connect + Debezium JDBC sink, rows/s | $rows_rate | Connect ${R[$c:connect]} (${R[$c:connect_rows]} rows) | $(ratio "$rows_rate" "${R[$c:connect]}") |"
    echo "| (b) the same: CPU s + PG | ${R[$c:cpu:$first]} + ${R[$c:pg_cpu:$first]} | Connect ${R[$c:connect_cpu]} + ${R[$c:connect_pg_cpu]} | $(ratio "$mine" "$theirs") |"
    echo "| (b) the same: peak RSS MiB | ${R[$c:rss:$first]} | Connect ${R[$c:connect_rss]} | $(ratio "${R[$c:rss:$first]}" "${R[$c:connect_rss]}") |"
  fi
  echo "| (d) RSS of the single consumer at 1/4, 1/2, 3/4 and the end of its drain | $(rss_curve "${R[$c:log]}-consumer-$first-1.rss") MiB | | |"
}

report() {
  local c
  echo "# tweetpipe benchmark $RUN_ID"
  echo
  if [ ${#CELLS[@]} -gt 0 ]; then
    echo "$(nproc) cores; ${SIZES// /, } tweets per shape; topics of ${PARTITION_COUNTS// /, } partitions. CPU is user + system"
  else
    echo "$(nproc) cores; topics of $PARTITIONS partitions. CPU is user + system"
  fi
  echo "seconds; \"+ PG\" adds what the PostgreSQL server spent meanwhile. Ratios are tweetpipe / reference."
  [ "$CONNECT" != 1 ] || [ ${#CELLS[@]} -eq 0 ] || { echo; echo "The peer: $(connect_settings)."; }
  [ ${#CELLS[@]} -eq 0 ] || report_summary
  for c in "${CELLS[@]}"; do report_cell "$c"; done
  if [ "$LATENCY_SECONDS" != 0 ]; then
    echo
    echo "## latency"
    echo
    echo "| (c) end-to-end latency at $LATENCY_RATE tweets/s | p50 ${R[lat:p50]} ms, p99 ${R[lat:p99]} ms, max ${R[lat:max]} ms |"
    echo "|---|---|"
  fi
  [ "$GROWTH" != 1 ] || growth_report
  [ "$SOAK_MINUTES" = 0 ] || soak_report
  echo
  echo "Logs: $LOGS"
}
