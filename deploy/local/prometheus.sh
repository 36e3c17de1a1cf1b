# shellcheck shell=bash
# Sourced by deploy/check.sh (promtool check/test rules) and deploy/local/test.sh (the live
# Prometheus test): makes sure `prometheus` and `promtool` are installed, from Debian's
# prometheus package. The service the package starts on a systemd machine is stopped: the tests
# run a Prometheus of their own, on a free port.

ensure_prometheus() {
  command -v prometheus >/dev/null && command -v promtool >/dev/null && return 0
  command -v apt-get >/dev/null || { echo "prometheus not found and no apt-get to install it" >&2; exit 1; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "[prometheus] installing Debian's prometheus package" >&2
  { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus ||
    { $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus; }; } >/dev/null
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
}
