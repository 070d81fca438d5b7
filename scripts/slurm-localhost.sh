#!/usr/bin/env bash
# A private one-node Slurm cluster on localhost, for the Slurm integration test
# (tests/cluster/slurm_test.cc) and for trying `avctl workers slurm` by hand.
#
#   scripts/slurm-localhost.sh up DIR     start munged, slurmctld and slurmd with
#                                          their config, state and logs under DIR
#   scripts/slurm-localhost.sh down DIR   stop them
#
# After `up`, point the Slurm commands at it: export SLURM_CONF=DIR/slurm.conf
# Needs root (slurmd launches jobs as their users) and Debian's slurmctld,
# slurmd, slurm-client and munge (scripts/install-deps.sh --test installs them).
# Nothing outside DIR is touched: its own munge key and socket, its own ports,
# no systemd, no cgroups (proctrack/linuxproc, task/none).
set -euo pipefail

usage() { echo "usage: $0 up|down DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

stop_pidfile() {
  local f=$1
  [ -s "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

down() {
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
}

up() {
  [ "$(id -u)" -eq 0 ] || { echo "slurm-localhost: needs root (slurmd runs jobs as their users)" >&2; exit 3; }
  for b in munged slurmctld slurmd sbatch scancel squeue; do
    command -v "$b" >/dev/null || { echo "slurm-localhost: $b not found (scripts/install-deps.sh --test)" >&2; exit 3; }
  done
  down
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 711 "$dir" "$dir/munge"
  if [ ! -s "$dir/munge/munge.key" ]; then
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    chmod 400 "$dir/munge/munge.key"
  fi
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

  local host cpus port
  host=$(hostname -s)
  cpus=$(nproc)
  # Ports derived from the directory so that two clusters on one machine
  # differ, below Linux's ephemeral range (32768 and up: a client socket may
  # hold any port there), and moved on while something listens on them.
  port=$((20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 12000))
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; then
      port=$((20000 + (port - 20000 + 2) % 12000))
    else
      break
    fi
  done
  cat >"$dir/slurm.conf" <<EOF
ClusterName=avctllocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
InactiveLimit=0
KillWait=2
MinJobAge=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF" -i
  slurmd -f "$SLURM_CONF"
  # Ready when the node is idle; 60 s at most (sinfo itself waits for an
  # absent controller, so each call is bounded too), and at once when the
  # controller died (a port in use, say).
  local deadline=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
      echo "slurm-localhost: up; export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    if [ -s "$dir/slurmctld.pid" ] && ! kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
      echo "slurm-localhost: slurmctld exited; logs in $dir/log" >&2
      break
    fi
    sleep 0.2
  done
  echo "slurm-localhost: the node did not become idle; logs in $dir/log" >&2
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  down
  exit 1
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
