#!/usr/bin/env bash
# The whole test suite: unit tests, and the integration tests against a real Kafka broker and a
# real PostgreSQL server (and a real Prometheus). Installs and starts what it needs
# (deploy/local/stack.sh up; Debian's prometheus package).
#
# The real tweet files are read from $TWEETPIPE_CORPUS (default: ../shared/corpus next to the
# repository, when it exists); they are test data and never copied into the repository.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=deploy/local/build-deps.sh
. "$ROOT/deploy/local/build-deps.sh"
# shellcheck source=deploy/local/prometheus.sh
. "$ROOT/deploy/local/prometheus.sh"

ensure_build_deps
# The live monitoring test scrapes the binaries with a real Prometheus; without it, it would skip.
ensure_prometheus
deploy/local/stack.sh up

if [ -z "${TWEETPIPE_CORPUS:-}" ] && [ -d "$ROOT/../shared/corpus" ]; then
  TWEETPIPE_CORPUS=$(cd "$ROOT/../shared/corpus" && pwd)
fi
export TWEETPIPE_CORPUS="${TWEETPIPE_CORPUS:-}"
[ -n "$TWEETPIPE_CORPUS" ] || unset TWEETPIPE_CORPUS

# The integration tests spawn the real binaries; build them first.
cargo build --locked --workspace --bins
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --workspace --no-fail-fast -- --test-threads="${TEST_THREADS:-2}" --show-output 2>&1 | tee "$log" || status=$?
# One closing line for the whole run (cargo prints one per test binary).
sum() { grep -E '^test result:' "$log" | grep -oE "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'; }
echo "tweetpipe: $(sum passed) passed, $(sum failed) failed"
exit "$status"
