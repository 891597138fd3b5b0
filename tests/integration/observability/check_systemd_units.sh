#!/bin/sh
# Usage: check_systemd_units.sh UNIT_DIR BIN_DIR
# `systemd-analyze verify` of deploy/systemd's units, with ExecStart pointed
# at the built binaries (verify requires them to exist). Any diagnostic
# fails the test: verify reports unknown keys or bad values as warnings with
# exit status 0. Exit 77 (skipped) without systemd-analyze.
set -eu
unit_dir=$1
bin_dir=$2
command -v systemd-analyze >/dev/null 2>&1 || { echo "systemd-analyze not found: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for unit in "$unit_dir"/*.service; do
  sed "s#/usr/bin/overline-#$bin_dir/overline-#" "$unit" >"$tmp/$(basename "$unit")"
done
# The template is verified through an instance, as systemd would run it.
status=0
out=$(cd "$tmp" && systemd-analyze verify --man=no ./overline-controller.service ./overline-relay@eu-1.service 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$out" ]; then
  echo "systemd-analyze verify (status $status):"
  echo "$out"
  exit 1
fi
echo "units verified"
