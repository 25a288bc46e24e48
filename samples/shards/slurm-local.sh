#!/usr/bin/env bash
# A one-node Slurm on this machine, for trying (and testing) tickwatch's Slurm runner:
#   samples/shards/slurm-local.sh start    # prints: export SLURM_CONF=...
#   eval "$(samples/shards/slurm-local.sh start)"; sbatch --array=0-3 --wrap 'echo $SLURM_ARRAY_TASK_ID'
#   samples/shards/slurm-local.sh status
#   samples/shards/slurm-local.sh stop     # cancels every job, ends the daemons by PID, removes the folder
# It runs Debian's munged, slurmctld and slurmd (packages munge and slurm-wlm: bin/setup --cluster
# installs them) as the calling user, with a config, a munge key, sockets, state, logs and PID
# files all in one folder; nothing under /etc, /run or /var is used, so a system Slurm is left alone.
# One node "localhost" (CPUs=2, CR_CPU: two 1-CPU tasks run side by side), one partition "local".
# start and stop are idempotent. Needs root (slurmd starts jobs as the submitting user).
#
# Environment:
#   TICKWATCH_SLURM_DIR   the folder (default: ${TMPDIR:-/tmp}/tickwatch-slurm-$(id -u))
#   TICKWATCH_SLURM_PORT  slurmctld's port; slurmd takes the next one (default: 16817)
#   TICKWATCH_SLURM_CPUS  the node's CPUs (default: 2)
set -euo pipefail

dir=${TICKWATCH_SLURM_DIR:-${TMPDIR:-/tmp}/tickwatch-slurm-$(id -u)}
port=${TICKWATCH_SLURM_PORT:-16817}
cpus=${TICKWATCH_SLURM_CPUS:-2}
conf="$dir/slurm.conf"

say() { printf 'slurm-local: %s\n' "$*" >&2; }
die() { printf 'slurm-local: error: %s\n' "$*" >&2; exit 1; }

# pid_of NAME: the PID in NAME's PID file if that process is alive, else nothing.
pid_of() {
  local f="$dir/$1.pid" p
  [ -f "$f" ] || return 0
  p=$(cat "$f" 2>/dev/null || true)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; fi
}

running() { [ -n "$(pid_of munged)" ] && [ -n "$(pid_of slurmctld)" ] && [ -n "$(pid_of slurmd)" ]; }

node_state() { SLURM_CONF=$conf sinfo -h -n localhost -o %t 2>/dev/null | head -n1 || true; }

# The slurmstepd processes of this Slurm: slurmd hands them its environment, which names our config.
stepds() {
  local p
  for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$conf"; then echo "$p"; fi
  done
}

# end_pids PID...: SIGTERM, up to 10 s, then SIGKILL.
end_pids() {
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 1 100); do
    local alive=()
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
}

write_config() {
  local mem host
  mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
  host=$(hostname -s)
  cat > "$conf" <<EOF
# Written by slurm-local.sh: a one-node Slurm in $dir.
ClusterName=tickwatch-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups (containers often have none to give): processes tracked by parent PID, no binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# scancel: SIGTERM, then SIGKILL after KillWait s. Slurm's default: a cancelled shard's tickwatch
# ends its QEMU and removes its folders in its SIGTERM hook, and 5 s was not always enough for that.
KillWait=30
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  if running; then
    say "already running in $dir"
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  command -v munged >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    || die "munged, slurmctld or slurmd not found: install Debian's munge and slurm-wlm (bin/setup --cluster)"
  [ "$(id -u)" = 0 ] || die "needs root: slurmd starts each job as the user who submitted it"
  # Half-started before (a daemon died): start over from a clean folder.
  [ -d "$dir" ] && stop_all
  mkdir -p "$dir/state" "$dir/spool"
  chmod 700 "$dir"
  # munged refuses keys and sockets in folders others may write to.
  dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge.key"
  write_config
  munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
    || die "munged did not start: see $dir/munged.log"
  SLURM_CONF=$conf slurmctld -i -f "$conf" || die "slurmctld did not start: see $dir/slurmctld.log"
  SLURM_CONF=$conf slurmd -N localhost -f "$conf" || die "slurmd did not start: see $dir/slurmd.log"
  local s=""
  for _ in $(seq 1 300); do
    s=$(node_state)
    case "$s" in
      idle*|mix*|alloc*) break ;;
      down*|drain*) SLURM_CONF=$conf scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    running || break
    sleep 0.1
  done
  case "$s" in
    idle*|mix*|alloc*) ;;
    *) die "the node did not come up (state '${s:-none}'): see $dir/slurmctld.log and $dir/slurmd.log; run $0 stop" ;;
  esac
  say "running in $dir: munged $(pid_of munged), slurmctld $(pid_of slurmctld), slurmd $(pid_of slurmd); partition local, node localhost ($cpus CPUs)"
  echo "export SLURM_CONF=$conf"
}

stop_all() {
  if [ -n "$(pid_of slurmctld)" ]; then
    SLURM_CONF=$conf scancel --quiet --partition=local >/dev/null 2>&1 || true
    # Let slurmd end the jobs' processes (SIGTERM; SIGKILL after KillWait=30) before it goes: up to 40 s.
    for _ in $(seq 1 400); do
      [ -z "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null || true)" ] && break
      sleep 0.1
    done
  fi
  local pids=()
  for d in slurmd slurmctld; do
    p=$(pid_of "$d"); [ -n "$p" ] && pids+=("$p")
  done
  end_pids "${pids[@]}"
  # shellcheck disable=SC2046
  end_pids $(stepds)
  p=$(pid_of munged)
  [ -n "$p" ] && end_pids "$p"
  rm -rf "$dir"
}

stop() {
  if [ ! -d "$dir" ]; then
    say "not running"
    return 0
  fi
  stop_all
  say "stopped; $dir removed"
}

status() {
  local rc=0
  for d in munged slurmctld slurmd; do
    p=$(pid_of "$d")
    if [ -n "$p" ]; then say "$d running (PID $p)"; else say "$d not running"; rc=3; fi
  done
  if [ "$rc" = 0 ]; then
    SLURM_CONF=$conf sinfo >&2 || rc=3
    echo "export SLURM_CONF=$conf"
  fi
  return "$rc"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
