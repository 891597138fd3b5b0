#!/bin/sh
# Usage: check_demo_prometheus.sh BIN_DIR
# `overline-demo --prometheus` prints a Prometheus URL that answers and
# scrapes every relay and the controller (7 targets up), and Prometheus is
# gone once the demo has ended. Every wait has a deadline. Exit 77 (skipped)
# without /usr/bin/prometheus or curl.
set -eu
bin_dir=$1
[ -x /usr/bin/prometheus ] || { echo "/usr/bin/prometheus not found: skipped"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
tmp=$(mktemp -d)
demo=
cleanup() {
  [ -n "$demo" ] && kill "$demo" 2>/dev/null && wait "$demo" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1"
  echo "--- demo output:"
  cat "$tmp/out"
  exit 1
}

"$bin_dir/overline-demo" --prometheus --duration-s 2 --no-line-failure --hold-s 60 >"$tmp/out" 2>&1 &
demo=$!

# Waits up to $2 tenths of a second for command $1 to succeed.
wait_for() {
  tries=0
  until eval "$1"; do
    tries=$((tries + 1))
    [ "$tries" -lt "$2" ] || return 1
    sleep 0.1
  done
}

wait_for 'grep -q "^== prometheus at " "$tmp/out"' 300 || fail "no prometheus line"
url=$(sed -n 's/^== prometheus at \(http:[^ ]*\) .*/\1/p' "$tmp/out")
echo "demo printed $url"
curl -fsS "$url/-/ready" >/dev/null || fail "$url/-/ready does not answer"
# Six relays and the controller, scraped every second.
wait_for '[ "$(curl -fsS "$url/api/v1/query?query=count(up%3D%3D1)" | grep -o "\"[0-9]*\"\]" || true)" = "\"7\"]" ]' 200 ||
  fail "not every target up: $(curl -fsS "$url/api/v1/query?query=up" || true)"
echo "7 targets up"

wait_for 'grep -q "^== holding" "$tmp/out"' 300 || fail "the demo did not reach its hold"
kill -INT "$demo"
status=0
wait "$demo" || status=$?
demo=
[ "$status" -eq 0 ] || fail "demo exit status $status"
if curl -fsS --max-time 2 "$url/-/ready" >/dev/null 2>&1; then fail "prometheus still answers after the demo"; fi
echo "prometheus stopped with the demo"
