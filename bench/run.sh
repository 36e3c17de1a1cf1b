#!/usr/bin/env bash
# The benchmark: tweetpipe beside Kafka's and PostgreSQL's own ceilings, on the same data, in one
# run. Prints a report (and keeps it, with every log, under $BENCH_DIR/<run id>/ as report.md,
# drawn beside it by bench/charts.py as throughput.svg, latency.svg, matrix.svg and soak.svg).
#
#   bench/run.sh                     1M tweets per shape, consumers 1 2 4, latency at 2000 tweets/s for 30 s
#   TWEETS=200000 bench/run.sh       a quicker pass
#   SHAPES="standard" CONNECT=0 ...  one tweet shape, without the Kafka Connect peer
#   SIZES="100000 300000 1000000" PARTITION_COUNTS="4 12" CONSUMER_COUNTS=1 bench/run.sh
#                                    the matrix: every size x shape x partition count, one summary table
#   GROWTH=1 ...                     also: 300k new tweets drained into tables of 0, 1M, 10M older ones
#   SOAK_MINUTES=30 ...              also: 30 minutes at 3000 tweets/s through two consumers, sampled
#   SHAPES= LATENCY_SECONDS=0 SOAK_MINUTES=5 ...   the soak alone
#
# Tweet shapes (SHAPES): standard (the generator's v2 stream lines, 1-3 KB with includes),
# small (the same tweets slimmed to ~700 B lines), corpus (lines derived from the real v2 tweets
# at $TWEETPIPE_CORPUS, read in place, with fresh ids). For each cell (shape x size of SIZES x
# partition count of PARTITION_COUNTS) it measures (see docs/performance.md):
#   (a) producer: the file -> Kafka; and Kafka's ProducerPerformance on the same lines with the
#       same producer settings (acks=all).
#   (b) consumer drain of that topic into a fresh database with 1, 2, 4 processes; Kafka's
#       ConsumerPerformance on the same topic; the PostgreSQL ceiling: the very rows the single
#       consumer stored, COPYed into a staging table and INSERT ... ON CONFLICT'ed by psql in
#       one transaction; the peer (CONNECT=1): Kafka Connect + the Debezium JDBC sink
#       (bench/connect.sh) on the same tweets flattened into rows.
#   (d) peak RSS and CPU seconds of every process (GNU time), and of the PostgreSQL server.
# Then, once: (c) end-to-end latency, created_at (stamped when the producer generates the tweet)
# to the commit of the row's transaction (track_commit_timestamp), at a fixed offered rate
# (LATENCY_SECONDS=0 skips it); (e) growth (GROWTH=1, bench/lib/growth.sh); (f) the soak
# (SOAK_MINUTES=N, bench/lib/soak.sh).
#
# STACK_UP=0 runs against a stack someone else manages (a shared one): the benchmark neither
# starts it nor checkpoints it between phases; TWEETPIPE_STACK_DIR names its folder.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=deploy/local/build-deps.sh
. "$ROOT/deploy/local/build-deps.sh"

TWEETS="${TWEETS:-1000000}"
SIZES="${SIZES:-$TWEETS}"
# Empty: no cells (the latency, growth or soak alone).
SHAPES="${SHAPES-standard small corpus}"
CONNECT="${CONNECT:-1}"
CORPUS="${TWEETPIPE_CORPUS:-$ROOT/../shared/corpus}"
CONSUMER_COUNTS="${CONSUMER_COUNTS:-1 2 4}"
PARTITIONS="${PARTITIONS:-12}"
PARTITION_COUNTS="${PARTITION_COUNTS:-$PARTITIONS}"
LATENCY_RATE="${LATENCY_RATE:-2000}"
LATENCY_SECONDS="${LATENCY_SECONDS:-30}"
GROWTH="${GROWTH:-0}"
GROWTH_TWEETS="${GROWTH_TWEETS:-300000}"
GROWTH_BASES="${GROWTH_BASES:-0 1000000 10000000}"
SOAK_MINUTES="${SOAK_MINUTES:-0}"
SOAK_RATE="${SOAK_RATE:-3000}"
STACK_UP="${STACK_UP:-1}"
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
# A matrix: more than one size or partition count (the report's detail headings name them).
MATRIX=0
[ "$(wc -w <<<"$SIZES $PARTITION_COUNTS")" -le 2 ] || MATRIX=1

# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/cell.sh
. "$ROOT/bench/lib/cell.sh"
# shellcheck source=bench/lib/latency.sh
. "$ROOT/bench/lib/latency.sh"
# shellcheck source=bench/lib/growth.sh
. "$ROOT/bench/lib/growth.sh"
# shellcheck source=bench/lib/soak.sh
. "$ROOT/bench/lib/soak.sh"
# shellcheck source=bench/lib/report.sh
. "$ROOT/bench/lib/report.sh"
# shellcheck source=bench/connect.sh
. "$ROOT/bench/connect.sh"

# --- setup ------------------------------------------------------------------------------------
trap stop_background EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ -x /usr/bin/time ] || need_package /usr/bin/time time "peak RSS and CPU seconds"
need_package python3 python3 "the small and corpus shapes, and the Connect peer's input"
ensure_build_deps
if [ "$STACK_UP" = 1 ]; then
  deploy/local/stack.sh up
else
  psql_db tweetpipe -tAc 'SELECT 1' >/dev/null || die "PostgreSQL does not answer at $PG_BASE (STACK_UP=0: the benchmark does not start it)"
  [ -d "$STACK/kafka/libs" ] || die "no Kafka tools under $STACK/kafka/libs: TWEETPIPE_STACK_DIR names the running stack's folder"
fi
log "building (release)"
cargo build --locked --release --bins -q
mkdir -p "$LOGS"
if [ "$(psql_db tweetpipe -tAc 'SHOW track_commit_timestamp')" != "on" ]; then
  die "PostgreSQL runs without track_commit_timestamp (started by an older stack.sh): run deploy/local/stack.sh down && deploy/local/stack.sh up"
fi
[ "$CONNECT" != 1 ] || [ -z "${SHAPES// /}" ] || connect_install

# --- the cells: every size x shape x partition count ------------------------------------------
for size in $SIZES; do
  for shape in $SHAPES; do
    if [ "$shape" = corpus ] && [ ! -d "$CORPUS/v2" ]; then
      log "no corpus at $CORPUS (TWEETPIPE_CORPUS): skipping the corpus shape"
      continue
    fi
    for parts in $PARTITION_COUNTS; do measure_cell "$shape" "$size" "$parts"; done
  done
done
[ "$LATENCY_SECONDS" = 0 ] || measure_latency
[ "$GROWTH" != 1 ] || measure_growth
[ "$SOAK_MINUTES" = 0 ] || measure_soak

# --- report -----------------------------------------------------------------------------------
report | tee "$LOGS/report.md"
python3 "$ROOT/bench/charts.py" "$LOGS" || log "charts not drawn"
