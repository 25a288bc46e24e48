#!/usr/bin/env bash
# git bisect run wrapper: builds the kernel at the current commit, then boots it N times with
# tickwatch boot-loop. Run from the kernel tree:
#
#   git bisect start BAD GOOD
#   git bisect run /path/to/tickwatch/samples/bisect/bisect-boot-loop.sh
#
# Exit codes are what git bisect run expects:
#   0    every boot reached the success marker        -> good
#   1    a boot hung (or timed out)                    -> bad
#   125  could not test: the build failed, QEMU did not start, firmware stuck -> skip this commit
#   255  anything else (usage error, tickwatch broken) -> git bisect run aborts, nothing decided
#
# Environment (all optional):
#   TICKWATCH  tickwatch launcher (default: bin/tickwatch next to this script)
#   BOOTS      boots per commit (default 500: 0 hangs in 500 says rate < 6.0e-3 at 95%)
#   PARALLEL   workers (default: number of CPUs)
#   KCONFIG    a .config to start each build from (default: keep the tree's .config)
#   JOBS       make -j (default: number of CPUs)
#   EXTRA      extra boot-loop arguments, e.g. "--load 2 --jitter --console-silence 30"
#   OUT        where results, JUnit files and hang diagnostics go (default: ./tickwatch-bisect)
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
tickwatch=${TICKWATCH:-$here/bin/tickwatch}
boots=${BOOTS:-500}
parallel=${PARALLEL:-$(nproc)}
jobs=${JOBS:-$(nproc)}
out=${OUT:-$PWD/tickwatch-bisect}
commit=$(git rev-parse --short HEAD) || exit 255
mkdir -p "$out" || exit 255

# The appliance's initramfs (busybox, /init that prints the milestones and powers off), written
# once per bisect: any kernel with an 8250 serial console and gzip initramfs support boots it.
if [ ! -f "$out/appliance/initrd.gz" ]; then
  "$tickwatch" appliance --out "$out/appliance" >/dev/null || exit 255
fi

# A commit that does not build cannot be tested: skip it (125), never call it bad.
if [ -n "${KCONFIG:-}" ]; then cp "$KCONFIG" .config || exit 255; fi
if ! { make -s olddefconfig && make -s -j"$jobs" bzImage; } >"$out/build-$commit.log" 2>&1; then
  echo "bisect: $commit does not build (see $out/build-$commit.log): skipping" >&2
  exit 125
fi

# shellcheck disable=SC2086  # EXTRA is a list of arguments on purpose
"$tickwatch" boot-loop --kernel arch/x86/boot/bzImage --initrd "$out/appliance/initrd.gz" \
  --boots "$boots" --parallel "$parallel" \
  --results "$out/results-$commit.jsonl" --junit "$out/junit-$commit.xml" \
  --diagnostics "$out/hangs-$commit" ${EXTRA:-}
rc=$?
case $rc in
  0|1|125) exit $rc ;;
  *) echo "bisect: tickwatch exited $rc at $commit: aborting the bisect" >&2; exit 255 ;;
esac
