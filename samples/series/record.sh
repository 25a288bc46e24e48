#!/usr/bin/env bash
# Records real sample series (one JSON line per sample) of every hang-lab mode, as the verdict
# unit tests replay them: starts `tickwatch lab MODE`, watches it until its verdict (or a time
# limit), keeps the samples, ends the guest. Usage: samples/series/record.sh [MODE...]
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
tw="$here/../../bin/tickwatch"
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(healthy timer-stall-lost timer-stall-storm spin-deadlock spin-one soft-lockup sleep-deadlock panic)
for mode in "${modes[@]}"; do
  out=$(mktemp)
  "$tw" lab "$mode" --for 120 >"$out" 2>&1 &
  lab=$!
  for _ in $(seq 1 240); do grep -q qmp-user "$out" && break; sleep 0.5; done
  qmp=$(grep -o 'unix:[^"]*qmp-user.sock' "$out")
  console=$(grep -o '"console":"[^"]*' "$out" | cut -d'"' -f4)
  limit=25; [ "$mode" = sleep-deadlock ] && limit=70; [ "$mode" = healthy ] && limit=20
  "$tw" watch --qmp "$qmp" --console "$console" --until-hang --for "$limit" \
      --record "$here/$mode.jsonl" --json | tee "$here/$mode.verdicts.jsonl" || true
  kill -TERM "$lab" 2>/dev/null || true
  wait "$lab" 2>/dev/null || true
  rm -f "$out"
done
