#!/usr/bin/env bash
# The main job, end to end on this machine: bring the stack up, build, send the synthetic
# stream through the producer into Kafka, drain the topic with a group of consumers, and show
# what reached PostgreSQL.
#
#   COUNT=100000 CONSUMERS=3 deploy/local/demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=deploy/local/build-deps.sh
. "$ROOT/deploy/local/build-deps.sh"

COUNT="${COUNT:-100000}"
# A new seed each run sends new tweets; set SEED to replay the same ones (all duplicates the second time).
SEED="${SEED:-$(date +%s)}"
CONSUMERS="${CONSUMERS:-3}"
export TWEETPIPE_TOPIC="${TWEETPIPE_TOPIC:-tweets}"
export TWEETPIPE_GROUP="${TWEETPIPE_GROUP:-tweetpipe}"
export DATABASE_URL="${DATABASE_URL:-postgres://tweetpipe:tweetpipe@localhost:5432/tweetpipe}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}"

ensure_build_deps
deploy/local/stack.sh up
cargo build --locked --release --bins
BIN="$ROOT/target/release"
LOGS="$ROOT/.stack/demo"
mkdir -p "$LOGS"

echo "== producing $COUNT synthetic tweets into '$TWEETPIPE_TOPIC' (6 partitions)"
"$BIN/tweetpipe-producer" --source synthetic --count "$COUNT" --seed "$SEED" --partitions 6 | tee "$LOGS/producer.txt"

echo "== draining with $CONSUMERS consumers in group '$TWEETPIPE_GROUP'"
pids=()
for i in $(seq 1 "$CONSUMERS"); do
  "$BIN/tweetpipe-consumer" run --exit-at-end >"$LOGS/consumer-$i.txt" 2>"$LOGS/consumer-$i.log" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
cat "$LOGS"/consumer-*.txt
[ $status -eq 0 ] || { echo "a consumer failed; see $LOGS/consumer-*.log" >&2; exit 1; }

sum() { grep -ho " $1=[0-9]*" "$LOGS"/consumer-*.txt | cut -d= -f2 | awk '{s+=$1} END {print s+0}'; }
sent=$(grep -o ' tweets=[0-9]*' "$LOGS/producer.txt" | cut -d= -f2)
rows=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM tweets")
cat <<TXT

== what reached PostgreSQL
tweets sent to Kafka       $sent
consumed (reads)           $(sum consumed)
  read twice, applied once $(sum already_applied)
new unique tweets stored   $(sum inserted)
duplicates skipped         $(sum duplicates)
filtered (music) dropped   $(sum filtered)
dead-lettered              $(sum dead_lettered)
rows in table 'tweets'     $rows (all runs so far)
messages counted (seen)    $(psql "$DATABASE_URL" -tAc "SELECT coalesce(sum(seen), 0) FROM ingest_counts") (all runs so far; each message once)
TXT
