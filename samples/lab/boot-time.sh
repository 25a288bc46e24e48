#!/usr/bin/env bash
# Boot time of the appliance (median of 5) with 1, 2 and 4 vCPUs: through tickwatch's launcher
# (bin/tickwatch demo, QMP connected) next to a plain qemu-system-x86_64 run of the same kernel
# and initramfs (written by tickwatch appliance). Times are whole-process wall clock.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-5}
app=$(mktemp -d); trap 'rm -rf "$app"' EXIT
"$here/bin/tickwatch" appliance --out "$app" >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-5s %14s %14s\n' smp tickwatch_s plain_qemu_s
for smp in 1 2 4; do
  tw=$(for i in $(seq "$runs"); do
         s=$(date +%s.%N); "$here/bin/tickwatch" demo --smp "$smp" --json >/dev/null; e=$(date +%s.%N)
         awk -v e="$e" -v s="$s" 'BEGIN{print e - s}'; done | median)
  plain=$(for i in $(seq "$runs"); do
         s=$(date +%s.%N)
         qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -accel tcg -smp "$smp" -m 256M \
           -kernel "$app/vmlinuz" -initrd "$app/initrd.gz" -append 'console=ttyS0 panic=-1' -serial null
         e=$(date +%s.%N); awk -v e="$e" -v s="$s" 'BEGIN{print e - s}'; done | median)
  printf '%-5s %14.2f %14.2f\n' "$smp" "$tw" "$plain"
done
