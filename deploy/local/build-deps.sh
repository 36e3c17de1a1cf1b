# shellcheck shell=bash
# Sourced by the scripts that build tweetpipe: makes sure a fresh Debian machine can compile it
# (librdkafka is built from source by rdkafka-sys and needs a C toolchain, OpenSSL and zlib).

ensure_build_deps() {
  if ! command -v cargo >/dev/null; then
    echo "cargo not found: install Rust (https://rustup.rs) and try again" >&2
    exit 1
  fi
  local missing=() pkg
  for pkg in build-essential pkg-config libssl-dev zlib1g-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { echo "missing build packages: ${missing[*]}" >&2; exit 1; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "[build] installing ${missing[*]}" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
