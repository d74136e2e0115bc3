#!/usr/bin/env bash
# Runs a Playwright project N times in a row on the twin and counts green runs: a flakiness check, not part of
# `npm test`. Usage: scripts/flake-check.sh [RUNS=10] [PROJECT=conformance]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
project=${2:-conformance}
green=0
log_dir=.pd-harness/flake-check
mkdir -p "$log_dir"
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if npx playwright test --project="$project" --reporter=line >"$log_dir/run-$i.log" 2>&1; then
    green=$((green + 1)); verdict=green
  else
    verdict="RED (see $log_dir/run-$i.log)"
  fi
  echo "run $i/$runs: $verdict in $(( $(date +%s) - start ))s"
done
echo "$project: $green of $runs runs green"
[ "$green" -eq "$runs" ]
