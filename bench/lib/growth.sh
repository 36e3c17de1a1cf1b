# shellcheck shell=bash
# (e) Growth (GROWTH=1): one consumer draining GROWTH_TWEETS new (standard) tweets into a table
# already holding each of GROWTH_BASES older tweets, bulk-filled untimed, then VACUUM ANALYZEd.
# Sourced by bench/run.sh, after bench/lib/common.sh.

# shellcheck disable=SC2034 # R is read back by growth_report
declare -gA R
GROWTH_CHUNK=500000 # rows per INSERT of the fill: a few seconds each, the WAL spread over them

# growth_fill DB N: N older tweets, plausible rows of about 1 KB (a raw document of 600 bytes):
# ids from 10^18 (the generator's start at 1.6 * 10^18, the corpus's at 1.7 * 10^18), created
# a second apart from 2025 on (before the new ones), 50 000 authors, 0-2 hashtags, metrics.
growth_fill() {
  local lo hi
  for ((lo = 1; lo <= $2; lo += GROWTH_CHUNK)); do
    hi=$((lo + GROWTH_CHUNK - 1))
    [ "$hi" -le "$2" ] || hi=$2
    psql_db "$1" -c "
INSERT INTO tweets (id, author_id, username, created_at, text, retweet_count, like_count, reply_count,
                    quote_count, location, lang, hashtags, is_retweet, format, raw, kafka_partition,
                    kafka_offset, content_hash)
SELECT id, author, username, created, txt, rt, likes, rt / 3, rt / 7, place, lang, tags, false, 'v2',
       jsonb_build_object(
         'data', jsonb_build_object('id', id::text, 'text', txt, 'author_id', author::text,
           'conversation_id', id::text, 'lang', lang, 'edit_history_tweet_ids', jsonb_build_array(id::text),
           'created_at', to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
           'public_metrics', jsonb_build_object('retweet_count', rt, 'reply_count', rt / 3, 'like_count', likes,
             'quote_count', rt / 7, 'bookmark_count', likes / 11, 'impression_count', likes * 37),
           'entities', jsonb_build_object('hashtags',
             (SELECT coalesce(jsonb_agg(jsonb_build_object('tag', t)), '[]') FROM unnest(tags) t))),
         'includes', jsonb_build_object('users', jsonb_build_array(jsonb_build_object(
           'id', author::text, 'username', username, 'name', initcap(replace(username, '_', ' ')),
           'verified', false, 'location', place)))),
       i % 12, i / 12, hashtextextended(txt, 0)
FROM (SELECT i, 1000000000000000000 + i AS id, 1000000 + h % 50000 AS author,
             'fan_' || (h % 50000) AS username, timestamptz '2025-01-01 00:00:00+00' + i * interval '1 second' AS created,
             w[1 + h % 24] || ' ' || w[1 + (h >> 5) % 24] || ' ' || w[1 + (h >> 10) % 24] || ' ' ||
             w[1 + (h >> 15) % 24] || ' ' || w[1 + (h >> 20) % 24] || ' ' || w[1 + (h >> 25) % 24] || ' ' ||
             w[1 + (g >> 5) % 24] || ' ' || w[1 + (g >> 10) % 24] || ' ' || w[1 + (g >> 15) % 24] ||
             coalesce(' #' || tags[1], '') || coalesce(' #' || tags[2], '') AS txt,
             (h >> 7) % 50 AS rt, (h >> 13) % 500 AS likes, l[1 + g % 6] AS lang, p[1 + (g >> 3) % 8] AS place, tags
      FROM (SELECT i, hashint8extended(i, 0) & 2147483647 AS h, hashint8extended(i, 1) & 2147483647 AS g
            FROM generate_series($lo, $hi) i) x,
           LATERAL (SELECT (ARRAY[]::text[] || CASE WHEN g % 3 > 0 THEN ARRAY[t[1 + (g >> 20) % 8]] END
                            || CASE WHEN g % 3 > 1 THEN ARRAY[t[1 + (g >> 24) % 8]] END) AS tags
                    FROM (SELECT ARRAY['Beliebers', 'tour', 'newmusic', 'weekend', 'coffee', 'TBT', 'fanart', 'live'] AS t) tt) y,
           (SELECT ARRAY['proud', 'love', 'dates', 'video', 'else', 'out', 'of', 'him', 'watching', 'tonight',
                         'the', 'best', 'show', 'ever', 'can''t', 'wait', 'for', 'this', 'so', 'happy',
                         'again', 'with', 'my', 'friends'] AS w,
                   ARRAY['en', 'es', 'pt', 'fr', 'ja', 'de'] AS l,
                   ARRAY['Toronto', 'London', 'São Paulo', 'Manila', 'Madrid', NULL, NULL, NULL] AS p) v) s" >/dev/null
  done
}

measure_growth() {
  local data topic="bench-$RUN_ID-growth" db=bench_growth base start wall rows f pg0 cpu first=""
  data=$(input standard "$GROWTH_TWEETS")
  fresh_topic "$topic"
  log "(e) growth: $GROWTH_TWEETS new tweets -> $topic (not timed)"
  "$BIN/tweetpipe-producer" --brokers "$KAFKA" --topic "$topic" --source "file:$data" \
    >"$LOGS/growth-producer.txt" 2>"$LOGS/growth-producer.log" || die "the growth's producer failed; see $LOGS/growth-producer.log"
  for base in $GROWTH_BASES; do
    fresh_db "$db"
    log "(e) growth: filling $db with $base older tweets, then VACUUM ANALYZE (not timed)"
    start=$(now)
    growth_fill "$db" "$base"
    psql_db "$db" -c "VACUUM ANALYZE tweets" >/dev/null
    R[growth:fill:$base]=$(elapsed_since "$start")
    R[growth:mib:$base]=$(psql_db "$db" -tAc "SELECT pg_database_size(current_database()) / 1048576")
    settle_pg
    f="$LOGS/growth-$base"
    log "(e) growth: draining $GROWTH_TWEETS new tweets into $base older ones, one consumer"
    pg0=$(pg_cpu)
    start=$(now)
    DATABASE_URL="$PG_BASE/$db" timed "$f.time" "$BIN/tweetpipe-consumer" run --brokers "$KAFKA" --topic "$topic" \
      --group "bench-$RUN_ID-growth-$base" --exit-at-end >"$f.txt" 2>"$f.log" || die "the growth's consumer failed; see $f.log"
    wall=$(elapsed_since "$start")
    cpu=$(awk -v a="$(cpu_s "$f.time" 2)" -v b="$(minus "$(pg_cpu_after "$db")" "$pg0" 2)" 'BEGIN { printf "%.2f", a + b }')
    rows=$(($(psql_db "$db" -tAc "SELECT count(*) FROM tweets") - base))
    [ -n "$first" ] || first=$rows
    [ "$rows" = "$first" ] || die "the growth's drain stored $rows new rows over $base older ones, $first over the first base"
    R[growth:rows:$base]=$rows
    R[growth:rate:$base]=$(per_sec "$rows" "$wall")
    R[growth:cpu:$base]=$(us_per "$cpu" "$rows")
  done
  delete_topic "$topic"
  # The big table goes: at 10 million rows it holds gigabytes.
  drop_db "$db"
}

growth_report() {
  local base first=${GROWTH_BASES%% *}
  echo
  echo "## growth"
  echo
  echo "One consumer draining $GROWTH_TWEETS new standard tweets into a table already holding older ones"
  echo "(bulk-filled, rows of about 1 KB, then VACUUM ANALYZE; not timed). Rows/s from launch to exit."
  echo
  echo "| older tweets in the table | database MiB before | new rows stored | rows/s | against $first older | CPU µs/row, consumer + PG |"
  echo "|---|---|---|---|---|---|"
  for base in $GROWTH_BASES; do
    echo "| $base | ${R[growth:mib:$base]} | ${R[growth:rows:$base]} | ${R[growth:rate:$base]} | $(ratio "${R[growth:rate:$base]}" "${R[growth:rate:$first]}") | ${R[growth:cpu:$base]} |"
  done
}
