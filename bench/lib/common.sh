# shellcheck shell=bash
# The benchmark's helpers: figures from GNU time and /proc, databases, topics and inputs. Sourced
# by bench/run.sh, which sets ROOT, STACK, STACK_UP, BENCH_DIR, BIN, KAFKA, KAFKA_LIBS, PG_BASE,
# PARTITIONS and CORPUS first.

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
# CPU seconds (user + system) from a GNU time output file, with $2 decimals (default 1).
cpu_s() { awk -v d="${2:-1}" '/^maxrss_kb=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%.*f\n", d, v["user_s"] + v["sys_s"] }' "$1"; }
TIME_FORMAT='maxrss_kb=%M wall_s=%e user_s=%U sys_s=%S'
timed() { local out=$1; shift; /usr/bin/time -o "$out" -f "$TIME_FORMAT" "$@"; }
# The sum of a column, with $1 decimals (default 1).
sum() { awk -v d="${1:-1}" '{ s += $1 } END { printf "%.*f", d, s }'; }
one() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
best_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0 ? b : a) }'; }
# a - b, with $3 decimals (default 1).
minus() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { printf "%.*f", d, a - b }'; }
# Microseconds per row: CPU seconds $1 over $2 rows.
us_per() { awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", s * 1e6 / n; else print "n/a" }'; }
pg_pids() {
  local pm
  pm=$(head -n 1 "$STACK/postgres/data/postmaster.pid" 2>/dev/null) || return 0
  echo "$pm"
  pgrep -P "$pm" || true
}
# CPU seconds the PostgreSQL server has used so far: the postmaster, its live processes, and
# (through the postmaster's children's times) every backend that has exited.
pg_cpu() {
  local tck p stat
  tck=$(getconf CLK_TCK)
  for p in $(pg_pids); do
    # A backend may be gone by now: skip it (its time is in the postmaster's children's).
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    echo "${stat##*) }"
  done | awk -v t="$tck" '{ s += $12 + $13 + $14 + $15 } END { printf "%.2f", s / t }' # utime stime cutime cstime
}
# pg_cpu, once the clients of database $1 are gone: their backends exited and reaped, so that
# their time is in the postmaster's children's. Sampled at once, a backend caught between its
# exit and the reaping was counted nowhere (a whole ceiling's 20 CPU-s, once in twelve cells).
pg_cpu_after() {
  local pm deadline=$((SECONDS + 10))
  pm=$(head -n 1 "$STACK/postgres/data/postmaster.pid" 2>/dev/null) || true
  while [ -n "$pm" ] && [ "$SECONDS" -lt "$deadline" ]; do
    if ! pgrep -f "^postgres: [^ ]+ $1 " >/dev/null && ! pgrep -r Z -P "$pm" >/dev/null; then
      break
    fi
    sleep 0.05
  done
  pg_cpu
}
# Writes out PostgreSQL's dirty pages before a timed phase, so that it does not pay for the
# previous phase's writes: a drain of a million rows leaves a checkpoint running for a minute,
# which doubled the latency run's p99. Only for the local stack's server, and only when the
# benchmark may manage it (STACK_UP=1).
settle_pg() {
  [ "$STACK_UP" = 1 ] && [ -f "$STACK/postgres/data/postmaster.pid" ] || return 0
  "$ROOT/deploy/local/stack.sh" checkpoint >/dev/null 2>&1 || log "could not CHECKPOINT PostgreSQL before the next phase"
}
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

drop_db() {
  # FORCE ends our own leftover sessions, but refuses outright when an autovacuum worker is in
  # the database (not our role's process); a plain DROP makes that worker exit.
  psql_db tweetpipe -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 \
    || psql_db tweetpipe -c "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1 \
    || psql_db tweetpipe -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
}

# Whether a process runs (an exited child not yet waited for is a zombie, which kill -0 finds).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# The processes the benchmark leaves running in the background (consumers, a producer): stopped
# when it exits, so that one that dies half-way leaves none writing into the next run's tables.
BACKGROUND=()
stop_background() {
  local p
  for p in "${BACKGROUND[@]}"; do
    if running "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
  done
}

fresh_db() {
  drop_db "$1"
  psql_db tweetpipe -c "CREATE DATABASE $1" >/dev/null
  DATABASE_URL="$PG_BASE/$1" "$BIN/tweetpipe-consumer" migrate >/dev/null 2>&1
}

delete_topic() {
  java -cp "$KAFKA_LIBS" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA" --delete --topic "$1" >/dev/null 2>&1 \
    || log "could not delete topic $1"
}

# fresh_topic NAME [PARTITIONS]: $PARTITIONS unless told.
fresh_topic() {
  "$BIN/tweetpipe-producer" topic create --brokers "$KAFKA" --topic "$1" --partitions "${2:-$PARTITIONS}" >/dev/null 2>&1
}

need_package() {
  command -v "$1" >/dev/null && return
  log "installing $2"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2" \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2"; }; } >/dev/null \
    || die "$2 is needed ($3)"
}

# --- inputs (cached; not timed) ---------------------------------------------------------------
# input SHAPE SIZE: the path of SHAPE's SIZE lines, made on first use.
input() {
  local standard="$BENCH_DIR/tweets-$2.jsonl" out="$BENCH_DIR/$1-$2.jsonl"
  if [ ! -s "$standard" ]; then
    log "generating $2 tweets (10% re-deliveries, 5% of new tweets music) into $standard"
    "$BIN/tweetpipe-producer" generate --count "$2" --duplicate-share 0.1 --music-share 0.05 \
      --seed 2026 --out "$standard.tmp" >&2
    mv "$standard.tmp" "$standard"
  fi
  case $1 in
    standard) echo "$standard"; return ;;
    small) [ -s "$out" ] || python3 "$ROOT/bench/shapes.py" small <"$standard" >"$out.tmp" ;;
    corpus) [ -s "$out" ] || python3 "$ROOT/bench/shapes.py" corpus "$CORPUS" "$2" 2026 >"$out.tmp" ;;
    *) die "unknown shape $1 (standard, small, corpus)" ;;
  esac
  [ -s "$out" ] || mv "$out.tmp" "$out"
  echo "$out"
}
