#!/bin/sh
# Usage: check_prometheus_files.sh PROMETHEUS_DIR
# promtool check config (which also checks the rule files it names), check
# rules and the alert rule unit tests of deploy/prometheus. Exit 77
# (skipped) without promtool (Debian package prometheus).
set -eu
dir=$1
command -v promtool >/dev/null 2>&1 || { echo "promtool not found: skipped"; exit 77; }
cd "$dir"
promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts_test.yml
