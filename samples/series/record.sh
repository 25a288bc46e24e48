#!/usr/bin/env bash
# Records real sample series (one JSON line per sample) of every hang-lab mode, as the verdict
# unit tests replay them: starts `tickwatch lab MODE`, watches it until its verdict (or a time
# limit), keeps the samples, ends the guest. Usage: samples/series/record.sh [MODE...]
# LAB_ARGS adds lab options (e.g. LAB_ARGS="--smp 4 --kernel 6.1.0-57-rt-amd64"), NAME_SUFFIX
# names the files MODE-SUFFIX.jsonl, BURN=N keeps N host threads busy while recording, FOR=S
# watches S seconds whatever happens (no --until-hang: what a verdict does after it is decided).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
tw="$here/../../bin/tickwatch"
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(healthy timer-stall-lost timer-stall-storm spin-deadlock spin-one soft-lockup sleep-deadlock panic)
for mode in "${modes[@]}"; do
  out=$(mktemp)
  name=$mode${NAME_SUFFIX:+-$NAME_SUFFIX}
  burners=()
  for _ in $(seq 1 "${BURN:-0}"); do (while :; do :; done) & burners+=($!); done
  # shellcheck disable=SC2086
  "$tw" lab "$mode" --for 120 ${LAB_ARGS:-} >"$out" 2>&1 &
  lab=$!
  for _ in $(seq 1 240); do grep -q qmp-user "$out" && break; sleep 0.5; done
  qmp=$(grep -o 'unix:[^"]*qmp-user.sock' "$out")
  console=$(grep -o '"console":"[^"]*' "$out" | cut -d'"' -f4)
  limit=25; [ "$mode" = sleep-deadlock ] && limit=70; [ "$mode" = healthy ] && limit=20
  until=--until-hang; [ -n "${FOR:-}" ] && { limit=$FOR; until=; }
  # shellcheck disable=SC2086
  "$tw" watch --qmp "$qmp" --console "$console" $until --for "$limit" \
      --record "$here/$name.jsonl" --json | tee "$here/$name.verdicts.jsonl" || true
  for b in "${burners[@]}"; do kill "$b" 2>/dev/null || true; done
  kill -TERM "$lab" 2>/dev/null || true
  wait "$lab" 2>/dev/null || true
  rm -f "$out"
done
