#!/usr/bin/env bash
# Runs every hang-lab mode N times (default 10) on fresh guests and prints, per mode, how many
# runs reached the intended state (checked from outside with raw QMP) and the median time from
# the module's insmod to the confirmed state. Not part of bin/test: it takes about 10 minutes.
#   samples/lab/determinism.sh [N] [--smp K]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10}; shift || true
printf '%-18s %8s %10s\n' mode reached median_s
for mode in timer-stall-lost timer-stall-storm spin-deadlock spin-one sleep-deadlock soft-lockup panic healthy; do
  summary=$("$here/bin/tickwatch" lab "$mode" --check --repeat "$n" --json "$@" | tail -n 1 || true)
  reached=$(sed -n 's/.*"reached":\([0-9]*\).*/\1/p' <<<"$summary")
  median=$(sed -n 's/.*"median_time_to_state_s":\([0-9.null]*\).*/\1/p' <<<"$summary")
  printf '%-18s %5s/%-3s %9s\n' "$mode" "${reached:-0}" "$n" "${median:-?}"
done
